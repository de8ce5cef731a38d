"""Workload generation speed: events/s per workload for >= 1M events, against a per-event loop.

Each workload generates one run sized to give at least 1,000,000 events (duration and
``rate_multiplier`` below); we time ``generate`` (best of ``REPEATS``) and report events/s.
Baseline, in the same run: a plain per-event Python loop drawing Poisson arrivals with Zipf
keys into a list of dicts and building a polars frame from it (what a naive generator does).
Target: >= 1,000,000 events/s of generation per workload (the end-to-end engine target is
270k events/s, so generation must be well above it).

Run: .venv/bin/python benchmarks/bench_workloads.py
"""

from __future__ import annotations

import random
import time

import polars as pl

from eventsim.sim.rng import RngStreams
from eventsim.workloads import get_workload

TARGET_EVENTS_PER_S = 1_000_000
REPEATS = 2
RUNS = {  # name: (duration_s, params) giving >= 1M events
    "netflix": (600.0, {}),
    "uber": (1800.0, {}),
    "linkedin": (900.0, {}),
    "amazon": (1200.0, {"rate_multiplier": 10.0}),
}


def baseline_events_per_s(n: int = 200_000) -> float:
    """Per-event Python loop: exponential gaps, Zipf-ish keys, dict rows, one frame."""
    rnd = random.Random(0)
    weights = [1.0 / k for k in range(1, 10_001)]
    start = time.perf_counter()
    keys = rnd.choices(range(10_000), weights=weights, k=n)
    rows, t = [], 0.0
    for i in range(n):
        t += rnd.expovariate(1000.0)
        rows.append(
            {
                "timestamp_s": t,
                "topic": "events",
                "key": f"k{keys[i]}",
                "event_type": "view",
                "payload_bytes": 200,
            }
        )
    pl.DataFrame(rows)
    return n / (time.perf_counter() - start)


def measure(name: str, duration_s: float, params: dict[str, float]) -> tuple[int, float]:
    """Events generated and the best events/s over ``REPEATS`` runs."""
    cls = get_workload(name)
    best, n = 0.0, 0
    for _ in range(REPEATS):
        start = time.perf_counter()
        out = cls(params).generate(duration_s, RngStreams(1))
        elapsed = time.perf_counter() - start
        n = len(out.events)
        best = max(best, n / elapsed)
    return n, best


def main() -> None:
    """Print events/s per workload, the baseline and whether the target is met."""
    base = baseline_events_per_s()
    print(f"baseline (per-event Python loop + frame): {base:,.0f} events/s")
    print(f"{'workload':<10} {'events':>10} {'sim s':>7} {'events/s':>12} {'x base':>7}  target")
    for name, (duration_s, params) in RUNS.items():
        n, rate = measure(name, duration_s, params)
        ok = "met" if rate >= TARGET_EVENTS_PER_S and n >= 1_000_000 else "NOT met"
        print(f"{name:<10} {n:>10,} {duration_s:>7.0f} {rate:>12,.0f} {rate / base:>7.1f}  {ok}")


if __name__ == "__main__":
    main()
