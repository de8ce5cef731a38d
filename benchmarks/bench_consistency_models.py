"""Benchmark: the replicated-store simulation (``run_store``) under every consistency model.

Measures, in one run:

- each model on a 5,000-operation run (uniform workload, 100 ops/s for 50 s, 20 client
  sessions, 3 replicas in 3 regions, a 10 s partition of replica-0): wall seconds and
  simulated operations per second; target < 0.5 s per run;
- ``compare_consistency`` on that configuration (8 models, all checkers); target < 10 s;

and beside them, two baselines:

- the floor: bare SimPy, the same 20 client processes yielding one timeout per request and
  one per response for the same 5,000 operations, and no store at all (what the model logic
  costs on top of the event loop);
- the eventual store with every replication push and gossip message delivered by its own
  SimPy event, against the kit's lazy inboxes, which apply messages when a replica is next
  touched (same history either way).

Run: ``.venv/bin/python benchmarks/bench_consistency_models.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import best_of, print_table

from eventsim.consistency.stores import (
    STORES,
    StoreConfig,
    compare_consistency,
    registry,
    run_store,
)
from eventsim.consistency.stores._replica import LwwReplica
from eventsim.consistency.stores.eventual import EventualStore
from eventsim.faults import FaultSpec

CONFIG = StoreConfig(
    rate_per_s=100,
    duration_s=50,
    n_clients=20,
    n_keys=50,
    seed=11,
    max_staleness_s=1.0,
    faults=(FaultSpec("network_partition", "replica-0|replica-1,replica-2", 20.0, 10.0),),
)


class _EagerReplica(LwwReplica):
    """Baseline: every message is a SimPy event that applies it when it arrives."""

    def deliver(self, t: float, writes: Any) -> None:
        env = self.ctx.env
        event = env.timeout(max(0.0, t - env.now))
        event.callbacks.append(lambda _e, t=t, w=writes: self._apply_now(t, w))

    def _apply_now(self, t: float, writes: Any) -> None:
        for w in [writes] if isinstance(writes, int) else writes:
            self.apply(w, t)


class EagerEventualStore(EventualStore):
    """The eventual store with one SimPy event per replication or gossip message."""

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.replicas = [_EagerReplica(i, ctx, ctx.config.clock) for i in range(self.n)]


def bench_models() -> bool:
    print("run_store, 5,000-op runs with a 10 s partition (target < 0.5 s each)")
    rows = []
    ok = True
    for model in STORES:
        cfg = CONFIG.replace(model=model)
        seconds, res = best_of(lambda c=cfg: run_store(c))
        met = seconds < 0.5
        ok &= met
        s = res.summary()
        rows.append(
            (
                model,
                res.history.height,
                seconds,
                res.history.height / seconds,
                s["availability"],
                res.check().valid,
                "met" if met else "MISSED",
            )
        )
    print_table(["model", "ops", "seconds", "ops/s", "availability", "own check", "target"], rows)
    return ok


def _bare_simpy(ops: Any) -> int:
    """The event-loop floor: one process per client, two timeouts per operation."""
    import simpy

    env = simpy.Environment()
    times = ops["time_s"].to_list()
    procs = ops["process"].to_list()
    per_client: dict[int, list[float]] = {}
    for t, p in zip(times, procs):
        per_client.setdefault(p, []).append(t)

    def client(arrivals: list[float]) -> Any:
        for t in arrivals:
            if t > env.now:
                yield env.timeout(t - env.now)
            yield env.timeout(0.04)
            yield env.timeout(0.04)

    for arrivals in per_client.values():
        env.process(client(arrivals))
    env.run(until=CONFIG.end_s)
    return len(times)


def bench_floor() -> None:
    from eventsim.consistency.stores import operations

    ops = operations(CONFIG)
    bare_s, n = best_of(lambda: _bare_simpy(ops))
    store_s, _ = best_of(lambda: run_store(CONFIG.replace(model="eventual")))
    print()
    print("Baseline: bare SimPy, same clients and operations, no store (the event-loop floor)")
    print_table(
        ["variant", "seconds", "ops/s"],
        [
            ("bare SimPy (2 timeouts/op)", bare_s, n / bare_s),
            ("eventual store", store_s, n / store_s),
        ],
    )
    print(f"  the store logic costs {store_s / bare_s:.1f}x the bare event loop")


def bench_baseline() -> None:
    cfg = CONFIG.replace(model="eventual")
    lazy_s, lazy = best_of(lambda: run_store(cfg))
    registry.STORES["eager-eventual"] = f"{__name__}:EagerEventualStore"
    sys.modules.setdefault(__name__, sys.modules["__main__"])
    try:
        eager_s, eager = best_of(lambda: run_store(cfg.replace(model="eager-eventual")))
    finally:
        del registry.STORES["eager-eventual"]
    same = eager.history.drop("version").equals(lazy.history.drop("version"))
    print()
    print("Baseline: eventual store, one SimPy event per replication/gossip message")
    print_table(
        ["variant", "seconds", "ops/s", "same history"],
        [
            ("lazy inboxes (kit)", lazy_s, lazy.history.height / lazy_s, True),
            ("event per message", eager_s, eager.history.height / eager_s, same),
        ],
    )
    print(f"  event per message / lazy inboxes: {eager_s / lazy_s:.2f}x the time")


def bench_compare() -> bool:
    seconds, table = best_of(lambda: compare_consistency(CONFIG), repeat=1)
    met = seconds < 10.0
    print()
    print(
        f"compare_consistency: {table.height} models x {CONFIG.rate_per_s * CONFIG.duration_s:,.0f}"
        f" ops with every checker: {seconds:.2f} s (target < 10 s) -> {'met' if met else 'MISSED'}"
    )
    return met


def main() -> None:
    ok = bench_models()
    bench_floor()
    bench_baseline()
    ok &= bench_compare()
    print()
    print("all targets met" if ok else "SOME TARGETS MISSED")


if __name__ == "__main__":
    main()
