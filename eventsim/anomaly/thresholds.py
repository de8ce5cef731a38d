"""Thresholds: separate objects turning scores into alarms with ``classify(score)``.

- :class:`FixedThreshold`: alarm when ``score >= value``.
- :class:`QuantileThreshold`: alarm when a score is above the ``q``-quantile of the scores
  learned before it (streaming, score-then-learn, as river's ``QuantileFilter``); strictly
  above, so a detector stuck at one value never alarms.
- :func:`best_threshold_in_hindsight`: the threshold maximising F1 given the labels; it looks
  at the answers, so it is for benchmark reporting only and says so in its result.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Sequence

import numpy as np

from eventsim.exceptions import ConfigError

__all__ = ["FixedThreshold", "QuantileThreshold", "best_threshold_in_hindsight"]


class FixedThreshold:
    """Alarm when ``score >= value``.

    Examples
    --------
    >>> t = FixedThreshold(3.0)
    >>> t.classify(2.9), t.classify(3.0)
    (False, True)
    """

    def __init__(self, value: float) -> None:
        self.value = float(value)

    def learn_one(self, score: float) -> None:
        """Nothing to learn."""

    def classify(self, score: float) -> bool:
        """True when ``score`` is an alarm."""
        return bool(score >= self.value)

    def __repr__(self) -> str:
        return f"FixedThreshold({self.value!r})"


class QuantileThreshold:
    """Alarm when a score exceeds the ``q``-quantile of the previous scores (streaming).

    Parameters
    ----------
    q
        Quantile in (0, 1).
    window
        Past scores kept (``None``: all).
    min_history
        Scores needed before any alarm.

    Examples
    --------
    >>> t = QuantileThreshold(q=0.9, min_history=10)
    >>> for s in range(100):
    ...     t.learn_one(float(s))
    >>> t.classify(50.0), t.classify(95.0)
    (False, True)
    """

    def __init__(self, q: float = 0.99, window: int | None = 10_000, min_history: int = 100):
        if not 0.0 < q < 1.0:
            msg = f"QuantileThreshold.q must be in (0, 1); got {q!r}"
            raise ConfigError(msg)
        self.q = q
        self.window = window
        self.min_history = min_history
        self._sorted: list[float] = []
        self._order: deque[float] = deque()

    @property
    def value(self) -> float:
        """The current threshold (``inf`` before ``min_history`` scores)."""
        n = len(self._sorted)
        if n < max(self.min_history, 1):
            return float("inf")
        return self._sorted[min(int(self.q * n), n - 1)]

    def learn_one(self, score: float) -> None:
        """Add a score to the history."""
        bisect.insort(self._sorted, float(score))
        self._order.append(float(score))
        if self.window is not None and len(self._order) > self.window:
            old = self._order.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]

    def classify(self, score: float) -> bool:
        """True when ``score`` is above the current quantile."""
        return bool(score > self.value)

    def classify_learn_many(self, scores: Sequence[float] | np.ndarray) -> np.ndarray:
        """Classify each score against the scores before it, then learn it."""
        out = np.zeros(len(scores), dtype=bool)
        for i, s in enumerate(np.asarray(scores, dtype=np.float64).tolist()):
            out[i] = self.classify(s)
            self.learn_one(s)
        return out

    def __repr__(self) -> str:
        return f"QuantileThreshold(q={self.q!r}, window={self.window!r})"


def best_threshold_in_hindsight(
    scores: Sequence[float] | np.ndarray, labels: Sequence[bool] | np.ndarray
) -> dict[str, float | str]:
    """Point-wise F1-maximising threshold, chosen *with the labels* (reporting only).

    Parameters
    ----------
    scores
        Anomaly scores.
    labels
        True where the row is anomalous.

    Returns
    -------
    dict
        ``threshold``, ``f1``, ``precision``, ``recall`` and ``note`` =
        ``"best threshold in hindsight (uses labels; benchmark reporting only)"``.

    Examples
    --------
    >>> r = best_threshold_in_hindsight([0.1, 0.9, 0.2, 0.8], [False, True, False, True])
    >>> r["threshold"], r["f1"]
    (0.8, 1.0)
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    note = "best threshold in hindsight (uses labels; benchmark reporting only)"
    if not y.any() or s.size == 0:
        return {"threshold": float("inf"), "f1": 0.0, "precision": 0.0, "recall": 0.0, "note": note}
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.flatnonzero(np.append(s[1:] != s[:-1], True))
    tp = np.cumsum(y)[last]
    n_alarm = last + 1
    precision = tp / n_alarm
    recall = tp / y.sum()
    f1 = np.where(tp > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0.0)
    j = int(np.argmax(f1))
    return {
        "threshold": float(s[last[j]]),
        "f1": float(f1[j]),
        "precision": float(precision[j]),
        "recall": float(recall[j]),
        "note": note,
    }
