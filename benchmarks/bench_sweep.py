"""Benchmark of eventsim.sweep: one 24-run sweep, serial vs local processes vs Dask.

The sweep: the synthetic workload at 1,000 events/s for 300 simulated seconds (300,000
events, roughly 1 s of wall time per run here), over ``log.partitions`` ∈ {4, 12, 48} ×
``consumers.0.members`` ∈ {2, 4} × 4 seeds = 24 runs, metrics ``RunResult.summary``.

Measured, in one script (wall time of ``sweep()`` end to end):

* serial (the baseline): every run in this process;
* processes: ``executor="processes", max_workers=2`` — the time includes spawning the pool
  and the workers' imports;
* Dask: a ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)`` started before
  the clock (as a cluster one connects to would be), its workers cold (they import eventsim
  on their first run). The cluster's start-up time is printed beside it.

Targets: processes >= 1.8 × faster than serial; Dask within 15 % of processes. The three
tables must be equal (minus run_s and cached). Best of ``--repeat`` (default 1) for the
parallel executors. The machine has 2 cores shared with others: figures are noisy.

Run: ``.venv/bin/python benchmarks/bench_sweep.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import print_table

from eventsim import Scenario
from eventsim.sweep import Grid, sweep

TARGET_PROCESSES = 1.8
TARGET_DASK = 0.15


def workload() -> tuple[Scenario, Grid]:
    """The base scenario and the 24-run grid."""
    base = Scenario(duration="300s", params={"rate_per_s": 1000.0}, drain="5s")
    grid = Grid({"log.partitions": [4, 12, 48], "consumers.0.members": [2, 4]}, seeds=range(4))
    return base, grid


def timed(**kwargs):
    base, grid = workload()
    start = time.perf_counter()
    table = sweep(base, grid, progress=False, **kwargs)
    return time.perf_counter() - start, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="best of N for parallel runs")
    args = parser.parse_args(argv)

    from distributed import Client, LocalCluster

    serial_s, serial = timed(executor="serial")
    mean_run_s = serial.get_column("run_s").mean()
    runs = [timed(executor="processes", max_workers=2) for _ in range(max(1, args.repeat))]
    processes_s, processes = min(r[0] for r in runs), runs[-1][1]

    cluster_start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        cluster_s = time.perf_counter() - cluster_start
        dask_s, dask = timed(executor=client)
        for _ in range(args.repeat - 1):
            client.restart()  # cold workers again
            dask_s = min(dask_s, timed(executor=client)[0])

    volatile = ["run_s", "cached"]
    same = all(t.drop(volatile).equals(serial.drop(volatile)) for t in (processes, dask))
    speedup = serial_s / processes_s
    dask_vs = dask_s / processes_s - 1.0
    print(f"24 runs, mean run {mean_run_s:.2f} s (serial); Dask cluster start-up {cluster_s:.1f} s")
    print_table(
        ["executor", "wall s", "runs/s", "vs serial", "target", "met"],
        [
            ["serial (baseline)", serial_s, 24 / serial_s, 1.0, "", ""],
            ["processes (2)", processes_s, 24 / processes_s, speedup,
             f">= {TARGET_PROCESSES}x", speedup >= TARGET_PROCESSES],
            ["dask LocalCluster (2)", dask_s, 24 / dask_s, serial_s / dask_s,
             f"<= +{TARGET_DASK:.0%} vs processes ({dask_vs:+.0%})", dask_vs <= TARGET_DASK],
        ],
    )  # fmt: skip
    print(f"same table from every executor (minus run_s, cached): {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
