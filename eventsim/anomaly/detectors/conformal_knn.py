"""The default detector: multi-scale conformal k-nearest-neighbour anomaly scores.

For each time scale ``m`` (default 1, 4, 16 and 64 rows) the detector keeps the last ``window``
*shingles* (the row and the ``m - 1`` rows before it, features concatenated). A new shingle's
nonconformity is its distance to its ``k``-th nearest stored shingle; its conformal p-value is
the share of recent nonconformities at least as large (Laxhammar & Falkman's conformal anomaly
detection), extended beyond the largest one by an exponential tail fitted to the top 2 %
(peaks over threshold). The evidence of a scale is ``-log10 p``; scales are combined by taking
the strongest, Bonferroni-corrected (``- log10(n_tests)``; ``per_feature`` instead tests each
feature's multi-scale means in both tails, for residual vectors). Rank-based p-values make scores
comparable across series whatever their units, which is what one threshold over many series
(the NAB protocol) needs.

Alarm de-duplication (one alarm per episode)
---------------------------------------------
NAB, like an operator, counts only the first detection of an anomaly; every later alarm can
only cost. NAB's own detectors and its convention hold alarms off for a while after one. A
hold-off needs an alarm level, which a score-only detector does not know (NAB sweeps the
threshold afterwards), so the rule is stated on the scores themselves, with one parameter,
``refractory`` (rows):

- *refractory peak*: a score below the largest raw score of the last ``refractory`` rows is
  reported as 0, so a long anomaly raises one alarm at its onset instead of a train of alarms
  after it;
- *episode*: a row right after a row whose raw score reached ``log10(refractory)`` is
  reported as 0. That level is a p-value of ``1 / refractory``: evidence that chance alone
  produces about once per refractory period, so consecutive rows above it are one excursion,
  and a rising excursion (2.2, 2.5, 2.8, ...) alarms once, at its first row, not at each new
  maximum.

Scale 1 sees unusual *levels*, scale 4 unusual short *shapes* (jumps, spikes, drops), scales
16 and 64 unusual longer *patterns* (an hour's or a day's shape broken, at 5-minute rows).
Parameters are the scales (powers of 4), ``k = 3``, a 4000-row memory and the 100-row
refractory period; none was fitted to a benchmark file.
"""

from __future__ import annotations

import bisect
import math
from collections import deque

import numpy as np

from eventsim.anomaly.detectors.base import Detector
from eventsim.exceptions import ConfigError

__all__ = ["ConformalKNN"]

_MAX_SCORE = 300.0


def _upper_p(
    cal: list[float],
    a: float,
    min_history: int,
    tail_fraction: float,
    min_scale: float,
    tail_shape: float = 0.0,
) -> float | None:
    """Conformal p-value of ``a`` against sorted ``cal`` (upper tail), exponential beyond,
    with a scale of at least ``min_scale`` and ``tail_shape`` times the tail's threshold."""
    n = len(cal)
    if n < min_history:
        return None
    above = n - bisect.bisect_left(cal, a)
    if above:
        return (above + 1) / (n + 1)
    top = np.asarray(cal[int((1.0 - tail_fraction) * n) :])
    rel = max(tail_shape, 1e-12) * max(abs(top[0]), 1.0)
    scale = max(float(top.mean() - top[0]), rel, min_scale)
    return math.exp(-min((a - cal[-1]) / scale, 700.0)) / (n + 1)


def _remember(cal: list[float], order: deque[float], a: float, window: int) -> None:
    bisect.insort(cal, a)
    order.append(a)
    if len(order) > window:
        del cal[bisect.bisect_left(cal, order.popleft())]


class _Scale:
    """History and calibration of one shingle length."""

    def __init__(self, m: int, window: int, column: int | None = None) -> None:
        self.m = m
        self.column = column  # one feature's shingle, or None for all features
        self.window = window
        self.buffer: np.ndarray | None = None  # ring buffer of the last `window` shingles
        self.n = 0
        self.pos = 0
        self.calibration: list[float] = []
        self.order: deque[float] = deque()

    def distance(self, shingle: np.ndarray, k: int) -> float | None:
        if self.n <= k or self.buffer is None:
            return None
        d = np.sqrt(((self.buffer[: self.n] - shingle) ** 2).sum(axis=1))
        return float(np.partition(d, k - 1)[k - 1])

    def p_value(self, a: float, min_history: int, tail: tuple[float, float, float]) -> float | None:
        return _upper_p(self.calibration, a, min_history, *tail)

    def learn(self, shingle: np.ndarray, a: float | None) -> None:
        if a is not None:
            _remember(self.calibration, self.order, a, self.window)
        if self.buffer is None:
            self.buffer = np.empty((self.window, shingle.size))
        self.buffer[self.pos] = shingle
        self.pos = (self.pos + 1) % self.window
        self.n = min(self.n + 1, self.window)


class _FeatureScale(_Scale):
    """One feature's mean over ``m`` rows, tested against its own history in both tails."""

    def __init__(self, m: int, window: int, column: int) -> None:
        super().__init__(m, window, column)
        self.lower: list[float] = []  # sorted negated values (the lower tail)
        self.lower_order: deque[float] = deque()

    def distance(self, shingle: np.ndarray, k: int) -> float | None:
        return float(shingle[0])  # the value itself: in one dimension the rank is the test

    def p_value(self, a: float, min_history: int, tail: tuple[float, float, float]) -> float | None:
        up = _upper_p(self.calibration, a, min_history, *tail)
        down = _upper_p(self.lower, -a, min_history, *tail)
        return None if up is None or down is None else min(up, down)

    def learn(self, shingle: np.ndarray, a: float | None) -> None:
        v = float(shingle[0])
        _remember(self.calibration, self.order, v, self.window)
        _remember(self.lower, self.lower_order, -v, self.window)


class ConformalKNN(Detector):
    """Multi-scale conformal k-NN detector, online (score-then-learn); the default.

    Parameters
    ----------
    scales
        Shingle lengths in rows.
    window
        Rows of history kept per scale (neighbours and calibration).
    k
        Neighbour rank whose distance is the nonconformity.
    min_history
        Calibration values needed before a scale scores (scores are 0 before).
    refractory
        Rows after a peak during which only a new, higher peak is reported, and whose
        ``log10`` is the episode level (module docstring; 0: both rules off).
    tail_fraction
        Share of the largest calibration values that fits the exponential tail.
    per_feature
        Test each feature on its own: for each scale ``m``, the feature's mean over the last
        ``m`` rows (a scan statistic: a sustained shift accumulates) gets a two-sided
        conformal p-value against its own history (its rank in the upper and in the lower
        tail, exponential beyond the extremes), and the strongest is Bonferroni-corrected
        over ``2 × features × scales`` tests. In one dimension the rank is the natural
        nonconformity; nearest-neighbour isolation is weak at the extremes, where the
        sample's own extremes are isolated too. Suits residual vectors, where an anomaly
        moves one or two features among many.
    delay
        Rows a learned row waits before it joins the history (neighbours and calibration;
        0: at once). :meth:`discard_pending` drops the waiting ones, so a caller that
        recognises an anomaly late keeps its onset out of the history.
    min_scale
        Smallest scale of the exponential tail beyond the largest calibration value, in
        the nonconformity's units (0: relative floor only). Floors the evidence a tiny
        change can carry on a quantised or constant series.
    tail_shape
        Smallest scale of that tail relative to its threshold (the smallest of the top
        ``tail_fraction`` values; 0: none): the mean excess of a Pareto-like tail of this
        shape, which grows with the threshold. Where a recurring pattern's residuals of 100
        sigmas or more are the history's extremes, a next one at 150 is then a few e-folds
        out, not dozens (an exponential tail fitted to three values 4 sigmas apart).
    seed
        Accepted for the common interface; the detector draws no random numbers.
    on_missing
        ``"raise"`` or ``"skip"`` (see :mod:`eventsim.anomaly.detectors.base`).

    Notes
    -----
    Features are concatenated unscaled: put several features on comparable scales first.
    Scores are ``-log10`` p-values (0 … 300), higher = more anomalous.

    Examples
    --------
    >>> det = ConformalKNN(min_history=20)
    >>> rng = np.random.default_rng(0)
    >>> for v in rng.normal(0, 1, 200):
    ...     det.learn_one({"v": float(v)})
    >>> det.score_one({"v": 0.1}) < 1.0 < det.score_one({"v": 25.0})
    True
    """

    def __init__(
        self,
        scales: tuple[int, ...] = (1, 4, 16, 64),
        window: int = 4000,
        k: int = 3,
        min_history: int = 100,
        refractory: int = 100,
        tail_fraction: float = 0.02,
        per_feature: bool = False,
        min_scale: float = 0.0,
        delay: int = 0,
        tail_shape: float = 0.0,
        *,
        seed: int | None = None,
        on_missing: str = "raise",
    ) -> None:
        super().__init__(on_missing=on_missing)
        if not scales or any(int(m) < 1 for m in scales):
            msg = f"ConformalKNN.scales must be positive row counts; got {scales!r}"
            raise ConfigError(msg)
        if k < 1 or window <= k or min_history < 1 or refractory < 0 or delay < 0:
            msg = (
                "ConformalKNN needs k >= 1, window > k, min_history >= 1, refractory >= 0, "
                f"delay >= 0; got k={k}, window={window}, min_history={min_history}, "
                f"refractory={refractory}, delay={delay}"
            )
            raise ConfigError(msg)
        if not 0.0 < tail_fraction < 1.0:
            msg = f"ConformalKNN.tail_fraction must be in (0, 1); got {tail_fraction!r}"
            raise ConfigError(msg)
        if not tail_shape >= 0.0:
            msg = f"ConformalKNN.tail_shape must be >= 0; got {tail_shape!r}"
            raise ConfigError(msg)
        self.scales = tuple(int(m) for m in scales)
        self.window = window
        self.k = k
        self.min_history = min_history
        self.refractory = refractory
        self.tail_fraction = tail_fraction
        self.per_feature = per_feature
        self.min_scale = min_scale
        self.delay = delay
        self.tail_shape = tail_shape
        self._pending: deque[list[tuple[_Scale, np.ndarray, float | None]]] = deque()
        self._tests = 1
        self.seed = seed
        self._scales: list[_Scale] = []
        self._rows: deque[np.ndarray] = deque(maxlen=max(self.scales))
        self._recent: deque[float] = deque(maxlen=max(refractory, 1))
        self._episode_level = math.log10(refractory) if refractory else math.inf
        self._keys: tuple[str, ...] | None = None
        self._cache: tuple[tuple[float, ...], list[float | None], float] | None = None

    def _vector(self, x: dict[str, float]) -> np.ndarray:
        if self._keys is None:
            self._keys = tuple(sorted(x))
            if self.per_feature:
                self._scales = [
                    _FeatureScale(m, self.window, c)
                    for c in range(len(self._keys))
                    for m in self.scales
                ]
                self._tests = 2 * len(self._scales)
            else:
                self._scales = [_Scale(m, self.window) for m in self.scales]
                self._tests = len(self._scales)
        return np.array([x.get(k, 0.0) for k in self._keys], dtype=np.float64)

    def _shingle(self, row: np.ndarray, sc: _Scale) -> np.ndarray | None:
        m = sc.m
        if len(self._rows) < m - 1:
            return None
        past = list(self._rows)[len(self._rows) - (m - 1) :] if m > 1 else []
        sh = np.concatenate([*past, row])
        return sh if sc.column is None else sh[sc.column :: row.size].mean(keepdims=True)

    def _evaluate(self, x: dict[str, float]) -> tuple[list[float | None], float]:
        key = tuple(x[k] for k in sorted(x))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1], self._cache[2]
        row = self._vector(x)
        dists: list[float | None] = []
        best = 0.0
        tail = (self.tail_fraction, self.min_scale, self.tail_shape)
        for sc in self._scales:
            sh = self._shingle(row, sc)
            a = None if sh is None else sc.distance(sh, self.k)
            dists.append(a)
            p = None if a is None else sc.p_value(a, self.min_history, tail)
            if p is not None:
                best = max(best, -math.log10(p))
        raw = min(max(best - math.log10(self._tests), 0.0), _MAX_SCORE)
        self._cache = (key, dists, raw)
        return dists, raw

    def discard_pending(self) -> None:
        """Forget the rows learned in the last ``delay`` that have not reached the history
        yet (the onset of an anomaly that has just been recognised)."""
        self._pending.clear()

    def observe_one(self, x: dict[str, float]) -> None:
        """Take a row into the last rows that shingles (and a feature's mean over ``m``
        rows) are built from, without learning it: it joins neither the neighbours nor the
        calibration. A caller that withholds anomalous rows from learning still scans the
        stream's latest rows; otherwise a shingle would splice the rows before an anomaly
        onto the rows after it, and the last rows learned would stay in every shingle for
        as long as nothing is learned.

        Examples
        --------
        >>> det = ConformalKNN(scales=(1, 4), min_history=5)
        >>> for v in [0.0, 1.0] * 20:
        ...     det.learn_one({"v": v})
        >>> det.observe_one({"v": 50.0})
        >>> det.score_one({"v": 0.5}) > 1.0  # the mean of the last 4 rows holds the 50
        True
        """
        clean = self._clean(x)
        if clean is not None:
            self._rows.append(self._vector(clean))
            self._cache = None

    def _score(self, x: dict[str, float]) -> float:
        _, raw = self._evaluate(x)
        recent = self._recent
        if recent and (raw < max(recent) or recent[-1] >= self._episode_level):
            return 0.0 if self.refractory else raw
        return raw

    def _learn(self, x: dict[str, float]) -> None:
        dists, raw = self._evaluate(x)
        row = self._vector(x)
        learned = []
        for sc, a in zip(self._scales, dists, strict=True):
            sh = self._shingle(row, sc)
            if sh is not None:
                learned.append((sc, sh, a))
        self._pending.append(learned)
        while len(self._pending) > self.delay:
            for sc, sh, a in self._pending.popleft():
                sc.learn(sh, a)
        self._rows.append(row)
        self._recent.append(raw)
        self._cache = None
