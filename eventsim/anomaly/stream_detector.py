"""A detector for one metric stream: robust residuals in, alarm-gated learning.

Feature windows drift (daily load curves), sit on very different scales (events per second
beside ratios beside seconds of latency) and carry both one-off incidents and legitimate
recurring patterns (an hourly restock). :class:`StreamDetector` wraps any registry detector
so that it sees what matters:

1. **Residuals.** Each feature becomes ``z = (x - median) / scale`` against the last
   ``baseline`` windows that raised no alarm, where ``scale`` is ``1.4826·MAD`` (or
   ``1.2533·`` the mean absolute deviation when larger: the MAD collapses to 0 on a
   quantised series whose values are mostly equal, such as a key gap of 60 or 120 s) floored by
   2 % of the median and, for counts, by Poisson noise (``resolution · sqrt(count)``), so a
   quiet stream's single extra event is not a 50-sigma jump. The daily curve moves the
   median, not ``z``.

   A **ratio** whose trial count the row carries (``error_ratio`` over ``events``,
   ``completion_ratio`` over ``terminal_events``: :data:`~eventsim.anomaly.feature_spec.
   RATIO_TRIALS`) is tested on its counts instead: the window's ``k = round(ratio · n)``
   of ``n`` against the baseline windows' pooled ``K`` of ``N``, under the beta-binomial
   predictive distribution (a binomial whose rate is uncertain: a beta with the pooled mean
   and a variance from the pooled estimate plus the window-to-window overdispersion,
   :func:`_rate_prior`),
   and ``z`` is the normal quantile of its mid-p-value (positive when the ratio is high).
   Under the baseline ``z`` is about standard normal whatever ``n``: one failure among two
   terminal events of a sparse pipeline is ``z ≈ 2``, not the 25 sigmas its ratio's jump
   from a constant 1.0 would make, while a burst of failures over many records is far out.
   The counts are pooled over the last 1, 4 and 16 windows (``count_scales``; the largest
   ``|z|`` is kept, a scan statistic the conformal detector then calibrates), since a
   sparse stream's burst is strong evidence only summed over its windows; the pooled
   baseline spans ``ratio_baseline`` windows (4 hours of minutes) so that a burst of a
   quarter of an hour does not become its own baseline; only the harmful side counts
   (:data:`~eventsim.anomaly.feature_spec.RATIO_HARM`: errors rising, completions falling).

   A **rate** (:data:`~eventsim.anomaly.feature_spec.RATE_COUNTS`, with a resolution:
   ``rate / resolution`` records per window) is tested as a count too, in both directions:
   the records of the last ``m`` windows (``m`` in ``count_scales``) against the
   ``baseline`` windows before them that may serve as one (not alarmed, not among the
   ``max(count_scales)`` windows before an alarm episode started: its onset), under a
   negative binomial (:func:`count_z`). Its mean is the baseline's mean carried to the
   pooled windows by the baseline's relative linear trend (a diurnal ramp); its variance
   the Poisson part, the baseline's variance about its trend beyond Poisson's, and the
   carried level's uncertainty (at least that of a level drifting as a random walk of 2 %
   per window over the distance it is carried), shared by the ``m`` windows
   (:func:`_count_model`). A low count is judged by the baseline's lower half alone
   (its median window and the spread below it): a stream with now and then a broadcast's
   burst is wide above its typical window, not below it. In a pooled sum each window counts
   at most three of its own standard deviations away from its expectation, so that one
   spike (an hourly restock) does not alarm again through the sums of the next quarter
   hour, while a sustained shift adds up; a silent window (no records at all) counts in
   full, an outage's strongest evidence.
   A quiet stream's outage is then a few missing records per window, weak evidence alone
   and strong summed over a quarter of an hour, where a robust ``z`` against the last
   windows (which the outage itself enters) stayed small; a run of ``persist`` alarmed
   windows becomes the only baseline (a new level).

   A **latency quantile** of a window holding ``n`` latency values, fewer than the
   baseline's median count ``n₀``, has its ``z`` shrunk by ``sqrt(n / n₀)`` (the standard
   error of a quantile grows as ``1 / sqrt(n)``): the delay of the single late delivery in
   an otherwise quiet window is not a regression. (An empty window keeps its 0.) Only the
   harmful side counts, as for the ratios: a regression makes latency longer, while a
   quantile falling is faster service (or the short delays of a broadcast whose long ones
   a window boundary cuts off into the next window), and an outage shows in the rate.
   A quantile's median and scale come from the baseline as it was ``quantile_lag`` windows
   ago (default ``max(count_scales)``: a window joins that baseline 16 windows late, and
   the waiting ones are dropped when an alarm episode starts, as the ratios' counts): a
   regression slows the work *starting* in it, so its quantile climbs as that work ends,
   over the stage's duration (uber's pickups: 240 → 700 s over a quarter of an hour), and a
   baseline that took in each step of the climb followed it, keeping ``z`` near 3.
2. **Scoring.** The wrapped detector scores the residual vector; the threshold turns the
   score into an alarm.
3. **Alarm-gated learning.** Alarmed windows are learned neither by the baseline nor by the
   wrapped detector, so the second outage of a day is as surprising as the first. The
   default detector learns a window only 16 windows later (``delay``), and forgets the
   pending ones when an alarm episode starts: an incident that builds up over a few windows
   below the threshold does not teach the detector its own onset. Two
   escapes keep this from locking up: a level that persists ``persist`` windows becomes the
   new baseline (a new normal), and an alarmed residual vector close (within ``similarity``
   of its norm) to alarmed ones from ``recur`` *other* episodes is learned (a pattern that
   keeps coming back, such as a restock every hour, stops being news). An alarmed window
   the wrapped detector does not learn is still *observed* by it when it can
   (``observe_one``): its scans over the last 4 and 16 windows run over the stream's latest
   windows, not over the last ones it learned. Otherwise the few windows of an incident
   learned through the recurrence escape stayed in every later scan for as long as
   nothing was learned, and nothing was, since every scan alarmed: linkedin's feed stayed
   in one alarm episode for the 2.5 hours from a latency regression to the next error
   burst, which was missed.

4. **One alarm per episode.** An episode is a run of consecutive alarmed windows; only its
   first window is reported (``dedupe=True``), as an alerting system pages once per
   incident: the later windows add no news, and counting them would make one long false
   alarm look like many. Learning still treats every alarmed window as alarmed.

The score is *sparse*: below the threshold, and after an episode's first window, it is
reported as 0. Any threshold above 0 on
these scores (``compare_detectors(..., quantile=0.5)`` while fewer than half the windows
alarm) therefore gives exactly the detector's own alarms.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Protocol

import numpy as np

from eventsim.anomaly.detectors import DETECTORS, Detector
from eventsim.anomaly.feature_spec import (
    QUANTILE_SAMPLES,
    RATE_COUNTS,
    RATIO_HARM,
    RATIO_TRIALS,
    sample_column,
)
from eventsim.anomaly.tail import TailDetector
from eventsim.anomaly.thresholds import FixedThreshold, QuantileThreshold
from eventsim.exceptions import ConfigError, closest

__all__ = [
    "CALIBRATED_THRESHOLDS",
    "DETECTOR_PARAMS",
    "STREAM_DETECTORS",
    "StreamDetector",
    "Threshold",
    "detector_constructor",
    "make_threshold",
]

#: Fixed thresholds for detectors whose scores are calibrated (``-log10`` p-values): 4 means
#: a chance of about 1e-4 per window, under one false alarm a day on a few one-minute streams.
CALIBRATED_THRESHOLDS: dict[str, float] = {"default": 4.0, "conformal_knn": 4.0, "tail": 4.0}
#: Detectors for metric streams beyond the registry: ``"tail"`` (:class:`TailDetector`).
STREAM_DETECTORS: dict[str, Callable[..., Detector]] = {"tail": TailDetector}
#: Constructor arguments the wrapper passes by default. The conformal detector's refractory
#: rules (one alarm per episode, for NAB) are off, since the wrapper's gating handles episodes
#: and a refractory would hide a second incident behind the first. On a stream it tests each
#: residual *per feature* (``per_feature=True``): an incident usually moves one or two
#: features (an error ratio, a latency quantile) while a joint distance over a dozen residuals
#: is dominated by the others' noise; the mean of a feature over 4 and 16 windows accumulates
#: the evidence of a sustained shift. Windows of a minute make 16 windows a quarter hour; the
#: 64-window scale of the univariate default (NAB's 5-minute rows) would span an hour of a
#: diurnal curve that the residual baseline (30 windows) already removes. Residuals are in
#: sigmas, and the evidence beyond the most extreme past value grows by a factor ``e`` per
#: half sigma at most (``min_scale=0.5``): without that floor a quantised feature whose
#: residual was always exactly 0 gives infinite evidence for a change of 0.02 sigma. Rows
#: join the history 16 windows late (``delay``; pending rows are dropped when an alarm
#: episode starts), as long as the longest scale. Beyond residuals of many sigmas, which
#: only a pattern the baseline does not model makes (amazon's hourly restock: 105 to 160
#: sigmas of distinct keys), the tail's scale is at least a tenth of its threshold
#: (``tail_shape=0.1``, a Pareto-like tail): the history's extremes say how large such a
#: pattern runs, not to within a few sigmas (0.05 still alarmed twice on the restock).
_STREAM_KNN: dict[str, object] = {
    "refractory": 0,
    "per_feature": True,
    "scales": (1, 4, 16),
    "min_scale": 0.5,
    "delay": 16,
    "tail_shape": 0.1,
}
DETECTOR_PARAMS: dict[str, dict[str, object]] = {
    "default": _STREAM_KNN,
    "conformal_knn": _STREAM_KNN,
    "tail": {"min_scale": 0.5},  # as the default's: residuals are in sigmas
}
_Z_CLIP = 1e3
#: Smallest relative spread of a level (2 %): a residual's scale is at least this share of
#: the baseline's median, and an expected count's level drifts at least this much per window
#: (a random walk), so that a busy stream's diurnal ramp (a few percent, in Poisson units
#: many sigmas) is not news.
REL_FLOOR = 0.02


def betabinom_z(k: int, n: int, a: float, b: float) -> float:
    """Normal quantile of the mid-p-value of ``k`` successes in ``n`` under a beta-binomial
    ``(n, a, b)``: positive when ``k`` is high, about standard normal under the model.

    Exact (log-space sums over the tail, whose terms fall off geometrically away from
    ``k``, truncated after 2,000 of them) while the count's standard deviation is at most
    about 30; beyond, the normal approximation, whose skew is then negligible.

    Examples
    --------
    >>> round(betabinom_z(1, 2, 3.5, 100.5), 2), round(betabinom_z(40, 100, 3.5, 100.5), 1)
    (1.83, 6.9)
    """
    from scipy.special import betaln, gammaln, ndtri_exp

    s = a + b
    mean = n * a / s
    var = n * a * b * (s + n) / (s * s * (s + 1.0))
    if var > 1000.0:
        return float(np.clip((k - mean) / np.sqrt(var), -_Z_CLIP, _Z_CLIP))
    upper = k >= mean  # the mid-p tail on k's side of the mean
    j = np.arange(k, min(n, k + 2000) + 1.0) if upper else np.arange(max(0, k - 2000), k + 1.0)
    logpmf = (
        gammaln(n + 1.0) - gammaln(j + 1.0) - gammaln(n - j + 1.0)
        + betaln(j + a, n - j + b) - betaln(a, b)
    )  # fmt: skip
    at_k = logpmf[0] if upper else logpmf[-1]
    tail = logpmf[1:] if upper else logpmf[:-1]
    log_p = np.log(np.exp(tail - at_k).sum() + 0.5) + at_k  # summed relative to P(k)
    z = -ndtri_exp(log_p) if upper else ndtri_exp(log_p)
    return float(np.clip(z, -_Z_CLIP, _Z_CLIP))


def count_z(k: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Normal quantile of the mid-p-value of counts ``k`` under a negative binomial of the
    given ``mean`` and ``var`` (a Poisson while ``var <= mean``): negative when ``k`` is low,
    about standard normal under the model. Elementwise; tails exact down to the smallest
    double (``|z| <= 37.5``).

    Examples
    --------
    >>> count_z(np.array([0.0, 40, 80]), np.array([40.0, 40, 40]), np.array([40.0, 40, 80]))
    array([-8.67...,  0.02...,  3.73...])
    """
    from scipy.special import betainc, ndtri, pdtr, pdtrc

    k = np.asarray(k, dtype=np.float64)
    mean = np.maximum(np.asarray(mean, dtype=np.float64), 1e-9)
    var = np.asarray(var, dtype=np.float64)
    poisson = var <= mean * (1.0 + 1e-9)
    r = np.where(poisson, 1.0, mean * mean / np.maximum(var - mean, 1e-300))
    p = r / (r + mean)

    def cdf(j: np.ndarray) -> np.ndarray:  # P(N <= j), 0 below 0
        jj = np.maximum(j, 0.0)
        out = np.where(poisson, pdtr(jj, mean), betainc(r, jj + 1.0, p))
        return np.where(j < 0, 0.0, out)

    def sf(j: np.ndarray) -> np.ndarray:  # P(N > j), 1 below 0
        jj = np.maximum(j, 0.0)
        out = np.where(poisson, pdtrc(jj, mean), betainc(jj + 1.0, r, 1.0 - p))
        return np.where(j < 0, 1.0, out)

    tiny = np.finfo(np.float64).tiny
    low = k < mean
    lower = 0.5 * (cdf(k - 1.0) + cdf(k))
    upper = 0.5 * (sf(k) + sf(k - 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(low, ndtri(np.maximum(lower, tiny)), -ndtri(np.maximum(upper, tiny)))


_Side = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _count_model(t: np.ndarray, c: np.ndarray, at: float) -> tuple[_Side, _Side]:
    """The expected count of windows centred on time ``at``, from baseline windows at times
    ``t`` with counts ``c`` (rows), for a high count and for a low one: per window, the level
    carried there, its squared growth, the variance beyond Poisson's and the carried level's
    uncertainty (:func:`_pooled` sums them over ``m`` windows into a mean and a variance).

    The level is the baseline's mean, carried to ``at`` by its relative linear trend
    (``exp(slope / mean · distance)``: a diurnal ramp is multiplicative and the carried
    level stays positive) where the slope is more than twice its standard error. The variance
    is the sum's Poisson part, the baseline's variance about its trend beyond Poisson's (per
    window: ``m`` times), and the uncertainty of the carried level (its mean's and its
    slope's standard errors; at least that of a level drifting as a random walk of
    :data:`REL_FLOOR` of itself per window, over the distance to ``at``), shared by the
    ``m`` windows (``m²`` times).

    A low count is judged by the baseline's lower half, a two-piece model: its level is the
    median window about the trend (below the mean when rare bursts lift the mean) and its
    spread the semi-variance of the windows below that median. On a stream whose windows
    hold 50 to 700 records and now and then a broadcast's 3,000 (linkedin's regions), the
    bursts' variance made 15 silent windows only -5 sigmas; the lower half alone puts them
    far out. On a symmetric stream both sides agree.

    Examples
    --------
    >>> t = np.arange(30.0)
    >>> mean, var = _pooled(_count_model(t, 100.0 + t[:, None], 45.0)[0], 1)
    >>> round(float(mean[0]), 1), bool(var[0] > mean[0])
    (149.4, True)
    >>> bursty = np.where(t % 10 == 5, 3000.0, 300.0)[:, None]  # a broadcast every 10
    >>> (high, var_high), (low, var_low) = (_pooled(s, 1) for s in _count_model(t, bursty, 30.0))
    >>> float(high[0]), float(low[0]), float(var_low[0])  # Poisson's 300 and the drift
    (570.0, 300.0, 858.0)
    >>> count_z(np.zeros(2), np.r_[high, low], np.r_[var_high, var_low]).round(1)
    array([ -2. , -18.2])
    """
    level = c.mean(axis=0)
    x = t - t.mean()
    sxx = float(x @ x)
    if sxx > 0 and len(t) > 2:
        slope = x @ (c - level) / sxx
        resid = c - level - np.outer(x, slope)
        dof = len(t) - 2
        noise = np.maximum((resid**2).sum(axis=0) / dof, level)
        d = at - t.mean()
        # a trend only where the baseline shows one (|slope| above twice its standard error):
        # carrying a noise slope over the distance to the pooled windows would cost a quiet
        # stream most of its evidence
        trend = (slope * slope * sxx > 4.0 * noise) & (level > 0)
        rel = np.where(trend, slope / np.maximum(level, 1e-12), 0.0)
        growth = np.exp(np.clip(rel * d, -30.0, 30.0))
        carried = 1.0 / len(t) + np.where(trend, d * d / sxx, 0.0)  # level's variance / noise
        about = c - level - np.outer(x, np.where(trend, slope, 0.0))  # the level carried
    else:
        resid = about = c - level
        dof = max(len(t) - 1, 1)
        noise = np.maximum((resid**2).sum(axis=0) / dof, level)
        growth = np.ones_like(level)
        carried = np.full_like(level, 1.0 / len(t))
    # the level drifts: a random walk of REL_FLOOR per window (relative), carried over the
    # distance from the baseline's centre
    drift = REL_FLOOR**2 * max(abs(at - t.mean()), 1.0)
    # the lower half: the median window about the trend, and the spread of those below it
    shift = np.minimum(np.median(about, axis=0), 0.0)
    low = np.maximum(level + shift, 0.0)
    noise_low = np.maximum(2.0 * (np.minimum(about - shift, 0.0) ** 2).sum(axis=0) / dof, low)

    def side(lev: np.ndarray, noi: np.ndarray) -> _Side:
        uncertain = np.maximum(noi * carried, drift * lev * lev)
        return lev * growth, growth * growth, noi - lev, uncertain  # noi - lev: beyond Poisson

    return side(level, noise), side(low, noise_low)


def _pooled(side: _Side, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the sum of ``m`` windows under one side of :func:`_count_model`:
    Poisson and the spread beyond it per window (``m`` times), the carried level's
    uncertainty shared by the windows (``m²`` times)."""
    per, growth2, spread, uncertain = side
    return m * per, m * per + growth2 * (m * spread + m * m * uncertain)


def _rate_prior(k: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Beta ``(a, b)`` of a ratio's rate from baseline windows' successes ``k`` of ``n``.

    Its mean is the pooled rate; its variance the pooled estimate's own uncertainty plus
    the rate's variation from window to window beyond binomial noise (method of moments:
    the variance of the windows' ratios minus the binomial part ``p(1-p)·mean(1/n)``), so a
    busy stream whose mix drifts is not held to binomial precision while a sparse one is.

    Examples
    --------
    >>> a, b = _rate_prior(np.array([1.0, 0, 2, 1]), np.array([100.0, 100, 100, 100]))
    >>> round(a / (a + b), 4), round(a + b)
    (0.0112, 400)
    """
    big_k, big_n = float(k.sum()), float(n.sum())
    p = (big_k + 0.5) / (big_n + 1.0)
    var = p * (1.0 - p) / (big_n + 1.0)
    seen = n > 0
    if seen.sum() >= 2:
        r = k[seen] / n[seen]
        var += max(float(r.var(ddof=1)) - p * (1.0 - p) * float(np.mean(1.0 / n[seen])), 0.0)
    total = max(p * (1.0 - p) / var - 1.0, 1e-3)
    return p * total, (1.0 - p) * total


class _Lagged:
    """Rows that reach ``sink`` ``lag`` rows late; the waiting ones can be dropped (the onset
    of an alarm episode must not join a baseline)."""

    def __init__(self, lag: int, sink: Callable[[np.ndarray], object]) -> None:
        self.lag = lag
        self.sink = sink
        self.pending: deque[np.ndarray] = deque()

    def add(self, rows: list[np.ndarray]) -> None:
        self.pending.extend(rows)
        while len(self.pending) > self.lag:
            self.sink(self.pending.popleft())

    def drop(self) -> None:
        self.pending.clear()


class Threshold(Protocol):
    """What turns scores into alarms: ``classify(score)`` and ``learn_one(score)``."""

    def classify(self, score: float) -> bool: ...

    def learn_one(self, score: float) -> None: ...


def make_threshold(detector: str, threshold: float | Threshold | None = None) -> Threshold:
    """The threshold object for ``detector``: the one given, a fixed value, or the default.

    The default is the calibrated fixed threshold of :data:`CALIBRATED_THRESHOLDS`, or for
    other detectors a streaming 99.9 % quantile of the scores seen so far.

    Examples
    --------
    >>> make_threshold("default")
    FixedThreshold(4.0)
    >>> make_threshold("robust_z")
    QuantileThreshold(q=0.999, window=10000)
    >>> make_threshold("robust_z", 8)
    FixedThreshold(8.0)
    """
    if threshold is None:
        if detector in CALIBRATED_THRESHOLDS:
            return FixedThreshold(CALIBRATED_THRESHOLDS[detector])
        return QuantileThreshold(q=0.999)
    if isinstance(threshold, int | float):
        return FixedThreshold(float(threshold))
    return threshold


def detector_constructor(detector: str | Callable[..., Detector]) -> Callable[..., Detector]:
    """The constructor of a registry name, ``"tail"``, or a constructor passed through.

    Raises
    ------
    ConfigError
        An unknown name (the message lists the known ones).

    Examples
    --------
    >>> detector_constructor("tail").__name__
    'TailDetector'
    """
    if not isinstance(detector, str):
        return detector
    known = {**DETECTORS, **STREAM_DETECTORS}
    if detector not in known:
        hint = closest(detector, known)
        msg = f"unknown detector {detector!r}; choose from {sorted(known)}{hint}"
        raise ConfigError(msg)
    return known[detector]


class StreamDetector(Detector):
    """Robust residuals + a registry detector + alarm-gated learning, for one stream.

    Parameters
    ----------
    detector
        Registry name (:data:`~eventsim.anomaly.detectors.DETECTORS`), ``"tail"``
        (:class:`~eventsim.anomaly.TailDetector`) or a constructor taking ``seed=``.
    threshold
        A value, a threshold object (``classify``/``learn_one``), or None for
        :func:`make_threshold`'s default.
    baseline
        Windows in the rolling median/MAD.
    persist
        Consecutive alarmed windows after which their level becomes the baseline.
    recur
        Other alarm episodes that must hold a similar residual vector before an alarmed one
        is learned.
    similarity
        "Similar": distance at most this share of the larger norm.
    dedupe
        Report only the first window of each alarm episode (module docstring).
    resolutions
        Feature → count quantum (``1 / window_s`` for a rate, ``1`` for a count) for the
        Poisson floor of its scale.
    params
        Arguments of the wrapped detector's constructor (default :data:`DETECTOR_PARAMS`).
    seed
        Seed of the wrapped detector.
    on_missing
        ``"raise"`` or ``"skip"``.
    quantile_lag
        Windows a row waits before it joins the latency quantiles' baseline (None:
        ``max(count_scales)``; module docstring, step 1).

    Examples
    --------
    >>> det = StreamDetector("robust_z", threshold=6.0, resolutions={"rate": 1 / 60})
    >>> rng = np.random.default_rng(0)
    >>> for r in rng.poisson(600, 200) / 60:
    ...     det.learn_one({"rate": float(r)})
    >>> det.score_one({"rate": 10.2}), det.score_one({"rate": 2.0}) > 6
    (0.0, True)
    """

    def __init__(
        self,
        detector: str | Callable[..., Detector] = "default",
        threshold: float | Threshold | None = None,
        *,
        baseline: int = 30,
        ratio_baseline: int = 240,
        count_scales: tuple[int, ...] = (1, 4, 16),
        persist: int = 15,
        recur: int = 2,
        similarity: float = 0.5,
        dedupe: bool = True,
        resolutions: Mapping[str, float] | None = None,
        params: Mapping[str, object] | None = None,
        seed: int | None = 0,
        on_missing: str = "raise",
        quantile_lag: int | None = None,
    ) -> None:
        super().__init__(on_missing=on_missing)
        if (
            baseline < 3
            or ratio_baseline < 1
            or not count_scales
            or min(count_scales) < 1
            or persist < 1
            or recur < 1
            or not similarity > 0
            or (quantile_lag is not None and quantile_lag < 0)
        ):
            msg = (
                "StreamDetector needs baseline >= 3, ratio_baseline >= 1, count_scales >= 1, "
                "persist >= 1, recur >= 1, similarity > 0, quantile_lag >= 0; got "
                f"{baseline}, {ratio_baseline}, {count_scales}, {persist}, {recur}, "
                f"{similarity}, {quantile_lag}"
            )
            raise ConfigError(msg)
        self.detector = detector
        self.threshold = threshold
        self.baseline = baseline
        self.ratio_baseline = ratio_baseline
        self.count_scales = tuple(int(m) for m in count_scales)
        self.persist = persist
        self.recur = recur
        self.similarity = similarity
        self.dedupe = dedupe
        self.resolutions = dict(resolutions or {})
        self.params = params
        self.seed = seed
        self.quantile_lag = quantile_lag
        self.quantile_lag_ = max(self.count_scales) if quantile_lag is None else quantile_lag
        name = detector if isinstance(detector, str) else ""
        kwargs = DETECTOR_PARAMS.get(name, {}) if params is None else dict(params)
        self.inner_ = detector_constructor(detector)(seed=seed, **kwargs)
        self.threshold_ = make_threshold(name, threshold)
        self._keys: tuple[str, ...] | None = None
        self._res = np.zeros(0)
        self._ratio_idx = np.zeros(0, dtype=np.int64)  # ratio features with trial counts
        self._trial_keys: tuple[str, ...] = ()
        self._ratio_sides: list[float] = []  # RATIO_HARM of each ratio with trial counts
        self._quant_idx = np.zeros(0, dtype=np.int64)  # quantile features with sample counts
        self._sample_keys: tuple[str, ...] = ()
        self._rows: deque[np.ndarray] = deque(maxlen=baseline)
        self._rate_idx = np.zeros(0, dtype=np.int64)  # rates tested as counts
        self._counts: deque[np.ndarray] = deque(maxlen=ratio_baseline)  # ratios' k, n
        # the rates' counts of the last windows, each behind a flag: may it be a baseline?
        self._rate_hist: deque[np.ndarray] = deque(maxlen=2 * baseline + max(self.count_scales))
        self._recent: deque[np.ndarray] = deque(maxlen=max(self.count_scales) - 1)
        # the ratios' counts and the quantiles' baseline take rows max(count_scales) and
        # quantile_lag windows late
        self._count_lag = _Lagged(max(self.count_scales), self._count_row)
        self._rows_late: deque[np.ndarray] = deque(maxlen=baseline)  # _rows, joined late
        self._late_lag = _Lagged(self.quantile_lag_, self._rows_late.append)
        self._run: deque[np.ndarray] = deque(maxlen=persist)
        self._stats: tuple[np.ndarray, np.ndarray] | None = None
        self._typical = np.zeros(0)  # the quantiles' median sample counts, set with _stats
        self._priors: list[tuple[float, float]] | None = None  # the ratios', from _counts
        self._quarantine: deque[tuple[np.ndarray, int]] = deque(maxlen=500)
        self._episode = 0
        self._alarmed = False
        self._cache: tuple[tuple[float, ...], np.ndarray | None, float] | None = None

    # -- residuals ------------------------------------------------------------------------
    def _vector(self, x: dict[str, float]) -> np.ndarray:
        """The features, then the trial counts of the ratios that have them, then the sample
        counts of the quantiles that have them."""
        if self._keys is None:
            counts = {*RATIO_TRIALS.values(), *QUANTILE_SAMPLES.values()}
            self._keys = tuple(sorted(k for k in x if k not in counts))
            self._res = np.array([self.resolutions.get(k, 0.0) for k in self._keys])
            pairs = [
                (i, RATIO_TRIALS[k]) for i, k in enumerate(self._keys) if RATIO_TRIALS.get(k) in x
            ]
            self._ratio_idx = np.array([i for i, _ in pairs], dtype=np.int64)
            self._trial_keys = tuple(t for _, t in pairs)
            self._ratio_sides = [RATIO_HARM.get(self._keys[i], 1.0) for i, _ in pairs]
            quant = [(i, sample_column(k)) for i, k in enumerate(self._keys)]
            quant = [(i, n) for i, n in quant if n in x]
            self._quant_idx = np.array([i for i, _ in quant], dtype=np.int64)
            self._sample_keys = tuple(n for _, n in quant)
            self._rate_idx = np.array(
                [i for i, k in enumerate(self._keys) if k in RATE_COUNTS and self._res[i] > 0],
                dtype=np.int64,
            )
        keys = (*self._keys, *self._trial_keys, *self._sample_keys)
        return np.array([x.get(k, 0.0) for k in keys], dtype=np.float64)

    def _samples(self, v: np.ndarray) -> np.ndarray:
        """Sample counts of the quantiles that have them."""
        return v[len(v) - len(self._sample_keys) :]

    def _fit(self) -> tuple[np.ndarray, np.ndarray]:
        if self._stats is None:
            nf = len(self._keys or ())
            med, scale = self._robust(np.asarray(self._rows)[:, :nf], self._res)
            if self._quant_idx.size and len(self._rows_late) >= max(3, self.baseline // 2):
                # the quantiles against the baseline of quantile_lag windows ago
                qi = self._quant_idx
                late_med, late_scale = self._robust(np.asarray(self._rows_late)[:, :nf], self._res)
                med[qi], scale[qi] = late_med[qi], late_scale[qi]
            self._stats = (med, scale)
            if self._sample_keys:
                samples = np.asarray(self._rows)[:, -len(self._sample_keys) :]
                self._typical = np.maximum(np.median(samples, axis=0), 1.0)
        return self._stats

    @staticmethod
    def _robust(rows: np.ndarray, res: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Median and floored robust scale of each column of baseline ``rows`` (count
        quanta ``res``, 0 where none)."""
        med = np.median(rows, axis=0)
        dev = np.abs(rows - med)
        # the MAD collapses to 0 when most values are equal (a quantised two-level
        # series); the mean absolute deviation does not
        mad = np.maximum(1.4826 * np.median(dev, axis=0), 1.2533 * dev.mean(axis=0))
        counts = np.where(res > 0, np.abs(med) / np.where(res > 0, res, 1), 0)
        poisson = res * np.sqrt(np.maximum(counts, 1.0))
        floor = np.maximum(np.maximum(REL_FLOOR * np.abs(med), poisson), 1e-9)
        return med, np.maximum(mad, floor)

    def residuals(self, x: Mapping[str, float]) -> dict[str, float] | None:
        """The residual ``z`` of each feature (None while the baseline fills).

        Examples
        --------
        >>> det = StreamDetector("null", threshold=1.0)
        >>> for v in [1.0, 2.0, 3.0] * 10:
        ...     det.learn_one({"v": v})
        >>> det.residuals({"v": 4.0})
        {'v': 1.3489...}
        """
        clean = self._clean(x)
        if clean is None:
            return None
        z = self._evaluate(clean)[1]
        return None if z is None else dict(zip(self._keys or (), z.tolist(), strict=True))

    def _evaluate(self, x: dict[str, float]) -> tuple[np.ndarray, np.ndarray | None, float]:
        v = self._vector(x)
        key = tuple(v.tolist())
        if self._cache is not None and self._cache[0] == key:
            return v, self._cache[1], self._cache[2]
        z: np.ndarray | None = None
        score = 0.0
        if len(self._rows) >= max(3, self.baseline // 2):
            med, scale = self._fit()
            nf = len(self._keys or ())
            z = (v[:nf] - med) / scale
            if self._ratio_idx.size:
                z[self._ratio_idx] = self._count_z(v)
            if self._rate_idx.size:
                z[self._rate_idx] = self._rate_z(v)
            if self._quant_idx.size:
                # slower is the harmful side: a latency quantile falling is not an incident
                z[self._quant_idx] = np.maximum(z[self._quant_idx] * self._sample_weight(v), 0.0)
            z = np.clip(z, -_Z_CLIP, _Z_CLIP)
            score = float(self.inner_.score_one(self._as_dict(z)))
        self._cache = (key, z, score)
        return v, z, score

    def _count_z(self, v: np.ndarray) -> np.ndarray:
        """Count-aware residuals of the ratios (module docstring, step 1)."""
        if not self._counts:
            return np.zeros(self._ratio_idx.size)
        if self._priors is None:
            counts = np.asarray(self._counts)
            self._priors = [
                _rate_prior(counts[:, 0, j], counts[:, 1, j]) for j in range(self._ratio_idx.size)
            ]
        recent = [*self._recent, self._kn(v)]
        sides = self._ratio_sides
        out = np.zeros(self._ratio_idx.size)
        for j in range(out.size):
            a, b = self._priors[j]
            for m in self.count_scales:
                if m > len(recent):
                    continue
                k, n = (int(c) for c in np.sum([r[:, j] for r in recent[-m:]], axis=0))
                if n > 0:
                    z = betabinom_z(k, n, a, b)
                    z = max(z * sides[j], 0.0) * sides[j]  # the harmful side only
                    if abs(z) > abs(out[j]):
                        out[j] = z
        return out

    def _sample_weight(self, v: np.ndarray) -> np.ndarray:
        """``sqrt(min(n / n_typical, 1))`` per quantile: its residual shrinks with the
        standard error of a quantile of ``n`` values when the window holds fewer than the
        baseline's median count (0 when it holds none). Call after :meth:`_fit`."""
        n = self._samples(v)
        return np.where(n > 0, np.sqrt(np.minimum(n / self._typical, 1.0)), 1.0)

    def _rate_z(self, v: np.ndarray) -> np.ndarray:
        """Count-aware residuals of the rates (module docstring, step 1): for each scale
        ``m`` of ``count_scales``, the count of the last ``m`` windows against the
        ``baseline`` eligible windows before them; the largest ``|z|`` is kept."""
        out = np.zeros(self._rate_idx.size)
        if not self._rate_hist:
            return out
        hist = np.asarray(self._rate_hist)
        counts = np.vstack([hist[:, 2:], self._rate_count(v)])
        now = hist[-1, 1] + 1.0
        for m in self.count_scales:
            if m > len(counts):
                continue
            before = hist[: len(hist) - (m - 1)]
            base = before[before[:, 0] > 0][-self.baseline :]
            if len(base) < 3:
                continue
            at = now - (m - 1) / 2.0
            high, low = _count_model(base[:, 1], base[:, 2:], at)
            (mean, var), (mean_lo, var_lo) = _pooled(high, m), _pooled(low, m)
            block = counts[-m:]
            if m > 1:
                # one window's spike or dip moves a pooled sum by at most 3 sigmas; a silent
                # window (no records at all: an outage) counts in full
                (one, var1), (one_lo, var1_lo) = _pooled(high, 1), _pooled(low, 1)
                lo, hi = one_lo - 3.0 * np.sqrt(var1_lo), one + 3.0 * np.sqrt(var1)
                block = np.where(block > 0, np.clip(block, lo, hi), 0.0)
            k = block.sum(axis=0)
            below = k < mean_lo  # judged by the low side; above the mean by the high side
            z = count_z(k, np.where(below, mean_lo, mean), np.where(below, var_lo, var))
            z = np.where(below | (k > mean), z, 0.0)
            out = np.where(np.abs(z) > np.abs(out), z, out)
        return out

    def _rate_count(self, v: np.ndarray) -> np.ndarray:
        """Records per window behind the rates tested as counts."""
        return np.rint(v[self._rate_idx] / self._res[self._rate_idx])

    def _kn(self, v: np.ndarray) -> np.ndarray:
        """Successes and trials of the ratios with trial counts (rows ``k``, ``n``)."""
        nf = len(self._keys or ())
        n = np.rint(v[nf : nf + len(self._trial_keys)])
        return np.stack([np.rint(v[self._ratio_idx] * n), n])

    def _rate_remember(self, v: np.ndarray, *, alarm: bool) -> None:
        """Append a window to the rates' history, flagged as a possible baseline unless
        alarmed. An alarm episode's start also unflags the ``max(count_scales)`` windows
        before it (its onset, as the delayed histories drop their pending rows); a run of
        ``persist`` alarmed windows becomes the only baseline (a new level)."""
        if not self._rate_idx.size:
            return
        hist = self._rate_hist
        if alarm and not self._alarmed:
            for row in list(hist)[len(hist) - max(self.count_scales) :]:
                row[0] = 0.0
        t = hist[-1][1] + 1.0 if hist else 0.0
        hist.append(np.concatenate([[0.0 if alarm else 1.0, t], self._rate_count(v)]))
        if alarm and len(self._run) + 1 == self.persist:
            for i, row in enumerate(hist):
                row[0] = float(i >= len(hist) - self.persist)

    def _baseline_add(self, rows: list[np.ndarray], *, new_level: bool = False) -> None:
        """Add rows to the baselines (``new_level``: a persisting level, taken at once)."""
        self._rows.extend(rows)
        if new_level:
            self._late_lag.drop()
            self._rows_late.extend(rows)
        else:
            self._late_lag.add(rows)
        if self._ratio_idx.size:
            # a window joins the pooled baseline max(count_scales) windows late, and the
            # waiting ones are dropped when an alarm episode starts (as the default's
            # history): the onset of a burst must not inflate the rate or its dispersion
            self._count_lag.add(rows)
        self._stats = None

    def _count_row(self, row: np.ndarray) -> None:
        self._counts.append(self._kn(row))
        self._priors = None

    def _as_dict(self, z: np.ndarray) -> dict[str, float]:
        return dict(zip(self._keys or (), z.tolist(), strict=True))

    # -- the detector interface -------------------------------------------------------------
    def _score(self, x: dict[str, float]) -> float:
        score = self._evaluate(x)[2]
        if not self.threshold_.classify(score) or (self.dedupe and self._alarmed):
            return 0.0
        return score

    def _learn(self, x: dict[str, float]) -> None:
        v, z, score = self._evaluate(x)
        self._cache = None
        if self._ratio_idx.size:
            self._recent.append(self._kn(v))
        alarm = z is not None and self.threshold_.classify(score)
        self._rate_remember(v, alarm=alarm)
        if z is None:
            self._baseline_add([v])
            return
        self.threshold_.learn_one(score)
        zd = self._as_dict(z)
        if not alarm:
            self.inner_.learn_one(zd)
            self._baseline_add([v])
            self._run.clear()
        else:
            discard = getattr(self.inner_, "discard_pending", None)
            if not self._alarmed:  # the rows before an episode may be the incident's onset
                self._count_lag.drop()
                self._late_lag.drop()
                if discard is not None:
                    discard()
            learned = self._quarantine_learn(z, zd, new_episode=not self._alarmed)
            observe = getattr(self.inner_, "observe_one", None)
            if not learned and observe is not None:
                observe(zd)  # its later multi-window scans still see this window
            self._run.append(v)
            if len(self._run) == self.persist:
                self._baseline_add(list(self._run), new_level=True)
                self._run.clear()
        self._alarmed = alarm

    def _quarantine_learn(self, z: np.ndarray, zd: dict[str, float], *, new_episode: bool) -> bool:
        """Learn an alarmed vector if similar ones were alarmed in ``recur`` other episodes
        (True if it was)."""
        self._episode += new_episode
        learned = False
        if self._quarantine:
            past = np.asarray([q for q, _ in self._quarantine])
            episodes = np.asarray([e for _, e in self._quarantine])
            dist = np.sqrt(((past - z) ** 2).sum(axis=1))
            norm = np.maximum(np.linalg.norm(past, axis=1), np.linalg.norm(z))
            near = (dist <= self.similarity * norm) & (episodes != self._episode)
            if np.unique(episodes[near]).shape[0] >= self.recur:
                self.inner_.learn_one(zd)
                learned = True
        self._quarantine.append((z, self._episode))
        return learned
