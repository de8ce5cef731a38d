"""``eventsim compare-delivery``: the presets side by side on one scenario."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from eventsim.exceptions import ScenarioError

__all__ = ["add_parser"]


def _compare(args: argparse.Namespace) -> int:
    import polars as pl

    from eventsim._atomic import atomic_path
    from eventsim.cli import parse_overrides
    from eventsim.delivery.compare import compare_delivery
    from eventsim.scenario import load_scenario

    scenario = load_scenario(args.scenario, parse_overrides(args.set or []))
    semantics = [s.strip() for s in args.semantics.split(",") if s.strip()]
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix not in (".csv", ".parquet"):
        msg = f"--out must end in .csv or .parquet; got {str(out)!r}"
        raise ScenarioError(msg)
    table = compare_delivery(scenario, semantics, late_after_s=args.late_after_s)
    with pl.Config(tbl_rows=20, tbl_cols=20, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
        print(table)
    if out is not None:
        with atomic_path(out) as tmp:
            if out.suffix == ".csv":
                table.write_csv(tmp)
            else:
                table.write_parquet(tmp)
        print(f"wrote {out}")
    return 0


def add_parser(sub: Any) -> None:
    """Register ``compare-delivery`` on the CLI's subparsers."""
    p = sub.add_parser("compare-delivery", help="compare delivery semantics under faults")
    p.add_argument("scenario", help="scenario TOML file (faults included)")
    p.add_argument(
        "--semantics",
        default="at-most-once,at-least-once,exactly-once,effectively-once",
        help="comma-separated presets",
    )
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a field")
    p.add_argument("--late-after-s", type=float, default=None, help="latency counted as late")
    p.add_argument("--out", help="save the table (.csv or .parquet)")
    p.set_defaults(handler=_compare)
