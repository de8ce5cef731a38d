"""Private: assemble a workload's events frame from columnar chunks, once, at the end.

Workloads add chunks of numpy arrays, one topic per chunk. String columns travel as integer
codes into a dictionary (:class:`Labels`: a few event-type names, or one formatted key per
entity), so concatenating and sorting by time moves numbers only; each string column is then
gathered from its dictionaries in one pass (short strings are inline in polars' string views,
so the gather is a copy of 16-byte views, not a per-row Python loop).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from eventsim.workloads.base import BASE_SCHEMA

__all__ = ["EventFrame", "Labels", "format_keys", "labels"]


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
    codes = np.asarray(codes, dtype=np.int64)
    idx = pl.Series(codes)
    if len(codes) and codes.min() < 0:
        idx = idx.to_frame("i").select(pl.when(pl.col("i") >= 0).then(pl.col("i")))["i"]
    return pl.Series(names, dtype=pl.String).gather(idx)


def format_keys(prefix: str, ids: np.ndarray) -> pl.Series:
    """Keys ``f"{prefix}{id}"`` for each id (negative ids → null).

    Examples
    --------
    >>> format_keys("m", np.array([7, -1])).to_list()
    ['m7', None]
    """
    frame = pl.DataFrame({"i": np.asarray(ids, dtype=np.int64)})
    expr = pl.concat_str([pl.lit(prefix), pl.col("i").cast(pl.String)])
    return frame.select(pl.when(pl.col("i") >= 0).then(expr).alias("key"))["key"]


class EventFrame:
    """Collects chunks of events and builds the sorted events frame.

    Parameters
    ----------
    payload_schema
        Payload columns (after :data:`BASE_SCHEMA`) and their dtypes, in order.
    until_s
        Events at or after this time (the end of the run) are dropped as they are added,
        and so are events before time 0 (warm-up).

    Examples
    --------
    >>> ef = EventFrame({"size_mb": pl.Float64()})
    >>> keys = Labels.keys("k", np.array([1, 2]))
    >>> ef.add(np.array([2.0, 1.0]), "t", "x", keys, 10, size_mb=np.ones(2))
    >>> ef.build().rows()
    [(1.0, 't', 'k2', 'x', 10, 1.0), (2.0, 't', 'k1', 'x', 10, 1.0)]
    """

    def __init__(self, payload_schema: dict[str, pl.DataType], until_s: float = np.inf) -> None:
        self.until_s = until_s
        self.schema = {**BASE_SCHEMA, **payload_schema}
        self._strings = [n for n, d in self.schema.items() if d == pl.String()]
        self._dicts: dict[str, list[pl.Series]] = {n: [] for n in self._strings}
        self._size = dict.fromkeys(self._strings, 0)
        self._offset: dict[tuple[str, int], tuple[int, object]] = {}
        self._chunks: list[pl.DataFrame] = []

    def add(
        self,
        t: np.ndarray,
        topic: str,
        event_type: str | Labels,
        key: Labels | None,
        payload_bytes: int | np.ndarray,
        **payload: Any,
    ) -> None:
        """Add a chunk of ``len(t)`` events of one topic.

        String columns take a :class:`Labels`, a single string or None; numeric columns a
        numpy array (NaN → null) or a scalar.
        """
        t = np.asarray(t, dtype=np.float64)
        values = {"topic": topic, "key": key, "event_type": event_type}
        values["payload_bytes"] = payload_bytes
        for name, value in payload.items():
            if name not in self.schema:
                msg = f"payload column {name!r} is not in the documented schema"
                raise KeyError(msg)
            values[name] = value
        keep = (t >= 0.0) & (t < self.until_s)
        if not keep.all():
            t = t[keep]
            values = {name: _subset(v, keep) for name, v in values.items()}
        n = len(t)
        if n == 0:
            return
        cols: dict[str, Any] = {"timestamp_s": t}
        for name, value in values.items():
            if name in self._dicts:
                cols[name] = self._codes(name, value, n)
            elif isinstance(value, np.ndarray):
                cols[name] = pl.Series(value, nan_to_null=value.dtype.kind == "f")
            else:
                cols[name] = pl.repeat(value, n, eager=True)
        self._chunks.append(pl.DataFrame(cols))

    def _codes(self, name: str, value: Labels | str | None, n: int) -> np.ndarray:
        if value is None:
            return np.full(n, -1, dtype=np.int64)
        if isinstance(value, str):
            value = Labels(np.zeros(n, dtype=np.int64), [value])
        codes = np.asarray(value.codes, dtype=np.int64)
        # a dictionary object shared by several chunks is stored once; the entry keeps the
        # object alive so that its id() cannot be reused by another dictionary
        hit = self._offset.get((name, id(value.names)))
        if hit is None:
            names = pl.Series(value.names, dtype=pl.String)
            hit = self._offset[(name, id(value.names))] = (self._size[name], value.names)
            self._dicts[name].append(names)
            self._size[name] += len(names)
        offset = hit[0]
        return codes if offset == 0 else np.where(codes >= 0, codes + offset, -1)

    def build(self) -> pl.DataFrame:
        """One frame, documented columns in order with their dtypes, sorted by time (stable)."""
        if not self._chunks:
            return pl.DataFrame(schema=self.schema)
        frame = pl.concat(self._chunks, how="diagonal_relaxed", rechunk=True)
        order = pl.int_range(pl.len(), dtype=pl.UInt32).sort_by("timestamp_s", maintain_order=True)
        frame = frame[frame.select(order).to_series()]
        out: dict[str, pl.Series] = {}
        for name, dtype in self.schema.items():
            if name not in frame.columns:
                out[name] = pl.repeat(None, len(frame), dtype=dtype, eager=True)
            elif name in self._dicts:
                codes = frame.select(pl.when(pl.col(name) >= 0).then(pl.col(name)))[name]
                out[name] = pl.concat(self._dicts[name], rechunk=True).gather(codes)
            else:
                out[name] = frame[name].cast(dtype)
        return pl.DataFrame(out)


def _subset(value: Any, keep: np.ndarray) -> Any:
    """Rows ``keep`` of a per-row value (arrays and :class:`Labels`); scalars pass through."""
    if isinstance(value, Labels):
        return Labels(value.codes[keep], value.names)
    if isinstance(value, np.ndarray):
        return value[keep]
    return value
