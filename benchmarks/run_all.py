"""Run every benchmark script in this folder, one after another, each in its own process.

Usage: ``python benchmarks/run_all.py [name ...]`` (names without ``bench_`` / ``.py``, e.g.
``engine log``). Each script prints its own table with its baseline and targets.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        wanted = {f"bench_{a.removeprefix('bench_').removesuffix('.py')}.py" for a in argv}
        scripts = [s for s in scripts if s.name in wanted]
    failed = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(script)], check=False)
        print(f"--- {script.name}: exit {done.returncode}, {time.perf_counter() - start:.1f} s")
        if done.returncode:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
