"""Benchmark of delivery semantics under faults: the four presets on ~1,000,000 events.

Measured, for each preset of ``eventsim.delivery.PRESETS`` (what ``compare_delivery`` does
for one preset: ``apply_preset`` → ``run`` → ``check``, timed apart):

* the simulation, ``run(apply_preset(scenario, preset))``: events/s = business events the
  producer was asked to send / wall seconds, including building the result frames;
* the delivery checker, ``check(result)``: records/s = the rows it reads (deliveries + log
  records + sends) / wall seconds.

Scenario: the synthetic workload at 10,000 events/s for 100 simulated seconds (1,000,000
events, 12 partitions) on a replicated log (3 brokers, replication factor 3,
``min.insync.replicas`` 2, 50 ms replication lag), one consumer group of 4 members
(poll 100 ms / 500 records), producer linger 50 ms, and a crash-heavy fault schedule (times
scale with ``--events``): two broker crashes, a broker GC pause longer than the request
timeout, four consumer crashes (before processing, after processing, after commit) and a
producer crash.

Baseline (same run): bare SimPy moving the same number of items through a ``simpy.Store``
from one producer process to one consumer process (one SimPy event per item), as in
``bench_engine.py``. Targets: each preset's simulation >= 3 x the baseline's items/s; the
checker >= 2,000,000 records/s. Best of ``--repeat`` (3), interleaved with the baseline so
that load on a shared machine hits both. ``--profile`` prints the top functions (cProfile)
of one run and one check of the slowest preset.

Run: ``.venv/bin/python benchmarks/bench_delivery.py [--events N] [--repeat R] [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import print_table
from bench_engine import simpy_baseline

import eventsim as es
from eventsim.delivery import PRESETS, apply_preset, check

RATE_PER_S = 10_000
TARGET_SIM = 3.0
TARGET_CHECK_PER_S = 2_000_000

# (kind, target, start, duration, point) with start and duration as fractions of the run
FAULTS = (
    ("broker_crash", "broker-0", 0.15, 0.10, "after-process"),
    ("consumer_crash", "sink-1", 0.22, 0.05, "after-process"),
    ("consumer_crash", "sink-2", 0.35, 0.05, "before-process"),
    ("producer_crash", "producer", 0.45, 0.03, "after-process"),
    ("broker_crash", "broker-1", 0.55, 0.10, "after-process"),
    ("consumer_crash", "sink-0", 0.62, 0.05, "after-commit"),
    ("broker_pause", "broker-2", 0.75, 0.04, "after-process"),
    ("consumer_crash", "sink-3", 0.82, 0.05, "after-process"),
)


def scenario(n_events: int) -> es.Scenario:
    """The benchmark scenario: about ``n_events`` synthetic events, crash-heavy faults."""
    duration = n_events / RATE_PER_S
    faults = [
        {
            "kind": kind,
            "target": target,
            "start_s": round(start * duration, 3),
            "duration_s": round(length * duration, 3),
            "point": point,
        }
        for kind, target, start, length, point in FAULTS
    ]
    return es.Scenario(
        workload="synthetic",
        duration=duration,
        seed=1,
        drain=20.0,
        params={"rate_per_s": RATE_PER_S},
        log=es.LogConfig(
            partitions=12,
            brokers=3,
            replication_factor=3,
            min_insync_replicas=2,
            replication_lag_s=0.05,
        ),
        producer=es.ProducerConfig(linger_s=0.05),
        consumers=(
            es.ConsumerGroupConfig(
                members=4, poll_interval_s=0.1, max_poll_records=500, session_timeout_s=3.0
            ),
        ),
    ).replace(**{"faults.scheduled": faults})


def _records(result: es.RunResult) -> int:
    return result.deliveries.height + result.events.height + result.sends.height


def measure(sc: es.Scenario, n_items: int, repeat: int) -> tuple[float, dict[str, dict]]:
    """Best baseline seconds and, per preset, best run and check seconds plus the figures."""
    base_s = float("inf")
    out: dict[str, dict[str, Any]] = {
        p: {"run_s": float("inf"), "check_s": float("inf")} for p in PRESETS
    }
    for _ in range(repeat):
        t = time.perf_counter()
        simpy_baseline(n_items)
        base_s = min(base_s, time.perf_counter() - t)
        for preset, row in out.items():
            variant = apply_preset(sc, preset)
            t = time.perf_counter()
            result = es.run(variant, progress=False)
            row["run_s"] = min(row["run_s"], time.perf_counter() - t)
            t = time.perf_counter()
            verdict = check(result)
            row["check_s"] = min(row["check_s"], time.perf_counter() - t)
            info = verdict.info
            row.update(
                events=result.sends.height,
                records=_records(result),
                lost=info["lost"],
                duplicated=info["duplicated"],
                lost_writes=info["anomalies"]["lost-write"],
                valid=verdict.valid,
            )
            del result, verdict
    return base_s, out


def profile(sc: es.Scenario, preset: str, top: int = 12) -> None:
    """Print the functions that dominate one run and one check of ``preset``."""
    prof = cProfile.Profile()
    result = prof.runcall(es.run, apply_preset(sc, preset), progress=False)
    _print_profile(prof, f"run ({preset})", top)
    prof = cProfile.Profile()
    prof.runcall(check, result)
    _print_profile(prof, f"check ({preset})", top)


def _print_profile(prof: cProfile.Profile, label: str, top: int) -> None:
    text = io.StringIO()
    stats = pstats.Stats(prof, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    print(f"\n--- cProfile of {label}, by own time ---")
    lines = text.getvalue().splitlines()
    first = next(i for i, line in enumerate(lines) if "ncalls" in line)
    print("\n".join(line for line in lines[first:] if line.strip()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="cProfile the slowest preset")
    args = ap.parse_args(argv)

    sc = scenario(args.events)
    base_s, rows = measure(sc, args.events, args.repeat)
    base_rate = args.events / base_s
    print(
        f"delivery benchmark: synthetic, {sc.duration:.0f} s simulated at {RATE_PER_S:,}/s, "
        f"12 partitions, RF 3 / min.insync 2, 1 group x 4 members, {len(FAULTS)} faults "
        f"(2 broker crashes, 1 pause, 4 consumer crashes, 1 producer crash), "
        f"best of {args.repeat}"
    )
    sim_table = [["bare SimPy Store pair", args.events, base_s, base_rate, 1.0, "", ""]]
    check_table = []
    outcome_table = []
    for preset, r in rows.items():
        rate = r["events"] / r["run_s"]
        ratio = rate / base_rate
        sim_table.append(
            [
                preset,
                r["events"],
                r["run_s"],
                rate,
                ratio,
                f">= {TARGET_SIM:g}x",
                ratio >= TARGET_SIM,
            ]
        )
        per_s = r["records"] / r["check_s"]
        check_table.append(
            [preset, r["records"], r["check_s"], per_s, ">= 2,000,000", per_s >= TARGET_CHECK_PER_S]
        )
        outcome_table.append(
            [preset, r["events"], r["lost"], r["duplicated"], r["lost_writes"], r["valid"]]
        )
    print("\nsimulation (run)")
    print_table(["path", "events", "best s", "events/s", "x baseline", "target", "met"], sim_table)
    print("\nchecker (check: records = deliveries + log records + sends)")
    print_table(["preset", "records", "best s", "records/s", "target", "met"], check_table)
    print("\noutcomes (what compare_delivery reports)")
    print_table(
        ["preset", "produced", "lost", "duplicated", "lost writes", "checker valid"], outcome_table
    )
    if args.profile:
        slowest = max(rows, key=lambda p: rows[p]["run_s"] + rows[p]["check_s"])
        profile(sc, slowest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
