"""The ``eventsim`` command line.

Every error the kit raises on purpose (:class:`~eventsim.exceptions.EventsimError`) is printed
as one line on stderr with exit status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eventsim.exceptions import EventsimError, ScenarioError

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``["log.partitions=24", "seed=3"]`` → ``{"log.partitions": 24, "seed": 3}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            msg = f"--set expects key=value (e.g. log.partitions=24); got {item!r}"
            raise ScenarioError(msg)
        out[key.strip()] = _parse_value(value.strip())
    return out


def _scenario(args: argparse.Namespace) -> Any:
    from eventsim.scenario import Scenario, load_scenario

    overrides = parse_overrides(args.set or [])
    for name in ("workload", "duration", "seed"):
        value = getattr(args, name, None)
        if value is not None:
            overrides.setdefault(name, value)
    if args.scenario:
        return load_scenario(args.scenario, overrides)
    return Scenario().replace(**overrides)


def print_summary(summary: dict[str, Any]) -> None:
    """Print a summary dict as an aligned two-column table."""
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        print(f"  {key:<{width}}  {value}")


def cmd_workloads(args: argparse.Namespace) -> int:
    from eventsim.workloads import WORKLOADS, get_workload

    for name in WORKLOADS:
        try:
            desc = get_workload(name).description()
        except ImportError:
            continue
        print(f"{name:<10} {desc}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from eventsim.sim.engine import run

    scenario = _scenario(args)
    result = run(scenario, progress=False if args.quiet else None)
    if args.out:
        result.write_parquet(Path(args.out))
    if not args.quiet:
        print(
            f"run {scenario.key()} ({scenario.workload}, {scenario.duration:g} s simulated,"
            f" seed {scenario.seed}) in {result.wall_s:.2f} s"
        )
        print_summary(result.summary())
        if args.out:
            print(f"wrote {args.out}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from eventsim.sim.result import read_run_metadata

    toml, summary, rows = read_run_metadata(Path(args.path))
    print(f"{args.path}: eventsim run, {rows} events")
    print_summary(summary)
    print("scenario:")
    print("  " + toml.strip().replace("\n", "\n  "))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from eventsim.demo import demo

    demo(Path(args.out), quiet=args.quiet)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``eventsim``."""
    parser = argparse.ArgumentParser(
        prog="eventsim",
        description="Simulate event-driven workloads on a Kafka-like log and analyse them.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("workloads", help="list the registered workloads")
    p.set_defaults(handler=cmd_workloads)

    p = sub.add_parser("run", help="run a scenario and print its summary")
    p.add_argument("scenario", nargs="?", help="scenario TOML file")
    p.add_argument("--workload", help="workload name (see `eventsim workloads`)")
    p.add_argument("--duration", help="simulated time, e.g. 90s, 30m, 2h")
    p.add_argument("--seed", type=int, help="seed of every random stream")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a scenario field by dotted path (repeatable)",
    )
    p.add_argument("--out", help="write the run to this Parquet file (+ sibling frames)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("info", help="summarise a saved run")
    p.add_argument("path", help="a run's Parquet file")
    p.set_defaults(handler=cmd_info)

    p = sub.add_parser("demo", help="run the demo: summary table, Parquet files and a plot")
    p.add_argument("--out", default="out/demo", help="output folder (default out/demo)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=cmd_demo)

    for name, (_, _, text) in _EXTERNAL.items():
        p = sub.add_parser(name, help=text, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(handler=_external, external=name)
    return parser


#: Subcommands of the analysis subpackages: name → (module, function adding the parser, help).
#: They load only when run, so ``eventsim --help`` stays fast.
_EXTERNAL = {
    "compare-delivery": (
        "eventsim.delivery.cli",
        "add_parser",
        "compare delivery semantics under faults",
    ),
    "check-history": (
        "eventsim.consistency.cli",
        "add_parser",
        "check a recorded history for linearizability",
    ),
    "sweep": ("eventsim.sweep.cli", "add_sweep_parser", "run a parameter sweep"),
}


def _external(args: argparse.Namespace) -> int:
    """Load the subcommand's module, parse its own arguments and run it."""
    import importlib

    module, function, _ = _EXTERNAL[args.external]
    parser = argparse.ArgumentParser(prog="eventsim")
    sub = parser.add_subparsers(dest="command", required=True)
    getattr(importlib.import_module(module), function)(sub)
    inner = parser.parse_args([args.external, *args.rest])
    handler = getattr(inner, "handler", None) or inner.func
    return int(handler(inner))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``eventsim`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] in _EXTERNAL:  # its own parser handles everything after the name
        args = argparse.Namespace(handler=_external, external=argv[0], rest=argv[1:])
    else:
        args = parser.parse_args(argv)
    try:
        handler = getattr(args, "handler", None) or args.func
        return int(handler(args))
    except EventsimError as exc:
        print(f"eventsim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("eventsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
