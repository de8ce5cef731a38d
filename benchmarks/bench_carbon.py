"""Benchmark of eventsim.carbon: compare_placement over a week, and Scenario II reproduction.

Baselines in the same run: a naive per-job Python loop for Scenario II time shifting on a
subset of jobs (extrapolated to all jobs, regions and repetitions) and a per-event Python loop
for turning an event log into work cells (on a sample, extrapolated to a week at 100 events/s).
Run: .venv/bin/python benchmarks/bench_carbon.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import polars as pl

from eventsim.carbon import TopicSpec, compare_placement, events_to_work
from eventsim.carbon.forecast import NoisyForecast
from eventsim.carbon.scenarios import (
    deadline_slots,
    demo_scenario,
    lets_wait_awhile,
    load_lwa_trace,
    sample_ml_jobs,
)

TRACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "carbon" / "lets-wait-awhile"
WEEK_EVENTS = 100 * 7 * 86_400


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def naive_shift(truth, arrival, length, window, forecast):
    """Per-job Python loops (the baseline): block start and greenest slots, job by job."""
    block = split = 0.0
    for a, n, w in zip(arrival.tolist(), length.tolist(), window.tolist()):
        fc = forecast[a : a + w]
        best, best_sum = 0, float("inf")
        for o in range(w - n + 1):
            s = sum(fc[o : o + n])
            if s < best_sum:
                best, best_sum = o, s
        block += sum(truth[a + best : a + best + n])
        order = sorted(range(w), key=lambda i: fc[i])[:n]
        split += sum(truth[a + i] for i in order)
    return block, split


def naive_events_to_work(events, specs, slot_s):
    counts = {}
    for ts, topic, size in zip(events["timestamp_s"], events["topic"], events["payload_bytes"]):
        key = (int(ts // slot_s), topic)
        n, b = counts.get(key, (0, 0))
        counts[key] = (n + 1, b + size)
    return counts


def main() -> None:
    rows = []
    # 1. compare_placement, six policies + optimum, one week at 100 events/s (60 M events)
    sc = demo_scenario(days=7, rate_per_s=100, forecast=NoisyForecast(0.05))
    t_cmp, table = _timed(lambda: compare_placement(sc))
    n_events = table["n_events"][0]
    rows.append(("compare_placement, 1 week, 100 ev/s, 7 policies", t_cmp, 30.0))

    # 2. events_to_work: vectorised vs per-event loop (1 h sample, extrapolated to a week)
    rng = np.random.default_rng(0)
    n = 360_000
    events = pl.DataFrame(
        {
            "timestamp_s": np.sort(rng.uniform(0, 3600, n)),
            "topic": rng.choice(["a", "b"], n),
            "event_type": "e",
            "key": "k",
            "payload_bytes": rng.integers(100, 900, n).astype(np.int32),
        }
    )
    specs = [TopicSpec(t, t, "stateless", (("de", 1.0), ("fr", 1.0))) for t in ("a", "b")]
    t_vec, _ = _timed(lambda: events_to_work(events, specs, 900))
    sample = events.head(50_000)
    t_loop, _ = _timed(lambda: naive_events_to_work(sample, specs, 900))
    scale = WEEK_EVENTS / n
    rows.append(("events_to_work, week at 100 ev/s (extrap. from 1 h)", t_vec * scale, None))
    rows.append(
        ("  baseline: per-event loop (extrap. from 50k)", t_loop * WEEK_EVENTS / 50_000, None)
    )

    # 3. Scenario II: vectorised, 3 regions x 2 strategies x 10 noise repetitions
    if TRACES.is_dir():
        t_lwa, lwa = _timed(lambda: lets_wait_awhile(TRACES))
        rows.append(("Scenario II (3 regions x 2 strategies x 10 reps)", t_lwa, 60.0))
        truth = load_lwa_trace(TRACES, "de")
        arrival, length = sample_ml_jobs()
        window = deadline_slots(arrival + length) - arrival
        fc = NoisyForecast(0.05, 0)._series(truth)
        k = 150
        t_naive, _ = _timed(
            lambda: naive_shift(truth.tolist(), arrival[:k], length[:k], window[:k], fc.tolist())
        )
        rows.append(
            (
                "  baseline: per-job loops (extrap. from 150 jobs)",
                t_naive * len(arrival) / k * 3 * 10,
                None,
            )
        )
    else:
        lwa = None
        print(f"(Scenario II skipped: {TRACES} not found)")

    print(f"{'measurement':<58} {'seconds':>9} {'target':>8}  met")
    for name, secs, target in rows:
        met = "" if target is None else ("yes" if secs < target else "NO")
        tgt = "" if target is None else f"< {target:g}"
        print(f"{name:<58} {secs:9.2f} {tgt:>8}  {met}")
    print(f"\ncompare_placement simulated {n_events:,.0f} events and {table['n_jobs'][0]:.0f} jobs")
    print(
        table.select("policy", "emissions_g", "savings_pct", "share_of_optimum", "slo_violations")
    )
    if lwa is not None:
        print(lwa)


if __name__ == "__main__":
    main()
