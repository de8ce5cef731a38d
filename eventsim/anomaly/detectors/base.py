"""The detector interface: river's ``learn_one``/``score_one``, plus micro-batch paths.

Every detector scores so that **higher = more anomalous** (river's convention; scikit-learn
scores are negated by their adapters). Online detectors are used score-then-learn: score a
row with what was learned before it, then learn it (:meth:`Detector.score_learn_many` does
exactly that over a frame).

Missing values (the documented rule)
------------------------------------
A row with no features, or with a feature that is ``None``, NaN or infinite, is *missing*.
With ``on_missing="raise"`` (the default) the detector raises
:class:`~eventsim.exceptions.DataFormatError` naming the feature and value; with
``on_missing="skip"`` the row is not learned and scores ``0.0`` (no evidence). A detector
never returns a NaN score.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from eventsim.exceptions import ConfigError, DataFormatError

__all__ = ["Detector", "as_matrix"]

_ON_MISSING = ("raise", "skip")

Rows = pl.DataFrame | np.ndarray | Sequence[Mapping[str, float]]


def as_matrix(rows: Rows) -> tuple[list[str], np.ndarray]:
    """Feature names and a 2-D float64 matrix from a frame, an array or a list of dicts.

    A polars frame gives its numeric columns (others ignored); a 1-D array is one feature
    ``"x"``; a 2-D array has features ``"x0", "x1", ...``; dicts give the union of their keys
    (absent keys become NaN).

    Examples
    --------
    >>> as_matrix(np.array([1.0, 2.0]))
    (['x'], array([[1.], [2.]]))
    >>> as_matrix([{"a": 1.0}, {"a": 2.0, "b": 3.0}])[1]
    array([[ 1., nan], [ 2.,  3.]])
    """
    if isinstance(rows, pl.DataFrame):
        names = [c for c, t in rows.schema.items() if t.is_numeric()]
        return names, rows.select(pl.col(names).cast(pl.Float64)).to_numpy().reshape(-1, len(names))
    if isinstance(rows, np.ndarray):
        arr = np.asarray(rows, dtype=np.float64)
        if arr.ndim == 1:
            return ["x"], arr.reshape(-1, 1)
        return [f"x{j}" for j in range(arr.shape[1])], arr
    names = sorted({k for r in rows for k in r})
    mat = np.array(
        [[np.nan if r.get(k) is None else float(r[k]) for k in names] for r in rows],
        dtype=np.float64,
    ).reshape(len(rows), len(names))
    return names, mat


class Detector(ABC):
    """Base of every detector: ``learn_one``/``score_one`` and their many-row forms.

    Subclasses implement :meth:`_learn` and :meth:`_score` on clean dicts (all values finite
    floats); the public methods apply the missing-value rule (module docstring). Batch
    detectors override :meth:`score_many`/:meth:`learn_many` with vectorised versions.

    Parameters
    ----------
    on_missing
        ``"raise"`` or ``"skip"``: what to do with a row holding a missing value.
    """

    def __init__(self, *, on_missing: str = "raise") -> None:
        if on_missing not in _ON_MISSING:
            msg = f"on_missing must be one of {_ON_MISSING}; got {on_missing!r}"
            raise ConfigError(msg)
        self.on_missing = on_missing

    # --- the missing-value rule -------------------------------------------------------
    def _clean(self, x: Mapping[str, Any]) -> dict[str, float] | None:
        bad = next(((k, v) for k, v in x.items() if v is None or not math.isfinite(float(v))), None)
        if not x or bad is not None:
            if self.on_missing == "skip":
                return None
            what = "no features" if bad is None else f"feature {bad[0]!r} is {bad[1]!r}"
            msg = (
                f"{type(self).__name__}: row has {what}; features must be finite numbers "
                "(or build the detector with on_missing='skip')"
            )
            raise DataFormatError(msg)
        return {k: float(v) for k, v in x.items()}

    def _clean_matrix(self, names: list[str], mat: np.ndarray) -> np.ndarray:
        """Boolean mask of usable rows; raises on the first bad row under ``"raise"``."""
        ok = np.isfinite(mat).all(axis=1) if names else np.zeros(len(mat), dtype=bool)
        if not ok.all() and self.on_missing == "raise":
            row = int(np.flatnonzero(~ok)[0])
            self._clean(dict(zip(names, mat[row].tolist())))
        return ok

    # --- public interface -------------------------------------------------------------
    def learn_one(self, x: Mapping[str, float]) -> None:
        """Update the detector with one row."""
        clean = self._clean(x)
        if clean is not None:
            self._learn(clean)

    def score_one(self, x: Mapping[str, float]) -> float:
        """Anomaly score of one row (higher = more anomalous), without learning it."""
        clean = self._clean(x)
        return 0.0 if clean is None else float(self._score(clean))

    def score_many(self, rows: Rows) -> np.ndarray:
        """Scores of many rows, without learning them (one float64 per row)."""
        names, mat = as_matrix(rows)
        ok = self._clean_matrix(names, mat)
        out = np.zeros(len(mat))
        for i in np.flatnonzero(ok):
            out[i] = self._score(dict(zip(names, mat[i].tolist())))
        return out

    def learn_many(self, rows: Rows) -> None:
        """Learn many rows, in order."""
        names, mat = as_matrix(rows)
        ok = self._clean_matrix(names, mat)
        for i in np.flatnonzero(ok):
            self._learn(dict(zip(names, mat[i].tolist())))

    def score_learn_many(self, rows: Rows) -> np.ndarray:
        """Score each row with what was learned before it, then learn it (streaming order)."""
        names, mat = as_matrix(rows)
        ok = self._clean_matrix(names, mat)
        out = np.zeros(len(mat))
        for i in np.flatnonzero(ok):
            x = dict(zip(names, mat[i].tolist()))
            out[i] = self._score(x)
            self._learn(x)
        return out

    @abstractmethod
    def _learn(self, x: dict[str, float]) -> None: ...

    @abstractmethod
    def _score(self, x: dict[str, float]) -> float: ...

    def __repr__(self) -> str:
        params = ", ".join(
            f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_") and k[-1] != "_"
        )
        return f"{type(self).__name__}({params})"
