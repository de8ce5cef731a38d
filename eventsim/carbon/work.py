"""Work to place: latency-critical stream cells and deferrable jobs (schemas, builders, generators).

Stream cells (``STREAM_SCHEMA``): events aggregated per slot, topic and user region
------------------------------------------------------------------------------------
slot : Int64 — slot index (``timestamp_s // slot_s``); topic : String; group : String
(consumer group); handler : String (a key of :data:`~eventsim.carbon.region.HANDLERS`);
user_region : String (where the events' users are); n_events : Int64; payload_bytes : Int64.

Jobs (``JOB_SCHEMA``): deferrable batch work
--------------------------------------------
job_id : Int64; submit_s, duration_s, deadline_s : Float64 (simulated seconds, deadline =
latest finish); power_kw : Float64 (constant IT power while running); kind : String;
home_region : String (where the job runs unless a policy moves it; optional on input,
defaults to the scenario's first region).

:func:`events_to_work` turns the simulator's event log (``RunResult.events``: timestamp_s,
topic, event_type, key, payload_bytes) into stream cells with one polars ``group_by`` and a
vectorised multinomial split over each topic's user-region distribution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from eventsim.carbon.region import handler_energy
from eventsim.exceptions import ConfigError, DataFormatError

__all__ = [
    "EVENT_COLUMNS",
    "JOB_KINDS",
    "JOB_SCHEMA",
    "STREAM_SCHEMA",
    "JobKind",
    "TopicSpec",
    "events_to_work",
    "generate_jobs",
    "generate_streams",
    "validate_jobs",
]

STREAM_SCHEMA: dict[str, pl.DataType] = {
    "slot": pl.Int64(),
    "topic": pl.String(),
    "group": pl.String(),
    "handler": pl.String(),
    "user_region": pl.String(),
    "n_events": pl.Int64(),
    "payload_bytes": pl.Int64(),
}
JOB_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.Int64(),
    "submit_s": pl.Float64(),
    "duration_s": pl.Float64(),
    "deadline_s": pl.Float64(),
    "power_kw": pl.Float64(),
    "kind": pl.String(),
    "home_region": pl.String(),
}
EVENT_COLUMNS = ("timestamp_s", "topic", "event_type", "key", "payload_bytes")


@dataclass(frozen=True)
class TopicSpec:
    """How a topic's events become work: its consumer group, handler type and users.

    Parameters
    ----------
    topic
        Topic name in the event log.
    group
        Consumer group that consumes it.
    handler
        Handler type (energy model), a key of ``HANDLERS``.
    user_regions
        ``((region, weight), ...)``: where the topic's users are; weights are normalised.
    state_gb
        State the group must move when it migrates (follow-the-renewables).

    Examples
    --------
    >>> TopicSpec("plays", "recs", "stateful", (("de", 3), ("fr", 1))).shares
    (0.75, 0.25)
    """

    topic: str
    group: str
    handler: str
    user_regions: tuple[tuple[str, float], ...]
    state_gb: float = 1.0

    def __post_init__(self) -> None:
        handler_energy(self.handler)  # validates the name
        weights = [w for _, w in self.user_regions]
        if not weights or min(weights) < 0 or sum(weights) <= 0:
            msg = (
                f"TopicSpec.user_regions of {self.topic!r} must be non-empty (region, weight) "
                f"pairs with weights >= 0 summing > 0; got {self.user_regions!r}"
            )
            raise ConfigError(msg)
        if self.state_gb < 0:
            msg = f"TopicSpec.state_gb must be >= 0; got {self.state_gb!r}"
            raise ConfigError(msg)

    @property
    def shares(self) -> tuple[float, ...]:
        """User-region weights normalised to sum to 1."""
        total = sum(w for _, w in self.user_regions)
        return tuple(w / total for _, w in self.user_regions)


def events_to_work(
    events: pl.DataFrame, topics: Sequence[TopicSpec], slot_s: float, *, seed: int = 0
) -> pl.DataFrame:
    """Aggregate an event log into stream cells (one row per slot, topic, user region).

    Counts per slot and topic come from one ``group_by``; each count is split over the topic's
    user regions with a seeded multinomial draw (vectorised per topic), bytes in proportion.
    Topics without a :class:`TopicSpec` raise.

    Parameters
    ----------
    events
        Event log with at least ``timestamp_s`` (Float64), ``topic`` and ``payload_bytes``.
    topics
        One spec per topic to place.
    slot_s
        Slot length in seconds.
    seed
        Seed of the user-region split.

    Returns
    -------
    polars.DataFrame
        ``STREAM_SCHEMA``, sorted by slot, topic, user_region; cells with 0 events dropped.

    Examples
    --------
    >>> ev = pl.DataFrame({"timestamp_s": [1.0, 2.0, 3700.0], "topic": ["a", "a", "a"],
    ...                    "event_type": "x", "key": "k", "payload_bytes": [100, 100, 50]})
    >>> spec = TopicSpec("a", "g", "stateless", (("de", 1.0),))
    >>> events_to_work(ev, [spec], 3600).select("slot", "n_events", "payload_bytes").rows()
    [(0, 2, 200), (1, 1, 50)]
    """
    missing = [c for c in ("timestamp_s", "topic", "payload_bytes") if c not in events.columns]
    if missing:
        msg = f"events frame is missing column(s) {missing}; expected {list(EVENT_COLUMNS)}"
        raise DataFormatError(msg)
    specs = {t.topic: t for t in topics}
    counts = (
        events.lazy()
        .group_by((pl.col("timestamp_s") // slot_s).cast(pl.Int64).alias("slot"), pl.col("topic"))
        .agg(pl.len().cast(pl.Int64).alias("n"), pl.col("payload_bytes").cast(pl.Int64).sum())
        .sort("topic", "slot")
        .collect()
    )
    unknown = sorted(set(counts["topic"].unique().to_list()) - set(specs))
    if unknown:
        msg = f"topic(s) {unknown} have no TopicSpec; specs given for {sorted(specs)}"
        raise ConfigError(msg)
    rng = np.random.default_rng(seed)
    parts = []
    for topic, part in counts.partition_by("topic", as_dict=True, maintain_order=True).items():
        parts.append(_split(part, specs[topic[0]], rng))  # type: ignore[index]
    if not parts:
        return pl.DataFrame(schema=STREAM_SCHEMA)
    return pl.concat(parts).sort("slot", "topic", "user_region")


def _split(part: pl.DataFrame, spec: TopicSpec, rng: np.random.Generator) -> pl.DataFrame:
    n = part["n"].to_numpy()
    shares = np.asarray(spec.shares)
    split = rng.multinomial(n, shares)  # (cells, user regions)
    bytes_total = part["payload_bytes"].to_numpy().astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(n[:, None] > 0, split / np.maximum(n[:, None], 1), 0.0)
    raw = np.floor(frac * bytes_total[:, None]).astype(np.int64)
    raw[:, 0] += bytes_total.astype(np.int64) - raw.sum(axis=1)  # keep the byte total exact
    regions = [r for r, _ in spec.user_regions]
    k = len(regions)
    frame = pl.DataFrame(
        {
            "slot": np.repeat(part["slot"].to_numpy(), k),
            "topic": spec.topic,
            "group": spec.group,
            "handler": spec.handler,
            "user_region": np.tile(np.asarray(regions, dtype=object), len(n)).astype(str),
            "n_events": split.reshape(-1).astype(np.int64),
            "payload_bytes": raw.reshape(-1),
        }
    )
    return frame.filter(pl.col("n_events") > 0).cast(STREAM_SCHEMA)  # type: ignore[arg-type]


def generate_streams(
    topics: Sequence[TopicSpec],
    rate_per_s: Mapping[str, float],
    duration_s: float,
    slot_s: float,
    *,
    bytes_per_event: float = 500.0,
    diurnal_amplitude: float = 0.4,
    peak_hour: float = 20.0,
    seed: int = 0,
) -> pl.DataFrame:
    """Seeded stream cells without simulating events: Poisson counts per slot and user region.

    Each topic's mean rate follows ``1 + a * cos(2π (h - peak_hour) / 24)`` over the UTC hour
    ``h`` of slot 0 = midnight.

    Returns
    -------
    polars.DataFrame
        ``STREAM_SCHEMA``.

    Examples
    --------
    >>> spec = TopicSpec("a", "g", "stateless", (("de", 1.0), ("fr", 1.0)))
    >>> w = generate_streams([spec], {"a": 10.0}, 86_400, 3600, seed=1)
    >>> w.height, round(w["n_events"].sum() / 86_400, 1)
    (48, 10.0)
    """
    n_slots = int(np.ceil(duration_s / slot_s))
    hours = (np.arange(n_slots) * slot_s / 3600.0) % 24.0
    shape = 1.0 + diurnal_amplitude * np.cos(2 * np.pi * (hours - peak_hour) / 24.0)
    rng = np.random.default_rng(seed)
    parts = []
    for spec in topics:
        rate = rate_per_s.get(spec.topic)
        if rate is None or rate < 0:
            msg = f"rate_per_s[{spec.topic!r}] must be given and >= 0; got {rate!r}"
            raise ConfigError(msg)
        lam = rate * slot_s * shape[:, None] * np.asarray(spec.shares)[None, :]
        counts = rng.poisson(lam)
        k = len(spec.user_regions)
        parts.append(
            pl.DataFrame(
                {
                    "slot": np.repeat(np.arange(n_slots, dtype=np.int64), k),
                    "topic": spec.topic,
                    "group": spec.group,
                    "handler": spec.handler,
                    "user_region": [r for r, _ in spec.user_regions] * n_slots,
                    "n_events": counts.reshape(-1).astype(np.int64),
                    "payload_bytes": np.round(counts.reshape(-1) * bytes_per_event).astype(
                        np.int64
                    ),
                }
            )
        )
    if not parts:
        return pl.DataFrame(schema=STREAM_SCHEMA)
    frame = pl.concat(parts).filter(pl.col("n_events") > 0)
    return frame.cast(STREAM_SCHEMA).sort("slot", "topic", "user_region")  # type: ignore[arg-type]


@dataclass(frozen=True)
class JobKind:
    """A family of deferrable jobs for :func:`generate_jobs`.

    Parameters
    ----------
    per_day
        Mean jobs per day (Poisson).
    duration_h
        ``(min, max)`` duration in hours, drawn uniformly.
    slack_h
        Time allowed beyond the duration: deadline = submit + duration + slack.
    power_kw
        Constant IT power.
    submit_hours
        ``(start, end)`` UTC hours in which jobs are submitted (uniform).
    """

    per_day: float
    duration_h: tuple[float, float]
    slack_h: float
    power_kw: float
    submit_hours: tuple[float, float] = (0.0, 24.0)


JOB_KINDS: dict[str, JobKind] = {
    # Netflix-style encodes: CPU nodes (~0.4 kW, SPECpower-class server), within a day
    "encode": JobKind(per_day=24, duration_h=(0.5, 3.0), slack_h=12.0, power_kw=0.4),
    # nightly analytics at 01:00, results due in the morning
    "analytics": JobKind(1, (1.0, 3.0), 5.0, 2.0, submit_hours=(1.0, 1.0 + 1e-9)),
    # ad-hoc ML training on an 8-GPU node (8 x 400 W TDP + host ~ 4 kW), Scenario II-like
    "training": JobKind(1, (4.0, 24.0), 24.0, 4.0, submit_hours=(9.0, 17.0)),
    # log compaction and backfills: short, flexible
    "compaction": JobKind(4, (0.25, 1.0), 24.0, 0.4),
}
"""Default job families (power figures are documented assumptions; see ``region``)."""


def generate_jobs(
    duration_s: float,
    *,
    kinds: Mapping[str, JobKind] | None = None,
    home_regions: Sequence[str] = ("home",),
    seed: int = 0,
) -> pl.DataFrame:
    """Seeded deferrable jobs over ``[0, duration_s)`` from job families.

    Returns
    -------
    polars.DataFrame
        ``JOB_SCHEMA``, sorted by submit_s, job_id 0..n-1.

    Examples
    --------
    >>> jobs = generate_jobs(7 * 86_400, home_regions=("de",), seed=0)
    >>> sorted(jobs["kind"].unique().to_list())
    ['analytics', 'compaction', 'encode', 'training']
    >>> bool((jobs["deadline_s"] >= jobs["submit_s"] + jobs["duration_s"]).all())
    True
    """
    kinds = JOB_KINDS if kinds is None else kinds
    rng = np.random.default_rng(seed)
    n_days = duration_s / 86_400
    cols: dict[str, list[np.ndarray]] = {c: [] for c in JOB_SCHEMA if c != "job_id"}
    for name, kind in kinds.items():
        n = int(rng.poisson(kind.per_day * n_days))
        day = rng.integers(0, max(int(np.ceil(n_days)), 1), size=n)
        hour = rng.uniform(*kind.submit_hours, size=n)
        submit = day * 86_400 + hour * 3600
        keep = submit < duration_s
        dur = rng.uniform(*kind.duration_h, size=n) * 3600
        cols["submit_s"].append(submit[keep])
        cols["duration_s"].append(dur[keep])
        cols["deadline_s"].append((submit + dur + kind.slack_h * 3600)[keep])
        cols["power_kw"].append(np.full(keep.sum(), kind.power_kw))
        cols["kind"].append(np.full(keep.sum(), name, dtype=object))
        cols["home_region"].append(rng.choice(np.asarray(home_regions, dtype=object), keep.sum()))
    data = {c: np.concatenate(v) if v else np.array([]) for c, v in cols.items()}
    frame = pl.DataFrame(data).with_columns(
        pl.col("kind").cast(pl.String), pl.col("home_region").cast(pl.String)
    )
    frame = frame.sort("submit_s", "kind").with_row_index("job_id").cast(JOB_SCHEMA)  # type: ignore[arg-type]
    return frame.select(list(JOB_SCHEMA))


def validate_jobs(jobs: pl.DataFrame, default_region: str) -> pl.DataFrame:
    """Check a jobs frame and return it in ``JOB_SCHEMA`` (``home_region`` filled).

    Raises
    ------
    DataFormatError
        Missing columns, non-positive durations or power, deadlines before submit + duration,
        duplicate job ids. ``energy_kwh`` may replace ``power_kw`` (power = energy / hours).

    Examples
    --------
    >>> j = pl.DataFrame({"job_id": [0], "submit_s": [0.0], "duration_s": [3600.0],
    ...                   "deadline_s": [1800.0], "power_kw": [1.0], "kind": ["x"]})
    >>> validate_jobs(j, "de")
    Traceback (most recent call last):
    ...
    eventsim.exceptions.DataFormatError: jobs.deadline_s must be >= submit_s + duration_s; job 0 ...
    """
    if "power_kw" not in jobs.columns and "energy_kwh" in jobs.columns:
        jobs = jobs.with_columns(
            (pl.col("energy_kwh") / (pl.col("duration_s") / 3600)).alias("power_kw")
        )
    need = [c for c in JOB_SCHEMA if c != "home_region"]
    missing = [c for c in need if c not in jobs.columns]
    if missing:
        msg = f"jobs frame is missing column(s) {missing}; expected {list(JOB_SCHEMA)}"
        raise DataFormatError(msg)
    if "home_region" not in jobs.columns:
        jobs = jobs.with_columns(pl.lit(default_region).alias("home_region"))
    jobs = jobs.select(list(JOB_SCHEMA)).cast(JOB_SCHEMA)  # type: ignore[arg-type]
    for col in ("duration_s", "power_kw"):
        bad = jobs.filter(~(pl.col(col) > 0))
        if bad.height:
            msg = f"jobs.{col} must be > 0; job {bad['job_id'][0]} has {col}={bad[col][0]!r}"
            raise DataFormatError(msg)
    late = jobs.filter(pl.col("deadline_s") < pl.col("submit_s") + pl.col("duration_s"))
    if late.height:
        row = late.row(0, named=True)
        msg = (
            f"jobs.deadline_s must be >= submit_s + duration_s; job {row['job_id']} has "
            f"deadline_s={row['deadline_s']!r} < {row['submit_s'] + row['duration_s']!r}"
        )
        raise DataFormatError(msg)
    if jobs["job_id"].n_unique() != jobs.height:
        msg = "jobs.job_id must be unique; found duplicates"
        raise DataFormatError(msg)
    return jobs
