"""Benchmark of the simulation engine: events/s end to end vs a bare SimPy producer/consumer.

Measured: ``eventsim.run(Scenario(...))`` for about 1,000,000 synthetic events: workload →
producer → event log (one topic, 12 partitions) → one consumer group of 4 members → sink
accounting, plus building the ``events`` and ``deliveries`` frames. Settings are tuned for
throughput but realistic (they are Kafka client settings people really use):

* producer ``linger_s=0.05`` (Kafka ``linger.ms=50``),
* consumer ``poll_interval_s=0.1`` (``fetch.max.wait.ms=100``), ``max_poll_records=500``
  (the Kafka default), ``processing_time_s`` default (50 µs per record),
* rate 10,000 events/s for 100 simulated seconds, 10 s of drain.

Baseline (same run): bare SimPy moving the same number of items through a ``simpy.Store``
from one producer process to one consumer process (one SimPy event per item).
Target: eventsim events/s >= 10 × the baseline's items/s. Best of 3 repetitions for both,
interleaved (baseline, eventsim, baseline, ...) so that load on a shared machine hits both.

``--workload NAME`` measures a named workload end to end instead, its volume scaled with
``rate_multiplier`` to the synthetic run's 10k events/s (duration chosen so that it
produces about ``--events`` events, from a short calibration draw); target 3 × the baseline.
A workload that cannot be imported yet prints "skipped".

Run: ``.venv/bin/python benchmarks/bench_engine.py [--workload NAME] [--events N]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import best_of, print_table

from eventsim import ConsumerGroupConfig, LogConfig, ProducerConfig, Scenario, run

RATE_PER_S = 10_000
TARGET_SYNTHETIC = 10.0
TARGET_NAMED = 3.0


def simpy_baseline(n: int) -> int:
    """Move ``n`` items through a Store from a producer process to a consumer process."""
    env = simpy.Environment()
    store = simpy.Store(env)

    def producer():
        for i in range(n):
            yield store.put((i, i * 1e-4))

    def consumer():
        for _ in range(n):
            yield store.get()

    env.process(producer())
    env.process(consumer())
    env.run()
    return n


def scenario(workload: str, n_events: int) -> Scenario:
    """The benchmark scenario producing about ``n_events`` events."""
    if workload == "synthetic":
        params: dict = {"rate_per_s": RATE_PER_S}
        duration = n_events / RATE_PER_S
    else:
        # the same event rate as the synthetic run (10k/s over ~100 s): scale the workload's
        # volume with rate_multiplier rather than simulating hours at its default rate
        multiplier = 1.0
        for _ in range(2):
            multiplier *= RATE_PER_S / _calibrated_rate(workload, multiplier)
        params = {"rate_multiplier": multiplier}
        duration = n_events / RATE_PER_S
    return Scenario(
        workload=workload,
        duration=duration,
        seed=1,
        params=params,
        log=LogConfig(partitions=12),
        producer=ProducerConfig(linger_s=0.05),
        consumers=(ConsumerGroupConfig(members=4, poll_interval_s=0.1, max_poll_records=500),),
        drain=10.0,
    )


def _calibrated_rate(workload: str, multiplier: float = 1.0, seconds: float = 60.0) -> float:
    from eventsim.sim.rng import RngStreams
    from eventsim.workloads import get_workload

    params = {"rate_multiplier": multiplier}
    events = get_workload(workload)(params, ()).generate(seconds, RngStreams(0)).events
    return max(events.height / seconds, 1e-9)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", default="synthetic")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    try:
        sc = scenario(args.workload, args.events)
    except (ImportError, AttributeError) as exc:
        print(f"workload {args.workload!r}: skipped ({type(exc).__name__}: {exc})")
        return 0
    target = TARGET_SYNTHETIC if args.workload == "synthetic" else TARGET_NAMED

    base_s = sim_s = float("inf")
    for _ in range(args.repeat):  # interleaved, so that load on a shared machine hits both
        base_s = min(base_s, best_of(lambda: simpy_baseline(args.events), 1)[0])
        t, res = best_of(lambda: run(sc, progress=False), 1)
        sim_s = min(sim_s, t)
    n_events, n_deliveries = res.events.height, res.deliveries.height
    base_rate = args.events / base_s
    sim_rate = n_events / sim_s
    ratio = sim_rate / base_rate

    print(
        f"engine benchmark: workload={args.workload}, duration={sc.duration:.1f} s simulated, "
        f"12 partitions, 1 group x 4 members, linger 50 ms, poll 100 ms / 500 records, "
        f"best of {args.repeat}"
    )
    print_table(
        ["path", "items", "best s", "items/s", "x baseline", "target", "met"],
        [
            ["bare SimPy Store pair", args.events, base_s, base_rate, 1.0, "", ""],
            [
                f"eventsim.run ({args.workload})",
                n_events,
                sim_s,
                sim_rate,
                ratio,
                f">= {target:g}x",
                ratio >= target,
            ],
        ],
    )
    print(f"deliveries: {n_deliveries:,} (every event once: {n_deliveries == n_events})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
