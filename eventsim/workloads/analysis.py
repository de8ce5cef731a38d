"""Workload analysis: what a run's event log looks like, as polars frames.

Every function takes an events frame (``RunResult.events``, or ``WorkloadOutput.events``:
``timestamp_s``, ``topic``, ``key``, ``event_type`` and the workload's payload columns) and
returns a small frame whose schema its docstring lists:

* :func:`event_mix` — how many events of each topic and type, and their share;
* :func:`rank_frequency` and :func:`zipf_exponent` — key skew: events per key by rank, and the
  slope of that curve on log-log axes (a Zipf exponent);
* :func:`saga_funnel` — how many entities (trips, orders, uploads, connections) reach each
  state of their workflow, how many leave it and how many are still open at the end;
* :func:`incident_impact` — where the injected incidents sit and how the event rate moves in
  their windows;
* :func:`workload_catalog` — the registered workloads, their topics and incident kinds.

The funnels of the workloads are in :data:`FUNNELS` (workload name → :class:`Funnel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from eventsim.exceptions import ConfigError, DataFormatError, closest
from eventsim.workloads.base import entity_key

__all__ = [
    "FUNNELS",
    "Funnel",
    "event_mix",
    "incident_impact",
    "rank_frequency",
    "saga_funnel",
    "workload_catalog",
    "zipf_exponent",
]


def _require(events: pl.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in events.columns]
    if missing:
        msg = f"{what}: events frame lacks column(s) {missing}; it has {events.columns}"
        raise DataFormatError(msg)


def event_mix(events: pl.DataFrame, *, by: Sequence[str] = ("topic", "event_type")) -> pl.DataFrame:
    """Events per topic and event type (or any ``by`` columns), with their share of the total.

    Parameters
    ----------
    events
        An events frame.
    by
        Columns to count by.

    Returns
    -------
    polars.DataFrame
        The ``by`` columns, ``n_events`` Int64 and ``share`` Float64 (of all events), sorted by
        ``n_events`` descending, then by the ``by`` columns.

    Examples
    --------
    >>> ev = pl.DataFrame({"topic": ["a", "a", "a", "b"], "event_type": ["x", "x", "y", "z"]})
    >>> event_mix(ev).rows()
    [('a', 'x', 2, 0.5), ('a', 'y', 1, 0.25), ('b', 'z', 1, 0.25)]
    """
    by = list(by)
    _require(events, by, "event_mix")
    total = max(events.height, 1)
    return (
        events.group_by(by)
        .agg(pl.len().cast(pl.Int64).alias("n_events"))
        .with_columns((pl.col("n_events") / total).alias("share"))
        .sort(["n_events", *by], descending=[True] + [False] * len(by))
    )


def rank_frequency(
    events: pl.DataFrame, column: str = "key", *, by: str | None = "topic"
) -> pl.DataFrame:
    """Events per value of ``column`` (a key), ranked from the most frequent, per ``by`` group.

    Plotted on log-log axes, a Zipf law is a straight line of slope ``-s``; entity keys
    (orders, trips) are flat, popularity keys (titles, SKUs, cells) fall steeply. Null values
    are left out. Ties are ranked by value, so the ranks are deterministic.

    Parameters
    ----------
    events
        An events frame.
    column
        The key column (``key``, or a payload column such as ``title`` or ``sku``).
    by
        Group column (one curve per group), or None for one curve over all events.

    Returns
    -------
    polars.DataFrame
        ``by`` String (if given), ``rank`` Int64 (1 = most frequent), ``column`` (its dtype),
        ``n_events`` Int64 and ``share`` Float64 (of the group's events with a value), sorted
        by ``by`` and ``rank``.

    Examples
    --------
    >>> ev = pl.DataFrame({"topic": ["t"] * 4 + ["u"], "key": ["a", "b", "a", "a", "z"]})
    >>> rank_frequency(ev).rows()
    [('t', 1, 'a', 3, 0.75), ('t', 2, 'b', 1, 0.25), ('u', 1, 'z', 1, 1.0)]
    """
    groups = [by] if by is not None else []
    _require(events, [column, *groups], "rank_frequency")
    counts = (
        events.filter(pl.col(column).is_not_null())
        .group_by(*groups, column)
        .agg(pl.len().cast(pl.Int64).alias("n_events"))
        .sort([*groups, "n_events", column], descending=[False] * len(groups) + [True, False])
    )
    over = (lambda e: e.over(by)) if by is not None else (lambda e: e)
    return counts.select(
        *groups,
        over(pl.int_range(1, pl.len() + 1, dtype=pl.Int64)).alias("rank"),
        column,
        "n_events",
        (pl.col("n_events") / over(pl.col("n_events").sum())).alias("share"),
    )


def zipf_exponent(
    freq: pl.DataFrame, *, by: str | None = "topic", min_count: int = 5
) -> pl.DataFrame:
    """Least-squares slope of log(events) on log(rank), negated: the Zipf exponent ``s``.

    Only ranks with at least ``min_count`` events enter the fit (the tail of keys seen once or
    twice is flat by sampling, not by popularity). A group needs two such ranks, else null.

    Parameters
    ----------
    freq
        A :func:`rank_frequency` frame.
    by
        Its group column, or None.
    min_count
        Smallest count of a rank used in the fit.

    Returns
    -------
    polars.DataFrame
        ``by`` (if given), ``n_keys`` Int64 (all ranks), ``n_fitted`` Int64 (ranks in the fit)
        and ``exponent`` Float64 (null when fewer than two ranks qualify), sorted by ``by``.

    Examples
    --------
    >>> freq = pl.DataFrame({"rank": [1, 2, 4], "key": ["a", "b", "c"], "n_events": [80, 40, 20]})
    >>> zipf_exponent(freq, by=None).rows()
    [(3, 3, 1.0)]
    """
    groups = [by] if by is not None else []
    _require(freq, [*groups, "rank", "n_events"], "zipf_exponent")
    fit = pl.col("n_events") >= min_count
    x = pl.col("rank").log().filter(fit)
    y = pl.col("n_events").cast(pl.Float64).log().filter(fit)
    slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    agg = [
        pl.len().cast(pl.Int64).alias("n_keys"),
        fit.sum().cast(pl.Int64).alias("n_fitted"),
        pl.when(fit.sum() >= 2).then(0.0 - slope).alias("exponent"),
    ]
    if not groups:
        return freq.select(agg)
    return freq.group_by(by).agg(agg).sort(by)


@dataclass(frozen=True)
class Funnel:
    """The workflow of one kind of entity in a workload: the states it passes and its exits.

    Parameters
    ----------
    entity
        What moves through the funnel (``trip``, ``order``, ...), for labels.
    id_columns
        Column(s) naming the entity, as names or expressions. Two name an unordered pair (a
        connection between two members is the same whichever of them acts), so both must
        give the entity in the same form (linkedin: its member number as the key ``m<id>``).
    steps
        Event types of the happy path, in order; the last one completes the entity.
    exits
        Event types that take an entity off the happy path (declines, failures, cancels).

    Examples
    --------
    >>> FUNNELS["uber"].steps[0], FUNNELS["uber"].entity
    ('trip_requested', 'trip')
    """

    entity: str
    id_columns: tuple[str | pl.Expr, ...]
    steps: tuple[str, ...]
    exits: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= len(self.id_columns) <= 2 or not self.steps:
            msg = (
                f"Funnel of {self.entity!r} needs 1 or 2 id_columns and at least one step; got "
                f"id_columns={self.id_columns!r}, steps={self.steps!r}"
            )
            raise ConfigError(msg)


FUNNELS: dict[str, Funnel] = {
    "uber": Funnel(
        "trip",
        ("trip_id",),
        (
            "trip_requested",
            "payment_authorized",
            "trip_matched",
            "picked_up",
            "dropped_off",
            "payment_captured",
            "trip_completed",
        ),
        ("payment_declined", "match_failed", "rider_cancelled", "driver_cancelled"),
    ),
    "amazon": Funnel(
        "order",
        ("order_id",),
        ("order_placed", "inventory_reserved", "payment_authorized", "shipped", "delivered"),
        ("out_of_stock", "payment_declined", "cancellation_requested"),
    ),
    "netflix": Funnel(
        "upload",
        ("key",),
        ("upload_received", "encode_started", "encode_completed", "package_completed", "published"),
        ("pipeline_failed",),
    ),
    "linkedin": Funnel(
        "connection",
        (entity_key("member"), "key"),
        ("connection_requested", "connection_accepted"),
    ),
}
"""Workload name → its :class:`Funnel` (the synthetic workload has none)."""

FUNNEL_SCHEMA: dict[str, pl.DataType] = {
    "position": pl.Int64(),
    "state": pl.String(),
    "kind": pl.String(),
    "n_entities": pl.Int64(),
    "share": pl.Float64(),
}


def saga_funnel(events: pl.DataFrame, workload: str | Funnel) -> pl.DataFrame:
    """How many entities reach each step of the workload's funnel, leave it, or are still open.

    An entity counts once per state, however often it emits the event (an upload has 18 encode
    jobs). ``open`` entities reached the first step but neither the last step nor an exit by
    the end of the run: in flight (or, for silent declines, never answered).

    Parameters
    ----------
    events
        An events frame of the workload.
    workload
        A name in :data:`FUNNELS` or a :class:`Funnel`.

    Returns
    -------
    polars.DataFrame
        ``position`` Int64 (0, 1, ... over steps, then exits, then open), ``state`` String
        (event type, or ``"(open)"``), ``kind`` String (``step`` | ``exit`` | ``open``),
        ``n_entities`` Int64 and ``share`` Float64 (of the entities that reached the first
        step; 0 when none did).

    Raises
    ------
    ConfigError
        If the workload has no funnel.

    Examples
    --------
    >>> ev = pl.DataFrame({
    ...     "trip_id": ["t1", "t1", "t2", "t2", "t3"],
    ...     "event_type": ["trip_requested", "trip_completed", "trip_requested",
    ...                    "match_failed", "trip_requested"]})
    >>> f = Funnel("trip", ("trip_id",), ("trip_requested", "trip_completed"), ("match_failed",))
    >>> saga_funnel(ev, f).select("state", "kind", "n_entities").rows()
    [('trip_requested', 'step', 3), ('trip_completed', 'step', 1),
     ('match_failed', 'exit', 1), ('(open)', 'open', 1)]
    """
    funnel = _funnel(workload)
    cols = [pl.col(c) if isinstance(c, str) else c for c in funnel.id_columns]
    names = [n for c in cols for n in c.meta.root_names()]
    _require(events, [*names, "event_type"], f"saga_funnel({funnel.entity})")
    if len(cols) == 1:
        entity = cols[0]
    else:
        entity = pl.concat_str(pl.min_horizontal(cols), pl.max_horizontal(cols), separator="|")
    states = [*funnel.steps, *funnel.exits]
    reached = (
        events.lazy()
        .filter(pl.col("event_type").is_in(states), *(c.is_not_null() for c in cols))
        .select(entity.alias("entity"), pl.col("event_type").alias("state"))
        .unique()
        .collect()
    )
    counts = dict(reached.group_by("state").len().iter_rows())
    per_entity = reached.group_by("entity").agg(
        (pl.col("state") == funnel.steps[0]).any().alias("started"),
        pl.col("state").is_in([funnel.steps[-1], *funnel.exits]).any().alias("ended"),
    )
    n_open = per_entity.filter(pl.col("started") & ~pl.col("ended")).height
    first = counts.get(funnel.steps[0], 0)
    rows = [(s, "step", counts.get(s, 0)) for s in funnel.steps]
    rows += [(s, "exit", counts.get(s, 0)) for s in funnel.exits]
    rows.append(("(open)", "open", n_open))
    return pl.DataFrame(
        [(i, s, k, n, n / first if first else 0.0) for i, (s, k, n) in enumerate(rows)],
        schema=FUNNEL_SCHEMA,
        orient="row",
    )


def _funnel(workload: str | Funnel) -> Funnel:
    if isinstance(workload, Funnel):
        return workload
    if workload not in FUNNELS:
        msg = (
            f"workload {workload!r} has no saga funnel; funnels exist for "
            f"{', '.join(sorted(FUNNELS))}{closest(workload, FUNNELS)}"
        )
        raise ConfigError(msg)
    return FUNNELS[workload]


IMPACT_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "target": pl.String(),
    "start_s": pl.Float64(),
    "end_s": pl.Float64(),
    "n_affected": pl.Int64(),
    "scope": pl.String(),
    "rate_before_per_s": pl.Float64(),
    "rate_during_per_s": pl.Float64(),
    "rate_ratio": pl.Float64(),
}


def incident_impact(events: pl.DataFrame, incidents: pl.DataFrame) -> pl.DataFrame:
    """Event rate in each incident's window against the window of equal length just before it.

    The rate is measured on the incident's target topic when the target is a topic of the
    log, else on all events (``scope`` says which). An outage shows as a ratio below 1, an
    attack that adds events (spam bots, card testing, a hot key) as a ratio above 1; incidents
    that change payloads or latencies, not volume, stay near 1 (diurnal drift aside).

    Parameters
    ----------
    events
        An events frame (``timestamp_s``, ``topic``).
    incidents
        The run's incidents frame (``kind``, ``start_s``, ``end_s``, ``target``,
        ``affected``).

    Returns
    -------
    polars.DataFrame
        One row per incident in start order: ``kind``, ``target`` String, ``start_s``,
        ``end_s`` Float64, ``n_affected`` Int64 (entities listed as affected), ``scope``
        String (topic or ``"all"``), ``rate_before_per_s``, ``rate_during_per_s`` Float64 and
        ``rate_ratio`` Float64 (during / before; null when nothing came before).

    Examples
    --------
    >>> ev = pl.DataFrame({"timestamp_s": [0.5, 1.5, 2.5, 3.5, 3.6], "topic": ["a"] * 5})
    >>> inc = pl.DataFrame({"kind": ["spam"], "start_s": [3.0], "end_s": [4.0],
    ...     "target": ["a"], "affected": [["m1"]]})
    >>> incident_impact(ev, inc).select("scope", "rate_before_per_s", "rate_ratio").rows()
    [('a', 1.0, 2.0)]
    """
    _require(events, ["timestamp_s", "topic"], "incident_impact")
    times = {
        topic: np.sort(part["timestamp_s"].to_numpy())
        for (topic,), part in events.select("timestamp_s", "topic").group_by("topic")
    }
    everything = np.sort(events["timestamp_s"].to_numpy())
    rows = []
    for inc in incidents.sort("start_s").iter_rows(named=True):  # a handful of incidents
        start, end = float(inc["start_s"]), float(inc["end_s"])
        scope = inc["target"] if inc["target"] in times else "all"
        ts = times[scope] if scope != "all" else everything
        span = end - start
        during = _count(ts, start, end) / span if span > 0 else None
        before_start = max(0.0, start - span)
        before = _count(ts, before_start, start) / (start - before_start) if start > 0 else None
        ratio = during / before if during is not None and before else None
        rows.append(
            {
                "kind": inc["kind"],
                "target": inc["target"],
                "start_s": start,
                "end_s": end,
                "n_affected": len(inc.get("affected") or []),
                "scope": scope,
                "rate_before_per_s": before,
                "rate_during_per_s": during,
                "rate_ratio": ratio,
            }
        )
    return pl.DataFrame(rows, schema=IMPACT_SCHEMA)


def _count(sorted_times: np.ndarray, start: float, end: float) -> int:
    lo, hi = np.searchsorted(sorted_times, [start, end], side="left")
    return int(hi - lo)


def workload_catalog() -> pl.DataFrame:
    """The registered workloads: description, topics, event types, incident kinds, funnel.

    Returns
    -------
    polars.DataFrame
        ``workload``, ``description`` String, ``topics`` List(String), ``n_event_types``
        Int64, ``incident_kinds`` List(String), ``funnel`` String (entity, or null).

    Examples
    --------
    >>> cat = workload_catalog()
    >>> cat.filter(pl.col("workload") == "uber").select("topics", "funnel").row(0)
    (['trips', 'payments', 'driver_locations', 'surge'], 'trip')
    """
    from eventsim.workloads import WORKLOADS, get_workload

    rows = []
    for name in WORKLOADS:
        cls = get_workload(name)
        rows.append(
            {
                "workload": name,
                "description": cls.description(),
                "topics": list(cls.topics),
                "n_event_types": sum(len(v) for v in cls.topics.values()),
                "incident_kinds": list(cls.incident_kinds),
                "funnel": FUNNELS[name].entity if name in FUNNELS else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "workload": pl.String,
            "description": pl.String,
            "topics": pl.List(pl.String),
            "n_event_types": pl.Int64,
            "incident_kinds": pl.List(pl.String),
            "funnel": pl.String,
        },
    )
