"""Windowed metric streams from an event log, in polars (``group_by_dynamic``) over a finished log.

The incremental implementation a consumer updates inside the simulation
(:class:`~eventsim.anomaly.IncrementalFeatures`) gives the *same* frame, row for row, when it
sees the records in the arrival order below. The frame's schema is in
:mod:`eventsim.anomaly.feature_spec`.

Arrival order
-------------
Lateness depends on the order records reach the feature consumer and on when they do, so
both must be reproducible from the run's frames:

- with ``deliveries`` (of a consumer group with **one member** whose ``processing_time_s``
  is 0, as :func:`~eventsim.anomaly.run_with_detector` sets up), the order of its rows,
  exactly the order its batch handler saw the records, and their ``delivered_s``, the time
  of the poll; a record delivered again (after a crash or a rebalance) counts once, at its
  first delivery;
- without, append order: ``append_s``, then topic, partition, offset, each record arriving
  at its ``append_s`` (a consumer that keeps up, up to the grouping of a poll by partition).

Watermark and late records (the policy)
---------------------------------------
Times are whole microseconds, ``t = floor(timestamp_s · 10⁶)``. When a record arrives at
time ``now``, with ``M`` the largest ``t`` among the records that arrived before it, the
**watermark** is ``W = max(M − allowed_lateness, now − max_delay)`` (the second term only
with ``max_delay_s``; it keeps windows closing while nothing arrives). The record is
**late** when ``t < W``: it is dropped from every feature and counted in ``late_records`` of
the window (of its stream) that starts at ``max(0, floor(W / step)) · step``, the oldest
window still open. Once ``W`` reaches a window's end no on-time record can fall in it, so
the incremental path emits it then. Windows are ``[k·step, k·step + window)``, ``k >= 0``;
a stream has a row for every window from its first (the earliest window holding one of its
records, on time or late) to the last window holding any record, or closed by the
watermark at ``until_s`` if given, with zeros where it had no records (an outage is a row of
zeros, not a missing row).

Per-entity state (``latency="key_gap"``, ``position``) follows the same order and uses on-time
records only: a key's gap is measured from its previous on-time record, whatever its stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from eventsim.anomaly.feature_spec import (
    ALERTS_TOPIC,
    PLACEMENT,
    FeatureSpec,
    _us,
    feature_schema,
    quantile_name,
)
from eventsim.exceptions import DataFormatError

__all__ = ["arrival_order", "latency_values", "window_features"]

_JOIN = ["topic", "partition", "offset"]


def arrival_order(
    events: pl.DataFrame,
    deliveries: pl.DataFrame | None = None,
    *,
    group: str | None = None,
    topics: tuple[str, ...] | None = None,
) -> pl.DataFrame:
    """The records of ``events`` in the order a feature consumer sees them (module docstring).

    Parameters
    ----------
    events
        The event log frame (``RunResult.events``).
    deliveries
        ``RunResult.deliveries``; when given, the order of ``group``'s rows, first delivery of
        each record only.
    group
        Consumer group whose deliveries give the order (needed when several are present).
    topics
        Topics kept (``None``: all but ``alerts``).

    Returns
    -------
    polars.DataFrame
        The rows of ``events`` (same columns, plus ``delivered_s`` with ``deliveries``),
        reordered and filtered.

    Examples
    --------
    >>> ev = pl.DataFrame({"topic": ["a", "a"], "partition": [0, 1], "offset": [0, 0],
    ...                    "append_s": [2.0, 1.0]})
    >>> arrival_order(ev)["partition"].to_list()
    [1, 0]
    """
    if deliveries is None:
        missing = [c for c in ["append_s", *_JOIN] if c not in events.columns]
        if missing:
            msg = f"arrival_order: events lack columns {missing}"
            raise DataFormatError(msg)
        ordered = events.sort(["append_s", *_JOIN], maintain_order=True)
    else:
        if group is None:
            groups = deliveries.get_column("group").unique().to_list()
            if len(groups) > 1:
                msg = f"arrival_order: deliveries hold several groups {sorted(groups)}; pass group"
                raise DataFormatError(msg)
        d = deliveries if group is None else deliveries.filter(pl.col("group") == group)
        seen = d.select(*_JOIN, "delivered_s").unique(_JOIN, maintain_order=True, keep="first")
        ordered = seen.join(events, on=_JOIN, how="inner", maintain_order="left")
    if topics is None:
        return ordered.filter(pl.col("topic") != ALERTS_TOPIC)
    return ordered.filter(pl.col("topic").is_in(list(topics)))


def _payload(spec: FeatureSpec, dtype: type[pl.DataType]) -> list[str]:
    """Payload columns the spec reads, of one kind (String or Float64)."""
    if dtype == pl.String:
        cols = [spec.by_column, spec.entity, "key"]
    else:
        cols = [spec.latency, *(spec.position or ())]
    return [c for c in dict.fromkeys(cols) if c not in (None, "key_gap")]


def _us_floor(seconds: float) -> int:
    """Whole microseconds of a time, as the frames' times are floored."""
    return int(np.floor(seconds * 1_000_000.0))


def _micros(col: str) -> pl.Expr:
    return (pl.col(col) * 1_000_000.0).floor().cast(pl.Int64)


def _stream_expr(spec: FeatureSpec) -> pl.Expr:
    return pl.concat_str([pl.col(c).cast(pl.String) for c in spec.by], separator="/")


def _prepare(ordered: pl.DataFrame, spec: FeatureSpec) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per record: ``t`` (µs), watermark-late flag, stream, and the per-record metric inputs."""
    need = {"timestamp_s", "event_type", *(c for c in spec.by if c in PLACEMENT)}
    missing = sorted(c for c in need if c not in ordered.columns)
    if missing:
        msg = f"window_features: events lack columns {missing} the FeatureSpec reads"
        raise DataFormatError(msg)
    # payload columns no topic carried are all null, as a log without them stores them
    absent = [c for c in _payload(spec, pl.String) if c not in ordered.columns]
    absent += [c for c in _payload(spec, pl.Float64) if c not in ordered.columns]
    ordered = ordered.with_columns(
        [pl.lit(None, dtype=pl.String).alias(c) for c in _payload(spec, pl.String) if c in absent]
        + [
            pl.lit(None, dtype=pl.Float64).alias(c)
            for c in _payload(spec, pl.Float64)
            if c in absent
        ]
    )
    lateness = _us(spec.allowed_lateness_s)
    frame = ordered.with_columns(
        _micros("timestamp_s").alias("_t"),
        _micros("delivered_s" if "delivered_s" in ordered.columns else "append_s").alias("_now"),
        _stream_expr(spec).alias("_stream"),
    )
    watermark = [pl.col("_t").cum_max().shift(1) - lateness]
    if spec.max_delay_s is not None:
        watermark.append(pl.col("_now") - _us(spec.max_delay_s))
    frame = frame.with_columns(pl.max_horizontal(watermark).alias("_w"))
    frame = frame.with_columns((pl.col("_t") < pl.col("_w")).fill_null(False).alias("_late"))
    on_time = frame.filter(~pl.col("_late"))
    late = frame.filter(pl.col("_late") & pl.col("_stream").is_not_null())
    on_time = on_time.with_columns(*_record_metrics(spec))
    return on_time.filter(pl.col("_stream").is_not_null()), late


def _record_metrics(spec: FeatureSpec) -> list[pl.Expr]:
    """Per-record inputs of the window metrics, over on-time records in arrival order."""
    ts = pl.col("timestamp_s")
    etype = pl.col("event_type")
    out = [
        etype.is_in(list(spec.error_types)).fill_null(False).alias("_err"),
        etype.is_in(list(spec.success_types)).fill_null(False).alias("_ok"),
        etype.is_in(list(spec.failure_types)).fill_null(False).alias("_fail"),
    ]
    if spec.latency == "key_gap":
        gap = ts - ts.shift(1).over("key")
        keyed = pl.col("key").is_not_null()
        out.append(pl.when(keyed & (gap > 0)).then(gap).alias("_lat"))
    elif spec.latency is not None:
        out.append(pl.col(spec.latency).cast(pl.Float64).fill_nan(None).alias("_lat"))
    if spec.entity is not None:
        out.append(pl.col(spec.entity).alias("_entity"))
    if spec.position is not None:
        ent = spec.entity
        x, y = (pl.col(c).cast(pl.Float64).fill_nan(None) for c in spec.position)
        ok = pl.col(ent).is_not_null() & x.is_not_null() & y.is_not_null()
        # previous valid position of the same entity: shift within (entity, has position)
        grp = [pl.col(ent), ok]
        dx = x - x.shift(1).over(grp)
        dy = y - y.shift(1).over(grp)
        dt = ts - ts.shift(1).over(grp)
        speed = (dx * dx + dy * dy).sqrt() / dt
        out.append(pl.when(ok & (dt > 0)).then(speed).alias("_speed"))
    return out


def _dynamic(frame: pl.DataFrame, spec: FeatureSpec, by: list[str]) -> Any:
    step, window = _us(spec.slide_s), _us(spec.window_s)  # type: ignore[arg-type]
    return frame.sort("_t").group_by_dynamic(
        "_t",
        every=f"{step}i",
        period=f"{window}i",
        offset=f"{step - window}i",
        closed="left",
        label="left",
        group_by=by,
    )


def _aggregate(on_time: pl.DataFrame, spec: FeatureSpec) -> pl.DataFrame:
    lat = pl.col("_lat").drop_nulls() if spec.latency is not None else None
    aggs = [
        pl.len().alias("events"),
        pl.col("_err").sum().alias("_errors"),
        pl.col("_ok").sum().alias("_success"),
        pl.col("_fail").sum().alias("_failure"),
        pl.col("key").drop_nulls().n_unique().alias("distinct_keys"),
    ]
    if lat is not None:
        aggs += [
            lat.quantile(q, interpolation="lower").alias(quantile_name(q)) for q in spec.quantiles
        ]
        aggs.append(pl.col("_lat").count().alias("latency_samples"))
    if spec.position is not None:
        aggs.append(pl.col("_speed").max().alias("max_speed_mps"))
    out = _dynamic(on_time, spec, ["_stream"]).agg(aggs)
    if spec.entity is not None:
        ent = on_time.filter(pl.col("_entity").is_not_null())
        top = (
            _dynamic(ent, spec, ["_stream", "_entity"])
            .agg(pl.len().alias("_n"))
            .group_by("_stream", "_t")
            .agg(pl.col("_n").max().alias("_top"))
        )
        out = out.join(top, on=["_stream", "_t"], how="left")
    return out.with_columns((pl.col("_t") // _us(spec.slide_s)).alias("_k")).filter(  # type: ignore[arg-type]
        pl.col("_k") >= 0
    )


def window_features(
    events: pl.DataFrame,
    spec: FeatureSpec | None = None,
    *,
    deliveries: pl.DataFrame | None = None,
    group: str | None = None,
    until_s: float | None = None,
) -> pl.DataFrame:
    """Metric streams per window and stream from a finished log (polars ``group_by_dynamic``).

    Parameters
    ----------
    events
        The event log (``RunResult.events``).
    spec
        What to compute (default: a plain per-topic :class:`FeatureSpec`).
    deliveries, group
        Give the arrival order (see :func:`arrival_order` and the module docstring).
    until_s
        When the consumer stopped: windows the watermark had closed by then get rows even
        without records (as the incremental path emits them; needs ``max_delay_s``).

    Returns
    -------
    polars.DataFrame
        The feature frame (:func:`~eventsim.anomaly.feature_spec.feature_schema`), sorted by
        ``window_start_s`` then ``stream``.

    Raises
    ------
    DataFormatError
        The events lack a column the spec reads.

    Examples
    --------
    >>> ev = pl.DataFrame({
    ...     "topic": "t", "partition": 0, "offset": [0, 1, 2, 3],
    ...     "timestamp_s": [1.0, 2.0, 130.0, 5.0], "append_s": [1.0, 2.0, 130.0, 131.0],
    ...     "key": ["a", "b", "a", "c"], "event_type": ["ok", "error", "ok", "ok"],
    ... })
    >>> window_features(ev, FeatureSpec(error_types=("error",))).select(
    ...     "window_start_s", "events", "late_records", "error_ratio")
    shape: (3, 4)
    ┌────────────────┬────────┬──────────────┬─────────────┐
    │ window_start_s ┆ events ┆ late_records ┆ error_ratio │
    │ ---            ┆ ---    ┆ ---          ┆ ---         │
    │ f64            ┆ i64    ┆ i64          ┆ f64         │
    ╞════════════════╪════════╪══════════════╪═════════════╡
    │ 0.0            ┆ 2      ┆ 0            ┆ 0.5         │
    │ 60.0           ┆ 0      ┆ 0            ┆ 0.0         │
    │ 120.0          ┆ 1      ┆ 1            ┆ 0.0         │
    └────────────────┴────────┴──────────────┴─────────────┘
    """
    spec = spec if spec is not None else FeatureSpec()
    schema = feature_schema(spec)
    ordered = arrival_order(events, deliveries, group=group, topics=spec.topics)
    on_time, late = _prepare(ordered, spec)
    step, m = _us(spec.slide_s), spec.panes  # type: ignore[arg-type]
    if on_time.height == 0 and late.height == 0:
        return pl.DataFrame(schema=schema)
    agg = _aggregate(on_time, spec)
    late_k = late.group_by("_stream", (pl.col("_w") // step).clip(0).alias("_k")).agg(
        pl.len().alias("late_records")
    )
    firsts = pl.concat(
        [
            on_time.select("_stream", ((pl.col("_t") // step) - (m - 1)).clip(0).alias("_k")),
            late_k.select("_stream", "_k"),
        ]
    )
    last = int(
        pl.concat([on_time.select((pl.col("_t") // step).alias("_k")), late_k.select("_k")])
        .get_column("_k")
        .max()  # type: ignore[arg-type]
    )
    if until_s is not None and spec.max_delay_s is not None:
        closed = (_us_floor(until_s) - _us(spec.max_delay_s)) // step - m
        last = max(last, closed)
    grid = (
        firsts.group_by("_stream")
        .agg(pl.col("_k").min())
        .select("_stream", pl.int_ranges("_k", last + 1).alias("_k"))
        .explode("_k")
    )
    rows = grid.join(agg, on=["_stream", "_k"], how="left").join(
        late_k, on=["_stream", "_k"], how="left"
    )
    return _finish(rows, spec, schema)


def latency_values(events: pl.DataFrame, spec: FeatureSpec) -> pl.DataFrame:
    """The latency values behind the windows' quantiles, one row per on-time record that has
    one: ``stream``, ``timestamp_s``, ``latency`` (append order, as :func:`window_features`
    without ``deliveries``).

    Raises :class:`DataFormatError` as :func:`window_features` does.

    Examples
    --------
    >>> t = [1.0, 2.0, 30.0]  # key a's second record comes 29 s after its first
    >>> ev = pl.DataFrame({"topic": "t", "partition": 0, "offset": [0, 1, 2], "timestamp_s": t,
    ...                    "append_s": t, "key": ["a", "b", "a"], "event_type": "ok"})
    >>> latency_values(ev, FeatureSpec(latency="key_gap")).rows()
    [('t', 30.0, 29.0)]
    """
    if spec.latency is None:
        schema = {"stream": pl.String, "timestamp_s": pl.Float64, "latency": pl.Float64}
        return pl.DataFrame(schema=schema)
    on_time, _ = _prepare(arrival_order(events, topics=spec.topics), spec)
    return on_time.filter(pl.col("_lat").is_not_null()).select(
        pl.col("_stream").alias("stream"), "timestamp_s", pl.col("_lat").alias("latency")
    )


def _finish(rows: pl.DataFrame, spec: FeatureSpec, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Fill empty windows and turn counts into the documented metrics."""
    step, window = _us(spec.slide_s), _us(spec.window_s)  # type: ignore[arg-type]
    events = pl.col("events").fill_null(0)
    cols: dict[str, pl.Expr] = {
        "window_start_s": (pl.col("_k") * step).cast(pl.Float64) / 1_000_000.0,
        "window_end_s": (pl.col("_k") * step + window).cast(pl.Float64) / 1_000_000.0,
        "stream": pl.col("_stream"),
        "events": events,
        "late_records": pl.col("late_records").fill_null(0),
        "event_rate_per_s": events.cast(pl.Float64) / spec.window_s,
        "error_ratio": pl.when(events > 0)
        .then(pl.col("_errors").cast(pl.Float64) / events.cast(pl.Float64))
        .otherwise(0.0),
        "completion_ratio": pl.when(pl.col("_success") + pl.col("_failure") > 0)
        .then(
            pl.col("_success").cast(pl.Float64)
            / (pl.col("_success") + pl.col("_failure")).cast(pl.Float64)
        )
        .otherwise(1.0),
        "terminal_events": (pl.col("_success") + pl.col("_failure")).fill_null(0),
        "distinct_keys": pl.col("distinct_keys").fill_null(0),
        "top_entity_rate_per_s": pl.col("_top").fill_null(0).cast(pl.Float64) / spec.window_s,
        "max_speed_mps": pl.col("max_speed_mps").fill_null(0.0),
    }
    for q in spec.quantiles:
        name = quantile_name(q)
        cols[name] = pl.col(name).fill_null(0.0)
    if spec.latency is not None:
        cols["latency_samples"] = pl.col("latency_samples").fill_null(0)
    return rows.select([cols[name].cast(dtype).alias(name) for name, dtype in schema.items()]).sort(
        "window_start_s", "stream"
    )
