"""The ``eventsim sweep`` command: run a sweep file and print a summary table.

``eventsim sweep sweep.toml --executor processes --workers 2 --out results/`` runs locally;
``--scheduler tcp://host:8786`` runs on a Dask cluster. The main CLI wires it with
:func:`add_sweep_parser`; :func:`sweep_main` runs it on its own. Exit status: 0 when every
run succeeded, 1 when some failed, 2 on bad input (nothing run), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import polars as pl

from eventsim.exceptions import EventsimError
from eventsim.sweep.aggregate import metric_columns, param_columns
from eventsim.sweep.config import read_sweep_file, resolve_metrics
from eventsim.sweep.runner import TABLE_FILE, sweep

__all__ = ["add_sweep_parser", "run_sweep_cli", "summary_frame", "sweep_main"]

_HELP = "run a sweep file (grid × seeds) and print a summary table"


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="sweep file (TOML): scenario, grid, seeds")
    parser.add_argument(
        "--executor",
        choices=("serial", "processes", "dask"),
        default="processes",
        help="where runs execute (default: processes; dask starts a LocalCluster)",
    )
    parser.add_argument("--workers", type=int, default=None, help="worker processes")
    parser.add_argument(
        "--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for the run cache and sweep.parquet"
    )
    parser.add_argument(
        "--metrics", default=None, help="metrics function 'package.module:function'"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def add_sweep_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``sweep`` subcommand to ``subparsers`` (from ``add_subparsers()``).

    The subparser's default ``func`` is :func:`run_sweep_cli`.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="eventsim")
    >>> p = add_sweep_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["sweep", "s.toml", "--workers", "2"])
    >>> args.command, args.executor, args.workers, args.func is run_sweep_cli
    ('sweep', 'processes', 2, True)
    """
    parser: argparse.ArgumentParser = subparsers.add_parser("sweep", help=_HELP, description=_HELP)
    _add_arguments(parser)
    parser.set_defaults(func=run_sweep_cli)
    return parser


def summary_frame(table: pl.DataFrame) -> pl.DataFrame:
    """Per grid point: runs, failed, and the mean of each numeric metric that varies.

    Examples
    --------
    >>> t = pl.DataFrame({
    ...     "log.partitions": [4, 4, 8], "seed": [0, 1, 0], "scenario_key": list("abc"),
    ...     "lag": [1.0, 3.0, 5.0], "duration_s": [5.0] * 3, "run_s": [0.1] * 3,
    ...     "status": ["ok", "ok", "failed"],
    ... })
    >>> summary_frame(t)
    shape: (2, 4)
    ┌────────────────┬──────┬────────┬──────┐
    │ log.partitions ┆ runs ┆ failed ┆ lag  │
    │ ---            ┆ ---  ┆ ---    ┆ ---  │
    │ i64            ┆ u32  ┆ u32    ┆ f64  │
    ╞════════════════╪══════╪════════╪══════╡
    │ 4              ┆ 2    ┆ 0      ┆ 2.0  │
    │ 8              ┆ 1    ┆ 1      ┆ null │
    └────────────────┴──────┴────────┴──────┘
    """
    by = param_columns(table)
    ok = pl.col("status") == "ok"
    metrics = [
        m for m in metric_columns(table) if table.get_column(m).n_unique() > 1 or table.height == 1
    ]
    aggs = [
        pl.len().cast(pl.UInt32).alias("runs"),
        (~ok).sum().cast(pl.UInt32).alias("failed"),
        *[pl.col(m).filter(ok).cast(pl.Float64).mean().alias(m) for m in metrics],
    ]
    if not by:
        return table.select(aggs)
    return table.group_by(by, maintain_order=True).agg(aggs)


def _report(table: pl.DataFrame, elapsed_s: float, out: Path | None, stream: TextIO) -> None:
    n_failed = int((table.get_column("status") == "failed").sum())
    n_cached = int(table.get_column("cached").sum())
    saved = f"; table in {out / TABLE_FILE}" if out is not None else ""
    print(
        f"{table.height} runs: {table.height - n_failed} ok ({n_cached} cached),"
        f" {n_failed} failed in {elapsed_s:.1f} s{saved}",
        file=stream,
    )
    with pl.Config(tbl_rows=100, tbl_cols=-1, tbl_width_chars=200, fmt_str_lengths=60):
        print(summary_frame(table), file=stream)
    failed = table.filter(pl.col("status") == "failed")
    params = param_columns(table)
    for row in failed.head(10).iter_rows(named=True):
        where = ", ".join(f"{p}={row[p]!r}" for p in [*params, "seed"])
        print(f"failed: {where}: {row['error']}", file=stream)
    if failed.height > 10:
        print(f"... and {failed.height - 10} more failed runs", file=stream)


def run_sweep_cli(args: argparse.Namespace) -> int:
    """Run the sweep the parsed ``args`` describe; print the summary. Returns the exit status.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "sweep.toml"
    >>> _ = f.write_text('seeds = [0]\\n[scenario]\\nduration = "5s"\\nlog = {partitions = 0}\\n')
    >>> sweep_main([str(f), "--executor", "serial"])
    2
    """
    start = time.perf_counter()
    try:
        spec = read_sweep_file(args.file)
        metrics = resolve_metrics(args.metrics or spec.metrics)
        executor = args.scheduler or args.executor
        table = sweep(
            spec.scenario,
            spec.grid,
            metrics=metrics,
            executor=executor,
            max_workers=args.workers,
            out=args.out,
            progress=not args.no_progress,
        )
    except EventsimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        kept = f"; finished runs are kept in {args.out}, run again to resume" if args.out else ""
        print(f"interrupted{kept}", file=sys.stderr)
        return 130
    _report(table, time.perf_counter() - start, args.out, sys.stdout)
    return 1 if (table.get_column("status") == "failed").any() else 0


def sweep_main(argv: Sequence[str] | None = None) -> int:
    """``eventsim sweep`` on its own: parse ``argv`` (default ``sys.argv[1:]``) and run.

    Examples
    --------
    >>> import contextlib, io, pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "sweep.toml"
    >>> _ = f.write_text('seeds = [0, 1]\\n[scenario]\\nduration = "5s"\\n')
    >>> with contextlib.redirect_stdout(io.StringIO()) as text:
    ...     status = sweep_main([str(f), "--executor", "serial", "--no-progress"])
    >>> status, text.getvalue().splitlines()[0][:25]
    (0, '2 runs: 2 ok (0 cached), ')
    """
    parser = argparse.ArgumentParser(prog="eventsim sweep", description=_HELP)
    _add_arguments(parser)
    return run_sweep_cli(parser.parse_args(argv))
