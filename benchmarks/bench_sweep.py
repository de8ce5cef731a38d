"""Benchmark of eventsim.sweep: one 24-run sweep, serial vs local processes vs Dask.

The sweep: the synthetic workload at 1,000 events/s for 1,400 simulated seconds (1.4 M
events, roughly 1 s of wall time per run on a quiet machine), over ``log.partitions`` ∈
{4, 12, 48} × ``consumers.0.members`` ∈ {2, 4} × 4 seeds = 24 runs, metrics
``RunResult.summary``.

Measured, in one script (wall time of ``sweep()`` end to end):

* serial (the baseline): every run in this process;
* processes, cold: ``executor="processes", max_workers=2`` with no warm pool — the time
  includes spawning the pool and the workers' imports (the first sweep of a session);
* processes, warm: the same sweep again, reusing the pool the previous one kept warm
  (``keep_alive_s``; every later sweep of a session);
* Dask: a ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)`` started before
  the clock (as a cluster one connects to would be), its workers cold (they import eventsim
  on their first run); a new cluster each round, closed after it. The cluster's start-up
  time is printed, not counted.

Targets: processes >= 1.8 × faster than serial (judged on the cold pool); Dask within 15 % of
processes (cold). The tables must be equal (minus run_s and cached). They are timed in
interleaved rounds (serial, processes cold, processes warm, Dask; ``--repeat``, default 3) and
the best of each is kept, so that load from others on a shared machine hits all three alike.
Each is timed with nothing else alive: the warm pool is shut down before the Dask cluster
starts, and the cluster is closed before the ceiling (below) is measured (an idle pool or an
idle cluster beside a measurement slowed it by 5-10 % here). "overhead s" is the wall time
not spent inside runs (wall − Σ run_s / workers, in the best round): pool start-up, imports,
shipping — the executor's own cost, less sensitive to load than the wall time.

The machine's own ceiling is measured too, without any executor: two plain Python processes
(with the pool workers' environment) started together, each running every other run of the
sweep in a loop (imports and a warm-up run before the clock), so that "vs serial" can be read
against what two processes side by side can reach here at all (``ceiling``: serial Σ run_s /
the slower process's Σ run_s). On this 2-core VM two runs side by side are slower than
alone (memory bandwidth is shared: pure-Python loops do not slow down side by side, runs
that fault in fresh pages do), which caps any executor below 2×.

Run: ``.venv/bin/python benchmarks/bench_sweep.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import print_table

from eventsim import Scenario
from eventsim.sweep import Grid, shutdown_idle_pool, sweep
from eventsim.sweep.executors.dask import local_cluster
from eventsim.sweep.worker import DASK_WORKER_CONFIG, worker_env

TARGET_PROCESSES = 1.8
TARGET_DASK = 0.15


def workload() -> tuple[Scenario, Grid]:
    """The base scenario and the 24-run grid."""
    base = Scenario(duration="1400s", params={"rate_per_s": 1000.0}, drain="5s")
    grid = Grid({"log.partitions": [4, 12, 48], "consumers.0.members": [2, 4]}, seeds=range(4))
    return base, grid


def timed(**kwargs):
    base, grid = workload()
    start = time.perf_counter()
    table = sweep(base, grid, progress=False, **kwargs)
    return time.perf_counter() - start, table


def ceiling_child(part: int) -> None:
    """Run every other run of the sweep (``part`` 0 or 1) in this process; print their
    seconds as JSON. The warm-up run and imports are not timed."""
    from eventsim.sweep.plan import plan_runs
    from eventsim.sweep.worker import execute_run, keep_freed_memory

    keep_freed_memory()  # as a pool worker does
    base, grid = workload()
    runs = plan_runs(base, grid)
    execute_run(runs[0].scenario, lambda r: r.summary())
    print("READY", flush=True)
    sys.stdin.readline()  # start together
    seconds = []
    for run in runs[part::2]:
        start = time.perf_counter()
        execute_run(run.scenario, lambda r: r.summary())
        seconds.append(time.perf_counter() - start)
    print(json.dumps(seconds), flush=True)


def ceiling() -> float:
    """The slower of two plain processes' Σ run seconds, run side by side (see the docs)."""
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--ceiling-child", str(part)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **worker_env()},  # as the pool's workers get
        )
        for part in (0, 1)
    ]
    for child in children:
        assert child.stdout.readline().strip() == "READY"
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    sums = [sum(json.loads(child.communicate()[0])) for child in children]
    return max(sums)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; best of N")
    parser.add_argument("--ceiling-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.ceiling_child is not None:
        ceiling_child(args.ceiling_child)
        return 0

    import dask
    from distributed import Client

    best = dict.fromkeys(["serial", "processes", "warm", "dask"], float("inf"))
    best_pair = cluster_s = float("inf")
    tables = {}
    executors = {
        "serial": {"executor": "serial"},
        "processes": {"executor": "processes", "max_workers": 2},
        "warm": {"executor": "processes", "max_workers": 2},
    }
    for round_ in range(max(1, args.repeat)):
        for name, kwargs in executors.items():
            if name == "processes":
                shutdown_idle_pool()  # cold: spawn and import included
            wall_s, table = timed(**kwargs)
            if wall_s < best[name]:
                best[name], tables[name] = wall_s, table
            print(f"round {round_ + 1}: {name:<9} {wall_s:6.1f} s", flush=True)
        # each executor is timed with nothing else alive: the warm pool's idle workers, or
        # an idle cluster, slowed what ran beside them by 5-10 % here
        shutdown_idle_pool()
        start = time.perf_counter()
        cluster = local_cluster(2)  # the one executor="dask" starts
        with dask.config.set(DASK_WORKER_CONFIG), cluster, Client(cluster) as client:
            cluster_s = min(cluster_s, time.perf_counter() - start)
            wall_s, table = timed(executor=client)  # cold workers, as a fresh pool's
        if wall_s < best["dask"]:
            best["dask"], tables["dask"] = wall_s, table
        print(f"round {round_ + 1}: dask      {wall_s:6.1f} s", flush=True)
        pair_s = ceiling()
        best_pair = min(best_pair, pair_s)
        print(f"round {round_ + 1}: two plain processes {pair_s:6.1f} s", flush=True)

    shutdown_idle_pool()
    serial_s, processes_s, warm_s, dask_s = (
        best[k] for k in ("serial", "processes", "warm", "dask")
    )
    mean_run_s = tables["serial"].get_column("run_s").mean()
    volatile = ["run_s", "cached"]
    reference = tables["serial"].drop(volatile)
    same = all(t.drop(volatile).equals(reference) for t in tables.values())
    speedup = serial_s / processes_s
    ceiling_x = tables["serial"].get_column("run_s").sum() / best_pair
    dask_vs = dask_s / processes_s - 1.0
    print(
        f"\n24 runs, mean run {mean_run_s:.2f} s (serial, best round); best of {args.repeat};"
        f" Dask cluster start-up {cluster_s:.1f} s (not counted)"
    )
    workers = {"serial": 1, "processes": 2, "warm": 2, "dask": 2}
    overhead = {  # wall time not spent inside runs: pool start-up, imports, shipping, waiting
        name: best[name] - tables[name].get_column("run_s").sum() / workers[name] for name in best
    }
    print_table(
        ["executor", "wall s", "runs/s", "vs serial", "overhead s", "target", "met"],
        [
            ["serial (baseline)", serial_s, 24 / serial_s, 1.0, overhead["serial"], "", ""],
            ["processes (2), cold pool", processes_s, 24 / processes_s, speedup,
             overhead["processes"], f">= {TARGET_PROCESSES}x serial", speedup >= TARGET_PROCESSES],
            ["processes (2), warm pool", warm_s, 24 / warm_s, serial_s / warm_s, overhead["warm"],
             "(information)", ""],
            ["dask LocalCluster (2)", dask_s, 24 / dask_s, serial_s / dask_s, overhead["dask"],
             f"<= +{TARGET_DASK:.0%} vs processes ({dask_vs:+.0%})", dask_vs <= TARGET_DASK],
        ],
    )  # fmt: skip
    print(
        f"ceiling: two plain processes side by side reach {ceiling_x:.2f}x serial's run time"
        f" (best {best_pair:.1f} s of runs; no executor, no start-up);"
        f" processes cold reach {speedup / ceiling_x:.0%} of it, warm"
        f" {serial_s / warm_s / ceiling_x:.0%}"
    )
    print(f"same table from every executor (minus run_s, cached): {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
