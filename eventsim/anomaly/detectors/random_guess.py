"""The random detector: uniform scores in [0, 1), a chance baseline (NAB's ``random``)."""

from __future__ import annotations

import numpy as np

from eventsim.anomaly.detectors.base import Detector

__all__ = ["RandomDetector"]


class RandomDetector(Detector):
    """Scores each row with a fresh uniform draw; same seed → same sequence of scores.

    Parameters
    ----------
    seed
        Seed of the numpy generator.
    on_missing
        ``"raise"`` or ``"skip"``.

    Examples
    --------
    >>> a = [RandomDetector(seed=1).score_one({"v": 0.0}) for _ in range(2)]
    >>> a[0] == a[1], 0.0 <= a[0] < 1.0
    (True, True)
    """

    def __init__(self, *, seed: int | None = 0, on_missing: str = "raise") -> None:
        super().__init__(on_missing=on_missing)
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def _learn(self, x: dict[str, float]) -> None:
        return None

    def _score(self, x: dict[str, float]) -> float:
        return float(self._rng.random())
