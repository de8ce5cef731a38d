"""Where sweep runs execute: serially, in a local process pool, on any futures executor, or on
a Dask cluster. :data:`EXECUTORS` maps names to classes; :func:`make_executor` turns what the
user passed (a name, a Dask Client, a scheduler address, an executor) into one.
"""

from __future__ import annotations

import concurrent.futures as cf
from typing import Any

from eventsim.exceptions import ConfigError, closest
from eventsim.sweep.executors.base import Outcome, SweepExecutor
from eventsim.sweep.executors.dask import DaskExecutor, is_dask_client
from eventsim.sweep.executors.futures import FuturesExecutor
from eventsim.sweep.executors.processes import ProcessesExecutor, shutdown_idle_pool
from eventsim.sweep.executors.serial import SerialExecutor

__all__ = [
    "EXECUTORS",
    "DaskExecutor",
    "FuturesExecutor",
    "Outcome",
    "ProcessesExecutor",
    "SerialExecutor",
    "SweepExecutor",
    "make_executor",
    "shutdown_idle_pool",
]

#: Executors by name (``"dask"`` starts a LocalCluster).
EXECUTORS: dict[str, type[SweepExecutor]] = {
    "serial": SerialExecutor,
    "processes": ProcessesExecutor,
    "dask": DaskExecutor,
}


def make_executor(executor: Any = "serial", *, max_workers: int | None = None) -> SweepExecutor:
    """An executor from a name, a scheduler address, a Dask Client or a futures executor.

    Parameters
    ----------
    executor
        ``"serial"``, ``"processes"``, ``"dask"`` (a LocalCluster of ``max_workers``), a
        scheduler address (``"tcp://host:8786"``), a ``distributed.Client``, a
        :class:`concurrent.futures.Executor` or a :class:`SweepExecutor`.
    max_workers
        Worker processes for ``"processes"`` and ``"dask"``.

    Examples
    --------
    >>> make_executor("processes", max_workers=2)
    <eventsim.sweep.executors.processes.ProcessesExecutor object at ...>
    >>> make_executor("proceses")
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ConfigError: executor must be one of serial, processes, dask, a Dask ...
    """
    if isinstance(executor, SweepExecutor):
        return executor
    if isinstance(executor, str):
        if "://" in executor:
            return DaskExecutor(executor)
        if executor in EXECUTORS:
            return EXECUTORS[executor](max_workers=max_workers)  # type: ignore[call-arg]
    if is_dask_client(executor):
        return DaskExecutor(executor)
    if isinstance(executor, cf.Executor):
        return FuturesExecutor(executor)
    msg = (
        f"executor must be one of {', '.join(EXECUTORS)}, a Dask scheduler address"
        f" ('tcp://host:8786'), a distributed.Client or a concurrent.futures.Executor;"
        f" got {executor!r}{closest(executor, EXECUTORS) if isinstance(executor, str) else ''}"
    )
    raise ConfigError(msg)
