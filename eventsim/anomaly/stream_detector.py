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
2. **Scoring.** The wrapped detector scores the residual vector; the threshold turns the
   score into an alarm.
3. **Alarm-gated learning.** Alarmed windows are learned neither by the baseline nor by the
   wrapped detector, so the second outage of a day is as surprising as the first. Two
   escapes keep this from locking up: a level that persists ``persist`` windows becomes the
   new baseline (a new normal), and an alarmed residual vector close (within ``similarity``
   of its norm) to alarmed ones from ``recur`` *other* episodes is learned (a pattern that
   keeps coming back, such as a restock every hour, stops being news).

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
#: residual was always exactly 0 gives infinite evidence for a change of 0.02 sigma.
_STREAM_KNN: dict[str, object] = {
    "refractory": 0,
    "per_feature": True,
    "scales": (1, 4, 16),
    "min_scale": 0.5,
}
DETECTOR_PARAMS: dict[str, dict[str, object]] = {
    "default": _STREAM_KNN,
    "conformal_knn": _STREAM_KNN,
}
_Z_CLIP = 1e3


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
        persist: int = 15,
        recur: int = 2,
        similarity: float = 0.5,
        dedupe: bool = True,
        resolutions: Mapping[str, float] | None = None,
        params: Mapping[str, object] | None = None,
        seed: int | None = 0,
        on_missing: str = "raise",
    ) -> None:
        super().__init__(on_missing=on_missing)
        if baseline < 3 or persist < 1 or recur < 1 or not similarity > 0:
            msg = (
                "StreamDetector needs baseline >= 3, persist >= 1, recur >= 1, similarity > 0;"
                f" got {baseline}, {persist}, {recur}, {similarity}"
            )
            raise ConfigError(msg)
        self.detector = detector
        self.threshold = threshold
        self.baseline = baseline
        self.persist = persist
        self.recur = recur
        self.similarity = similarity
        self.dedupe = dedupe
        self.resolutions = dict(resolutions or {})
        self.params = params
        self.seed = seed
        name = detector if isinstance(detector, str) else ""
        kwargs = DETECTOR_PARAMS.get(name, {}) if params is None else dict(params)
        self.inner_ = detector_constructor(detector)(seed=seed, **kwargs)
        self.threshold_ = make_threshold(name, threshold)
        self._keys: tuple[str, ...] | None = None
        self._res = np.zeros(0)
        self._rows: deque[np.ndarray] = deque(maxlen=baseline)
        self._run: deque[np.ndarray] = deque(maxlen=persist)
        self._stats: tuple[np.ndarray, np.ndarray] | None = None
        self._quarantine: deque[tuple[np.ndarray, int]] = deque(maxlen=500)
        self._episode = 0
        self._alarmed = False
        self._cache: tuple[tuple[float, ...], np.ndarray | None, float] | None = None

    # -- residuals ------------------------------------------------------------------------
    def _vector(self, x: dict[str, float]) -> np.ndarray:
        if self._keys is None:
            self._keys = tuple(sorted(x))
            self._res = np.array([self.resolutions.get(k, 0.0) for k in self._keys])
        return np.array([x.get(k, 0.0) for k in self._keys], dtype=np.float64)

    def _fit(self) -> tuple[np.ndarray, np.ndarray]:
        if self._stats is None:
            rows = np.asarray(self._rows)
            med = np.median(rows, axis=0)
            dev = np.abs(rows - med)
            # the MAD collapses to 0 when most values are equal (a quantised two-level
            # series); the mean absolute deviation does not
            mad = np.maximum(1.4826 * np.median(dev, axis=0), 1.2533 * dev.mean(axis=0))
            counts = np.where(self._res > 0, np.abs(med) / np.where(self._res > 0, self._res, 1), 0)
            poisson = self._res * np.sqrt(np.maximum(counts, 1.0))
            floor = np.maximum(np.maximum(0.02 * np.abs(med), poisson), 1e-9)
            self._stats = (med, np.maximum(mad, floor))
        return self._stats

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
            z = np.clip((v - med) / scale, -_Z_CLIP, _Z_CLIP)
            score = float(self.inner_.score_one(self._as_dict(z)))
        self._cache = (key, z, score)
        return v, z, score

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
        if z is None:
            self._rows.append(v)
            self._stats = None
            return
        alarm = self.threshold_.classify(score)
        self.threshold_.learn_one(score)
        zd = self._as_dict(z)
        if not alarm:
            self.inner_.learn_one(zd)
            self._rows.append(v)
            self._stats = None
            self._run.clear()
        else:
            self._quarantine_learn(z, zd, new_episode=not self._alarmed)
            self._run.append(v)
            if len(self._run) == self.persist:
                self._rows.extend(self._run)
                self._stats = None
                self._run.clear()
        self._alarmed = alarm

    def _quarantine_learn(self, z: np.ndarray, zd: dict[str, float], *, new_episode: bool) -> None:
        """Learn an alarmed vector if similar ones were alarmed in ``recur`` other episodes."""
        self._episode += new_episode
        if self._quarantine:
            past = np.asarray([q for q, _ in self._quarantine])
            episodes = np.asarray([e for _, e in self._quarantine])
            dist = np.sqrt(((past - z) ** 2).sum(axis=1))
            norm = np.maximum(np.linalg.norm(past, axis=1), np.linalg.norm(z))
            near = (dist <= self.similarity * norm) & (episodes != self._episode)
            if np.unique(episodes[near]).shape[0] >= self.recur:
                self.inner_.learn_one(zd)
        self._quarantine.append((z, self._episode))
