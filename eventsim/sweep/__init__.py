"""Parameter sweeps: many runs of a scenario → one tidy table.

``sweep(base, Grid({...}, seeds=range(5)))`` runs every grid point with every seed — serially,
in local processes or on a Dask cluster — and returns one polars row per run; ``out=`` caches
finished runs so an interrupted sweep resumes. ``aggregate`` gives means and t confidence
intervals across seeds; ``plot_metric`` and ``plot_heatmap`` draw them; ``load_sweep`` reads a
sweep file (TOML) and ``add_sweep_parser`` wires the ``eventsim sweep`` command.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from eventsim.sweep.aggregate import aggregate, metric_columns, param_columns
from eventsim.sweep.cli import add_sweep_parser, run_sweep_cli, sweep_main
from eventsim.sweep.config import SweepFile, load_sweep, read_sweep_file, resolve_metrics
from eventsim.sweep.errors import SweepError
from eventsim.sweep.executors import (
    EXECUTORS,
    SweepExecutor,
    make_executor,
    shutdown_idle_pool,
)
from eventsim.sweep.grid import Grid
from eventsim.sweep.plot import plot_heatmap, plot_metric
from eventsim.sweep.runner import sweep
from eventsim.sweep.sample import SAMPLERS

__all__ = [
    "EXECUTORS",
    "SAMPLERS",
    "Grid",
    "SweepError",
    "SweepExecutor",
    "SweepFile",
    "add_sweep_parser",
    "aggregate",
    "load_sweep",
    "make_executor",
    "metric_columns",
    "param_columns",
    "plot_heatmap",
    "plot_metric",
    "read_sweep_file",
    "resolve_metrics",
    "run_sweep_cli",
    "shutdown_idle_pool",
    "sweep",
    "sweep_main",
]


class _CallableModule(types.ModuleType):
    """``eventsim.sweep`` is both this package and, called, the :func:`sweep` function, so
    ``es.sweep(base, grid)`` and ``es.sweep.Grid`` both work however the name was reached."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
