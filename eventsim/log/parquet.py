"""Parquet I/O for frames, atomic on write, with clear errors on missing or broken files."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from eventsim._atomic import atomic_path
from eventsim.exceptions import DataFormatError

__all__ = ["read_frame", "read_metadata", "write_frame", "write_frames"]


def write_frame(frame: pl.DataFrame, path: Path, metadata: dict[bytes, str] | None = None) -> None:
    """Write ``frame`` to ``path`` via a temporary file and a rename, with key-value metadata."""
    write_frames([(frame, path, metadata)])


def write_frames(files: list[tuple[pl.DataFrame, Path, dict[bytes, str] | None]]) -> None:
    """Write several frames as one unit: every file goes to a temporary name first, and only
    when all are written are they renamed, the first one listed last. A failure renames
    nothing and removes the temporary files, so the files there before stay as they were."""
    import contextlib

    import pyarrow.parquet as pq

    with contextlib.ExitStack() as stack:
        for frame, path, metadata in files:  # exits run in reverse: the first renamed last
            tmp = stack.enter_context(atomic_path(path))
            table = frame.to_arrow()
            if metadata:
                merged = dict(table.schema.metadata or {})
                merged.update({k: v.encode("utf-8") for k, v in metadata.items()})
                table = table.replace_schema_metadata(merged)
            pq.write_table(table, tmp, compression="zstd")


def _check_file(path: Path) -> None:
    if not path.exists():
        msg = f"{str(path)!r} does not exist"
        raise DataFormatError(msg)
    if path.is_dir():
        msg = f"{str(path)!r} is a directory, not a Parquet file"
        raise DataFormatError(msg)
    if path.stat().st_size == 0:
        msg = f"{str(path)!r} is empty, not a Parquet file"
        raise DataFormatError(msg)


def read_metadata(path: Path) -> dict[bytes, bytes]:
    """Key-value metadata and row count of a Parquet file, without reading its data."""
    import pyarrow.parquet as pq

    _check_file(path)
    try:
        meta = pq.read_metadata(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid / OSError variants
        msg = f"{str(path)!r} is not a readable Parquet file ({type(exc).__name__}: {exc})"
        raise DataFormatError(msg.splitlines()[0]) from None
    out = dict(meta.metadata or {})
    out[b"num_rows"] = str(meta.num_rows).encode()
    return out


def read_frame(path: Path) -> tuple[pl.DataFrame, dict[bytes, bytes]]:
    """Read a Parquet file and its key-value metadata."""
    import pyarrow.parquet as pq

    _check_file(path)
    try:
        table = pq.read_table(path)
    except Exception as exc:
        msg = f"{str(path)!r} is not a readable Parquet file ({type(exc).__name__}: {exc})"
        raise DataFormatError(msg.splitlines()[0]) from None
    meta = dict(table.schema.metadata or {})
    frame = pl.from_arrow(table.replace_schema_metadata(None))
    assert isinstance(frame, pl.DataFrame)
    return frame, meta
