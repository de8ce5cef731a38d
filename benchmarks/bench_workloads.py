"""Workload generation speed: events/s per workload for >= 1M events, against a per-event loop.

Two runs per workload, each timed as ``Workload.generate`` (best of ``REPEATS``):

* ``default``: the workload at its default rates, for a duration giving >= 1,000,000 events
  (``RUNS`` below);
* ``engine``: the run ``bench_engine.py --workload NAME`` simulates (volume scaled with
  ``rate_multiplier`` to 10k events/s for 100 s, about 1,000,000 events), reported as seconds
  per 1,000,000 events: the share of the end-to-end benchmark that drawing the events takes.

Baseline, in the same run: a plain per-event Python loop drawing Poisson arrivals with Zipf
keys into a list of dicts and building a polars frame from it (what a naive generator does).
Target: >= 1,000,000 events/s of generation per workload, and generation of 1M events well
under 0.6 s (so that the engine's own work fits in the 3x end-to-end budget of ~1.2 s).

Run: .venv/bin/python benchmarks/bench_workloads.py [--quick]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import print_table
from bench_engine import scenario

from eventsim.sim.rng import RngStreams
from eventsim.workloads import get_workload

TARGET_EVENTS_PER_S = 1_000_000
TARGET_S_PER_MILLION = 0.6
REPEATS = 3
RUNS = {  # name: (duration_s, params) giving >= 1M events at default rates
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
    """Events generated and the best wall time over ``REPEATS`` runs."""
    cls = get_workload(name)
    best, n = float("inf"), 0
    for _ in range(REPEATS):
        start = time.perf_counter()
        out = cls(params).generate(duration_s, RngStreams(1))
        best = min(best, time.perf_counter() - start)
        n = len(out.events)
    return n, best


def main(argv: list[str] | None = None) -> int:
    """Print events/s per workload, the baseline and whether the targets are met."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the engine-benchmark runs only")
    args = ap.parse_args(argv)
    base = baseline_events_per_s()
    print(f"baseline (per-event Python loop + frame): {base:,.0f} events/s")
    rows = []
    for name, (duration_s, params) in RUNS.items():
        runs = [("engine", scenario(name, 1_000_000))]
        if not args.quick:
            runs.insert(0, ("default", (duration_s, params)))
        for label, run in runs:
            if label == "engine":
                duration_s, params = run.duration, dict(run.params)
            n, secs = measure(name, duration_s, params)
            rate = n / secs
            per_million = secs * 1_000_000 / n
            ok = rate >= TARGET_EVENTS_PER_S and (
                label != "engine" or per_million < TARGET_S_PER_MILLION
            )
            rows.append([name, label, n, duration_s, secs, rate, rate / base, per_million, ok])
    print_table(
        ["workload", "run", "events", "sim s", "best s", "events/s", "x base", "s per 1M", "met"],
        rows,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
