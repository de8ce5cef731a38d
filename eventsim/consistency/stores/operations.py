"""Client operations on the store, drawn from a workload: who reads or writes which key, when.

Each stream turns a workload's business events into reads and writes of store keys
(:data:`OPS_SCHEMA`); actors (customers, members, drivers, riders) become client sessions by
a stable hash, so one actor always uses the same session.

``uniform``
    Poisson arrivals at ``rate_per_s``, keys ``k0 .. k<n_keys-1`` uniform, a read with
    probability ``read_fraction``, actors uniform over the clients.
``amazon`` (shopping carts)
    ``order_placed``/``cancellation_requested`` write ``cart/<customer>``; the customer views
    the cart about a second later (read-your-writes), and the payment service reads it on
    ``payment_authorized``.
``linkedin`` (profiles)
    ``profile_updated`` writes ``profile/<member>``, who then views it; likes, comments and
    every feed item read the author's profile.
``uber`` (driver state)
    ``location_ping`` writes ``driver/<driver>``; after ``trip_matched`` the rider polls the
    driver's state every 2 s, five times.
``synthetic``
    The synthetic workload's events: ``view`` reads its key, other types write it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from eventsim.exceptions import ConfigError
from eventsim.sim.rng import RngStreams, stable_hash
from eventsim.workloads.base import entity_key

if TYPE_CHECKING:
    from eventsim.consistency.stores.config import StoreConfig
    from eventsim.sim.result import RunResult

__all__ = ["OPS_SCHEMA", "OP_STREAMS", "operations"]

OPS_SCHEMA: dict[str, pl.DataType] = {
    "time_s": pl.Float64(),
    "actor": pl.String(),
    "op": pl.String(),
    "key": pl.String(),
    "process": pl.Int64(),
}
"""Columns of :func:`operations`: arrival time, actor, ``read``/``write``, key, session."""

_DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "amazon": {"order_rate_per_s": 2.0, "n_customers": 40},
    "linkedin": {
        "n_members": 60,
        "session_rate_per_s": 1.0,
        "p_like": 0.4,
        "p_profile": 0.25,
        "think_mean_s": 3.0,
        "fanout_cap": 5,
    },
    "uber": {"n_drivers": 25, "ping_interval_s": 4.0, "trip_rate_per_s": 0.5, "n_riders": 200},
    "synthetic": {"rate_per_s": 20.0, "n_keys": 20},
}


def _events(config: StoreConfig, log: RunResult | None) -> pl.DataFrame:
    """The business events: drawn from the workload, or read from a run's event log."""
    name = config.workload
    if log is None:
        from eventsim.workloads import get_workload

        params = {**_DEFAULT_PARAMS.get(name, {}), **dict(config.workload_params)}
        workload = get_workload(name)(params)
        return workload.generate(config.duration_s, RngStreams(config.seed)).events
    if name == "uniform" or log.scenario.workload != name:
        msg = (
            f"store.workload {name!r} cannot read the log of a {log.scenario.workload!r} run; "
            f"set store.workload = {log.scenario.workload!r}"
        )
        raise ConfigError(msg)
    # the store is updated when a consumer first applies the record: its delivery time
    first = (
        log.deliveries.filter(pl.col("applied"))
        .group_by("event_id")
        .agg(pl.col("delivered_s").min())
    )
    return (
        log.events.join(first, on="event_id")
        .with_columns(pl.col("delivered_s").alias("timestamp_s"))
        .drop("delivered_s")
        .sort("timestamp_s")
    )


def _uniform(ev: pl.DataFrame, config: StoreConfig, rng: np.random.Generator) -> pl.DataFrame:
    n = int(rng.poisson(config.rate_per_s * config.duration_s))
    t = np.sort(rng.uniform(0.0, config.duration_s, n))
    keys = rng.integers(0, config.n_keys, n)
    reads = rng.uniform(0.0, 1.0, n) < config.read_fraction
    actors = rng.integers(0, config.n_clients, n)
    raw = pl.DataFrame({"time_s": t, "a": actors, "k": keys, "read": reads})
    return raw.select(
        "time_s",
        (pl.lit("client-") + pl.col("a").cast(pl.String)).alias("actor"),
        pl.when("read").then(pl.lit("read")).otherwise(pl.lit("write")).alias("op"),
        (pl.lit("k") + pl.col("k").cast(pl.String)).alias("key"),
    )


def _amazon(ev: pl.DataFrame, config: StoreConfig, rng: np.random.Generator) -> pl.DataFrame:
    ev = ev.filter(pl.col("customer").is_not_null())
    cart = pl.concat_str(pl.lit("cart/"), entity_key("customer"))
    writes = ev.filter(pl.col("event_type").is_in(["order_placed", "cancellation_requested"]))
    w = writes.select(
        pl.col("timestamp_s").alias("time_s"),
        entity_key("customer").alias("actor"),
        pl.lit("write").alias("op"),
        cart.alias("key"),
    )
    views = w.with_columns(
        (pl.col("time_s") + rng.exponential(1.0, w.height)).alias("time_s"),
        pl.lit("read").alias("op"),
    )
    payments = ev.filter(pl.col("event_type") == "payment_authorized").select(
        pl.col("timestamp_s").alias("time_s"),
        pl.lit("payment-service").alias("actor"),
        pl.lit("read").alias("op"),
        cart.alias("key"),
    )
    return pl.concat([w, views, payments])


def _linkedin(ev: pl.DataFrame, config: StoreConfig, rng: np.random.Generator) -> pl.DataFrame:
    updates = ev.filter(pl.col("event_type") == "profile_updated").select(
        pl.col("timestamp_s").alias("time_s"),
        entity_key("member").alias("actor"),
        pl.lit("write").alias("op"),
        pl.concat_str(pl.lit("profile/"), entity_key("member")).alias("key"),
    )
    own = updates.with_columns(
        (pl.col("time_s") + rng.exponential(1.0, updates.height)).alias("time_s"),
        pl.lit("read").alias("op"),
    )
    engaged = ev.filter(
        pl.col("event_type").is_in(["post_liked", "comment_added"]) & pl.col("author").is_not_null()
    ).select(
        pl.col("timestamp_s").alias("time_s"),
        entity_key("member").alias("actor"),
        pl.lit("read").alias("op"),
        pl.concat_str(pl.lit("profile/"), entity_key("author")).alias("key"),
    )
    feed = ev.filter(
        (pl.col("event_type") == "feed_item_added") & pl.col("author").is_not_null()
    ).select(
        pl.col("timestamp_s").alias("time_s"),
        pl.col("key").alias("actor"),
        pl.lit("read").alias("op"),
        pl.concat_str(pl.lit("profile/"), entity_key("author")).alias("key"),
    )
    return pl.concat([updates, own, engaged, feed])


def _uber(ev: pl.DataFrame, config: StoreConfig, rng: np.random.Generator) -> pl.DataFrame:
    pings = ev.filter(pl.col("event_type") == "location_ping").select(
        pl.col("timestamp_s").alias("time_s"),
        pl.col("key").alias("actor"),
        pl.lit("write").alias("op"),
        (pl.lit("driver/") + pl.col("key")).alias("key"),
    )
    matched = ev.filter(
        (pl.col("event_type") == "trip_matched") & pl.col("driver").is_not_null()
    ).select(
        pl.col("timestamp_s").alias("time_s"),
        entity_key("rider").alias("actor"),
        pl.lit("read").alias("op"),
        pl.concat_str(pl.lit("driver/"), entity_key("driver")).alias("key"),
    )
    polls = pl.concat([matched.with_columns(pl.col("time_s") + 2.0 * k) for k in range(5)]).filter(
        pl.col("time_s") < config.duration_s
    )
    return pl.concat([pings, polls])


def _synthetic(ev: pl.DataFrame, config: StoreConfig, rng: np.random.Generator) -> pl.DataFrame:
    actors = rng.integers(0, config.n_clients, ev.height)
    return ev.select(
        pl.col("timestamp_s").alias("time_s"),
        (pl.lit("client-") + pl.Series(actors).cast(pl.String)).alias("actor"),
        pl.when(pl.col("event_type") == "view")
        .then(pl.lit("read"))
        .otherwise(pl.lit("write"))
        .alias("op"),
        pl.col("key"),
    )


OP_STREAMS: dict[str, Callable[[pl.DataFrame, StoreConfig, np.random.Generator], pl.DataFrame]] = {
    "uniform": _uniform,
    "amazon": _amazon,
    "linkedin": _linkedin,
    "uber": _uber,
    "synthetic": _synthetic,
}
"""Workload name → function ``(events, config, rng) -> (time_s, actor, op, key)`` frame
(``events``: the workload's business events; empty for ``uniform``)."""


def operations(config: StoreConfig, *, log: RunResult | None = None) -> pl.DataFrame:
    """The run's client operations, sorted by arrival, each with its session.

    Parameters
    ----------
    config
        Its ``workload`` (a name in :data:`OP_STREAMS`), ``workload_params``,
        ``duration_s``, ``n_clients`` and ``seed`` are used.
    log
        Optional: a :class:`~eventsim.RunResult` of the same workload. Its event log replaces
        the drawn events, each one timed when a consumer first applied it (records lost by
        the pipeline never reach the store); ``workload_params`` are then ignored.

    Returns
    -------
    polars.DataFrame
        :data:`OPS_SCHEMA`: ``time_s`` Float64, ``actor`` String, ``op`` String (``read`` |
        ``write``), ``key`` String, ``process`` Int64 (``stable_hash(actor) % n_clients``;
        ``uniform`` actors ``client-<j>`` are session ``j``). Sorted by ``time_s``.

    Examples
    --------
    >>> from eventsim.consistency.stores import StoreConfig
    >>> ops = operations(StoreConfig(rate_per_s=10, duration_s=2, n_clients=2, seed=3))
    >>> ops.height, ops.columns, sorted(set(ops["op"]))
    (29, ['time_s', 'actor', 'op', 'key', 'process'], ['read', 'write'])
    """
    rng = RngStreams(config.seed)("store.operations")
    events = pl.DataFrame() if config.workload == "uniform" and log is None else None
    if events is None:
        events = _events(config, log)
    frame = OP_STREAMS[config.workload](events, config, rng)
    frame = frame.filter(pl.col("time_s") < config.duration_s).sort("time_s", maintain_order=True)
    actors = frame["actor"].unique(maintain_order=True).to_list()
    n = config.n_clients
    if config.workload in ("uniform", "synthetic"):
        session = {a: int(a.removeprefix("client-")) for a in actors}
    else:
        session = {a: stable_hash(a) % n for a in actors}
    process = frame["actor"].replace_strict(session, return_dtype=pl.Int64)
    return frame.with_columns(process.alias("process")).select(
        [pl.col(c).cast(t) for c, t in OPS_SCHEMA.items()]
    )
