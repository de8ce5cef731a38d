"""``sweep(base, grid)``: run every grid point × seed and gather one tidy table.

The table has one row per run, in grid order whatever the executor: the varied parameters
(dotted paths), ``seed``, ``scenario_key``, the metric columns, ``run_s``, ``status``,
``cached`` and ``error``. A failed run is a row with ``status="failed"``; it never costs the
other rows. With ``out=``, each finished run is saved as it arrives (see
:mod:`eventsim.sweep.cache`), so an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from eventsim.scenario import Scenario
from eventsim.sim.result import RunResult
from eventsim.sweep.cache import RunCache
from eventsim.sweep.errors import SweepError
from eventsim.sweep.executors import Outcome, make_executor
from eventsim.sweep.grid import Grid
from eventsim.sweep.plan import PlannedRun, plan_runs
from eventsim.sweep.worker import Metrics, failed_outcome, metrics_id

__all__ = ["TABLE_FILE", "sweep"]

#: The table's file in the output folder.
TABLE_FILE = "sweep.parquet"
#: Columns the sweep adds after the metrics, and metric names folded into existing columns.
_TAIL = ("run_s", "status", "cached", "error")
_DUPLICATES = ("seed", "scenario_key")


def sweep(
    base: Scenario,
    grid: Grid,
    *,
    metrics: Metrics | None = None,
    executor: Any = "serial",
    max_workers: int | None = None,
    out: str | Path | None = None,
    progress: bool = True,
) -> pl.DataFrame:
    """Run ``base`` at every point and seed of ``grid``; one row per run, in grid order.

    Parameters
    ----------
    base
        The scenario the grid varies.
    grid
        Points (dotted path → value) and seeds, see :class:`~eventsim.sweep.grid.Grid`.
    metrics
        ``RunResult → dict`` of scalars computed in the worker (default
        :meth:`RunResult.summary`). Keys ``seed`` and ``scenario_key`` are dropped (the table
        has them). Lambdas and notebook functions work with every executor.
    executor
        ``"serial"`` (default), ``"processes"``, ``"dask"`` (a LocalCluster), a
        ``distributed.Client``, a scheduler address (``"tcp://host:8786"``) or a
        :class:`concurrent.futures.Executor`. The table is the same whichever runs it.
    max_workers
        Processes for ``"processes"`` (default: every CPU) and ``"dask"``.
    out
        Folder for the run cache and the final table (``sweep.parquet``); runs found there
        are not run again (``cached=True``). None keeps nothing.
    progress
        Show a progress bar (runs done, failed, cached, ETA).

    Returns
    -------
    polars.DataFrame
        One row per run: a column per grid parameter (named by its path; null where an
        explicit point leaves it out), ``seed`` Int64, ``scenario_key`` String, the metric
        columns (dtypes from their values; null in failed rows), ``run_s`` Float64 (wall
        seconds of the run), ``status`` String (``"ok"`` | ``"failed"``), ``cached`` Boolean,
        ``error`` String (one line; null when ok).

    Raises
    ------
    SweepError
        Before any run starts, listing every problem of the grid one line each.
    KeyboardInterrupt
        Interrupted: queued runs are cancelled; finished ones are already in ``out``.

    Examples
    --------
    >>> from eventsim.scenario import Scenario
    >>> base = Scenario(duration="5s", params={"rate_per_s": 50})
    >>> grid = Grid({"log.partitions": [1, 4]}, seeds=range(2))
    >>> table = sweep(base, grid, metrics=lambda r: {"events": r.events.height}, progress=False)
    >>> table.select("log.partitions", "seed", "events", "status")
    shape: (4, 4)
    ┌────────────────┬──────┬────────┬────────┐
    │ log.partitions ┆ seed ┆ events ┆ status │
    │ ---            ┆ ---  ┆ ---    ┆ ---    │
    │ i64            ┆ i64  ┆ i64    ┆ str    │
    ╞════════════════╪══════╪════════╪════════╡
    │ 1              ┆ 0    ┆ 251    ┆ ok     │
    │ 1              ┆ 1    ┆ 232    ┆ ok     │
    │ 4              ┆ 0    ┆ 251    ┆ ok     │
    │ 4              ┆ 1    ┆ 232    ┆ ok     │
    └────────────────┴──────┴────────┴────────┘
    """
    if metrics is None:
        metrics = RunResult.summary
    if not callable(metrics):
        msg = f"metrics must be a function RunResult → dict; got {metrics!r}"
        raise SweepError(msg)
    runs = plan_runs(base, grid)
    executor_obj = make_executor(executor, max_workers=max_workers)
    cache = RunCache(out, metrics_id(metrics)) if out is not None else None
    outcomes, cached = _from_cache(runs, cache)
    todo = [r for r in _unique(runs) if r.key not in outcomes]
    reserved = {*grid.params, *_TAIL}
    with executor_obj, _Progress(len(todo) + len(cached), len(cached), progress) as bar:
        results = executor_obj.results([r.scenario for r in todo], metrics) if todo else ()
        for position, outcome in results:
            run = todo[position]
            outcome = _checked(outcome, reserved)
            if cache is not None:
                cache.put(run.scenario, outcome)
            outcomes[run.key] = outcome
            bar.done(failed=outcome["status"] != "ok")
    table = build_table(grid.params, runs, outcomes, cached)
    if out is not None:
        from eventsim._atomic import atomic_write

        atomic_write(Path(out) / TABLE_FILE, table.write_parquet)
    return table


def _unique(runs: Sequence[PlannedRun]) -> list[PlannedRun]:
    """The first run of every distinct scenario (identical points run once)."""
    first: dict[str, PlannedRun] = {}
    for run in runs:
        first.setdefault(run.key, run)
    return list(first.values())


def _from_cache(
    runs: Sequence[PlannedRun], cache: RunCache | None
) -> tuple[dict[str, Outcome], set[str]]:
    outcomes: dict[str, Outcome] = {}
    if cache is not None:
        for run in _unique(runs):
            found = cache.get(run.key)
            if found is not None:
                outcomes[run.key] = found
    return outcomes, set(outcomes)


def _checked(outcome: Outcome, reserved: set[str]) -> Outcome:
    """Drop duplicated ``seed``/``scenario_key``; a metric named like a column fails the run."""
    if outcome.get("status") != "ok":
        return outcome
    values = {k: v for k, v in outcome["metrics"].items() if k not in _DUPLICATES}
    clash = sorted(reserved & set(values))
    if clash:
        return failed_outcome(
            f"SweepError: metric names {clash} clash with table columns; rename them",
            outcome.get("run_s"),
        )
    return {**outcome, "metrics": values}


def _column(name: str, values: list[Any]) -> pl.Series:
    """A column from Python values: strict types; mixed numbers widen; other mixes → text."""
    try:
        return pl.Series(name, values)
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        numeric = all(
            v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values
        )
        if numeric:
            return pl.Series(name, values, dtype=pl.Float64, strict=False)
        return pl.Series(name, [None if v is None else str(v) for v in values], dtype=pl.String)


def build_table(
    params: Sequence[str],
    runs: Sequence[PlannedRun],
    outcomes: Mapping[str, Outcome],
    cached: set[str],
) -> pl.DataFrame:
    """The sweep table from planned runs and their outcomes (see :func:`sweep` for columns).

    Examples
    --------
    >>> from eventsim.sweep.plan import plan_runs
    >>> runs = plan_runs(Scenario(duration="5s"), Grid({"drain": [1.0, 2.0]}))
    >>> out = {
    ...     runs[0].key: {"status": "ok", "error": None, "run_s": 0.5, "metrics": {"n": 3}},
    ...     runs[1].key: {"status": "failed", "error": "boom", "run_s": 0.1, "metrics": {}},
    ... }
    >>> build_table(["drain"], runs, out, set()).select("drain", "n", "status", "error")
    shape: (2, 4)
    ┌───────┬──────┬────────┬───────┐
    │ drain ┆ n    ┆ status ┆ error │
    │ ---   ┆ ---  ┆ ---    ┆ ---   │
    │ f64   ┆ i64  ┆ str    ┆ str   │
    ╞═══════╪══════╪════════╪═══════╡
    │ 1.0   ┆ 3    ┆ ok     ┆ null  │
    │ 2.0   ┆ null ┆ failed ┆ boom  │
    └───────┴──────┴────────┴───────┘
    """
    rows = [
        outcomes.get(r.key) or failed_outcome("SweepError: the run did not finish") for r in runs
    ]
    names = list(dict.fromkeys(k for o in rows for k in o["metrics"]))
    # a "seed" axis (instead of seeds=) lands in the seed column
    columns = [_column(p, [r.params.get(p) for r in runs]) for p in params if p != "seed"]
    columns += [
        pl.Series("seed", [r.scenario.seed for r in runs], dtype=pl.Int64),
        pl.Series("scenario_key", [r.key for r in runs], dtype=pl.String),
    ]
    columns += [_column(m, [o["metrics"].get(m) for o in rows]) for m in names]
    columns += [
        pl.Series("run_s", [o.get("run_s") for o in rows], dtype=pl.Float64),
        pl.Series("status", [o["status"] for o in rows], dtype=pl.String),
        pl.Series("cached", [r.key in cached for r in runs], dtype=pl.Boolean),
        pl.Series("error", [o.get("error") for o in rows], dtype=pl.String),
    ]
    return pl.DataFrame(columns)


class _Progress:
    """A tqdm bar over the runs (notebook-aware), with failed and cached counts."""

    def __init__(self, total: int, n_cached: int, enabled: bool) -> None:
        self.n_failed = 0
        self.n_cached = n_cached
        self.bar: Any = None
        if enabled and total:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=n_cached, desc="sweep", unit="run")
            self._postfix()

    def _postfix(self) -> None:
        self.bar.set_postfix({"failed": self.n_failed, "cached": self.n_cached}, refresh=False)

    def done(self, *, failed: bool) -> None:
        self.n_failed += failed
        if self.bar is not None:
            self._postfix()
            self.bar.update(1)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
