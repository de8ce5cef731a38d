"""Benchmark of the columnar event log: appends, memory per record, ``to_polars()``.

Measured (same run, best of 3 for times):

* appending 1,000,000 records of the synthetic workload's schema (timestamp, key, type,
  event id, payload bytes, latency) to an ``EventLog`` with 12 partitions, in producer-sized
  batches of 1,000 records (``EventLog.append_columns``, columns already encoded, as the
  producer does) — vs the baseline, appending one tuple per record to per-partition Python
  lists. Target: >= 2 x the list's records/s.
* memory retained by the log after the appends (``tracemalloc``), per record. Target: <= 64
  bytes/record (the tuples of the baseline are shown for comparison).
* ``EventLog.to_polars()`` over the 1,000,000 records. Target: < 0.2 s.

Run: ``.venv/bin/python benchmarks/bench_log.py [n_records]``.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import best_of, print_table

from eventsim.log import EventLog
from eventsim.sim.rng import RngStreams
from eventsim.workloads.synthetic import Synthetic

PARTITIONS = 12
BATCH = 1_000


def synthetic_columns(n: int) -> tuple[EventLog, dict[str, np.ndarray]]:
    """``n`` synthetic events encoded against a fresh log's dictionary."""
    rate = 10_000.0
    events = Synthetic({"rate_per_s": rate}).generate(n / rate * 1.01, RngStreams(0)).events
    events = events.head(n).drop("topic").with_columns(event_id=pl.int_range(n, dtype=pl.Int64))
    log = EventLog(partitions=PARTITIONS)
    log.create_topic("events")
    enc = log.encode_frame(events)
    return log, {k: v for k, v in enc.items() if "." not in k}


def fill_log(log: EventLog, cols: dict[str, np.ndarray]) -> EventLog:
    n = cols["timestamp_s"].shape[0]
    for b, lo in enumerate(range(0, n, BATCH)):
        batch = {k: v[lo : lo + BATCH] for k, v in cols.items()}
        log.append_columns("events", b % PARTITIONS, batch, append_s=float(b))
    return log


def fill_lists(rows: list[list]) -> list[list[tuple]]:
    parts: list[list[tuple]] = [[] for _ in range(PARTITIONS)]
    n = len(rows[0])
    for b, lo in enumerate(range(0, n, BATCH)):
        part = parts[b % PARTITIONS]
        offset = len(part)
        for i, row in enumerate(zip(*(c[lo : lo + BATCH] for c in rows))):
            part.append((offset + i, float(b), *row))
    return parts


def fresh_log(template: EventLog) -> EventLog:
    log = EventLog(partitions=PARTITIONS)
    log.strings = template.strings
    log.create_topic("events")
    return log


def retained_bytes(build) -> tuple[int, object]:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    out = build()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before, out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 1_000_000
    template, cols = synthetic_columns(n)
    rows = [cols[k].tolist() for k in cols]  # the baseline's values, as Python objects

    log_s, log = best_of(lambda: fill_log(fresh_log(template), cols))
    list_s, _ = best_of(lambda: fill_lists(rows))
    log_bytes, _ = retained_bytes(lambda: fill_log(fresh_log(template), cols))
    list_bytes, _ = retained_bytes(lambda: fill_lists(rows))
    frame_s, frame = best_of(log.to_polars)
    assert frame.height == n == len(log)

    log_rate, list_rate = n / log_s, n / list_s
    per_record = log_bytes / n
    print(
        f"event-log benchmark: {n:,} synthetic records, {PARTITIONS} partitions, "
        f"batches of {BATCH:,}, best of 3; columns: {', '.join(frame.columns)}"
    )
    print_table(
        ["measure", "eventsim log", "baseline (list of tuples)", "target", "met"],
        [
            ["append records/s", log_rate, list_rate, ">= 2x list", log_rate >= 2 * list_rate],
            ["x baseline", log_rate / list_rate, 1.0, "", ""],
            ["retained bytes/record", per_record, list_bytes / n, "<= 64", per_record <= 64],
            ["to_polars() s", frame_s, None, "< 0.2", frame_s < 0.2],
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
