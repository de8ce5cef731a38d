"""Shared helpers of the benchmarks: best-of-N timing, fresh-interpreter timing, tables."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Run ``fn`` ``repeat`` times; the fastest wall time in seconds and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def fresh_python(args: Sequence[str], repeat: int = 5) -> float | None:
    """Best wall time of ``python <args>`` in fresh interpreters (None if it fails)."""
    return fresh_command([sys.executable, *args], repeat)


def fresh_command(cmd: Sequence[str], repeat: int = 5) -> float | None:
    """Best wall time of running ``cmd`` in a fresh process (None if it fails)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        done = subprocess.run(list(cmd), capture_output=True, check=False)
        elapsed = time.perf_counter() - t
        if done.returncode != 0:
            return None
        best = min(best, elapsed)
    return best


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows as an aligned text table (numbers right-aligned)."""
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("  ".join("-" * w for w in widths))
    for row, raw in zip(cells, rows):
        print(
            "  ".join(
                c.rjust(w) if isinstance(v, int | float) else c.ljust(w)
                for c, w, v in zip(row, widths, raw)
            )
        )


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        if value >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}" if value < 10 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)
