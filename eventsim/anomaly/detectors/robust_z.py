"""Robust baseline: rolling median / MAD z-score, with the scale floored.

The score of a row is the largest, over features, of ``|x - median| / scale`` where median and
MAD come from the last ``window`` learned rows and ``scale = max(1.4826·MAD, floor)``. The
floor, ``floor_fraction`` of the window's range (and at least the smallest gap between
distinct values, so quantised series keep a usable scale), stops the z-score exploding on
constant, quantised or two-level series where the MAD is 0.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from eventsim.anomaly.detectors.base import Detector
from eventsim.exceptions import ConfigError

__all__ = ["RobustZScore"]


class RobustZScore(Detector):
    """Rolling median/MAD z-score, scale floored.

    Parameters
    ----------
    window
        Learned rows kept.
    min_history
        Rows needed before scoring (0.0 before).
    floor_fraction
        Scale floor as a share of the window's range.
    seed
        Accepted for the common interface; unused.
    on_missing
        ``"raise"`` or ``"skip"``.

    Examples
    --------
    >>> det = RobustZScore(min_history=3)
    >>> for v in [1.0, 1.0, 1.0, 2.0, 1.0]:
    ...     det.learn_one({"v": v})
    >>> det.score_one({"v": 1.0}), det.score_one({"v": 11.0})
    (0.0, 10.0)
    """

    def __init__(
        self,
        window: int = 500,
        min_history: int = 30,
        floor_fraction: float = 0.01,
        *,
        seed: int | None = None,
        on_missing: str = "raise",
    ) -> None:
        super().__init__(on_missing=on_missing)
        if window < 2 or min_history < 1 or floor_fraction < 0:
            msg = (
                "RobustZScore needs window >= 2, min_history >= 1, floor_fraction >= 0; got "
                f"window={window}, min_history={min_history}, floor_fraction={floor_fraction}"
            )
            raise ConfigError(msg)
        self.window = window
        self.min_history = min_history
        self.floor_fraction = floor_fraction
        self.seed = seed
        self._rows: deque[tuple[float, ...]] = deque(maxlen=window)
        self._keys: tuple[str, ...] | None = None
        self._stats: tuple[np.ndarray, np.ndarray] | None = None

    def _fit(self) -> tuple[np.ndarray, np.ndarray]:
        if self._stats is None:
            arr = np.asarray(self._rows)
            med = np.median(arr, axis=0)
            mad = 1.4826 * np.median(np.abs(arr - med), axis=0)
            srt = np.sort(arr, axis=0)
            gaps = np.diff(srt, axis=0)
            gap = np.where(gaps > 0, gaps, np.inf).min(axis=0, initial=np.inf)
            rng = srt[-1] - srt[0]
            floor = np.maximum(self.floor_fraction * rng, np.where(np.isfinite(gap), gap, 0.0))
            self._stats = (med, np.maximum(np.maximum(mad, floor), 1e-12))
        return self._stats

    def _score(self, x: dict[str, float]) -> float:
        if len(self._rows) < self.min_history:
            return 0.0
        med, scale = self._fit()
        row = np.array([x.get(k, 0.0) for k in self._keys or sorted(x)])
        return float(np.max(np.abs(row - med) / scale))

    def _learn(self, x: dict[str, float]) -> None:
        if self._keys is None:
            self._keys = tuple(sorted(x))
        self._rows.append(tuple(x.get(k, 0.0) for k in self._keys))
        self._stats = None
