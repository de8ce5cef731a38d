"""Detectors on a workload's injected incidents: run, build features, score, one table.

:func:`compare_on_workload` runs a scenario with labelled incidents (by default two of each
kind the workload supports, at default intensities, after a three-hour warm-up), builds its
feature windows (:func:`~eventsim.anomaly.window_features`), runs every detector per stream
through a :class:`~eventsim.anomaly.StreamDetector`, and reports incident recall, precision,
median detection delay and false alarms per simulated day in one table (with the
incident × stream recall beside it, as :func:`~eventsim.anomaly.compare_detectors` counts
it).

Which streams an incident touches
---------------------------------
Incidents name a topic, a region or a pipeline stage. :func:`run_workload` builds streams per
topic and, when records carry a ``region``, per region too (``region:eu``): a region's outage
removes a share of every topic's records, a dent in each topic's noisy rate, but empties its
own region stream. A region stream is that outage's lens: it carries the rates and ratios,
but no latency quantiles, speeds, distinct keys or top entity (a latency regression, a
spoofed GPS or a spam bot belongs to a topic or a stage, seen on its stream). A region's
records mix every topic: the deliveries of one large broadcast that a window boundary cuts
off make the next window's median delay there many sigmas long, the linkedin workload's main
source of false alarms while region streams carried latency (20 over five simulated days, 12
of them this); and one broadcast to 3,000 members makes the region's distinct keys and top
entity rate 10 to 15 sigmas high, the rest of them (7 over the same days).

A workload whose latency is the key gap (the seconds since the key's previous record) and
whose sagas end each stage with one event type (:data:`STAGE_EVENTS`: uber) also gets one
**stage stream** per such (topic, event type), named ``trips/picked_up``: the gaps before
a pickup are the pickup stage's durations. Stage streams carry only the latency quantiles,
and that workload's topic streams none: a topic's gaps mix every stage (uber's trips
median flipped between ~15 s and ~100 s from window to window) or a schedule (a surge
cell's update interval).

With streams per topic, a topic target is its stream; a stage maps to the topics its events
land on (a saga's stages to all its topics) and their stage streams; a region, or anything
else, to every stream (its region stream among them). Card testing (amazon) also places
orders, and spam bots (linkedin) also message and post, so those kinds touch those topics.

Scoring
-------
An alarm is a (window, stream) row at or above the threshold. An incident is **detected**
when an alarm on one of its streams has a window overlapping ``[start_s, end_s + grace_s]``;
its **delay** is that alarm's ``window_end_s`` minus ``start_s`` (a window's data is complete
at its end). **Precision** is the share of alarms overlapping some incident (plus grace) on
any stream; the others are **false alarms**, per simulated day of features, also counted as
episodes (runs of consecutive alarmed windows of one stream). ``grace_s`` defaults to 30
minutes: a delay ×3 or a burst of failures keeps changing the log after the window ends.

Observability (latency regressions, error bursts)
--------------------------------------------------
A latency regression multiplies the durations of a stage *starting* in the incident window,
so it reaches the log only when the slowed stage ends: amazon's shipping and delivery stages
take hours to days, netflix's pipeline stages minutes to hours, and within
``[start_s, end_s + grace_s]`` such an incident may change no event at all. With
``observability`` (:func:`run_workload`, on in :func:`compare_on_workload`) the run is
repeated with every latency regression at intensity 1.0 (no change; the same random draws),
and an incident's ``changed_events`` counts the records of its streams in its scoring window
that differ between the two runs (in any column but their placement in the log: a slowed
stage moves its records in time, or changes a duration in their payload). It is
**observable** when the two runs differ there by three standard deviations in what the
streams measure: the record count of its topics by more than ``3·sqrt(n)`` (Poisson; a slowed
stage's records leave the window), or on one of its streams the latency values behind the
quantiles higher than the counterfactual's (one-sided Mann-Whitney, ``p < Φ(-3)``). A
smaller change cannot be told from noise by any detector at a low false-alarm rate, even one
told where and when to look. Counting changed records instead overstates it: every record
downstream of a slowed stage moves, however little (amazon's reservation ×1.1 moves 10,700
records by a tenth of a few seconds), and netflix's encode ×3 moves 230 records, mostly out
of the window, while the encodes still inside it, a mix of every resolution's durations,
sit 2.8 sigmas above the counterfactual's (seeds 1 and 6). Incident recall counts observable
incidents only; the table reports how many were not (``unobservable``).

An **error burst** sets the failure probability of a step *started* in its window, and a
workload that starts that step in batches (netflix's encodes follow each batch of uploads)
may start none then: netflix seed 1's second burst fell in a gap without a single encode
start and failed nothing. It is checked against a run with every error burst at intensity 0
(no failures of the step in the window): ``changed_events`` counts only the failure records
(the feature spec's ``error_types`` and ``failure_types``) that differ, and the burst is
observable when they exceed three Poisson standard deviations of the counterfactual's
failures. Where the counterfactual draws differently
(amazon's order flow depends on which payments fail), every failure record differs and the
burst counts as observable: the check errs towards counting an incident. The other kinds
are always observable.

The workloads' built-in flash crowds (uber's demand spike, netflix's release, amazon's Prime
Day, linkedin's viral cascade) are unlabelled anomalies; :data:`EVAL_PARAMS` switches them off
so that false alarms measure noise, and the notebook shows what they do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import polars as pl

from eventsim.anomaly.detectors import DETECTORS, Detector
from eventsim.anomaly.feature_spec import (
    FeatureSpec,
    detector_columns,
    feature_resolutions,
    features_for,
    sample_column,
)
from eventsim.anomaly.features import window_features
from eventsim.anomaly.stream_detector import StreamDetector, Threshold
from eventsim.exceptions import ConfigError
from eventsim.workloads import IncidentSpec, get_workload

if TYPE_CHECKING:
    from eventsim.scenario import Scenario
    from eventsim.sim.result import RunResult

__all__ = [
    "EVAL_PARAMS",
    "INCIDENT_INTENSITY",
    "SCORES_SCHEMA",
    "STAGE_EVENTS",
    "IncidentRun",
    "compare_on_workload",
    "default_incidents",
    "detection_table",
    "explore_incident",
    "incident_outcomes",
    "incident_streams",
    "run_workload",
    "score_streams",
    "workload_scenario",
]

#: Modest rates (a simulated day in seconds) with the built-in flash crowds switched off.
EVAL_PARAMS: dict[str, dict[str, Any]] = {
    "synthetic": {"rate_per_s": 20.0},
    "netflix": {"rate_multiplier": 0.01, "uploads_per_h": 1000.0, "release_peak_multiplier": 1.0},
    "uber": {"n_drivers": 100, "trip_rate_per_s": 1.0, "spike_peak_multiplier": 1.0},
    "linkedin": {"rate_multiplier": 0.02, "viral_max_shares": 0},
    "amazon": {"rate_multiplier": 0.1, "prime_day_peak_multiplier": 1.0},
}
#: Default intensity per incident kind: :class:`IncidentSpec`'s 1.0, except latency
#: regressions, whose intensity multiplies stage durations in the business workloads (1.0
#: would change nothing), so they default to ×3.
INCIDENT_INTENSITY: dict[str, float] = {"latency_regression": 3.0}
#: Workload → stage (an incident target) → topics its events land on.
STAGE_TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "uber": dict.fromkeys(("payment", "matching", "pickup", "trip"), ("payments", "trips")),
    "amazon": dict.fromkeys(
        ("reservation", "payment", "shipping", "delivery"), ("inventory", "orders", "payments")
    ),
    "netflix": dict.fromkeys(("encode", "package", "publish"), ("content",)),
    "linkedin": {"fanout": ("feed",)},
}
#: Workload → the (topic, event type) pairs whose key gap is one saga stage's duration (the
#: gap from the previous record of the same key): :func:`run_workload`'s stage streams.
STAGE_EVENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "uber": (
        ("payments", "payment_authorized"),  # payment: from the request
        ("trips", "trip_matched"),  # matching: from the authorisation
        ("trips", "picked_up"),  # pickup: from the match
        ("trips", "dropped_off"),  # trip: from the pickup
        ("payments", "payment_captured"),  # payment: from the drop-off
    ),
}
#: (workload, kind) → topics an incident of that kind also touches.
KIND_TOPICS: dict[tuple[str, str], tuple[str, ...]] = {
    ("amazon", "card_testing"): ("orders", "payments"),
    ("linkedin", "spam_bots"): ("connections", "messages", "posts"),
}
#: Prefix of the per-region streams :func:`run_workload` adds beside the per-topic ones.
REGION_PREFIX = "region:"
#: Schema of :func:`score_streams`.
SCORES_SCHEMA: dict[str, pl.DataType] = {
    "window_start_s": pl.Float64(),
    "window_end_s": pl.Float64(),
    "stream": pl.String(),
    "score": pl.Float64(),
    "alarm": pl.Boolean(),
}
_OUTCOME_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "start_s": pl.Float64(),
    "end_s": pl.Float64(),
    "target": pl.String(),
    "streams": pl.List(pl.String()),
    "detected": pl.Boolean(),
    "delay_s": pl.Float64(),
    "first_stream": pl.String(),
}
_TABLE_SCHEMA: dict[str, pl.DataType] = {
    "detector": pl.String(),
    "threshold": pl.String(),
    "incidents": pl.Int64(),
    "detected": pl.Int64(),
    "incident_recall": pl.Float64(),
    "precision": pl.Float64(),
    "median_delay_s": pl.Float64(),
    "false_alarms_per_day": pl.Float64(),
    "false_episodes_per_day": pl.Float64(),
    "alarms": pl.Int64(),
    "unobservable": pl.Int64(),
}


def default_incidents(
    workload: str,
    duration_s: float,
    *,
    per_kind: int = 2,
    warmup_s: float = 3 * 3600.0,
    length_s: float = 900.0,
    quiet_s: float = 3600.0,
    intensity: Mapping[str, float] | None = None,
) -> tuple[IncidentSpec, ...]:
    """``per_kind`` incidents of each kind of ``workload``, evenly spread after a warm-up.

    Kinds take turns; targets are left to the workload (seeded choice); intensities come
    from ``intensity`` or :data:`INCIDENT_INTENSITY` (1.0 otherwise). Incidents start every
    ``(duration_s - warmup_s - quiet_s) / n`` seconds, so the last one ends at least
    ``quiet_s`` before the run does.

    Examples
    --------
    >>> [(s.kind, s.start_s) for s in default_incidents("synthetic", 86400, per_kind=1)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('outage', 10800.0), ('error_burst', 28800.0), ('latency_regression', 46800.0),
     ('hot_key', 64800.0)]
    """
    kinds = get_workload(workload).incident_kinds
    levels = {**INCIDENT_INTENSITY, **(intensity or {})}
    n = len(kinds) * per_kind
    gap = (duration_s - warmup_s - quiet_s) / max(n, 1)
    if n and gap < length_s:
        msg = (
            f"default_incidents: duration_s {duration_s} is too short for {n} incidents of "
            f"{length_s} s after a {warmup_s} s warm-up"
        )
        raise ConfigError(msg)
    return tuple(
        IncidentSpec(kinds[i % len(kinds)], warmup_s + i * gap, length_s, levels.get(k, 1.0))
        for i, k in ((i, kinds[i % len(kinds)]) for i in range(n))
    )


def workload_scenario(
    workload: str,
    duration: float | str = "24h",
    *,
    seed: int = 0,
    incidents: Sequence[IncidentSpec] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Scenario:
    """A scenario for detection experiments: no consumer groups (features read the log).

    ``params`` default to :data:`EVAL_PARAMS`; ``incidents`` to :func:`default_incidents`.

    Examples
    --------
    >>> sc = workload_scenario("synthetic", "6h")
    >>> sc.consumers, len(sc.incidents)
    ((), 4)
    """
    from eventsim.scenario import Scenario
    from eventsim.units import parse_duration

    duration_s = parse_duration(duration, "duration")
    if incidents is None:
        per_kind = 2 if duration_s >= 12 * 3600 else 1
        warmup, quiet = min(3 * 3600.0, duration_s / 2), min(3600.0, duration_s / 8)
        n = len(get_workload(workload).incident_kinds) * per_kind
        length = min(900.0, (duration_s - warmup - quiet) / max(2 * n, 1))
        incidents = default_incidents(
            workload, duration_s, per_kind=per_kind, warmup_s=warmup, length_s=length, quiet_s=quiet
        )
    return Scenario(
        workload=workload,
        duration=duration_s,
        seed=seed,
        params=dict(EVAL_PARAMS.get(workload, {}) if params is None else params),
        incidents=tuple(incidents),
        consumers=(),
        drain=0.0,
    )


def incident_streams(
    incidents: pl.DataFrame, workload: str | None, streams: Sequence[str]
) -> pl.DataFrame:
    """The incidents with ``affected`` set to the streams each touches (module docstring).

    Returns
    -------
    polars.DataFrame
        The incidents frame (:data:`~eventsim.workloads.INCIDENT_SCHEMA`) with ``affected``
        replaced by stream names.

    Examples
    --------
    >>> from eventsim.workloads import INCIDENT_SCHEMA
    >>> inc = pl.DataFrame([("error_burst", 0.0, 60.0, "payment", ["t1"])],
    ...                    schema=INCIDENT_SCHEMA, orient="row")
    >>> incident_streams(inc, "uber", ["payments", "trips", "surge"])["affected"].to_list()
    [['payments', 'trips']]
    """
    known = list(streams)
    stages = STAGE_TOPICS.get(workload or "", {})
    out = []
    for kind, target in zip(incidents["kind"].to_list(), incidents["target"].to_list()):
        extra = KIND_TOPICS.get((workload or "", kind), ())
        if target in known:
            hit = [target, *extra]
        elif target in stages:
            topics = stages[target]
            staged = [n for n in known if "/" in n and n.partition("/")[0] in topics]
            hit = [*topics, *staged, *extra]
        else:
            hit = known
        out.append([s for s in dict.fromkeys(hit) if s in known] or known)
    return incidents.with_columns(pl.Series("affected", out, dtype=pl.List(pl.String)))


def _stream_factory(
    detector: str | Callable[..., Detector],
    threshold: float | Threshold | None,
    resolutions: Mapping[str, float],
) -> Callable[..., StreamDetector]:
    def make(seed: int | None = 0) -> StreamDetector:
        thr = threshold
        if thr is not None and not isinstance(thr, int | float):
            import copy

            thr = copy.deepcopy(thr)  # one threshold state per stream
        return StreamDetector(detector, thr, resolutions=resolutions, seed=seed)

    return make


def score_streams(
    features: pl.DataFrame,
    detector: str | Callable[..., Detector] = "default",
    threshold: float | Threshold | None = None,
    *,
    spec: FeatureSpec | None = None,
    seed: int = 0,
) -> pl.DataFrame:
    """Score every stream of a feature frame with a fresh :class:`StreamDetector` each.

    Rows are taken per stream in window order, score-then-learn, exactly as the live
    detector (:func:`~eventsim.anomaly.run_with_detector`) takes them as windows close.

    Parameters
    ----------
    features
        A feature frame (:func:`~eventsim.anomaly.window_features`).
    detector
        Registry name, ``"tail"``, or a constructor taking ``seed=``.
    threshold
        Alarm threshold (value or object); None for the detector's default
        (:func:`~eventsim.anomaly.make_threshold`).
    spec
        The spec that built ``features`` (for the rates' Poisson floors).
    seed
        Seed of the detectors.

    Returns
    -------
    polars.DataFrame
        :data:`SCORES_SCHEMA`: ``window_start_s``, ``window_end_s`` (Float64), ``stream``
        (String), ``score`` (Float64, 0 below the threshold), ``alarm`` (Boolean); sorted like
        ``features``.

    Examples
    --------
    >>> f = pl.DataFrame({"window_start_s": [0.0, 60.0], "window_end_s": [60.0, 120.0],
    ...                   "stream": "a", "events": [1, 1], "late_records": [0, 0],
    ...                   "event_rate_per_s": [0.5, 0.5]})
    >>> score_streams(f, "null", 1.0)["alarm"].to_list()
    [False, False]
    """
    resolutions = feature_resolutions(spec if spec is not None else FeatureSpec())
    make = _stream_factory(detector, threshold, resolutions)
    cols = detector_columns(features)
    parts = []
    for _, part in features.sort("stream", "window_start_s").group_by(
        "stream", maintain_order=True
    ):
        det = make(seed)
        # a column null throughout a stream is not one of its features (a region stream's
        # latency quantiles)
        own = [c for c in cols if part[c].null_count() < part.height]
        scores = det.score_learn_many(part.select(own))
        parts.append(
            part.select("window_start_s", "window_end_s", "stream").with_columns(
                pl.Series("score", scores, dtype=pl.Float64),
                pl.Series("alarm", scores > 0, dtype=pl.Boolean),
            )
        )
    if not parts:
        return pl.DataFrame(schema=SCORES_SCHEMA)
    return pl.concat(parts).sort("window_start_s", "stream")


def _overlaps(starts: np.ndarray, ends: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (starts < hi) & (ends > lo)


def incident_outcomes(
    scores: pl.DataFrame,
    incidents: pl.DataFrame,
    *,
    grace_s: float = 1800.0,
    time_col: str = "window_end_s",
) -> pl.DataFrame:
    """Per incident: detected or not, by which stream first, and the delay.

    Parameters
    ----------
    scores
        Scored windows (``window_start_s``, ``window_end_s``, ``stream``, ``alarm``) or alert
        rows (no ``alarm`` column: every row is an alarm; the live alerts frame with
        ``time_col="alert_s"``).
    incidents
        Incidents with ``affected`` naming streams (:func:`incident_streams`).
    grace_s
        Alarms whose window overlaps ``[start_s, end_s + grace_s]`` count.
    time_col
        When an alarm is raised (delays are measured to it).

    Returns
    -------
    polars.DataFrame
        ``kind``, ``start_s``, ``end_s``, ``target``, ``streams`` (List(String)),
        ``detected`` (Boolean), ``delay_s`` (Float64, null when missed), ``first_stream``
        (String, null when missed).

    Examples
    --------
    >>> from eventsim.workloads import INCIDENT_SCHEMA
    >>> sc = pl.DataFrame({"window_start_s": [0.0, 60.0], "window_end_s": [60.0, 120.0],
    ...                    "stream": "a", "alarm": [False, True]})
    >>> inc = pl.DataFrame([("outage", 70.0, 100.0, "a", ["a"])], schema=INCIDENT_SCHEMA,
    ...                    orient="row")
    >>> incident_outcomes(sc, inc).select("detected", "delay_s").row(0)
    (True, 50.0)
    """
    alarms = scores.filter(pl.col("alarm")) if "alarm" in scores.columns else scores
    st = alarms["window_start_s"].to_numpy()
    en = alarms["window_end_s"].to_numpy()
    at = alarms[time_col].to_numpy()
    names = alarms["stream"].to_numpy()
    rows = []
    for row in incidents.iter_rows(named=True):
        streams = list(row["affected"]) or sorted(set(names.tolist()))
        hit = _overlaps(st, en, row["start_s"], row["end_s"] + grace_s) & np.isin(names, streams)
        first = int(np.argmin(np.where(hit, at, np.inf))) if hit.any() else None
        rows.append(
            {
                "kind": row["kind"],
                "start_s": row["start_s"],
                "end_s": row["end_s"],
                "target": row["target"],
                "streams": streams,
                "detected": first is not None,
                "delay_s": None if first is None else max(float(at[first] - row["start_s"]), 0.0),
                "first_stream": None if first is None else str(names[first]),
            }
        )
    return pl.DataFrame(rows, schema=_OUTCOME_SCHEMA)


def _false_alarms(scores: pl.DataFrame, incidents: pl.DataFrame, grace_s: float) -> pl.DataFrame:
    """Alarm rows overlapping no incident window (plus grace)."""
    alarms = scores.filter(pl.col("alarm"))
    st, en = alarms["window_start_s"].to_numpy(), alarms["window_end_s"].to_numpy()
    inside = np.zeros(alarms.height, dtype=bool)
    for lo, hi in zip(incidents["start_s"].to_list(), incidents["end_s"].to_list()):
        inside |= _overlaps(st, en, lo, hi + grace_s)
    return alarms.filter(pl.Series(~inside))


def _episodes(false: pl.DataFrame) -> int:
    """Runs of consecutive alarmed windows of one stream."""
    if not false.height:
        return 0
    runs = false.sort("stream", "window_start_s").with_columns(
        (
            (pl.col("window_start_s") > pl.col("window_end_s").shift(1).over("stream"))
            .fill_null(value=True)
            .cum_sum()
            .over("stream")
        ).alias("_run")
    )
    return int(runs.select("stream", "_run").n_unique())


def _threshold_label(detector: str, threshold: float | Threshold | None) -> str:
    from eventsim.anomaly.stream_detector import make_threshold

    return repr(make_threshold(detector, threshold))


def detection_table(
    features: pl.DataFrame,
    incidents: pl.DataFrame,
    detectors: Sequence[str] = ("default", "tail", "robust_z"),
    *,
    thresholds: Mapping[str, float | Threshold] | None = None,
    spec: FeatureSpec | None = None,
    grace_s: float = 1800.0,
    pairs: bool = True,
    seed: int = 0,
) -> pl.DataFrame:
    """One row per detector: incident recall, precision, median delay, false alarms per day.

    Parameters
    ----------
    features
        Feature frame of the run.
    incidents
        Incidents with ``affected`` naming streams (:func:`incident_streams`).
    detectors
        Registry names (and ``"tail"``).
    thresholds
        Detector → threshold (default: :func:`~eventsim.anomaly.make_threshold`).
    spec
        The spec that built ``features``.
    grace_s
        See the module docstring.
    pairs
        Also report the incident × stream recall (``pair_recall``): the share of (incident,
        affected stream) pairs with an alarm on that stream overlapping the incident (plus
        grace), as :func:`~eventsim.anomaly.compare_detectors` counts them (whose
        ``quantile=0.5`` on these sparse scores gives exactly the detector's alarms).
    seed
        Detector seed.

    Returns
    -------
    polars.DataFrame
        ``detector``, ``threshold`` (String), ``incidents``, ``detected`` (Int64),
        ``incident_recall``, ``precision``, ``median_delay_s`` (null when nothing was
        detected), ``false_alarms_per_day``, ``false_episodes_per_day`` (Float64),
        ``alarms``, ``unobservable`` (Int64: incidents marked not observable, left out
        of ``incident_recall``; ``incidents`` and ``detected`` count all), and with
        ``pairs`` ``pair_recall`` (Float64).

    Examples
    --------
    >>> from eventsim.workloads import INCIDENT_SCHEMA
    >>> t = np.arange(300.0) * 60
    >>> f = pl.DataFrame({"window_start_s": t, "window_end_s": t + 60, "stream": "a",
    ...                   "events": 1, "late_records": 0,
    ...                   "event_rate_per_s": np.where((t >= 12000) & (t < 12600), 0.0, 9.0)
    ...                   + np.sin(t / 900)})
    >>> inc = pl.DataFrame([("outage", 12000.0, 12600.0, "a", ["a"])],
    ...                    schema=INCIDENT_SCHEMA, orient="row")
    >>> detection_table(f, inc, ["tail"]).select("detector", "incident_recall", "alarms")
    shape: (1, 3)
    ┌──────────┬─────────────────┬────────┐
    │ detector ┆ incident_recall ┆ alarms │
    │ ---      ┆ ---             ┆ ---    │
    │ str      ┆ f64             ┆ i64    │
    ╞══════════╪═════════════════╪════════╡
    │ tail     ┆ 1.0             ┆ 1      │
    └──────────┴─────────────────┴────────┘
    """
    thresholds = thresholds or {}
    spec = spec if spec is not None else FeatureSpec()
    span_s = float(features["window_end_s"].max() or 0.0) - float(
        features["window_start_s"].min() or 0.0
    )
    days = span_s / 86400.0 if span_s > 0 else 1.0
    records = []
    pair_recall: dict[str, float] = {}
    for name in detectors:
        thr = thresholds.get(name)
        scores = score_streams(features, name, thr, spec=spec, seed=seed)
        outcomes = incident_outcomes(scores, incidents, grace_s=grace_s)
        false = _false_alarms(scores, incidents, grace_s)
        n_alarms = int(scores["alarm"].sum())
        delays = outcomes["delay_s"].drop_nulls()
        seen = (
            incidents["observable"].fill_null(value=True)
            if "observable" in incidents.columns
            else pl.Series([True] * incidents.height, dtype=pl.Boolean)
        )
        counted = outcomes["detected"].filter(seen)
        if pairs:
            pair_recall[name] = _pair_recall(scores, incidents, grace_s)
        records.append(
            {
                "detector": name,
                "threshold": _threshold_label(name, thr),
                "incidents": outcomes.height,
                "detected": int(outcomes["detected"].sum()),
                "incident_recall": float(counted.mean() or 0.0) if counted.len() else 0.0,
                "precision": (n_alarms - false.height) / n_alarms if n_alarms else 0.0,
                "median_delay_s": float(delays.median()) if delays.len() else None,  # type: ignore[arg-type]
                "false_alarms_per_day": false.height / days,
                "false_episodes_per_day": _episodes(false) / days,
                "alarms": n_alarms,
                "unobservable": int((~seen).sum()),
            }
        )
    table = pl.DataFrame(records, schema=_TABLE_SCHEMA)
    if not pairs:
        return table
    return table.with_columns(
        pl.col("detector").replace_strict(pair_recall, return_dtype=pl.Float64).alias("pair_recall")
    )


def _pair_recall(scores: pl.DataFrame, incidents: pl.DataFrame, grace_s: float) -> float:
    """Share of (incident, affected stream) pairs with an alarm on that stream overlapping
    ``[start_s, end_s + grace_s]``."""
    alarms = scores.filter(pl.col("alarm"))
    st, en = alarms["window_start_s"].to_numpy(), alarms["window_end_s"].to_numpy()
    names = alarms["stream"].to_numpy()
    hit = total = 0
    rows = zip(incidents["start_s"], incidents["end_s"], incidents["affected"], strict=True)
    for lo, hi, streams in rows:
        near = _overlaps(st, en, lo, hi + grace_s)
        for stream in streams:
            total += 1
            hit += bool((near & (names == stream)).any())
    return hit / total if total else 0.0


def run_workload(
    workload: str,
    duration: float | str = "24h",
    *,
    seed: int = 0,
    incidents: Sequence[IncidentSpec] | None = None,
    params: Mapping[str, Any] | None = None,
    spec: FeatureSpec | None = None,
    observability: bool = False,
    grace_s: float = 1800.0,
    region_streams: bool = True,
) -> tuple[RunResult, pl.DataFrame, pl.DataFrame]:
    """Run :func:`workload_scenario` and build its features and stream-mapped incidents.

    With ``region_streams`` (and streams per topic), records carrying a ``region`` also form
    one stream per region, named ``region:<name>``; with streams per topic and key-gap
    latency, a workload of :data:`STAGE_EVENTS` gets its stage streams (module docstring).

    With ``observability``, latency regressions and error bursts are checked against a
    counterfactual run (module docstring) and the incidents gain ``changed_events`` (Int64,
    null for other kinds) and ``observable`` (Boolean).

    Returns
    -------
    tuple
        ``(result, features, incidents)``: the run, its feature frame, and its incidents
        with ``affected`` naming streams.

    Examples
    --------
    >>> res, feats, inc = run_workload("synthetic", "1h", params={"rate_per_s": 5})
    >>> feats["stream"].unique().to_list(), inc.height
    (['events'], 4)
    """
    from eventsim.sim.engine import run

    spec = spec if spec is not None else features_for(workload)
    sc = workload_scenario(workload, duration, seed=seed, incidents=incidents, params=params)
    result = run(sc, progress=False)
    features = window_features(result.events, spec)
    if region_streams and spec.by == ("topic",) and "region" in result.events.columns:
        by_region = window_features(
            result.events.with_columns(pl.col("region").cast(pl.String)),
            spec.replace(by=("region",), latency=None, position=None, entity=None),
        )
        by_region = by_region.drop("distinct_keys").with_columns(
            pl.concat_str(pl.lit(REGION_PREFIX), pl.col("stream")).alias("stream")
        )
        features = pl.concat([features, by_region], how="diagonal")
    if _has_stages(workload, spec):
        features = _with_stage_streams(result.events, features, spec, STAGE_EVENTS[workload])
    features = features.sort("window_start_s", "stream")
    streams = features["stream"].unique().sort().to_list()
    mapped = incident_streams(
        result.incidents, workload if spec.by == ("topic",) else None, streams
    )
    if observability:
        mapped = _observability(sc, result, mapped, spec, grace_s)
    return result, features, mapped


def _has_stages(workload: str, spec: FeatureSpec) -> bool:
    """Whether the workload's streams include stage streams (module docstring)."""
    return bool(STAGE_EVENTS.get(workload)) and spec.by == ("topic",) and spec.latency == "key_gap"


def _with_stage_streams(
    events: pl.DataFrame,
    features: pl.DataFrame,
    spec: FeatureSpec,
    stage_events: Sequence[tuple[str, str]],
) -> pl.DataFrame:
    """The topic streams without their key-gap quantiles, plus one stream per stage event
    (``trips/picked_up``) carrying only those quantiles (module docstring)."""
    names = [f"{topic}/{etype}" for topic, etype in stage_events]
    quantiles = [c for c in features.columns if sample_column(c) is not None]
    lat = [*quantiles, *dict.fromkeys(sample_column(c) for c in quantiles)]
    stages = window_features(
        events.with_columns(pl.col("event_type").cast(pl.String)),
        spec.replace(
            by=("topic", "event_type"),
            error_types=(),
            success_types=(),
            failure_types=(),
            entity=None,
            position=None,
        ),
    ).filter(pl.col("stream").is_in(names))
    keep = ["window_start_s", "window_end_s", "stream", "events", "late_records", *lat]
    stages = stages.select(keep)
    topics = features.with_columns(pl.lit(None, dtype=features.schema[c]).alias(c) for c in lat)
    return pl.concat([topics, stages], how="diagonal")


def _observability(
    sc: Scenario, result: RunResult, incidents: pl.DataFrame, spec: FeatureSpec, grace_s: float
) -> pl.DataFrame:
    """Add ``changed_events`` and ``observable`` (module docstring) to the incidents."""
    import dataclasses

    from eventsim.sim.engine import run

    n = incidents.height
    changed: list[int | None] = [None] * n
    observable = [True] * n
    kinds = incidents["kind"].to_list()
    failures = pl.col("event_type").cast(pl.String).is_in([*spec.error_types, *spec.failure_types])
    # kind, the intensity at which it changes nothing, and which records it changes
    checks = [("latency_regression", 1.0, pl.lit(True))]
    if spec.error_types or spec.failure_types:  # else a burst's failures cannot be told apart
        checks.append(("error_burst", 0.0, failures))
    for kind, neutral, counted in checks:
        if kind not in kinds:
            continue
        calm = tuple(
            dataclasses.replace(i, intensity=neutral) if i.kind == kind else i for i in sc.incidents
        )
        other = run(dataclasses.replace(sc, incidents=calm), progress=False).events
        if kind == "latency_regression":
            lat_a = _latencies(result.events, spec, sc.workload)
            lat_b = _latencies(other, spec, sc.workload)
        for i, row in enumerate(incidents.iter_rows(named=True)):
            if row["kind"] != kind:
                continue
            window = _scoring_window(row, spec, grace_s) & counted
            a, b = result.events.filter(window), other.filter(window)
            changed[i] = _changed(a, b)
            if kind == "latency_regression":
                observable[i] = _slower(a, b, lat_a, lat_b, row, grace_s)
            else:
                observable[i] = changed[i] > 3.0 * np.sqrt(max(b.height, 1))
    return incidents.with_columns(
        pl.Series("changed_events", changed, dtype=pl.Int64),
        pl.Series("observable", observable, dtype=pl.Boolean),
    )


def _during(incident: dict[str, Any], grace_s: float) -> pl.Expr:
    """The records in an incident's scoring window, ``[start_s, end_s + grace_s)``."""
    return pl.col("timestamp_s").is_between(
        incident["start_s"], incident["end_s"] + grace_s, closed="left"
    )


def _scoring_window(incident: dict[str, Any], spec: FeatureSpec, grace_s: float) -> pl.Expr:
    """The records of an incident's topics (with streams per topic) in its scoring window."""
    keep = _during(incident, grace_s)
    if spec.by == ("topic",):
        keep &= pl.col("topic").is_in(list(incident["affected"]))
    return keep


def _changed(a: pl.DataFrame, b: pl.DataFrame) -> int:
    """Records that differ between ``a`` and ``b`` (in any column but their placement in the
    log, which moves with any shift), counted on both sides."""
    placement = {"partition", "offset", "event_id", "append_s"}
    cols = [c for c in a.columns if c not in placement]
    a, b = a.select(cols), b.select(cols)
    return (
        a.join(b, on=cols, how="anti", nulls_equal=True).height
        + b.join(a, on=cols, how="anti", nulls_equal=True).height
    )


def _latencies(events: pl.DataFrame, spec: FeatureSpec, workload: str) -> pl.DataFrame:
    """The latency values behind the streams' quantiles (a workload of :data:`STAGE_EVENTS`:
    its stage streams')."""
    from eventsim.anomaly.features import latency_values

    if _has_stages(workload, spec):
        spec = spec.replace(by=("topic", "event_type"))
    return latency_values(events.with_columns(pl.col("event_type").cast(pl.String)), spec)


def _slower(
    a: pl.DataFrame,
    b: pl.DataFrame,
    latency_a: pl.DataFrame,
    latency_b: pl.DataFrame,
    incident: dict[str, Any],
    grace_s: float,
) -> bool:
    """Whether a latency regression's scoring window tells the run from its counterfactual
    at three sigmas: its records ``a`` against ``b``, a count off by more than
    ``3·sqrt(n)``, or on one of its streams, latency values (:func:`_latencies`) higher
    (one-sided Mann-Whitney)."""
    from scipy.special import ndtr
    from scipy.stats import mannwhitneyu

    if abs(a.height - b.height) > 3.0 * np.sqrt(max(b.height, 1)):
        return True
    during = _during(incident, grace_s)
    for stream in incident["affected"]:
        keep = (pl.col("stream") == stream) & during
        x = latency_a.filter(keep)["latency"].to_numpy()
        y = latency_b.filter(keep)["latency"].to_numpy()
        if x.size and y.size and mannwhitneyu(x, y, alternative="greater").pvalue < ndtr(-3.0):
            return True
    return False


def compare_on_workload(
    workload: str,
    detectors: Sequence[str] = ("default", "tail", "robust_z"),
    *,
    duration: float | str = "24h",
    seed: int = 0,
    incidents: Sequence[IncidentSpec] | None = None,
    params: Mapping[str, Any] | None = None,
    spec: FeatureSpec | None = None,
    thresholds: Mapping[str, float | Threshold] | None = None,
    grace_s: float = 1800.0,
    pairs: bool = True,
    observability: bool = True,
) -> pl.DataFrame:
    """Run a workload with incidents and compare detectors on it: one table.

    Parameters
    ----------
    workload
        Workload name.
    detectors
        Registry names (and ``"tail"``).
    duration, seed, incidents, params
        The run (:func:`workload_scenario`).
    spec
        Features (default: the workload's preset, :func:`~eventsim.anomaly.features_for`).
    thresholds, grace_s, pairs
        As in :func:`detection_table`.
    observability
        Check latency regressions and error bursts against counterfactual runs and count
        only observable incidents in the recall (module docstring; one more simulation for
        each of the two kinds the workload has).

    Returns
    -------
    polars.DataFrame
        ``workload`` (String) then :func:`detection_table`'s columns.

    Examples
    --------
    >>> t = compare_on_workload("synthetic", ["null"], duration="2h",
    ...                         params={"rate_per_s": 5}, pairs=False)
    >>> t.select("workload", "detector", "incidents", "alarms").row(0)
    ('synthetic', 'null', 4, 0)
    """
    spec = spec if spec is not None else features_for(workload)
    _, features, mapped = run_workload(
        workload,
        duration,
        seed=seed,
        incidents=incidents,
        params=params,
        spec=spec,
        observability=observability,
        grace_s=grace_s,
    )
    for name in detectors:
        if name not in DETECTORS and name != "tail":
            from eventsim.anomaly.stream_detector import detector_constructor

            detector_constructor(name)  # raises with the known names
    table = detection_table(
        features,
        mapped,
        detectors,
        thresholds=thresholds,
        spec=spec,
        grace_s=grace_s,
        pairs=pairs,
        seed=seed,
    )
    return table.select(pl.lit(workload).alias("workload"), pl.all())


class IncidentRun(NamedTuple):
    """What :func:`explore_incident` returns: the frames of one small experiment."""

    features: pl.DataFrame
    scores: pl.DataFrame
    incidents: pl.DataFrame
    outcomes: pl.DataFrame


def explore_incident(
    workload: str = "synthetic",
    kind: str = "outage",
    intensity: float = 1.0,
    detector: str = "tail",
    threshold: float | None = None,
    *,
    duration: float | str = "4h",
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
) -> IncidentRun:
    """One incident in a short run, scored by one detector: the knobs of the notebook.

    The incident starts at 60 % of the run and lasts a tenth of it (at most 15 minutes);
    the detectors warm up on what comes before. ``threshold`` None or 0 means the
    detector's default.

    Examples
    --------
    >>> run = explore_incident("synthetic", "error_burst", 0.5, "null", duration="1h",
    ...                        params={"rate_per_s": 2})
    >>> run.outcomes.select("kind", "detected").row(0)
    ('error_burst', False)
    """
    from eventsim.units import parse_duration

    duration_s = parse_duration(duration, "duration")
    spec = features_for(workload)
    incident = IncidentSpec(kind, 0.6 * duration_s, min(900.0, duration_s / 10), intensity)
    _, features, mapped = run_workload(
        workload, duration_s, seed=seed, incidents=(incident,), params=params, spec=spec
    )
    scores = score_streams(features, detector, threshold or None, spec=spec, seed=seed)
    return IncidentRun(features, scores, mapped, incident_outcomes(scores, mapped))
