"""Detectors inside the simulation: windows scored as they close, alerts appended to the log.

:func:`run_with_detector` adds a one-member consumer group (``"anomaly"``) to a scenario. Its
batch handler, a :class:`LiveDetector`, updates :class:`~eventsim.anomaly.IncrementalFeatures`
with every poll; each window the watermark closes is scored at once by that stream's
:class:`~eventsim.anomaly.StreamDetector`, and an alarm is appended to the log as a real
record on the ``alerts`` topic (key = the stream, ``event_type="anomaly_alert"``, created and
appended at the simulated time of the poll). Detection latency is therefore measured in
simulated time: ``alert_s - start_s`` of the incident, window length, watermark allowance and
poll interval included. A clock ticks the watermark every poll interval, so windows close
(at most ``max_delay_s`` after their end) even when nothing arrives; the windows still open
when the run ends are closed and scored just before it does (at ``end - 1 µs``).

The live path and the offline one agree: the live scores equal
:func:`~eventsim.anomaly.score_streams` over :func:`~eventsim.anomaly.window_features` of the
run's events in the group's delivery order, with ``until_s`` the closing time
(:func:`closing_time`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from eventsim.anomaly._incremental import IncrementalFeatures
from eventsim.anomaly.detectors import Detector
from eventsim.anomaly.feature_spec import (
    ALERTS_TOPIC,
    FeatureSpec,
    detector_columns,
    feature_resolutions,
    features_for,
)
from eventsim.anomaly.stream_detector import StreamDetector, Threshold, detector_constructor
from eventsim.anomaly.workload_eval import SCORES_SCHEMA, _stream_factory
from eventsim.exceptions import ConfigError

if TYPE_CHECKING:
    from eventsim.log.event_log import EventLog
    from eventsim.log.record import RecordBatch
    from eventsim.scenario import Scenario
    from eventsim.sim.result import RunResult

__all__ = ["ALERTS_SCHEMA", "LiveDetector", "closing_time", "run_with_detector"]

#: Schema of the alerts frame: one row per alert record appended to the log.
ALERTS_SCHEMA: dict[str, pl.DataType] = {
    "alert_s": pl.Float64(),
    "stream": pl.String(),
    "window_start_s": pl.Float64(),
    "window_end_s": pl.Float64(),
    "score": pl.Float64(),
    "detector": pl.String(),
    "partition": pl.Int32(),
    "offset": pl.Int64(),
}


class LiveDetector:
    """Batch handler: incremental features, one stream detector per stream, alerts to the log.

    Parameters
    ----------
    log
        The simulation's event log (alerts are appended to it).
    spec
        The feature windows.
    detector
        Registry name, ``"tail"``, or a constructor taking ``seed=``.
    threshold
        Alarm threshold (value or object; None for the detector's default).
    seed
        Seed of the detectors.

    Examples
    --------
    >>> from eventsim.log import ConsumerGroup, EventLog
    >>> log = EventLog(partitions=1)
    >>> for t in range(0, 600, 2):
    ...     _ = log.append("orders", key=f"k{t}", value={"v": 1.0}, timestamp_s=float(t))
    >>> group = ConsumerGroup(log, "anomaly", ["orders"])
    >>> group.join("m")
    >>> live = LiveDetector(log, FeatureSpec(window_s=60), "null", threshold=1.0)
    >>> for now in range(10, 611, 10):  # poll every 10 s of simulated time
    ...     polled = group.poll("m", 1000, until_s=float(now))
    ...     live("m", [(b, None) for b in polled], now_s=float(now))
    >>> live.close(now_s=611.0)
    >>> live.scores().height, live.alerts().height
    (10, 0)
    """

    def __init__(
        self,
        log: EventLog,
        spec: FeatureSpec,
        detector: str | Callable[..., Detector] = "default",
        threshold: float | Threshold | None = None,
        *,
        seed: int = 0,
    ) -> None:
        self.log = log
        self.spec = spec
        self.detector = detector
        self.threshold = threshold
        self.seed = seed
        detector_constructor(detector)  # an unknown name fails now, not at the first window
        self.features = IncrementalFeatures(spec, log)
        self._make = _stream_factory(detector, threshold, feature_resolutions(spec))
        self._name = detector if isinstance(detector, str) else getattr(detector, "__name__", "")
        self._detectors: dict[str, StreamDetector] = {}
        self._scores: list[pl.DataFrame] = []
        self._alerts: list[tuple[Any, ...]] = []

    def __call__(
        self, member: str, batches: list[tuple[RecordBatch, np.ndarray | None]], now_s: float
    ) -> None:
        """Handler signature of :class:`~eventsim.sim.Simulation`."""
        emitted = self.features.update(batches, now_s)
        if emitted is not None:
            self._score(emitted, now_s)

    def tick(self, now_s: float) -> None:
        """Let the clock close windows while nothing arrives (a total outage)."""
        emitted = self.features.tick(now_s)
        if emitted is not None:
            self._score(emitted, now_s)

    def close(self, now_s: float) -> None:
        """Close and score the windows still open (the end of the run)."""
        self.tick(now_s)
        emitted = self.features.flush()
        if emitted is not None:
            self._score(emitted, now_s)

    def _score(self, windows: pl.DataFrame, now_s: float) -> None:
        cols = detector_columns(windows)
        scores = np.zeros(windows.height)
        for i, row in enumerate(windows.iter_rows(named=True)):
            stream = row["stream"]
            det = self._detectors.get(stream)
            if det is None:
                det = self._detectors[stream] = self._make(self.seed)
            x = {c: row[c] for c in cols}
            score = det.score_one(x)
            det.learn_one(x)
            scores[i] = score
            if score > 0:
                self._alert(row, score, now_s)
        self._scores.append(
            windows.select("window_start_s", "window_end_s", "stream").with_columns(
                pl.Series("score", scores, dtype=pl.Float64),
                pl.Series("alarm", scores > 0, dtype=pl.Boolean),
            )
        )

    def _alert(self, row: dict[str, Any], score: float, now_s: float) -> None:
        value = {
            "score": float(score),
            "window_start_s": row["window_start_s"],
            "window_end_s": row["window_end_s"],
            "detector": self._name,
        }
        at = self.log.append(
            ALERTS_TOPIC,
            key=row["stream"],
            value=value,
            timestamp_s=now_s,
            append_s=now_s,
            event_type="anomaly_alert",
        )
        self._alerts.append(
            (
                now_s,
                row["stream"],
                row["window_start_s"],
                row["window_end_s"],
                float(score),
                self._name,
                at.partition,
                at.offset,
            )
        )

    def scores(self) -> pl.DataFrame:
        """Every scored window (:data:`~eventsim.anomaly.SCORES_SCHEMA`), in window order."""
        if not self._scores:
            return pl.DataFrame(schema=SCORES_SCHEMA)
        return pl.concat(self._scores).sort("window_start_s", "stream")

    def alerts(self) -> pl.DataFrame:
        """The alerts raised (:data:`ALERTS_SCHEMA`), in the order they were raised."""
        return pl.DataFrame(self._alerts, schema=ALERTS_SCHEMA, orient="row")


def closing_time(result: RunResult) -> float:
    """When :func:`run_with_detector` closed the last windows (``until_s`` of the offline
    path).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from eventsim import Scenario
    >>> closing_time(SimpleNamespace(scenario=Scenario(duration="10m", drain="30s")))
    629.999999
    """
    return max(result.scenario.duration + result.scenario.drain - 1e-6, 0.0)


def run_with_detector(
    scenario: Scenario,
    detector: str | Callable[..., Detector] = "default",
    threshold: float | Threshold | None = None,
    features: FeatureSpec | None = None,
    *,
    group: str = "anomaly",
    poll_interval_s: float = 1.0,
    max_poll_records: int = 100_000,
    seed: int = 0,
    progress: bool | None = False,
) -> tuple[RunResult, pl.DataFrame]:
    """Run ``scenario`` with a detector consuming the log inside the simulation.

    Parameters
    ----------
    scenario
        The run (its own consumer groups are kept).
    detector
        Registry name, ``"tail"``, or a constructor taking ``seed=``.
    threshold
        Alarm threshold (value or object; None for the detector's default,
        :func:`~eventsim.anomaly.make_threshold`).
    features
        Feature windows (default: the workload's preset,
        :func:`~eventsim.anomaly.features_for`).
    group
        Name of the detector's consumer group (one member).
    poll_interval_s, max_poll_records
        How the detector's consumer polls.
    seed
        Seed of the detectors.
    progress
        Progress bar (see :func:`eventsim.run`).

    Returns
    -------
    tuple
        ``(result, alerts)``: the run (its events include the ``alerts`` topic;
        ``result.extra`` holds ``"features"``, the feature frame, and ``"scores"``, every
        window's score) and the alerts frame (:data:`ALERTS_SCHEMA`).

    Raises
    ------
    ConfigError
        ``group`` is already a consumer group of the scenario.

    Examples
    --------
    >>> from eventsim import Scenario
    >>> sc = Scenario(workload="synthetic", duration="20m", params={"rate_per_s": 5},
    ...               consumers=())
    >>> res, alerts = run_with_detector(sc, "null", threshold=1.0)
    >>> res.extra["features"].height, alerts.height
    (20, 0)
    """
    from eventsim.scenario import ConsumerGroupConfig
    from eventsim.sim.engine import Simulation

    if group in {c.name for c in scenario.consumers}:
        msg = f"run_with_detector: group {group!r} is already a consumer group of the scenario"
        raise ConfigError(msg)
    spec = features if features is not None else features_for(scenario.workload)
    cfg = ConsumerGroupConfig(
        name=group,
        members=1,
        poll_interval_s=poll_interval_s,
        max_poll_records=max_poll_records,
        processing_time_s=0.0,
    )
    sc = dataclasses.replace(scenario, consumers=(*scenario.consumers, cfg))
    sim = Simulation(sc)
    for consumer_group, _ in sim.groups:
        if consumer_group.group_id == group:  # never read our own alerts
            consumer_group.topics = [t for t in sorted(sim.log.topics) if t != ALERTS_TOPIC]
    live = LiveDetector(sim.log, spec, detector, threshold, seed=seed)
    sim.handlers[group].append(live)
    sim.env.process(_clock(sim.env, live, poll_interval_s, sim.end_s))
    result = sim.run(progress=progress)
    result.extra["features"] = live.features.frame()
    result.extra["scores"] = live.scores()
    return result, live.alerts()


def _clock(env: Any, live: LiveDetector, every_s: float, end_s: float) -> Generator[Any, Any, None]:
    """Tick the detector's watermark every poll interval; close the open windows just before
    the run ends (so their alerts are records of the log)."""
    last = max(end_s - 1e-6, 0.0)
    while env.now + every_s < last:
        yield env.timeout(every_s)
        live.tick(env.now)
    yield env.timeout(last - env.now)
    live.close(env.now)
