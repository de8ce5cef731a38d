"""Benchmark of start-up time: ``import eventsim`` and ``eventsim --help`` in fresh processes.

Measured: wall time of a fresh interpreter running ``import eventsim``, and of the console
script ``eventsim --help`` (best of 5 each). Target: < 1 s each. Baselines in the same run:
an empty interpreter (``python -c pass``) and the heavy libraries eventsim must not import at
start-up, ``import river`` (lazy), ``from river import anomaly`` and ``import sklearn``; the last column shows each import's cost
above the empty interpreter. If the CLI module is missing, that row prints "skipped".

Run: ``.venv/bin/python benchmarks/bench_startup.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import fresh_command, fresh_python, print_table

REPEAT = 5
TARGET_S = 1.0


def cli_command() -> list[str] | None:
    """The console script beside this interpreter, else ``python -m eventsim.cli``."""
    if importlib.util.find_spec("eventsim.cli") is None:
        return None
    script = Path(sys.executable).with_name("eventsim")
    if script.exists():
        return [str(script), "--help"]
    return [sys.executable, "-m", "eventsim.cli", "--help"]


def main(argv: list[str] | None = None) -> int:
    empty = fresh_python(["-c", "pass"], REPEAT)
    rows: list[list] = [["python -c pass", empty, 0.0, "", ""]]
    baselines = [
        ("import river", "import river"),
        ("from river import anomaly", "from river import anomaly"),
        ("import sklearn", "import sklearn"),
    ]
    for label, code in baselines:
        t = fresh_python(["-c", code], REPEAT)
        rows.append([label, t, None if t is None else t - empty, "", ""])
    t = fresh_python(["-c", "import eventsim"], REPEAT)
    rows.append(["import eventsim", t, None if t is None else t - empty, f"< {TARGET_S:g} s",
                 t is not None and t < TARGET_S])  # fmt: skip
    cmd = cli_command()
    if cmd is None:
        rows.append(["eventsim --help", "skipped (eventsim.cli missing)", None, "", ""])
    else:
        t = fresh_command(cmd, REPEAT)
        rows.append(["eventsim --help", t, None if t is None else t - empty,
                     f"< {TARGET_S:g} s", t is not None and t < TARGET_S])  # fmt: skip
    print(f"start-up benchmark: fresh processes, best of {REPEAT} (seconds)")
    print_table(["command", "wall s", "above empty s", "target", "met"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
