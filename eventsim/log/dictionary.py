"""The string dictionary of a log: strings are stored as int32 codes, never as objects."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np
import polars as pl

__all__ = ["Dictionary", "is_categorical", "is_text", "labels"]


def is_categorical(dtype: pl.DataType) -> bool:
    """True for dictionary-encoded string dtypes (``pl.Enum``, ``pl.Categorical``)."""
    return isinstance(dtype, (pl.Enum, pl.Categorical))


def is_text(dtype: pl.DataType) -> bool:
    """True for the dtypes the log stores as dictionary codes: String, Enum, Categorical."""
    return dtype == pl.String or is_categorical(dtype)


def labels(names: list[str], codes: np.ndarray) -> pl.Series:
    """``names[codes]`` as a String series (a constant column when one name covers all).

    Examples
    --------
    >>> labels(["a", "b"], np.array([1, 0, 1])).to_list()
    ['b', 'a', 'b']
    >>> labels(["a", "b"], np.array([1, 1])).to_list()
    ['b', 'b']
    """
    n = codes.shape[0]
    if n and (len(names) == 1 or not (codes != codes[0]).any()):
        return pl.repeat(names[int(codes[0])], n, dtype=pl.String, eager=True).alias("")
    return pl.Series(names, dtype=pl.String).gather(codes)


class Dictionary:
    """Interns strings to dense int32 codes; code -1 stands for null.

    Examples
    --------
    >>> d = Dictionary()
    >>> d.encode_many(["a", "b", "a", None]).tolist()
    [0, 1, 0, -1]
    >>> d.decode(np.array([1, -1], dtype=np.int32)).to_list()
    ['b', None]
    """

    def __init__(self) -> None:
        # The strings in code order live in a polars Series (``_series``), a Python list
        # (``_values``), or both; each is rebuilt from the other only when asked for, so bulk
        # interning never round-trips through Python objects and single lookups never
        # rebuild the Series.
        self._n = 0
        self._series: pl.Series | None = None
        self._values: list[str] | None = []
        self._codes: dict[str, int] | None = {}  # built lazily for single lookups

    def __len__(self) -> int:
        return self._n

    def _list(self) -> list[str]:
        if self._values is None:
            self._values = self.series().to_list()
        return self._values

    def _lookup(self) -> dict[str, int]:
        if self._codes is None:
            self._codes = {v: i for i, v in enumerate(self._list())}
        return self._codes

    def encode(self, value: str | None) -> int:
        """The code of one string (-1 for None)."""
        if value is None:
            return -1
        codes = self._lookup()
        code = codes.get(value)
        if code is None:
            code = self._n
            codes[value] = code
            self._list().append(value)
            self._series = None
            self._n += 1
        return code

    def encode_many(self, values: Iterable[str | None]) -> np.ndarray:
        """Codes of many strings, as an int32 array."""
        return np.fromiter((self.encode(v) for v in values), dtype=np.int32)

    def _intern(self, uniques: pl.Series) -> np.ndarray:
        """Codes of distinct non-null strings, adding the new ones (vectorised).

        The known strings that occur among ``uniques`` are found with one scan (a hash set of
        ``uniques``), so the cost grows with the dictionary's size only by a cheap probe per
        string, and only the strings found are joined back to ``uniques``.
        """
        n, m = self._n, uniques.len()
        table = np.arange(n, n + m, dtype=np.int32)
        new = uniques
        if n and m:
            known = self.series()
            pos = known.is_in(uniques.implode()).arg_true()
            if pos.len():
                found = pl.DataFrame({"v": known.gather(pos), "c": pos.cast(pl.Int32)})
                codes = uniques.to_frame("v").join(found, on="v", how="left", maintain_order="left")
                codes = codes.get_column("c")
                missing = codes.is_null().to_numpy()
                new = uniques.filter(pl.Series(missing))
                table = codes.fill_null(0).to_numpy().astype(np.int32)
                table[missing] = np.arange(n, n + new.len(), dtype=np.int32)
        if new.len():
            self._series = pl.concat([self.series(), new]) if n else new
            self._n += new.len()
            if self._values is not None and new.len() <= 1000:
                self._values.extend(new.to_list())
            else:
                self._values = None  # rebuilt on the next single lookup
            if self._codes is not None and self._values is not None:
                self._codes.update(zip(self._values[n:], range(n, self._n), strict=True))
            else:
                self._codes = None
        return table

    def encode_series(self, series: pl.Series) -> np.ndarray:
        """Codes of a polars String, Enum or Categorical series, interning its distinct values
        once (vectorised).

        Strings are interned in order of first appearance whatever the dtype, so an Enum or
        Categorical column gets exactly the codes its String version would.

        Examples
        --------
        >>> d = Dictionary()
        >>> d.encode_series(pl.Series(["b", None, "a", "b"])).tolist()
        [0, -1, 1, 0]
        >>> d.encode_series(pl.Series(["c", "a", None], dtype=pl.Enum(["a", "c", "z"]))).tolist()
        [2, 1, -1]
        """
        return self._recode(*_distinct(series))

    def encode_columns(self, columns: Sequence[pl.Series]) -> list[np.ndarray]:
        """:meth:`encode_series` of each column, in order (the same codes), with the hashing
        of large String columns run on threads (Arrow's kernels release the GIL); only the
        interning, which is cheap, runs one column after the other.

        Examples
        --------
        >>> d = Dictionary()
        >>> [c.tolist() for c in d.encode_columns([pl.Series(["x", "y"]), pl.Series(["y"])])]
        [[0, 1], [1]]
        """
        big = [i for i, c in enumerate(columns) if c.dtype == pl.String and c.len() >= 100_000]
        found: dict[int, tuple[pl.Series, np.ndarray]] = {}
        if len(big) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(len(big), os.cpu_count() or 1, 4)) as pool:
                found = dict(zip(big, pool.map(_distinct, [columns[i] for i in big]), strict=True))
        out = []
        for i, column in enumerate(columns):
            out.append(self._recode(*(found.pop(i, None) or _distinct(column))))
        return out

    def _recode(self, uniques: pl.Series, local: np.ndarray) -> np.ndarray:
        table = np.append(self._intern(uniques), np.int32(-1))  # index -1 (null) → code -1
        return table[local]

    def series(self) -> pl.Series:
        """All interned strings as a polars Series, in code order."""
        if self._series is None:
            self._series = pl.Series(self._list(), dtype=pl.String)
        elif self._series.n_chunks() > 1:  # gathers from one chunk are ~10x faster
            self._series = self._series.rechunk()
        return self._series

    def decode(self, codes: np.ndarray) -> pl.Series:
        """Strings for ``codes`` (nulls for -1), without a per-row Python loop."""
        if not codes.shape[0] or codes.min() >= 0:
            return self.series().gather(codes)
        idx = pl.Series(codes.astype(np.int64, copy=False))
        return self.series().gather(pl.select(pl.when(idx >= 0).then(idx)).to_series())

    def take(self, codes: np.ndarray) -> list[str]:
        """The strings of a few codes (no -1), as Python strings.

        Examples
        --------
        >>> d = Dictionary()
        >>> d.encode_many(["a", "b", "c"]).tolist()
        [0, 1, 2]
        >>> d.take(np.array([2, 0]))
        ['c', 'a']
        """
        if self._values is not None:
            return [self._values[c] for c in codes.tolist()]
        return self.series().gather(codes).to_list()

    def values_from(self, start: int) -> list[str]:
        """The strings interned from code ``start`` on (a copy of only those).

        Examples
        --------
        >>> d = Dictionary()
        >>> d.encode_many(["a", "b", "c"]).tolist()
        [0, 1, 2]
        >>> d.values_from(1)
        ['b', 'c']
        """
        return self.series().slice(start).to_list()

    @property
    def values(self) -> list[str]:
        """All interned strings, in code order."""
        return list(self._list())


def _distinct(series: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """The distinct non-null strings of a String, Enum or Categorical series in order of first
    appearance, and each row's index into them (-1 for null: pass a table with one extra last
    slot). Reads the series only, so columns can be hashed on several threads."""
    if is_categorical(series.dtype):
        # the categories present, once each; then the physical codes index them
        present = series.unique(maintain_order=True).drop_nulls()
        phys = present.to_physical().to_numpy().astype(np.int64)
        if isinstance(series.dtype, pl.Enum):  # an Enum's physical code indexes its categories
            strings = series.dtype.categories.gather(phys)
        else:
            strings = present.cast(pl.String)
        lut = np.full(int(phys.max(initial=-1)) + 2, -1, dtype=np.int64)  # last slot: null
        lut[phys] = np.arange(phys.shape[0])
        codes = series.to_physical()
        if codes.null_count():
            codes = codes.cast(pl.Int64).fill_null(-1)
        return strings, lut[codes.to_numpy()]
    import pyarrow as pa
    import pyarrow.compute as pc

    # one hash pass (Arrow's dictionary_encode: distinct values in order of first
    # appearance, each row's index into them; nulls stay null)
    encoded = pc.dictionary_encode(series.to_arrow())
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    uniques = pl.Series(pl.from_arrow(encoded.dictionary), dtype=pl.String)
    return uniques, pc.fill_null(encoded.indices, -1).to_numpy()
