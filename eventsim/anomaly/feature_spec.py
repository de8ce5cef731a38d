"""What a feature window holds: :class:`FeatureSpec`, its output schema, per-workload presets.

A spec names the *streams* (records grouped by topic, partition, region, cell, ...), the
windows (tumbling or sliding, in event time), the watermark allowance, and which metrics to
compute per (window, stream). Both implementations, the polars one over a finished log
(:func:`eventsim.anomaly.features.window_features`) and the incremental one a consumer
updates inside the simulation (:class:`eventsim.anomaly.incremental.IncrementalFeatures`),
read the same spec and produce the same frame.

Feature frame (one row per window and stream)
---------------------------------------------
window_start_s, window_end_s : Float64
    The window ``[start, end)`` in event time (``timestamp_s``).
stream : String
    The stream: the values of the ``by`` columns joined by ``/`` (``"payments"``,
    ``"trips/3"``, ``"eu"``).
events : Int64
    Records of the stream in the window (on time; late ones excluded).
late_records : Int64
    Records of the stream dropped as late (see the watermark policy in
    :mod:`eventsim.anomaly.features`), counted in the window holding the watermark when
    they arrived (the oldest window still open).
event_rate_per_s : Float64
    ``events / window_s``.
error_ratio : Float64 (with ``error_types``)
    Share of the events whose ``event_type`` is an error type (0 when there are no events).
completion_ratio : Float64 (with ``success_types`` or ``failure_types``)
    Successes / (successes + failures) among the window's terminal events (1 when none).
terminal_events : Int64 (with ``success_types`` or ``failure_types``)
    Those terminal events (successes + failures): the number of trials behind
    ``completion_ratio``, as ``events`` is behind ``error_ratio`` (bookkeeping: detectors
    read it only to weigh the ratio, see :data:`RATIO_TRIALS`).
distinct_keys : Int64
    Distinct non-null keys.
latency_p<q> : Float64 (with ``latency``)
    Lower quantile ``q`` (the value at sorted index ``floor((n - 1) q)``) of the latency
    values of the window: a numeric payload column, or with ``latency="key_gap"`` the seconds
    since the previous record of the same key (values <= 0 ignored); 0 when there are none.
top_entity_rate_per_s : Float64 (with ``entity``)
    The most active entity's records per second (orders per card, requests per member).
max_speed_mps : Float64 (with ``position``)
    Largest implied speed of an entity between consecutive positions (distance / time
    between them, metres per second; 0 when there is none): teleporting GPS shows here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import polars as pl

from eventsim.exceptions import ConfigError

__all__ = [
    "ALERTS_TOPIC",
    "QUANTILE_SAMPLES",
    "RATE_COUNTS",
    "RATIO_HARM",
    "RATIO_TRIALS",
    "WORKLOAD_FEATURES",
    "FeatureSpec",
    "detector_columns",
    "feature_columns",
    "feature_resolutions",
    "feature_schema",
    "features_for",
    "sample_column",
]

#: Topic that live detectors append their alerts to; features never read it.
ALERTS_TOPIC = "alerts"
#: ``by`` entries that come from where a record sits rather than from its payload.
PLACEMENT = ("topic", "partition")
#: Bookkeeping columns of a feature frame (not fed to detectors).
BOOKKEEPING = (
    "window_start_s",
    "window_end_s",
    "stream",
    "events",
    "late_records",
    "terminal_events",
    "latency_samples",
)
#: Ratio feature → the count column of its trials (its denominator): a ratio over few
#: records is weak evidence, so :class:`~eventsim.anomaly.StreamDetector` tests the count
#: behind it (``round(ratio · trials)`` successes of ``trials``) rather than the ratio.
RATIO_TRIALS: dict[str, str] = {"error_ratio": "events", "completion_ratio": "terminal_events"}
#: The harmful direction of a ratio (+1: rising, -1: falling): more errors, fewer
#: completions. The other direction is recovery, not an incident, and is not tested.
RATIO_HARM: dict[str, float] = {"error_ratio": 1.0, "completion_ratio": -1.0}
#: Rate features tested as counts (``rate / resolution`` records per window, see
#: :func:`feature_resolutions`) against the expected count of recent windows, by
#: :class:`~eventsim.anomaly.StreamDetector`: a quiet stream's outage is a few missing
#: records, weak evidence per window and strong over a quarter of an hour.
RATE_COUNTS: tuple[str, ...] = ("event_rate_per_s",)
#: Prefix of the quantile features → the count column of the values behind them.
QUANTILE_SAMPLES: dict[str, str] = {"latency_p": "latency_samples"}


def _us(seconds: float) -> int:
    return round(seconds * 1_000_000)


def quantile_name(q: float) -> str:
    """Column name of a latency quantile.

    Examples
    --------
    >>> quantile_name(0.5), quantile_name(0.99), quantile_name(0.999)
    ('latency_p50', 'latency_p99', 'latency_p99_9')
    """
    return "latency_p" + f"{q * 100:.6g}".replace(".", "_")


@dataclass(frozen=True)
class FeatureSpec:
    """Which streams, windows and metrics to compute from an event log.

    Parameters
    ----------
    window_s
        Window length in seconds of event time.
    step_s
        Slide between window starts (``None``: tumbling, ``step_s = window_s``); must divide
        ``window_s``.
    allowed_lateness_s
        Watermark allowance: a record whose timestamp is more than this behind the largest
        timestamp seen before it is late (dropped from features, counted in
        ``late_records``). Windows are emitted once the watermark passes their end.
    max_delay_s
        Processing-time bound (``None``: none): the watermark never trails the consumer's
        clock by more than this, so windows close even while no record arrives (a total
        outage), and a record arriving later than this after its timestamp is late.
    by
        Columns whose values name a stream: ``"topic"``, ``"partition"`` and at most one
        String payload column (``"region"``, ``"cell"``, ...). Records with a null there
        belong to no stream.
    topics
        Topics read (``None``: every topic but ``alerts``).
    error_types
        Event types counted in ``error_ratio``.
    success_types, failure_types
        Event types that end a saga, or one of its steps (an encode attempt), well or badly,
        for ``completion_ratio``.
    latency
        A numeric payload column, or ``"key_gap"`` (seconds since the key's previous record).
    quantiles
        Latency quantiles in (0, 1).
    entity
        String payload column (or ``"key"``) naming the entity of a record, for
        ``top_entity_rate_per_s`` and ``max_speed_mps``.
    position
        Two numeric payload columns (metres) giving the entity's position.

    Examples
    --------
    >>> spec = FeatureSpec(window_s=60, step_s=20, error_types=("error",))
    >>> spec.slide_s, spec.panes
    (20.0, 3)
    >>> FeatureSpec(window_s=60, step_s=25)
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ConfigError: FeatureSpec.step_s must divide window_s (60); got 25
    """

    window_s: float = 60.0
    step_s: float | None = None
    allowed_lateness_s: float = 10.0
    max_delay_s: float | None = 30.0
    by: tuple[str, ...] = ("topic",)
    topics: tuple[str, ...] | None = None
    error_types: tuple[str, ...] = ()
    success_types: tuple[str, ...] = ()
    failure_types: tuple[str, ...] = ()
    latency: str | None = None
    quantiles: tuple[float, ...] = (0.5, 0.99)
    entity: str | None = None
    position: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        for name in ("by", "error_types", "success_types", "failure_types", "quantiles"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.topics is not None:
            object.__setattr__(self, "topics", tuple(self.topics))
        if self.position is not None:
            object.__setattr__(self, "position", tuple(self.position))
        self._validate()

    def _validate(self) -> None:
        if not _us(self.window_s) >= 1:
            msg = f"FeatureSpec.window_s must be >= 1e-6 s; got {self.window_s!r}"
            raise ConfigError(msg)
        step_us, window_us = _us(self.slide_s), _us(self.window_s)
        if step_us < 1 or window_us % step_us:
            msg = f"FeatureSpec.step_s must divide window_s ({self.window_s}); got {self.step_s}"
            raise ConfigError(msg)
        if not self.allowed_lateness_s >= 0:
            msg = f"FeatureSpec.allowed_lateness_s must be >= 0; got {self.allowed_lateness_s!r}"
            raise ConfigError(msg)
        if self.max_delay_s is not None and not self.max_delay_s >= 0:
            msg = f"FeatureSpec.max_delay_s must be >= 0 or None; got {self.max_delay_s!r}"
            raise ConfigError(msg)
        payload = [c for c in self.by if c not in PLACEMENT]
        if not self.by or len(set(self.by)) != len(self.by) or len(payload) > 1:
            msg = (
                "FeatureSpec.by must name distinct columns: topic, partition and at most one "
                f"payload column; got {self.by!r}"
            )
            raise ConfigError(msg)
        if any(not 0.0 < q < 1.0 for q in self.quantiles):
            msg = f"FeatureSpec.quantiles must lie in (0, 1); got {self.quantiles!r}"
            raise ConfigError(msg)
        if self.position is not None and (len(self.position) != 2 or self.entity is None):
            msg = f"FeatureSpec.position needs two columns and an entity; got {self.position!r}"
            raise ConfigError(msg)

    @property
    def slide_s(self) -> float:
        """The step between window starts: ``step_s``, or ``window_s`` when tumbling."""
        return float(self.window_s if self.step_s is None else self.step_s)

    @property
    def panes(self) -> int:
        """Steps per window (1 for tumbling windows)."""
        return _us(self.window_s) // _us(self.slide_s)

    @property
    def by_column(self) -> str | None:
        """The payload column of ``by``, if any."""
        return next((c for c in self.by if c not in PLACEMENT), None)

    def replace(self, **changes: Any) -> FeatureSpec:
        """A copy with fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def feature_schema(spec: FeatureSpec) -> dict[str, pl.DataType]:
    """Columns and dtypes of the feature frame ``spec`` produces (module docstring).

    Examples
    --------
    >>> list(feature_schema(FeatureSpec(latency="latency_ms", quantiles=(0.9,))))[-3:]
    ['distinct_keys', 'latency_p90', 'latency_samples']
    """
    schema: dict[str, pl.DataType] = {
        "window_start_s": pl.Float64(),
        "window_end_s": pl.Float64(),
        "stream": pl.String(),
        "events": pl.Int64(),
        "late_records": pl.Int64(),
        "event_rate_per_s": pl.Float64(),
    }
    if spec.error_types:
        schema["error_ratio"] = pl.Float64()
    if spec.success_types or spec.failure_types:
        schema["completion_ratio"] = pl.Float64()
        schema["terminal_events"] = pl.Int64()
    schema["distinct_keys"] = pl.Int64()
    if spec.latency is not None:
        schema.update({quantile_name(q): pl.Float64() for q in spec.quantiles})
        schema["latency_samples"] = pl.Int64()
    if spec.entity is not None:
        schema["top_entity_rate_per_s"] = pl.Float64()
    if spec.position is not None:
        schema["max_speed_mps"] = pl.Float64()
    return schema


def feature_columns(frame: pl.DataFrame) -> list[str]:
    """The metric columns of a feature frame (what detectors read): all but bookkeeping.

    Examples
    --------
    >>> feature_columns(pl.DataFrame(schema=feature_schema(FeatureSpec())))
    ['event_rate_per_s', 'distinct_keys']
    """
    return [c for c, t in frame.schema.items() if c not in BOOKKEEPING and t.is_numeric()]


def detector_columns(frame: pl.DataFrame) -> list[str]:
    """What a :class:`~eventsim.anomaly.StreamDetector` reads: the metric columns and the
    trial counts of the ratios among them (:data:`RATIO_TRIALS`).

    Examples
    --------
    >>> detector_columns(pl.DataFrame(schema=feature_schema(FeatureSpec(error_types=("e",)))))
    ['event_rate_per_s', 'error_ratio', 'distinct_keys', 'events']
    """
    cols = feature_columns(frame)
    counts = [RATIO_TRIALS.get(c) for c in cols] + [sample_column(c) for c in cols]
    return [*cols, *dict.fromkeys(n for n in counts if n in frame.columns)]


def sample_column(feature: str) -> str | None:
    """The count column of the values behind a quantile feature (:data:`QUANTILE_SAMPLES`),
    or None.

    Examples
    --------
    >>> sample_column("latency_p99"), sample_column("error_ratio")
    ('latency_samples', None)
    """
    return next((n for prefix, n in QUANTILE_SAMPLES.items() if feature.startswith(prefix)), None)


#: Resolution of the error ratio (one percentage point): its noise floor is
#: ``RATIO_QUANTUM · sqrt(max(ratio / RATIO_QUANTUM, 1))``, about the binomial noise of a small
#: ratio over
#: a hundred records, so that a stream whose error ratio is almost always 0 does not
#: give an unbounded residual to its first error.
RATIO_QUANTUM = 0.01


def feature_resolutions(spec: FeatureSpec) -> dict[str, float]:
    """Count quantum of the count-like features (for Poisson noise floors).

    A rate moves by ``1 / window_s`` per event; a distinct-key count by 1; the error ratio
    has :data:`RATIO_QUANTUM`.

    Examples
    --------
    >>> feature_resolutions(FeatureSpec(window_s=60))["event_rate_per_s"]
    0.016666666666666666
    """
    per_event = 1.0 / spec.window_s
    return {
        "event_rate_per_s": per_event,
        "top_entity_rate_per_s": per_event,
        "distinct_keys": 1.0,
        "error_ratio": RATIO_QUANTUM,
    }


#: Workload name → the feature spec that sees its incidents (streams per topic).
WORKLOAD_FEATURES: dict[str, FeatureSpec] = {
    "synthetic": FeatureSpec(error_types=("error",), latency="latency_ms", entity="key"),
    # outcomes of encode attempts and of whole pipelines: an encode error burst is a share of
    # the encodes that end, which the stream's uploads, starts and packagings dilute in
    # the error ratio (netflix seed 0: 14 failures among 115 records, z 4.5). No top entity:
    # a title's keys come in batches (its whole encode ladder at once, 12-20 sigma of the
    # busiest key's rate on the content stream, 1-3 false alarms a day), and an account
    # takeover shows in the account stream's login failures and rate
    "netflix": FeatureSpec(
        error_types=("encode_failed", "login_failed", "pipeline_failed"),
        success_types=("encode_completed", "published"),
        failure_types=("encode_failed", "pipeline_failed"),
        latency="stage_duration_s",
    ),
    "uber": FeatureSpec(
        error_types=("payment_declined", "match_failed"),
        success_types=("trip_completed",),
        failure_types=("trip_rejected", "trip_unfulfilled", "trip_cancelled"),
        latency="key_gap",
        entity="driver",
        position=("x_m", "y_m"),
    ),
    "linkedin": FeatureSpec(
        error_types=("feed_delivery_failed",), latency="delivery_delay_s", entity="member"
    ),
    "amazon": FeatureSpec(
        error_types=("payment_declined", "out_of_stock"),
        success_types=("shipped",),
        failure_types=("order_cancelled",),
        latency="key_gap",
        entity="customer",
    ),
}


def features_for(workload: str) -> FeatureSpec:
    """The preset spec of a workload (a plain :class:`FeatureSpec` for unknown ones).

    Examples
    --------
    >>> features_for("uber").position
    ('x_m', 'y_m')
    """
    return WORKLOAD_FEATURES.get(workload, FeatureSpec())
