"""``run_store(config) -> StoreResult``: clients replay the workload's operations against a
replicated store on a SimPy environment, and every operation lands in the history.

Each client session is one long-lived process: it takes its operations in arrival order,
invokes each when it arrives or when the previous one completes (a session runs one
operation at a time), and waits for the reply or its timeout. Operations still open when the
run ends are recorded with status ``info``; those never invoked are not recorded.

History ``process`` numbers follow Jepsen: client ``j`` starts as process ``j``; after an
operation whose outcome it cannot know (``info``), it carries on as process
``j + n_clients``, then ``j + 2 n_clients`` ..., so that the crashed operation stays
concurrent with everything the client does next.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Generator
from typing import Any

import numpy as np
import polars as pl
import simpy

from eventsim.consistency.history import HISTORY_SCHEMA
from eventsim.consistency.stores.base import Op, Reply, Store, StoreContext
from eventsim.consistency.stores.config import StoreConfig
from eventsim.consistency.stores.network import Network
from eventsim.consistency.stores.operations import operations
from eventsim.consistency.stores.registry import get_store
from eventsim.consistency.stores.result import FINAL_STATE_SCHEMA, TRACE_SCHEMA, StoreResult
from eventsim.faults import faults_frame
from eventsim.scenario import Scenario
from eventsim.sim.result import RunResult
from eventsim.sim.rng import RngStreams

__all__ = ["run_store", "run_with_store"]

_Record = tuple[Op, Reply, float, int]


def run_store(
    config: StoreConfig | None = None, /, *, log: RunResult | None = None, **changes: Any
) -> StoreResult:
    """Simulate the store described by ``config`` (fields in ``changes`` replaced).

    Parameters
    ----------
    config
        The store, its clients and faults; None builds ``StoreConfig(**changes)``.
    log
        Optional: a run of the same workload whose event log drives the store (see
        :func:`~eventsim.consistency.stores.operations`).
    **changes
        Fields to replace, e.g. ``model="causal"``.

    Returns
    -------
    StoreResult
        History, trace, replica states, final state and faults (see
        :class:`~eventsim.consistency.stores.StoreResult`).

    Examples
    --------
    >>> res = run_store(model="linearizable", duration_s=5, seed=2)
    >>> res.history.columns[-2:], res.history["status"].unique().to_list()
    (['status', 'version'], ['ok'])
    >>> res.check().valid
    True
    """
    if config is None:
        config = StoreConfig(**changes)
    elif changes:
        config = config.replace(**changes)
    started = time.perf_counter()
    ops = operations(config, log=log)
    env = simpy.Environment()
    rngs = RngStreams(config.seed)
    net = Network(config, rngs("store.network"))
    ctx = StoreContext(config, env, net, rngs)
    store = get_store(config.model)(ctx)
    store.start()
    records: list[_Record] = []
    inflight: dict[int, tuple[Op, int]] = {}
    times = ops["time_s"].to_list()
    kinds = ops["op"].to_list()
    keys = ops["key"].to_list()
    procs = ops["process"].to_numpy()
    for p in np.unique(procs).tolist():
        rows = np.flatnonzero(procs == p).tolist()
        env.process(_client(store, p, rows, times, kinds, keys, records, inflight))
    env.run(until=config.end_s)
    store.finish(config.end_s)
    for op, incarnation in inflight.values():
        records.append((op, Reply("info"), math.inf, incarnation))
    return _result(config, ctx, store, ops, records, time.perf_counter() - started)


def run_with_store(
    scenario: Scenario, config: StoreConfig | None = None, /, **changes: Any
) -> tuple[RunResult, StoreResult]:
    """Run ``scenario`` and a replicated store fed by its event log; the run comes back with
    the store's client operations in ``RunResult.history``.

    Examples
    --------
    >>> from eventsim.scenario import Scenario
    >>> sc = Scenario(workload="amazon", duration="60s", seed=1)
    >>> res, store = run_with_store(sc, model="causal", duration_s=60, seed=1)
    >>> res.history is not None and res.history.height == store.history.height
    True
    """
    from eventsim.sim.engine import run

    result = run(scenario, progress=False)
    if config is None:
        config = StoreConfig(workload=scenario.workload, **changes)
    elif changes:
        config = config.replace(**changes)
    store = run_store(config, log=result)
    return dataclasses.replace(result, history=store.history), store


def _client(
    store: Store,
    process: int,
    rows: list[int],
    times: list[float],
    kinds: list[str],
    keys: list[str],
    records: list[_Record],
    inflight: dict[int, tuple[Op, int]],
) -> Generator[simpy.Event, Any, None]:
    env = store.env
    node = store.n + process
    timeout = store.config.timeout_s
    incarnation = process
    for i in rows:
        if times[i] > env.now:
            yield env.timeout(times[i] - env.now)
        now = env.now
        kind = kinds[i]
        value = f"{process}:{i}" if kind == "write" else None
        op = Op(i, process, node, kind, keys[i], value, now, now + timeout)
        inflight[process] = (op, incarnation)
        reply = yield from store.execute(op)
        del inflight[process]
        records.append((op, reply, env.now if reply.status != "info" else math.inf, incarnation))
        if reply.status == "info":
            # as in Jepsen: a session cannot know what its crashed operation did, so the
            # client goes on as a new process, and the crashed one stays concurrent with it
            incarnation += store.config.n_clients


def _versions(ctx: StoreContext) -> list[int]:
    """Each write's place (1, 2, ...) in its key's order of stamps."""
    by_key: dict[str, list[int]] = {}
    for w, k in enumerate(ctx.write_key):
        by_key.setdefault(k, []).append(w)
    rank = [0] * len(ctx.write_key)
    stamps = ctx.write_stamp
    for ids in by_key.values():
        for pos, w in enumerate(sorted(ids, key=lambda w: (stamps[w], w)), start=1):
            rank[w] = pos
    return rank


def _result(
    config: StoreConfig,
    ctx: StoreContext,
    store: Store,
    ops: pl.DataFrame,
    records: list[_Record],
    wall_s: float,
) -> StoreResult:
    names = ctx.net.names
    writes_are_versions = store.versions_are_writes
    rank = _versions(ctx) if writes_are_versions else []
    actors = ops["actor"].to_list()
    cols: dict[str, list[Any]] = {c: [] for c in [*HISTORY_SCHEMA, "version", *TRACE_SCHEMA]}
    for op, reply, complete, process in records:
        cols["process"].append(process)
        cols["op"].append(reply.op or op.kind)
        cols["key"].append(op.key)
        cols["value"].append(reply.value if reply.value is not None else op.value)
        cols["output"].append(reply.output if reply.status == "ok" else None)
        cols["invoke_s"].append(op.invoke_s)
        cols["complete_s"].append(complete)
        cols["status"].append(reply.status)
        w = reply.write
        cols["version"].append(rank[w] if w is not None and writes_are_versions else None)
        cols["actor"].append(actors[op.index])
        cols["client"].append(names[op.client])
        cols["region"].append(config.regions[ctx.net.region[op.client]])
        cols["replica"].append(None if reply.replica is None else names[reply.replica])
        cols["served_s"].append(reply.served_s)
        cols["position"].append(reply.position)
        cols["row"].append(0)
    schema = {**HISTORY_SCHEMA, "version": pl.Int64(), **TRACE_SCHEMA}
    frame = (
        pl.DataFrame(cols, schema=schema)
        .sort("invoke_s", "process", maintain_order=True)
        .with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("row"))
    )
    history = frame.select([*HISTORY_SCHEMA, "version"])
    trace = frame.select(list(TRACE_SCHEMA))
    end = config.end_s
    changes = [c for c in ctx.changes if c[0] <= end]
    versions = [rank[c[3]] if writes_are_versions else c[3] for c in changes]
    states = pl.DataFrame(
        {
            "time_s": [c[0] for c in changes],
            "replica": [names[c[1]] for c in changes],
            "key": [c[2] for c in changes],
            "version": versions,
            "value": [c[4] for c in changes],
        },
        schema={
            "time_s": pl.Float64(),
            "replica": pl.String(),
            "key": pl.String(),
            "version": pl.Int64(),
            "value": pl.String(),
        },
    ).sort("time_s", maintain_order=True)
    final = (
        states.group_by("replica", "key", maintain_order=True)
        .agg(pl.col("version").last(), pl.col("value").last())
        .sort("replica", "key")
        .select([pl.col(c).cast(t) for c, t in FINAL_STATE_SCHEMA.items()])
    )
    return StoreResult(
        config=config,
        history=history,
        trace=trace,
        replica_states=states.drop("value"),
        final_state=final,
        faults=faults_frame(list(config.faults)),
        messages=ctx.net.n_messages,
        wall_s=wall_s,
    )
