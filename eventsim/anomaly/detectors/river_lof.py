"""Adapter: river's incremental LocalOutlierFactor (memory grows with rows learned)."""

from __future__ import annotations

import math
from typing import Any

from eventsim.anomaly.detectors.base import Detector

__all__ = ["RiverLOF"]


class RiverLOF(Detector):
    """river ``anomaly.LocalOutlierFactor``; use on short streams (it keeps every row).

    Parameters
    ----------
    n_neighbors
        Neighbourhood size.
    seed
        Accepted for the common interface; unused.
    on_missing
        ``"raise"`` or ``"skip"``.

    Examples
    --------
    >>> det = RiverLOF(n_neighbors=5)
    >>> for i in range(30):
    ...     det.learn_one({"v": float(i % 5)})
    >>> det.score_one({"v": 2.0}) < det.score_one({"v": 40.0})
    True
    """

    def __init__(
        self, n_neighbors: int = 10, *, seed: int | None = None, on_missing: str = "raise"
    ) -> None:
        super().__init__(on_missing=on_missing)
        self.n_neighbors = n_neighbors
        self.seed = seed
        self._model: Any = None
        self._n = 0

    def _lof(self) -> Any:
        if self._model is None:
            from river import anomaly

            self._model = anomaly.LocalOutlierFactor(n_neighbors=self.n_neighbors)
        return self._model

    def _learn(self, x: dict[str, float]) -> None:
        self._lof().learn_one(x)
        self._n += 1

    def _score(self, x: dict[str, float]) -> float:
        if self._n <= self.n_neighbors:
            return 0.0
        s = float(self._lof().score_one(x))
        return s if math.isfinite(s) else 1e10
