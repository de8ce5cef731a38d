"""An independent recount of delivery outcomes, straight from a run's Parquet files.

Written apart from the checker (pyarrow and numpy, no polars) so that tests can hold the two
against each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from eventsim.exceptions import DataFormatError

__all__ = ["recount_from_parquet"]


def _sibling(path: Path, frame: str) -> Path:
    return path.with_name(f"{path.stem}.{frame}{path.suffix or '.parquet'}")


def _read(path: Path, columns: list[str] | None = None) -> Any:
    import pyarrow.parquet as pq

    if not path.is_file():
        msg = f"{str(path)!r} does not exist (a run's Parquet file is needed here)"
        raise DataFormatError(msg)
    return pq.read_table(path, columns=columns)


def recount_from_parquet(path: str | Path) -> dict[str, Any]:
    """Count produced, delivered-once, lost and duplicated events from a saved run.

    Reads ``<stem>.sends.parquet``, ``<stem>.deliveries.parquet`` and the log in ``path``
    (``RunResult.write_parquet``'s layout). Every group in the deliveries is taken to
    subscribe to every topic; deliveries of records the log marks as aborted do not count;
    ``applied`` defaults to True. With no delivery at all, every event counts as lost once.

    Parameters
    ----------
    path
        The run's events file (``run.parquet``).

    Returns
    -------
    dict
        ``produced``, ``delivered_once``, ``lost``, ``duplicated`` (summed over groups) and
        ``by_group`` (group → the same three counts).

    Raises
    ------
    DataFormatError
        One of the three files is missing.

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> d = Path(tempfile.mkdtemp())
    >>> pl.DataFrame({"event_id": [1, 2]}).write_parquet(d / "run.sends.parquet")
    >>> pl.DataFrame(
    ...     {"topic": "t", "partition": 0, "offset": [0], "event_id": [1]}
    ... ).write_parquet(d / "run.parquet")
    >>> pl.DataFrame(
    ...     {"group": "g", "topic": "t", "partition": 0, "offset": [0, 0], "event_id": [1, 1]}
    ... ).write_parquet(d / "run.deliveries.parquet")
    >>> recount_from_parquet(d / "run.parquet")["by_group"]
    {'g': {'delivered_once': 0, 'lost': 1, 'duplicated': 1}}
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    path = Path(path)
    produced = np.unique(_read(_sibling(path, "sends"), ["event_id"])["event_id"].to_numpy())
    deliveries = _read(_sibling(path, "deliveries"))
    log = _read(path)
    if "applied" not in deliveries.column_names:
        deliveries = deliveries.append_column("applied", pa.array([True] * deliveries.num_rows))
    groups = sorted(set(deliveries["group"].to_pylist())) if deliveries.num_rows else []
    if "txn_state" in log.column_names and deliveries.num_rows:
        keys = ["topic", "partition", "offset", "event_id"]
        aborted = log.filter(pc.equal(log["txn_state"], "aborted")).select(keys)
        deliveries = deliveries.join(aborted, keys=keys, join_type="left anti")
    applied = deliveries.filter(pc.fill_null(deliveries["applied"], False))
    by_group: dict[Any, dict[str, int]] = {}
    for group in groups or [None]:
        if group is None:
            ids = np.empty(0, dtype=np.int64)
        else:
            ids = applied.filter(pc.equal(applied["group"], group))["event_id"].to_numpy()
        by_group[group] = _outcomes(produced, ids)
    total = {
        k: sum(g[k] for g in by_group.values()) for k in ("delivered_once", "lost", "duplicated")
    }
    return {"produced": int(produced.size), **total, "by_group": by_group}


def _outcomes(produced: np.ndarray, applied_ids: np.ndarray) -> dict[str, int]:
    """Counts of produced ids applied once, never, and more than once."""
    ids, counts = np.unique(applied_ids, return_counts=True)
    pos = np.searchsorted(ids, produced)
    found = pos < ids.size
    found[found] = ids[pos[found]] == produced[found]
    n = np.zeros(produced.size, dtype=np.int64)
    n[found] = counts[pos[found]]
    return {
        "delivered_once": int((n == 1).sum()),
        "lost": int((n == 0).sum()),
        "duplicated": int((n > 1).sum()),
    }
