"""Integer codes for the checker's hot paths: event ids → rows of ``sends``, strings → codes,
and (topic, partition, offset) → one sortable Int64.

These turn the joins of the checker into array lookups: a table or a sorted search instead of
a hash join on strings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from eventsim.exceptions import DataFormatError

__all__ = ["EventIndex", "OffsetKeys", "string_codes"]

_DENSE_SLACK = 4  # a lookup table may hold up to this many slots per event
_FEW = 16


class EventIndex:
    """Row of each event id in ``sends`` (ids must be unique).

    Dense ids (the usual 0..n-1) use a lookup table; others a sorted search.

    Examples
    --------
    >>> idx = EventIndex(np.array([10, 11, 13]))
    >>> idx.locate(np.array([13, 12, 10])).tolist()
    [2, -1, 0]
    """

    def __init__(self, ids: np.ndarray) -> None:
        self.size = int(ids.size)
        self._table: np.ndarray | None = None
        self._lo = 0
        if self.size and ids.min() >= 0 and ids.max() - ids.min() < _DENSE_SLACK * self.size + 1024:
            self._lo = int(ids.min())
            span = int(ids.max()) - self._lo + 1
            counts = np.bincount(ids - self._lo, minlength=span)
            self._check_unique(counts.max(initial=0) > 1, ids)
            self._table = np.full(span, -1, dtype=np.int64)
            self._table[ids - self._lo] = np.arange(self.size)
        else:
            self._order = np.argsort(ids, kind="stable")
            self._sorted = ids[self._order]
            self._check_unique(bool((self._sorted[1:] == self._sorted[:-1]).any()), ids)

    def _check_unique(self, repeated: bool, ids: np.ndarray) -> None:
        if repeated:
            n = ids.size - np.unique(ids).size
            msg = f"sends.event_id must be unique; {n} repeat(s)"
            raise DataFormatError(msg)

    def locate(self, ids: np.ndarray) -> np.ndarray:
        """Row in ``sends`` of each id, -1 for ids never sent."""
        if self._table is not None:
            rel = ids - self._lo
            ok = (rel >= 0) & (rel < self._table.size)
            out = np.full(ids.size, -1, dtype=np.int64)
            out[ok] = self._table[rel[ok]]
            return out
        if not self.size:
            return np.full(ids.size, -1, dtype=np.int64)
        at = np.searchsorted(self._sorted, ids).clip(max=self.size - 1)
        return np.where(self._sorted[at] == ids, self._order[at], -1)


def string_codes(columns: Sequence[pl.Series]) -> tuple[list[str | None], list[np.ndarray]]:
    """Codes of the values of several string columns in one shared, sorted dictionary.

    Null gets the last code. Returns the dictionary and each column's codes (Int64).

    Examples
    --------
    >>> values, codes = string_codes([pl.Series(["b", "a"]), pl.Series(["a", None])])
    >>> values, [c.tolist() for c in codes]
    (['a', 'b', None], [[1, 0], [0, 2]])
    """
    columns = [c.cast(pl.String) for c in columns]
    one = [_constant(c) for c in columns]  # a single topic or group: no hashing needed
    parts = [c.unique() if v is None else v for c, v in zip(columns, one, strict=True)]
    values = pl.concat(parts).unique().sort(nulls_last=True).to_list()
    known = [v for v in values if v is not None]
    codes = [
        _codes(c, known) if v is None else np.full(c.len(), _codes(v, known)[0])
        for c, v in zip(columns, one, strict=True)
    ]
    if None not in values:
        values.append(None)
    return values, codes


def _constant(column: pl.Series) -> pl.Series | None:
    """The one value of a non-empty column holding a single non-null value, else None."""
    if not column.len() or column.null_count():
        return None
    first = column.head(1)
    return first if bool((column == first[0]).all()) else None


def _codes(column: pl.Series, known: list[str]) -> np.ndarray:
    """Position of each value in ``known`` (null → ``len(known)``)."""
    if not known:
        return np.zeros(column.len(), dtype=np.int64)
    if len(known) <= _FEW:  # a few comparisons beat hashing every string
        expr = pl.lit(len(known), pl.Int64)
        for i, v in enumerate(known):
            expr = pl.when(pl.first() == v).then(pl.lit(i, pl.Int64)).otherwise(expr)
        return column.to_frame().select(expr).to_series().to_numpy()
    enum = pl.Enum(known)
    return column.cast(enum).to_physical().cast(pl.Int64).fill_null(len(known)).to_numpy()


class OffsetKeys:
    """One Int64 per (topic code, partition, offset), ordered as the triple is.

    Examples
    --------
    >>> keys = OffsetKeys(n_topics=2, max_partition=3, max_offset=100)
    >>> k = keys.encode(np.array([0, 1]), np.array([3, 0]), np.array([100, 0]))
    >>> bool(k[0] < k[1])
    True
    """

    def __init__(self, n_topics: int, max_partition: int, max_offset: int) -> None:
        self.partitions = max(max_partition, 0) + 1
        self.bits = max(int(max_offset), 1).bit_length()
        tp_bits = max(n_topics * self.partitions, 1).bit_length()
        if tp_bits + self.bits > 62:
            msg = (
                f"offsets up to {max_offset} in {n_topics} topic(s) x {self.partitions} "
                "partition(s) do not fit the checker's 62-bit keys"
            )
            raise DataFormatError(msg)

    def encode(self, topic: np.ndarray, partition: np.ndarray, offset: np.ndarray) -> np.ndarray:
        """The key of each (topic code, partition, offset)."""
        tp = topic.astype(np.int64) * self.partitions + partition.astype(np.int64)
        return (tp << self.bits) | offset.astype(np.int64)
