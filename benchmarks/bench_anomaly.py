"""Benchmark of eventsim.anomaly: NAB quality, online throughput, scikit-learn micro-batches.

(a) NAB protocol on the six sample series (threshold optimised per profile over all series,
    normalised null 0 / perfect 100): the kit's default detector vs Random Cut Forest's and the
    other published detectors' outputs, re-scored by the same nab_benchmark.
    Target: default > RCF per profile.
(b) Online throughput, points/s of learn+score: the kit's HalfSpaceTrees path (min-max scaling,
    missing-value check) beside bare river HalfSpaceTrees learn_one+score_one, same run.
    Target: the kit path keeps >= 50 % of the bare rate.
(c) scikit-learn IsolationForest: micro-batch score_many (256 rows a call) vs per-row
    score_one. Target: micro-batches >= 50x faster per row.

Run: .venv/bin/python benchmarks/bench_anomaly.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import polars as pl

from eventsim.anomaly import load_nab, nab_benchmark
from eventsim.anomaly.detectors import HalfSpaceTrees, SklearnDetector

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "nab-sample"
PUBLISHED = ["randomCutForest", "numenta", "twitterADVec", "windowedGaussian", "null"]


def nab_table() -> pl.DataFrame | None:
    if not SAMPLE.is_dir():
        print(f"(a) skipped: {SAMPLE} not found")
        return None
    corpus = load_nab(SAMPLE)
    rows = []
    for name in ["default", "half_space_trees", "robust_z"]:
        t0 = time.perf_counter()
        b = nab_benchmark(corpus, name, seed=0)
        rows.append(
            b.with_columns(detector=pl.lit(f"kit:{name}"), seconds=pl.lit(time.perf_counter() - t0))
        )
    for name in PUBLISHED:
        b = nab_benchmark(corpus, name, results_dir=SAMPLE / "results")
        rows.append(b.with_columns(detector=pl.lit(f"published:{name}"), seconds=pl.lit(0.0)))
    table = pl.concat(rows).pivot(on="profile", index="detector", values="score")
    return table.sort("standard", descending=True)


def online_rates(n: int = 20_000) -> dict[str, float]:
    from river import anomaly

    rng = np.random.default_rng(0)
    values = np.sin(np.arange(n) / 20) + 0.1 * rng.normal(size=n)
    xs = [{"x": (float(v) + 1.5) / 3.0} for v in values]  # already in [0, 1] for bare HST
    bare = anomaly.HalfSpaceTrees(seed=0)
    t0 = time.perf_counter()
    for x in xs:
        bare.score_one(x)
        bare.learn_one(x)
    bare_rate = n / (time.perf_counter() - t0)
    kit = HalfSpaceTrees(seed=0)
    frame = pl.DataFrame({"x": values})
    t0 = time.perf_counter()
    kit.score_learn_many(frame)
    kit_rate = n / (time.perf_counter() - t0)
    from eventsim.anomaly.detectors import ConformalKNN

    default = ConformalKNN()
    m = 5000
    t0 = time.perf_counter()
    default.score_learn_many(frame.head(m))
    default_rate = m / (time.perf_counter() - t0)
    return {"bare": bare_rate, "kit": kit_rate, "default": default_rate}


def sklearn_rates(n: int = 10_240, n_rows: int = 300) -> dict[str, float]:
    rng = np.random.default_rng(0)
    det = SklearnDetector("isolation_forest", warmup=512, batch_size=256, seed=0)
    det.learn_many(rng.normal(size=(512, 2)))
    data = rng.normal(size=(n, 2))
    t0 = time.perf_counter()
    for lo in range(0, n, 256):
        det.score_many(data[lo : lo + 256])
    batch_rate = n / (time.perf_counter() - t0)
    rows = [{"x0": float(a), "x1": float(b)} for a, b in data[:n_rows]]
    t0 = time.perf_counter()
    for x in rows:
        det.score_one(x)
    row_rate = n_rows / (time.perf_counter() - t0)
    return {"batch": batch_rate, "row": row_rate}


def main() -> None:
    with pl.Config(tbl_rows=20, tbl_cols=10, float_precision=1):
        table = nab_table()
        if table is not None:
            print("(a) NAB score on the 6 sample series (null 0, perfect 100), per profile")
            print(table)
            rcf = table.filter(pl.col("detector") == "published:randomCutForest").row(0, named=True)
            ours = table.filter(pl.col("detector") == "kit:default").row(0, named=True)
            for p in ("standard", "reward_low_FP_rate", "reward_low_FN_rate"):
                ok = "met" if ours[p] > rcf[p] else "NOT met"
                print(f"    target default > RCF [{p}]: {ours[p]:.1f} vs {rcf[p]:.1f} -> {ok}")
    r = online_rates()
    print("(b) online learn+score throughput, points/s")
    print(f"    river HalfSpaceTrees bare     {r['bare']:>10,.0f}")
    print(
        f"    kit HalfSpaceTrees (scaled)   {r['kit']:>10,.0f}   "
        f"({r['kit'] / r['bare']:.0%} of bare; target >= 50% -> "
        f"{'met' if r['kit'] >= 0.5 * r['bare'] else 'NOT met'})"
    )
    print(f"    kit default (conformal k-NN)  {r['default']:>10,.0f}")
    s = sklearn_rates()
    print("(c) scikit-learn IsolationForest scoring, rows/s")
    print(f"    micro-batches of 256          {s['batch']:>10,.0f}")
    print(
        f"    row by row                    {s['row']:>10,.0f}   "
        f"(speed-up {s['batch'] / s['row']:.0f}x; target >= 50x -> "
        f"{'met' if s['batch'] >= 50 * s['row'] else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
