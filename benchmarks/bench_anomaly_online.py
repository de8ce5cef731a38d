"""Benchmark: the online anomaly path inside a simulation vs bare river HalfSpaceTrees.

Measured in one run:

(a) The online path as a consumer's batch handler inside the simulation: incremental
    feature windows (vectorised per poll), one feature vector per window per stream, each
    scored by HalfSpaceTrees (river, behind the kit's StreamDetector) and a streaming
    quantile threshold; alerts appended to the log. Throughput = event-log records the
    handler consumed / seconds spent in the handler (wall-clock, perf_counter around every
    handler and clock call). Target: >= 1,000,000 records/s.
(b) Baseline, same process: river's bare ``anomaly.HalfSpaceTrees`` ``score_one`` +
    ``learn_one`` per record (what a per-record detector would cost), records/s.
(c) Context: the whole simulation's wall time with and without the detector group.
(d) Detection quality on every workload (one simulated day each, modest rates, built-in
    flash crowds off, two incidents of each kind at default intensities after a 3 h
    warm-up): every detector's incident recall, precision, median delay and false alarms
    per simulated day (compare_on_workload; alarms de-duplicated to one per episode; latency
    regressions and error bursts that change what their streams measure by less than three
    sigmas within their scoring window, against a run without them, are counted as
    unobservable and left out of the recall). Target, for the default detector: incident
    recall >= 0.9 at <= 1 false alarm per simulated day, per workload.

Run: .venv/bin/python benchmarks/bench_anomaly_online.py [--quick]
(--quick: a smaller throughput run and the quality table on synthetic only, three detectors)
"""

from __future__ import annotations

import sys
import time

import numpy as np
import polars as pl

from eventsim import ConsumerGroupConfig, IncidentSpec, Scenario
from eventsim.anomaly import DETECTORS, FeatureSpec, LiveDetector, compare_on_workload, features_for
from eventsim.anomaly.feature_spec import ALERTS_TOPIC
from eventsim.sim.engine import Simulation

TARGET = 1_000_000.0


class Timed:
    """Wraps a handler and accumulates the seconds spent in it."""

    def __init__(self, live: LiveDetector) -> None:
        self.live = live
        self.seconds = 0.0

    def __call__(self, member, batches, now_s):
        t0 = time.perf_counter()
        self.live(member, batches, now_s)
        self.seconds += time.perf_counter() - t0

    def tick(self, now_s):
        t0 = time.perf_counter()
        self.live.tick(now_s)
        self.seconds += time.perf_counter() - t0


def scenario(rate: float, minutes: float, *, with_group: bool) -> Scenario:
    consumers = (
        (
            ConsumerGroupConfig(
                name="anomaly",
                members=1,
                poll_interval_s=1.0,
                max_poll_records=1_000_000,
                processing_time_s=0.0,
            ),
        )
        if with_group
        else ()
    )
    return Scenario(
        workload="synthetic",
        duration=minutes * 60.0,
        seed=0,
        params={"rate_per_s": rate, "topics": ("a", "b", "c", "d"), "topic_mix": (1, 1, 1, 1)},
        consumers=consumers,
        incidents=(IncidentSpec("outage", minutes * 30.0, minutes * 10.0, 1.0, target="a"),),
        drain=5.0,
    )


def online_rate(rate: float, minutes: float, spec: FeatureSpec) -> dict[str, float]:
    sim = Simulation(scenario(rate, minutes, with_group=True))
    for group, _ in sim.groups:
        group.topics = [t for t in sorted(sim.log.topics) if t != ALERTS_TOPIC]
    live = LiveDetector(sim.log, spec, "half_space_trees")
    timed = Timed(live)
    sim.handlers["anomaly"].append(timed)

    def clock(env):
        while True:
            yield env.timeout(1.0)
            timed.tick(env.now)

    sim.env.process(clock(sim.env))
    t0 = time.perf_counter()
    result = sim.run(progress=False)
    wall = time.perf_counter() - t0
    live.close(sim.env.now)
    scores = live.scores()
    return {
        "records": float(live.features.records),
        "handler_s": timed.seconds,
        "rate": live.features.records / timed.seconds,
        "windows": float(scores.height),
        "alerts": float(live.alerts().height),
        "sim_wall_s": wall,
        "events": float(result.events.height),
    }


def bare_river_rate(n: int = 30_000) -> float:
    from river import anomaly

    rng = np.random.default_rng(0)
    xs = [{"x": float(v), "y": float(w)} for v, w in rng.random((n, 2))]
    hst = anomaly.HalfSpaceTrees(seed=0)
    t0 = time.perf_counter()
    for x in xs:
        hst.score_one(x)
        hst.learn_one(x)
    return n / (time.perf_counter() - t0)


def sim_alone(rate: float, minutes: float) -> float:
    t0 = time.perf_counter()
    Simulation(scenario(rate, minutes, with_group=False)).run(progress=False)
    return time.perf_counter() - t0


def quality(workloads: list[str], detectors: list[str]) -> pl.DataFrame:
    tables = []
    for w in workloads:
        t0 = time.perf_counter()
        table = compare_on_workload(w, detectors, duration="24h", seed=0)
        tables.append(table.with_columns(seconds=pl.lit(round(time.perf_counter() - t0, 1))))
        print(f"  ... {w} done in {time.perf_counter() - t0:.0f} s", flush=True)
    return pl.concat(tables)


def main(argv: list[str] | None = None) -> None:
    quick = "--quick" in (sys.argv[1:] if argv is None else argv)
    rate, minutes = (20_000.0, 2.0) if quick else (50_000.0, 10.0)
    spec = features_for("synthetic").replace(window_s=10.0)
    online = online_rate(rate, minutes, spec)
    bare = bare_river_rate()
    alone = sim_alone(rate, minutes)
    ok = online["rate"] >= TARGET
    print(f"synthetic workload, {rate:,.0f} records/s for {minutes:g} simulated minutes, 4 topics")
    print(f"feature windows {spec.window_s:g} s, detector HalfSpaceTrees, quantile threshold")
    print()
    print(f"{'measure':<52}{'value':>16}")
    print(f"{'records consumed by the online path':<52}{online['records']:>16,.0f}")
    print(f"{'feature vectors scored (windows x streams)':<52}{online['windows']:>16,.0f}")
    print(f"{'alerts appended to the log':<52}{online['alerts']:>16,.0f}")
    print(f"{'seconds in the handler':<52}{online['handler_s']:>16.3f}")
    print(f"{'(a) online path, records/s':<52}{online['rate']:>16,.0f}")
    print(f"{'(b) bare river HST learn+score, records/s':<52}{bare:>16,.0f}")
    print(f"{'    ratio (a)/(b)':<52}{online['rate'] / bare:>16,.0f}")
    print(f"{'(c) simulation wall s, with detector group':<52}{online['sim_wall_s']:>16.2f}")
    print(f"{'    simulation wall s, no consumer at all':<52}{alone:>16.2f}")
    print()
    print(f"target (a) >= {TARGET:,.0f} records/s: {'met' if ok else 'NOT met'}")
    print()
    workloads = ["synthetic"] if quick else ["synthetic", "netflix", "uber", "linkedin", "amazon"]
    detectors = (
        ["default", "tail", "robust_z"]
        if quick
        else ["default", *(d for d in DETECTORS if d not in ("default", "conformal_knn"))]
    )
    print("(d) detection quality, one simulated day per workload:", flush=True)
    table = quality(workloads, detectors)
    cols = ["workload", "detector", "incidents", "unobservable", "detected", "incident_recall",
            "pair_recall", "precision", "median_delay_s", "false_alarms_per_day"]  # fmt: skip
    with pl.Config(tbl_rows=200, tbl_cols=20, tbl_width_chars=200, float_precision=2):
        print(table.select(cols))
    print()
    for w in workloads:
        row = table.filter((pl.col("workload") == w) & (pl.col("detector") == "default")).row(
            0, named=True
        )
        met = row["incident_recall"] >= 0.9 and row["false_alarms_per_day"] <= 1.0
        print(
            f"target default on {w:<10} recall >= 0.9 and <= 1 false alarm/day: "
            f"{'met' if met else 'NOT met'} (recall {row['incident_recall']:.2f}, "
            f"{row['false_alarms_per_day']:.1f} false alarms/day)"
        )


if __name__ == "__main__":
    main()
