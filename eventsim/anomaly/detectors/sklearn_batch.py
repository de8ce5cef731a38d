"""Adapter: scikit-learn detectors fitted on a warm-up window, scoring in micro-batches.

IsolationForest, LocalOutlierFactor(novelty=True) and OneClassSVM behind a StandardScaler.
The model is fitted once ``warmup`` rows have been learned and, with ``refit_every``, refitted
on the last ``window`` rows every ``refit_every`` learned rows. scikit-learn's
``score_samples`` says "the lower, the more abnormal": scores are negated so higher = more
anomalous. A call to ``score_samples`` costs about a millisecond whatever its size, so score
many rows at once (:meth:`SklearnDetector.score_many`); :meth:`score_learn_many` walks a
stream in micro-batches of ``batch_size`` rows, each scored by the model as it stood when the
batch began. Before the first fit, scores are 0.0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eventsim.anomaly.detectors.base import Detector, Rows, as_matrix
from eventsim.exceptions import ConfigError

__all__ = ["ESTIMATORS", "SklearnDetector"]

#: Names of the scikit-learn estimators this adapter builds.
ESTIMATORS = ("isolation_forest", "lof", "one_class_svm")


def _build(name: str, seed: int | None) -> Any:
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import LocalOutlierFactor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import OneClassSVM

    est: Any
    if name == "isolation_forest":
        est = IsolationForest(n_estimators=100, random_state=seed)
    elif name == "lof":
        est = LocalOutlierFactor(n_neighbors=20, novelty=True)
    else:
        est = OneClassSVM(nu=0.05, gamma="scale")
    return make_pipeline(StandardScaler(), est)


class SklearnDetector(Detector):
    """A scikit-learn novelty detector fitted on a warm-up window (optionally refitted).

    Parameters
    ----------
    estimator
        One of :data:`ESTIMATORS`.
    warmup
        Rows learned before the first fit.
    refit_every
        Refit after this many more learned rows (``None``: fit once).
    window
        Rows kept for (re)fitting: the most recent ones.
    batch_size
        Micro-batch size of :meth:`score_learn_many`.
    seed
        ``random_state`` of the estimator.
    on_missing
        ``"raise"`` or ``"skip"``.

    Examples
    --------
    >>> det = SklearnDetector("isolation_forest", warmup=100, seed=0)
    >>> det.learn_many(np.random.default_rng(0).normal(size=(100, 2)))
    >>> s = det.score_many(np.array([[0.0, 0.0], [8.0, 8.0]]))
    >>> bool(s[1] > s[0])
    True
    """

    def __init__(
        self,
        estimator: str = "isolation_forest",
        warmup: int = 256,
        refit_every: int | None = None,
        window: int = 2048,
        batch_size: int = 256,
        *,
        seed: int | None = 0,
        on_missing: str = "raise",
    ) -> None:
        super().__init__(on_missing=on_missing)
        if estimator not in ESTIMATORS:
            msg = f"SklearnDetector.estimator must be one of {ESTIMATORS}; got {estimator!r}"
            raise ConfigError(msg)
        if warmup < 2 or window < warmup or batch_size < 1:
            msg = (
                "SklearnDetector needs warmup >= 2, window >= warmup, batch_size >= 1; got "
                f"warmup={warmup}, window={window}, batch_size={batch_size}"
            )
            raise ConfigError(msg)
        if refit_every is not None and refit_every < 1:
            msg = f"SklearnDetector.refit_every must be None or >= 1; got {refit_every!r}"
            raise ConfigError(msg)
        self.estimator = estimator
        self.warmup = warmup
        self.refit_every = refit_every
        self.window = window
        self.batch_size = batch_size
        self.seed = seed
        self.model_: Any = None
        self._names: list[str] | None = None
        self._buffer = np.empty((0, 0))
        self._since_fit = 0

    # --- learning ---------------------------------------------------------------------
    def _append(self, mat: np.ndarray) -> None:
        if self._buffer.size == 0:
            self._buffer = mat.copy()
        else:
            self._buffer = np.vstack([self._buffer, mat])[-self.window :]
        self._since_fit += len(mat)
        due = self.model_ is None and len(self._buffer) >= self.warmup
        due = due or (
            self.model_ is not None
            and self.refit_every is not None
            and self._since_fit >= self.refit_every
        )
        if due:
            self.model_ = _build(self.estimator, self.seed).fit(self._buffer)
            self._since_fit = 0

    def _align(self, names: list[str], mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Columns in the order first seen (absent ones NaN) and the mask of usable rows."""
        if self._names is None:
            self._names = names
        elif names != self._names:
            cols = [
                mat[:, names.index(n)] if n in names else np.full(len(mat), np.nan)
                for n in self._names
            ]
            mat = np.column_stack(cols) if cols else mat[:, :0]
        ok = self._clean_matrix(self._names, mat)
        return mat[ok], ok

    def _learn_matrix(self, names: list[str], mat: np.ndarray) -> None:
        usable, _ = self._align(names, mat)
        if len(usable):
            self._append(usable)

    def _score_matrix(self, names: list[str], mat: np.ndarray) -> np.ndarray:
        usable, ok = self._align(names, mat)
        out = np.zeros(len(ok))
        if self.model_ is not None and len(usable):
            out[ok] = -self.model_.score_samples(usable)
        return out

    def learn_many(self, rows: Rows) -> None:
        """Learn rows (fitting when the warm-up fills, refitting on schedule)."""
        self._learn_matrix(*as_matrix(rows))

    def score_many(self, rows: Rows) -> np.ndarray:
        """Negated ``score_samples`` of many rows in one call (0.0 before the first fit)."""
        return self._score_matrix(*as_matrix(rows))

    def score_learn_many(self, rows: Rows) -> np.ndarray:
        """Stream rows in micro-batches: score a batch, then learn it."""
        names, mat = as_matrix(rows)
        out = np.zeros(len(mat))
        for lo in range(0, len(mat), self.batch_size):
            chunk = mat[lo : lo + self.batch_size]
            out[lo : lo + len(chunk)] = self._score_matrix(names, chunk)
            self._learn_matrix(names, chunk)
        return out

    def _learn(self, x: dict[str, float]) -> None:
        self.learn_many([x])

    def _score(self, x: dict[str, float]) -> float:
        return float(self.score_many([x])[0])
