"""Adapter: river's StandardAbsoluteDeviation, one per feature, the largest score wins.

river 0.26's ``GaussianScorer`` returns 1.0 on every point while its window has zero
variance; ``StandardAbsoluteDeviation`` gives 0 for the mean and a huge (finite) score for
anything else, so it is the Gaussian baseline used here.
"""

from __future__ import annotations

import math
from typing import Any

from eventsim.anomaly.detectors.base import Detector

__all__ = ["StandardAbsoluteDeviation"]


class StandardAbsoluteDeviation(Detector):
    """``|x - mean| / std`` per feature (river), max over features.

    Parameters
    ----------
    seed
        Accepted for the common interface; unused.
    on_missing
        ``"raise"`` or ``"skip"``.

    Examples
    --------
    >>> det = StandardAbsoluteDeviation()
    >>> for v in [1.0, 2.0, 3.0, 2.0, 1.0]:
    ...     det.learn_one({"v": v})
    >>> round(det.score_one({"v": 9.0}), 2)
    8.61
    """

    def __init__(self, *, seed: int | None = None, on_missing: str = "raise") -> None:
        super().__init__(on_missing=on_missing)
        self.seed = seed
        self._models: dict[str, Any] = {}

    def _model(self, key: str) -> Any:
        if key not in self._models:
            from river import anomaly, stats

            self._models[key] = anomaly.StandardAbsoluteDeviation(sub_stat=stats.Mean())
        return self._models[key]

    def _learn(self, x: dict[str, float]) -> None:
        for k, v in x.items():
            self._model(k).learn_one(None, v)

    def _score(self, x: dict[str, float]) -> float:
        if not self._models:
            return 0.0
        s = max(float(self._model(k).score_one(None, v)) for k, v in x.items())
        return s if math.isfinite(s) else 1e10
