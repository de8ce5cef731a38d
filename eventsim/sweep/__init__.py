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

from eventsim.sweep.errors import SweepError
from eventsim.sweep.executors import EXECUTORS, SweepExecutor, make_executor
from eventsim.sweep.grid import Grid
from eventsim.sweep.runner import sweep
from eventsim.sweep.sample import SAMPLERS

__all__ = [
    "EXECUTORS",
    "SAMPLERS",
    "Grid",
    "SweepError",
    "SweepExecutor",
    "make_executor",
    "sweep",
]


class _CallableModule(types.ModuleType):
    """``eventsim.sweep`` is both this package and, called, the :func:`sweep` function, so
    ``es.sweep(base, grid)`` and ``es.sweep.Grid`` both work however the name was reached."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
