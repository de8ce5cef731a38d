"""``eventsim check-history PATH``: is a recorded history linearizable?

Exit status: 0 linearizable, 1 not linearizable, 3 unknown (the time budget ran out), 2 bad
input (unreadable or malformed file, unknown model: one line on stderr).
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser", "check_history"]

_MODELS = ("auto", "register", "kv")


def check_history(args: argparse.Namespace) -> int:
    """Read the history, check it, print the verdict; return the exit status.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from eventsim.consistency import make_history, write_history
    >>> h = make_history([(0, "write", None, 1, None, 0, 1), (1, "read", None, None, 1, 2, 3)])
    >>> path = write_history(h, pathlib.Path(tempfile.mkdtemp()) / "h.edn")
    >>> args = argparse.Namespace(path=path, model="auto", time_budget_s=5.0, format=None)
    >>> check_history(args)
    /...h.edn: linearizable (2 ops, 1 key(s), model register, ... s)
    0
    """
    from eventsim.consistency.history_io import read_history
    from eventsim.consistency.linearizable import check_linearizable
    from eventsim.consistency.models import get_model
    from eventsim.exceptions import ConfigError, closest

    if args.model not in _MODELS:
        msg = f"--model must be one of {', '.join(_MODELS)}; got {args.model!r}"
        raise ConfigError(msg + closest(args.model, _MODELS))
    if args.time_budget_s < 0:
        msg = f"--time-budget-s must be >= 0 (0: no limit); got {args.time_budget_s!r}"
        raise ConfigError(msg)
    history = read_history(args.path, format=args.format)
    model = args.model
    if model == "auto":
        kv = history["op"].is_in(["get", "put", "append"]).any()
        model = "kv" if kv else "register"
    get_model(model)
    result = check_linearizable(history, model, time_budget_s=args.time_budget_s)
    info = result.info
    facts = (
        f"{info['n_ops']} ops, {info['n_keys']} key(s), model {model}, {info['elapsed_s']:.3f} s"
    )
    if result.valid:
        print(f"{args.path}: linearizable ({facts})")
        return 0
    if result.valid is None:
        print(
            f"{args.path}: unknown: the time budget of {args.time_budget_s:g} s ran out ({facts})"
        )
        return 3
    keys = ", ".join("<none>" if k is None else repr(k) for k in info["failed_keys"])
    print(f"{args.path}: NOT linearizable: key(s) {keys} ({facts})")
    blocking = result.anomalies.filter(result.anomalies["blocking"])
    for row in blocking.iter_rows(named=True):
        print(
            f"  cannot place row {row['row']}: process {row['process']} {row['op']}"
            f" key={_short(row['key'])} value={_short(row['value'])} ->"
            f" {_short(row['output'])} [{row['invoke_s']:g}, {row['complete_s']:g}]"
            f" after state {_short(row['state'])}"
        )
    return 1


def _short(text: str | None, width: int = 40) -> str:
    if text is None:
        return "nil"
    shown = repr(text)
    return shown if len(shown) <= width else shown[: width - 4] + "...'"


def add_parser(sub: Any) -> None:
    """Register ``check-history`` on the CLI's subparsers.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="eventsim")
    >>> add_parser(parser.add_subparsers())
    >>> parser.parse_args(["check-history", "h.edn", "--model", "kv"]).model
    'kv'
    """
    p = sub.add_parser(
        "check-history",
        help="check a recorded history for linearizability (exit 0 yes, 1 no, 3 unknown)",
        description=(
            "Check a Jepsen/Knossos EDN history, a Jepsen log or a Parquet history frame for "
            "linearizability. Exit status: 0 linearizable, 1 not, 3 unknown (time budget), "
            "2 bad input."
        ),
    )
    p.add_argument("path", help="history file (.edn, Jepsen log or .parquet)")
    p.add_argument(
        "--model",
        default="auto",
        help="register (read/write/cas) | kv (get/put/append) | auto (from the ops; default)",
    )
    p.add_argument(
        "--time-budget-s",
        type=float,
        default=10.0,
        help="give up after this many seconds (verdict unknown, exit 3); 0: no limit",
    )
    p.add_argument("--format", default=None, help="edn | jepsen-log | parquet (default: detect)")
    p.set_defaults(handler=check_history)
