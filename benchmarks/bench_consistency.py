"""Benchmark: the linearizability checker on Porcupine's samples and a 10,000-op history.

Measures, in one run:

- every Porcupine sample (6 etcd register logs, 4 kv logs): seconds per history, ops/s,
  verdict against Porcupine's; target < 1 s each;
- a 10,000-operation, 100-key linearizable kv history from the simulated store (10 clients,
  seed 7): target < 2 s;

and beside them, baselines:

- Porcupine's plain search (no pruning of unknown-outcome ops) on the etcd logs;
- the same checker without per-key decomposition (``partition=False``) on 1,000 ops/100 keys;
- brute force (every order, no memoisation, no partitioning) on a small non-linearizable
  history (8 concurrent writes, 3 contradictory reads), against the checker on it.

Run: ``.venv/bin/python benchmarks/bench_consistency.py``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from eventsim.consistency import check_linearizable, make_history, read_history, simulate_history
from eventsim.consistency import linearizable as lin
from eventsim.consistency._brute import is_linearizable_brute

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "porcupine-sample"


def expected_verdicts() -> dict[str, bool]:
    """File → linearizable, from the table in the sample folder's README."""
    readme = SAMPLES / "README.md"
    if not readme.exists():
        return {}
    row = r"^\| (\S+\.(?:log|txt)) \| [^|]+ \| (yes|no) \|$"
    return {name: v == "yes" for name, v in re.findall(row, readme.read_text(), re.M)}


EXPECTED = expected_verdicts()


def _best(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, and the last result."""
    best = float("inf")
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def _plain(history: Any, model: str) -> Any:
    lin._PRUNE_UNKNOWN = False
    try:
        return check_linearizable(history, model, time_budget_s=30.0)
    finally:
        lin._PRUNE_UNKNOWN = True


def bench_samples() -> bool:
    print("Porcupine samples (target < 1 s each; baseline: Porcupine's search without pruning)")
    print(
        f"{'history':22} {'ops':>5} {'verdict':>8} {'ok?':>4} {'seconds':>9} {'ops/s':>9}"
        f" {'plain s':>9} {'target':>7}"
    )
    all_met = True
    for name, expected in EXPECTED.items():
        path = SAMPLES / name
        if not path.exists():
            print(f"{name:22} missing ({SAMPLES})")
            all_met = False
            continue
        model = "kv" if name.startswith("kv") else "register"
        history = read_history(path)
        seconds, result = _best(lambda h=history, m=model: check_linearizable(h, m))
        plain_s, plain = _best(lambda h=history, m=model: _plain(h, m), repeat=1)
        assert plain.valid == result.valid
        met = seconds < 1.0 and result.valid is expected
        all_met &= met
        print(
            f"{name:22} {history.height:5d} {result.valid!s:>8} {'yes' if result.valid is expected else 'NO':>4}"
            f" {seconds:9.4f} {history.height / seconds:9.0f} {plain_s:9.4f} {'met' if met else 'MISSED':>7}"
        )
    return all_met


def bench_big() -> bool:
    history = simulate_history(10_000, n_keys=100, n_processes=10, seed=7)
    seconds, result = _best(lambda: check_linearizable(history, "kv"))
    met = seconds < 2.0 and result.valid is True
    print()
    print("10,000 ops, 100 keys, 10 clients (target < 2 s)")
    print(
        f"  checker (per-key): {seconds:.3f} s, {history.height / seconds:,.0f} ops/s,"
        f" valid={result.valid} -> {'met' if met else 'MISSED'}"
    )
    small = simulate_history(1_000, n_keys=100, n_processes=10, seed=7)
    per_key, r1 = _best(lambda: check_linearizable(small, "kv"))
    whole, r2 = _best(lambda: check_linearizable(small, "kv", partition=False), repeat=1)
    assert r1.valid == r2.valid
    print("  baseline, 1,000 ops / 100 keys:")
    print(
        f"    per-key decomposition {per_key:.4f} s; one search over the whole map {whole:.4f} s"
        f" ({whole / per_key:.0f}x slower)"
    )
    return met


def bench_brute(n_writers: int = 8) -> None:
    # n concurrent writes; one client reads 1, then 2, then 1 again: impossible, and brute
    # force must try every order of the writes around the reads before it can say so
    rows = [(i, "write", None, str(i), None, 0.0, 100.0) for i in range(n_writers)]
    rows += [(99, "read", None, None, v, t, t + 1) for v, t in (("1", 1), ("2", 3), ("1", 5))]
    history = make_history(rows)
    fast, r = _best(lambda: check_linearizable(history, "register"))
    slow, brute = _best(lambda: is_linearizable_brute(history, "register"), repeat=1)
    assert brute == r.valid
    print()
    print(
        f"Brute force (every order, no memo, no partitioning): {n_writers} concurrent writes,"
        f" 3 reads, linearizable={brute}"
    )
    print(f"  checker {fast:.4f} s; brute force {slow:.3f} s ({slow / fast:,.0f}x slower)")


def main() -> None:
    ok = bench_samples()
    ok &= bench_big()
    bench_brute()
    print()
    print("all targets met" if ok else "SOME TARGETS MISSED")


if __name__ == "__main__":
    main()
