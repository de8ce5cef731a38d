"""Private: assemble a workload's events frame from columnar chunks, once, at the end.

Workloads add chunks of numpy arrays, one topic per chunk. String columns travel as integer
codes into a dictionary (:class:`Labels`: a few event-type names, or one formatted key per
entity), so concatenating and sorting by time moves numbers only. :meth:`EventFrame.build`
concatenates each column with numpy, drops the events outside the run, orders the rows by
time (a stable sort: two 16-bit radix passes on a quantised time, then a merge sort of the
nearly sorted times) and gathers each string column from its dictionaries in one pass
(short strings are inline in polars' string views, so the gather copies 16-byte views).

Columns with a fixed vocabulary come out as ``pl.Enum`` (dictionary-encoded; the event log
interns their few categories instead of hashing a million strings): ``topic`` and
``event_type`` when the frame is given the workload's ``topics``, and payload columns that
the workload documents as an Enum (regions, stages, ...). Keys and names whose number
depends on parameters (member keys, cells) stay ``pl.String``; payload identifiers are plain
integer columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from eventsim.workloads.base import BASE_SCHEMA

__all__ = ["EventFrame", "Labels", "format_keys", "labels", "stable_time_order"]

_RADIX_MIN_ROWS = 65_536
# integer payload columns are kept in their documented width while chunks wait for build()
_COMPACT = {pl.Int32(): np.int32, pl.Int16(): np.int16, pl.Int8(): np.int8}


@dataclass(frozen=True)
class Labels:
    """A String column as ``codes`` into ``names`` (a negative code means null)."""

    codes: np.ndarray
    names: Sequence[str] | pl.Series

    @classmethod
    def keys(cls, prefix: str, ids: np.ndarray, n_ids: int | None = None) -> Labels:
        """Keys ``f"{prefix}{id}"``: formatted once per id in ``range(n_ids)`` if given, else
        once per row."""
        ids = np.asarray(ids, dtype=np.int64)
        if n_ids is None:
            return cls(np.arange(len(ids), dtype=np.int64), format_keys(prefix, ids))
        return cls(ids, format_keys(prefix, np.arange(n_ids)))


def labels(codes: np.ndarray, names: Sequence[str] | pl.Series) -> pl.Series:
    """Gather ``names[codes]`` into a String series (negative codes → null).

    Examples
    --------
    >>> labels(np.array([1, -1, 0]), ["a", "b"]).to_list()
    ['b', None, 'a']
    """
    names = pl.Series(names, dtype=pl.String)
    codes = np.asarray(codes, dtype=np.int64)
    codes = np.where(codes < 0, len(names), codes)
    return names.extend(pl.Series([None], dtype=pl.String)).gather(codes)


def format_keys(prefix: str, ids: np.ndarray) -> pl.Series:
    """Keys ``f"{prefix}{id}"`` for each id (negative ids → null).

    Examples
    --------
    >>> format_keys("m", np.array([7, -1])).to_list()
    ['m7', None]
    """
    ids = pl.Series("i", np.asarray(ids, dtype=np.int64))
    expr = pl.concat_str([pl.lit(prefix), pl.col("i").cast(pl.String)])
    if ids.len() and ids.min() < 0:
        expr = pl.when(pl.col("i") >= 0).then(expr)
    return ids.to_frame().select(expr.alias("key"))["key"]


def stable_time_order(t: np.ndarray) -> np.ndarray:
    """The permutation that sorts ``t`` stably (equal to ``np.argsort(t, kind="stable")``).

    Large arrays are first ordered by a 32-bit quantisation of ``t`` (two stable radix passes
    over 16-bit digits; quantisation is monotone, so ties keep their order), which leaves
    them nearly sorted for the final stable sort on the exact times.

    Examples
    --------
    >>> t = np.random.default_rng(0).random(100_000).round(3)
    >>> bool((stable_time_order(t) == np.argsort(t, kind="stable")).all())
    True
    """
    t = np.asarray(t, dtype=np.float64)
    if len(t) < _RADIX_MIN_ROWS:
        return np.argsort(t, kind="stable")
    lo, hi = float(t.min()), float(t.max())
    scale = (2.0**32 - 1.0) / (hi - lo) if hi > lo else 0.0
    q = np.minimum((t - lo) * scale, 2.0**32 - 1.0).astype(np.uint32)
    order = np.argsort(q.astype(np.uint16), kind="stable")
    order = order[np.argsort((q >> 16).astype(np.uint16)[order], kind="stable")]
    return order[np.argsort(t[order], kind="stable")]


@dataclass
class _Chunk:
    t: np.ndarray
    values: dict[str, Any]  # column → array (or string codes) / scalar


class EventFrame:
    """Collects chunks of events and builds the sorted events frame.

    Parameters
    ----------
    payload_schema
        Payload columns (after :data:`BASE_SCHEMA`) and their dtypes, in order.
    until_s
        Events at or after this time (the end of the run) are dropped, and so are events
        before time 0 (warm-up).

    Examples
    --------
    >>> ef = EventFrame({"size_mb": pl.Float64()})
    >>> keys = Labels.keys("k", np.array([1, 2]))
    >>> ef.add(np.array([2.0, 1.0]), "t", "x", keys, 10, size_mb=np.ones(2))
    >>> ef.build().rows()
    [(1.0, 't', 'k2', 'x', 10, 1.0), (2.0, 't', 'k1', 'x', 10, 1.0)]
    """

    def __init__(
        self,
        payload_schema: dict[str, pl.DataType],
        until_s: float = np.inf,
        *,
        topics: dict[str, Sequence[str]] | None = None,
    ) -> None:
        self.until_s = until_s
        self.schema = {**BASE_SCHEMA, **payload_schema}
        if topics is not None:
            types = list(dict.fromkeys(t for names in topics.values() for t in names))
            self.schema["topic"] = pl.Enum(list(topics))
            self.schema["event_type"] = pl.Enum(types)
        self._strings = [n for n, d in self.schema.items() if d == pl.String or _is_enum(d)]
        self._dicts: dict[str, list[pl.Series]] = {n: [] for n in self._strings}
        self._size = dict.fromkeys(self._strings, 0)
        self._offset: dict[tuple[str, int], tuple[int, object]] = {}
        self._chunks: list[_Chunk] = []

    def add(
        self,
        t: np.ndarray,
        topic: str | Labels,
        event_type: str | Labels,
        key: Labels | None,
        payload_bytes: int | np.ndarray,
        **payload: Any,
    ) -> None:
        """Add a chunk of ``len(t)`` events (usually of one topic).

        String columns take a :class:`Labels`, a single string or None; numeric columns a
        numpy array or a scalar (NaN → null).
        """
        t = np.asarray(t, dtype=np.float64)
        values: dict[str, Any] = {"topic": topic, "key": key, "event_type": event_type}
        values["payload_bytes"] = payload_bytes
        for name, value in payload.items():
            if name not in self.schema:
                msg = f"payload column {name!r} is not in the documented schema"
                raise KeyError(msg)
            values[name] = value
        if len(t) == 0:
            return
        cols: dict[str, Any] = {}
        for name, value in values.items():
            if value is None:
                continue
            if name in self._dicts:
                value = self._codes(name, value)
            elif (
                isinstance(value, np.ndarray)
                and value.dtype.kind in "iu"  # floats carry NaN for null until build()
                and self.schema[name] in _COMPACT
            ):
                value = value.astype(_COMPACT[self.schema[name]], copy=False)
            cols[name] = value
        self._chunks.append(_Chunk(t, cols))

    def _codes(self, name: str, value: Labels | str) -> np.ndarray | int:
        if isinstance(value, str):
            value = Labels(np.zeros(1, dtype=np.int64), [value])
            scalar = True
        else:
            scalar = False
        # a dictionary object shared by several chunks is stored once; the entry keeps the
        # object alive so that its id() cannot be reused by another dictionary
        hit = self._offset.get((name, id(value.names)))
        if hit is None:
            names = pl.Series(value.names, dtype=pl.String)
            hit = self._offset[(name, id(value.names))] = (self._size[name], value.names)
            self._dicts[name].append(names)
            self._size[name] += len(names)
        offset = hit[0]
        if scalar:
            return offset
        codes = np.asarray(value.codes)
        if codes.dtype.kind not in "iu":
            codes = codes.astype(np.int64)
        if offset == 0:
            return codes
        wide = np.int32 if self._size[name] < 2**31 else np.int64
        codes = codes.astype(wide)
        return np.where(codes >= 0, codes + offset, -1)

    def build(self) -> pl.DataFrame:
        """One frame, documented columns in order with their dtypes, sorted by time (stable).

        Every column is concatenated over the chunks (numeric values and string codes), the
        rows are gathered into time order in one polars call (parallel over columns) and the
        string columns are made from their codes in one ``select``: ``pl.Enum`` columns
        whose categories are the distinct strings of the column's dictionaries, in order of
        first addition (or plain ``pl.String`` columns if the frame was made with
        ``enum=False``). A column that is a scalar in every chunk is looked up by chunk
        instead. The chunks are consumed (call it once).
        """
        if not self._chunks:
            return pl.DataFrame(schema=self.schema)
        t = np.concatenate([c.t for c in self._chunks])
        keep = (t >= 0.0) & (t < self.until_s)
        if keep.all():
            order = stable_time_order(t)
        else:
            rows = np.flatnonzero(keep)
            order = rows[stable_time_order(t[rows])]
        sizes = [len(c.t) for c in self._chunks]
        del keep
        raw: dict[str, np.ndarray] = {"timestamp_s": t}
        by_chunk: dict[str, np.ndarray] = {}
        enums: dict[str, pl.Enum] = {}
        for name in self.schema:
            if name == "timestamp_s":
                continue
            # the chunks are consumed column by column, so that each is held once
            values = [c.values.pop(name, None) for c in self._chunks]
            if all(v is None for v in values):
                continue
            null = self._size[name] if name in self._dicts else np.nan
            full = any(isinstance(v, np.ndarray) for v in values)
            if full:
                parts = [
                    v if isinstance(v, np.ndarray) else np.full(n, null if v is None else v)
                    for n, v in zip(sizes, values, strict=True)
                ]
                flat = np.concatenate(parts)
                if name in self._dicts and not _is_enum(self.schema[name]):
                    if flat.dtype.itemsize < 4:  # room for the null code
                        flat = flat.astype(np.int32)
                    flat[flat < 0] = null  # (Enum columns: code -1 picks lut's last, null)
                    flat = flat.astype(np.uint32, copy=False)
            else:
                flat = np.array([null if v is None else v for v in values])
            if _is_enum(self.schema[name]):
                enums[name], lut = self._categories(name)
                flat = lut[flat]  # already the Enum's physical width
            if full:
                raw[name] = flat
            else:
                by_chunk[name] = flat
        if by_chunk:
            raw["__chunk"] = np.repeat(np.arange(len(sizes), dtype=np.uint32), sizes)
        frame = pl.DataFrame(raw).select(pl.all().gather(pl.Series(order, dtype=pl.UInt32)))
        if by_chunk:  # per-chunk values looked up by each row's chunk (in parallel)
            frame = frame.with_columns(
                pl.lit(pl.Series(lut)).gather(pl.col("__chunk")).alias(name)
                for name, lut in by_chunk.items()
            )
        exprs = []
        for name, dtype in self.schema.items():
            col = pl.col(name)
            if name in enums:
                size = len(enums[name].categories)
                physical = _physical(size)[1]
                exprs.append(pl.when(col < size).then(col).cast(physical).cat.to(enums[name]))
            elif name not in frame.columns:
                exprs.append(pl.lit(None, dtype=dtype).alias(name))
            elif name in self._dicts:
                names = pl.concat(
                    [*self._dicts[name], pl.Series([None], dtype=pl.String)], rechunk=True
                )
                exprs.append(pl.lit(names).gather(col).alias(name))
            elif frame.schema[name].is_float():
                exprs.append(col.fill_nan(None).cast(dtype))
            else:
                exprs.append(col.cast(dtype))
        return frame.select(exprs)

    def _categories(self, name: str) -> tuple[pl.Enum, np.ndarray]:
        """The Enum of column ``name`` and the map from dictionary index (the last one
        standing for null) to its physical code (``len(categories)`` for null)."""
        dtype = self.schema[name]
        position = {c: i for i, c in enumerate(dtype.categories.to_list())}
        names = pl.concat(self._dicts[name]).to_list()
        unknown = sorted({v for v in names if v is not None and v not in position})
        if unknown:
            msg = f"{name} values {unknown[:5]} are not categories of its documented Enum"
            raise ValueError(msg)
        size = len(position)
        lut = [size if v is None else position[v] for v in names]
        return dtype, np.array([*lut, size], dtype=_physical(size)[0])


def _physical(n_categories: int) -> tuple[type[np.unsignedinteger], pl.DataType]:
    """The physical integer type (numpy, polars) of an Enum of ``n_categories`` categories
    (one more code, ``n_categories``, stands for null while frames are built)."""
    if n_categories < 2**8:
        return np.uint8, pl.UInt8()
    if n_categories < 2**16:
        return np.uint16, pl.UInt16()
    return np.uint32, pl.UInt32()


def _is_enum(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.Enum)
