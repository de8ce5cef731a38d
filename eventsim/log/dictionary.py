"""The string dictionary of a log: strings are stored as int32 codes, never as objects."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl

__all__ = ["Dictionary"]


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
        self._codes: dict[str, int] = {}
        self._values: list[str] = []
        self._series: pl.Series | None = None

    def __len__(self) -> int:
        return len(self._values)

    def encode(self, value: str | None) -> int:
        """The code of one string (-1 for None)."""
        if value is None:
            return -1
        code = self._codes.get(value)
        if code is None:
            code = len(self._values)
            self._codes[value] = code
            self._values.append(value)
            self._series = None
        return code

    def encode_many(self, values: Iterable[str | None]) -> np.ndarray:
        """Codes of many strings, as an int32 array."""
        return np.fromiter((self.encode(v) for v in values), dtype=np.int32)

    def encode_series(self, series: pl.Series) -> np.ndarray:
        """Codes of a polars String series, interning its distinct values once (vectorised)."""
        uniques = series.drop_nulls().unique(maintain_order=True)
        table = self.encode_many(uniques.to_list())
        local = series.cast(pl.Enum(uniques.to_list())).to_physical()
        out = np.full(series.len(), -1, dtype=np.int32)
        mask = local.is_not_null().to_numpy()
        out[mask] = table[local.drop_nulls().to_numpy().astype(np.int64)]
        return out

    def decode(self, codes: np.ndarray) -> pl.Series:
        """Strings for ``codes`` (nulls for -1), without a per-row Python loop."""
        if self._series is None:
            self._series = pl.Series(self._values, dtype=pl.String)
        idx = pl.Series(codes.astype(np.int64, copy=False))
        return self._series.gather(pl.select(pl.when(idx >= 0).then(idx)).to_series())

    @property
    def values(self) -> list[str]:
        """All interned strings, in code order."""
        return list(self._values)
