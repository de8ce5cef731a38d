"""The string dictionary of a log: strings are stored as int32 codes, never as objects."""

from __future__ import annotations

from collections.abc import Iterable

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
        self._codes: dict[str, int] | None = {}  # built lazily for single lookups
        self._values: list[str] = []
        self._series: pl.Series | None = None

    def __len__(self) -> int:
        return len(self._values)

    def _lookup(self) -> dict[str, int]:
        if self._codes is None:
            self._codes = {v: i for i, v in enumerate(self._values)}
        return self._codes

    def encode(self, value: str | None) -> int:
        """The code of one string (-1 for None)."""
        if value is None:
            return -1
        codes = self._lookup()
        code = codes.get(value)
        if code is None:
            code = len(self._values)
            codes[value] = code
            self._values.append(value)
            self._series = None
        return code

    def encode_many(self, values: Iterable[str | None]) -> np.ndarray:
        """Codes of many strings, as an int32 array."""
        return np.fromiter((self.encode(v) for v in values), dtype=np.int32)

    def _intern(self, uniques: pl.Series) -> np.ndarray:
        """Codes of distinct non-null strings, adding the new ones (a join, not a loop)."""
        n = len(self._values)
        if n == 0:
            table = np.arange(uniques.len(), dtype=np.int32)
            new = uniques
        else:
            known = pl.DataFrame(
                {"v": self.series(), "c": pl.int_range(0, n, dtype=pl.Int32, eager=True)}
            )
            found = uniques.to_frame("v").join(known, on="v", how="left", maintain_order="left")
            codes = found.get_column("c")
            missing = codes.is_null()
            new = uniques.filter(missing)
            fresh = pl.int_range(n, n + new.len(), dtype=pl.Int32, eager=True)
            table = codes.fill_null(0).to_numpy().astype(np.int32)
            table[missing.to_numpy()] = fresh.to_numpy()
        if new.len():
            self._values.extend(new.to_list())
            self._series = None
            if self._codes is not None and new.len() > 1000:
                self._codes = None  # rebuilt on the next single lookup
            elif self._codes is not None:
                self._codes.update(zip(new.to_list(), range(n + 0, n + new.len()), strict=True))
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
        if is_categorical(series.dtype):
            return self._encode_categorical(series)
        import pyarrow as pa
        import pyarrow.compute as pc

        # one hash pass (Arrow's dictionary_encode: distinct values in order of first
        # appearance, each row's index into them; nulls stay null)
        encoded = pc.dictionary_encode(series.to_arrow())
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        uniques = pl.Series(pl.from_arrow(encoded.dictionary), dtype=pl.String)
        table = np.append(self._intern(uniques), np.int32(-1))  # index -1 (null) → code -1
        local = pc.fill_null(encoded.indices, -1).to_numpy()
        return table[local]

    def _encode_categorical(self, series: pl.Series) -> np.ndarray:
        """Map the categories present once, then index with the physical codes (no per-row
        strings)."""
        present = series.unique(maintain_order=True).drop_nulls()
        table = self._intern(present.cast(pl.String))
        phys = present.to_physical().to_numpy().astype(np.int64)
        lut = np.full(int(phys.max(initial=-1)) + 2, -1, dtype=np.int32)  # last slot: null
        lut[phys] = table
        codes = series.to_physical()
        if codes.null_count():
            codes = codes.cast(pl.Int64).fill_null(-1)
        return lut[codes.to_numpy()]

    def series(self) -> pl.Series:
        """All interned strings as a polars Series, in code order."""
        if self._series is None:
            self._series = pl.Series(self._values, dtype=pl.String)
        return self._series

    def decode(self, codes: np.ndarray) -> pl.Series:
        """Strings for ``codes`` (nulls for -1), without a per-row Python loop."""
        if not codes.shape[0] or codes.min() >= 0:
            return self.series().gather(codes)
        idx = pl.Series(codes.astype(np.int64, copy=False))
        return self.series().gather(pl.select(pl.when(idx >= 0).then(idx)).to_series())

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
        return self._values[start:]

    @property
    def values(self) -> list[str]:
        """All interned strings, in code order."""
        return list(self._values)
