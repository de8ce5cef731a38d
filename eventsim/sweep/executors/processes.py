"""Processes: a local pool of worker processes (``ProcessPoolExecutor``, spawn start method).

Workers are *spawned*, not forked: polars' thread pool does not survive ``fork`` and a forked
worker hangs in its first query. The metrics function travels by value (cloudpickle), so
lambdas and notebook functions work.

A worker that dies (killed, crashed, out of memory) breaks the whole pool. The runs that were
in flight then are retried one at a time in a fresh pool, which finds the run that kills its
worker: that run alone is reported failed; the others are resubmitted and the sweep goes on.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import EXTRA_QUEUED_CALLS, BrokenProcessPool
from typing import Any

from eventsim.exceptions import ConfigError
from eventsim.scenario import Scenario
from eventsim.sweep.executors.base import Outcome, SweepExecutor
from eventsim.sweep.executors.futures import outcome_of
from eventsim.sweep.worker import Metrics, ShippedCallable, execute_run, failed_outcome

__all__ = ["ProcessesExecutor"]

WORKER_DIED = (
    "WorkerDied: the worker process died while running this scenario"
    " (killed, crashed or out of memory)"
)


class ProcessesExecutor(SweepExecutor):
    """Runs in a local pool of ``max_workers`` spawned processes.

    Parameters
    ----------
    max_workers
        Worker processes; None uses every CPU (``os.cpu_count()``). The pool never starts
        more workers than there are runs.

    Examples
    --------
    >>> ProcessesExecutor(max_workers=2).workers
    2
    """

    name = "processes"

    def __init__(self, *, max_workers: int | None = None) -> None:
        if max_workers is not None and (
            not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1
        ):
            msg = f"max_workers must be an integer >= 1 or None; got {max_workers!r}"
            raise ConfigError(msg)
        self.max_workers = max_workers or os.cpu_count() or 1
        self._pool: cf.ProcessPoolExecutor | None = None

    @property
    def workers(self) -> int:
        """Processes in the pool."""
        return self.max_workers

    def results(
        self, scenarios: Sequence[Scenario], metrics: Metrics
    ) -> Iterator[tuple[int, Outcome]]:
        """Run in the pool; recover from dead workers (see the module docstring)."""
        fn = functools.partial(execute_run, metrics=ShippedCallable(metrics))
        todo = list(range(len(scenarios)))
        while todo:
            broken: list[int] = []
            yield from self._batch(todo, scenarios, fn, self.max_workers, broken)
            # the runs in flight when the pool broke are the first unfinished ones
            n_suspects = min(len(broken), min(self.max_workers, len(todo)) + EXTRA_QUEUED_CALLS)
            untried: list[int] = []
            yield from self._isolate(broken[:n_suspects], scenarios, fn, untried)
            todo = sorted(untried + broken[n_suspects:])

    def _isolate(
        self,
        suspects: list[int],
        scenarios: Sequence[Scenario],
        fn: Callable[[Scenario], Outcome],
        untried: list[int],
    ) -> Iterator[tuple[int, Outcome]]:
        """Run suspects one at a time in one worker until one kills it; that one fails."""
        for n, i in enumerate(suspects):
            lost: list[int] = []
            yield from self._batch([i], scenarios, fn, 1, lost, keep=n + 1 < len(suspects))
            if lost:
                yield i, failed_outcome(WORKER_DIED)
                untried.extend(suspects[n + 1 :])
                break
        self._shutdown_pool()

    def _batch(
        self,
        positions: list[int],
        scenarios: Sequence[Scenario],
        fn: Callable[[Scenario], Outcome],
        workers: int,
        broken: list[int],
        *,
        keep: bool = False,
    ) -> Iterator[tuple[int, Outcome]]:
        """Run ``positions`` in the pool (a new one unless ``keep`` and one is open); those
        lost to a broken pool go to ``broken``, sorted. ``keep`` leaves a healthy pool open."""
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = cf.ProcessPoolExecutor(min(workers, len(positions)), mp_context=context)
        futures = {self._pool.submit(fn, scenarios[i]): i for i in positions}
        for future in cf.as_completed(futures):
            if isinstance(future.exception(), BrokenProcessPool):
                broken.append(futures[future])
            else:
                yield futures[future], outcome_of(future)
        broken.sort()
        if broken or not keep:
            self._shutdown_pool()

    def _shutdown_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def close(self, *, cancel: bool = False) -> None:
        """Shut the pool down; on ``cancel`` drop queued runs and stop the workers now."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if cancel:
            _terminate_workers(pool)
        pool.shutdown(wait=not cancel, cancel_futures=cancel)


def _terminate_workers(pool: cf.ProcessPoolExecutor) -> None:
    # Python 3.14 has ProcessPoolExecutor.terminate_workers(); before, reach the processes.
    terminate: Callable[[], Any] | None = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()
