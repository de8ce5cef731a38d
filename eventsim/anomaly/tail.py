"""Per-feature tail detector: two-sided conformal p-values of each feature, the smallest wins.

For every feature and each direction the detector keeps the last ``window`` learned values;
a new value's p-value is the share of those at least as extreme (upper tail for the value,
lower tail for its negation), extended beyond the most extreme one by an exponential tail
fitted to the top ``tail_fraction``. The score is ``-log10`` of the smallest p-value,
Bonferroni-corrected for the ``2 × features`` tests, so scores are comparable across streams
and features: 4 means about one chance in 10⁴ per row.

It suits residual vectors (:class:`~eventsim.anomaly.StreamDetector`): an outage drives the
rate's *lower* tail while an hourly restock that has become normal only widens the *upper*
one, so one kind of anomaly does not mask another, as it would for a detector scoring one
distance over all features.
"""

from __future__ import annotations

import bisect
import math
from collections import deque

import numpy as np

from eventsim.anomaly.detectors.base import Detector
from eventsim.exceptions import ConfigError

__all__ = ["TailDetector"]

_MAX_SCORE = 300.0


class _Tail:
    """Sorted recent values of one feature in one direction."""

    __slots__ = ("order", "values")

    def __init__(self) -> None:
        self.values: list[float] = []
        self.order: deque[float] = deque()

    def p_value(self, v: float, tail_fraction: float, min_scale: float) -> float:
        cal = self.values
        n = len(cal)
        above = n - bisect.bisect_left(cal, v)
        if above:
            return (above + 1) / (n + 1)
        top = np.asarray(cal[n - max(int(tail_fraction * n), 2) :])
        scale = max(float(top.mean() - top[0]), min_scale)
        return math.exp(-min((v - cal[-1]) / scale, 700.0)) / (n + 1)

    def learn(self, v: float, window: int) -> None:
        bisect.insort(self.values, v)
        self.order.append(v)
        if len(self.order) > window:
            old = self.order.popleft()
            del self.values[bisect.bisect_left(self.values, old)]


class TailDetector(Detector):
    """Two-sided per-feature conformal tail scores (online, score-then-learn).

    Parameters
    ----------
    window
        Learned values kept per feature.
    min_history
        Values needed before a feature is tested (scores are 0 before).
    tail_fraction
        Share of the most extreme values that fits the exponential tail.
    min_scale
        Smallest tail scale (in the features' units; residuals are in sigmas).
    seed
        Accepted for the common interface; the detector draws no random numbers.
    on_missing
        ``"raise"`` or ``"skip"``.

    Examples
    --------
    >>> det = TailDetector(min_history=50)
    >>> rng = np.random.default_rng(0)
    >>> for v in rng.normal(0, 1, 500):
    ...     det.learn_one({"z": float(v)})
    >>> det.score_one({"z": 0.3}) < 1.0 < 4.0 < det.score_one({"z": -12.0})
    True
    """

    def __init__(
        self,
        window: int = 2000,
        min_history: int = 100,
        tail_fraction: float = 0.05,
        min_scale: float = 0.1,
        *,
        seed: int | None = None,
        on_missing: str = "raise",
    ) -> None:
        super().__init__(on_missing=on_missing)
        if window < 2 or min_history < 1 or not 0.0 < tail_fraction < 1.0 or not min_scale > 0:
            msg = (
                "TailDetector needs window >= 2, min_history >= 1, 0 < tail_fraction < 1 and "
                f"min_scale > 0; got {window}, {min_history}, {tail_fraction}, {min_scale}"
            )
            raise ConfigError(msg)
        self.window = window
        self.min_history = min_history
        self.tail_fraction = tail_fraction
        self.min_scale = min_scale
        self.seed = seed
        self._tails: dict[tuple[str, float], _Tail] = {}

    def _score(self, x: dict[str, float]) -> float:
        best, tests = 1.0, 0
        for k, v in x.items():
            for sign in (1.0, -1.0):
                tail = self._tails.get((k, sign))
                if tail is None or len(tail.values) < self.min_history:
                    continue
                best = min(best, tail.p_value(sign * v, self.tail_fraction, self.min_scale))
                tests += 1
        if not tests:
            return 0.0
        return min(max(-math.log10(max(best, 1e-300)) - math.log10(tests), 0.0), _MAX_SCORE)

    def _learn(self, x: dict[str, float]) -> None:
        for k, v in x.items():
            for sign in (1.0, -1.0):
                self._tails.setdefault((k, sign), _Tail()).learn(sign * v, self.window)
