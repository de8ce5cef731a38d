"""Comparing detectors on metric streams against labelled incidents.

The metric-stream frame has one row per (window, stream): ``window_start_s`` (Float64),
``stream`` (String) and numeric feature columns. Any frame in that shape plugs in, such as the
feature windows built from the simulator's event log. Each detector runs online
(score-then-learn) on each stream separately, in time order; a streaming
:class:`~eventsim.anomaly.thresholds.QuantileThreshold` per stream turns scores into alarms.

An incident (``kind``, ``start_s``, ``end_s``, ``target``, ``affected``) applies to a stream
when the stream is its ``target`` or in its ``affected`` list; an incident naming no stream
of the frame applies to every stream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

from eventsim.anomaly.detectors import DETECTORS, Detector
from eventsim.anomaly.scoring import incident_metrics
from eventsim.anomaly.thresholds import QuantileThreshold
from eventsim.exceptions import ConfigError, DataFormatError, closest

__all__ = ["INCIDENT_COLUMNS", "compare_detectors"]

#: Columns an incidents frame needs.
INCIDENT_COLUMNS = ("kind", "start_s", "end_s", "target", "affected")

_RESULT_SCHEMA = {
    "detector": pl.String,
    "incidents": pl.Int64,
    "detected": pl.Int64,
    "incident_recall": pl.Float64,
    "precision": pl.Float64,
    "median_delay_s": pl.Float64,
    "false_alarms_per_day": pl.Float64,
    "alarms": pl.Int64,
}


def _incidents_for(incidents: pl.DataFrame, streams: list[str]) -> dict[str, pl.DataFrame]:
    known = set(streams)
    rows = incidents.with_columns(
        pl.concat_list(pl.col("target"), pl.col("affected")).alias("_names")
    )
    applies = {s: [] for s in streams}  # type: dict[str, list[int]]
    for i, names in enumerate(rows["_names"].to_list()):
        hit = [n for n in dict.fromkeys(names) if n in known]  # the target is often affected
        for s in hit or streams:
            applies[s].append(i)
    return {s: incidents[idx] for s, idx in applies.items()}


def compare_detectors(
    frame: pl.DataFrame,
    incidents: pl.DataFrame,
    detectors: Sequence[str | tuple[str, Callable[..., Detector]]] = ("default", "robust_z"),
    *,
    features: Sequence[str] | None = None,
    quantile: float = 0.99,
    grace_s: float = 0.0,
    seed: int = 0,
    time_col: str = "window_start_s",
    stream_col: str = "stream",
) -> pl.DataFrame:
    """Run detectors on every stream and score their alarms against the incidents.

    Parameters
    ----------
    frame
        Metric streams: ``time_col``, ``stream_col`` and numeric features.
    incidents
        Columns ``kind`` (String), ``start_s``, ``end_s`` (Float64), ``target`` (String),
        ``affected`` (List(String)).
    detectors
        Registry names, or ``(name, constructor)`` pairs.
    features
        Feature columns (default: every numeric column but the time column).
    quantile
        Streaming quantile of past scores above which a score is an alarm.
    grace_s
        Alarms up to this long after an incident's end still count for it.
    seed
        Seed handed to every detector.
    time_col, stream_col
        Column names of time and stream.

    Returns
    -------
    polars.DataFrame
        One row per detector: ``detector`` (String), ``incidents``, ``detected`` (Int64;
        incident × stream pairs), ``incident_recall``, ``precision`` (Float64),
        ``median_delay_s`` (Float64, null when nothing was detected),
        ``false_alarms_per_day`` (Float64, summed over streams), ``alarms`` (Int64).

    Raises
    ------
    DataFormatError
        A required column is missing.
    ConfigError
        An unknown detector name.

    Examples
    --------
    >>> t = np.arange(400.0) * 60
    >>> v = np.where((t >= 18000) & (t < 18600), 50.0, np.sin(t / 600))
    >>> frame = pl.DataFrame({"window_start_s": t, "stream": "orders", "lag": v})
    >>> inc = pl.DataFrame(
    ...     {"kind": ["lag"], "start_s": [18000.0], "end_s": [18600.0],
    ...      "target": ["orders"], "affected": [[]]},
    ...     schema_overrides={"affected": pl.List(pl.String)},
    ... )
    >>> compare_detectors(frame, inc, ["robust_z"]).select("detector", "incident_recall")
    shape: (1, 2)
    ┌──────────┬─────────────────┐
    │ detector ┆ incident_recall │
    │ ---      ┆ ---             │
    │ str      ┆ f64             │
    ╞══════════╪═════════════════╡
    │ robust_z ┆ 1.0             │
    └──────────┴─────────────────┘
    """
    for col in (time_col, stream_col):
        if col not in frame.columns:
            msg = f"compare_detectors: frame lacks column {col!r}; has {frame.columns}"
            raise DataFormatError(msg)
    missing = [c for c in INCIDENT_COLUMNS if c not in incidents.columns]
    if missing:
        msg = f"compare_detectors: incidents lack columns {missing}; need {INCIDENT_COLUMNS}"
        raise DataFormatError(msg)
    if features is None:
        features = [c for c, t in frame.schema.items() if t.is_numeric() and c not in (time_col,)]
    named: list[tuple[str, Callable[..., Detector]]] = []
    for d in detectors:
        if isinstance(d, str):
            if d not in DETECTORS:
                hint = closest(d, DETECTORS)
                msg = f"unknown detector {d!r}; choose from {sorted(DETECTORS)}{hint}"
                raise ConfigError(msg)
            named.append((d, DETECTORS[d]))
        else:
            named.append(d)
    ordered = frame.sort([stream_col, time_col], maintain_order=True)
    streams = ordered[stream_col].unique(maintain_order=True).to_list()
    per_stream = _incidents_for(incidents, streams)
    records = []
    for name, make in named:
        det_total = inc_total = alarm_total = inside_total = 0
        delays: list[float] = []
        false_per_day = 0.0
        for stream in streams:
            part = ordered.filter(pl.col(stream_col) == stream)
            times = part[time_col].cast(pl.Float64).to_numpy()
            scores = make(seed=seed).score_learn_many(part.select(features))
            alarms = QuantileThreshold(q=quantile).classify_learn_many(scores)
            inc = per_stream[stream]
            st = inc["start_s"].cast(pl.Float64).to_numpy()
            en = inc["end_s"].cast(pl.Float64).to_numpy()
            m = incident_metrics(times, alarms, st, en, grace_s=grace_s)
            det_total += m["detected"]
            inc_total += m["incidents"]
            alarm_total += m["alarms"]
            inside_total += round(m["precision"] * m["alarms"])
            if m["detected"]:
                hit = (times[alarms][:, None] >= st) & (times[alarms][:, None] <= en + grace_s)
                first = np.where(hit.any(axis=0), times[alarms][hit.argmax(axis=0)] - st, np.nan)
                delays.extend(first[np.isfinite(first)].tolist())
            span_days = (times.max() - times.min()) / 86400.0 if times.size > 1 else 0.0
            n_false = m["alarms"] - round(m["precision"] * m["alarms"])
            false_per_day += n_false / span_days if span_days > 0 else float(n_false)
        records.append(
            {
                "detector": name,
                "incidents": inc_total,
                "detected": det_total,
                "incident_recall": det_total / inc_total if inc_total else 0.0,
                "precision": inside_total / alarm_total if alarm_total else 0.0,
                "median_delay_s": float(np.median(delays)) if delays else None,
                "false_alarms_per_day": false_per_day,
                "alarms": alarm_total,
            }
        )
    return pl.DataFrame(records, schema=_RESULT_SCHEMA)
