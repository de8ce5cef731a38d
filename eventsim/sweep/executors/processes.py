"""Processes: a local pool of worker processes (``ProcessPoolExecutor``, spawn start method).

Workers are *spawned*, not forked: polars' thread pool does not survive ``fork`` and a forked
worker hangs in its first query. The metrics function travels by value (cloudpickle), so
lambdas and notebook functions work.

A worker that dies (killed, crashed, out of memory) breaks the whole pool. The runs that were
in flight then are retried one at a time in a fresh pool, which finds the run that kills its
worker: that run alone is reported failed; the others are resubmitted and the sweep goes on.

Starting a pool costs about half a second here (spawning the workers, which import polars,
numpy and eventsim). So that sweeps run one after another in a notebook pay it once, a healthy
pool is *kept warm* for ``keep_alive_s`` seconds after its sweep (as joblib/loky's reusable
executor does) and the next sweep with the same ``max_workers`` reuses it. A pool is reused
only while the environment variables and ``sys.path`` it was spawned with are unchanged, since
workers see those as they were at spawn; :func:`shutdown_idle_pool` stops it at once.

Each run allocates and frees a few hundred MB of columns, and the allocators hand large blocks
back to the OS for the next run to fault in again; two workers doing that side by side slowed
each other down. So every worker runs :func:`~eventsim.sweep.worker.keep_freed_memory` first
(glibc), and is spawned with :func:`~eventsim.sweep.worker.worker_environ` (polars' jemalloc).
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import hashlib
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import EXTRA_QUEUED_CALLS, BrokenProcessPool
from typing import Any

from eventsim.exceptions import ConfigError
from eventsim.scenario import Scenario
from eventsim.sweep.executors.base import Outcome, SweepExecutor
from eventsim.sweep.executors.futures import outcome_of
from eventsim.sweep.worker import (
    Metrics,
    ShippedCallable,
    execute_run,
    failed_outcome,
    keep_freed_memory,
    worker_environ,
)

__all__ = ["DEFAULT_KEEP_ALIVE_S", "ProcessesExecutor", "shutdown_idle_pool"]

#: Seconds an idle pool is kept for the next sweep.
DEFAULT_KEEP_ALIVE_S = 120.0

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
    keep_alive_s
        Keep the pool warm this long after the sweep for the next one (see the module
        docstring); 0 shuts it down when the sweep ends.

    Examples
    --------
    >>> ProcessesExecutor(max_workers=2).workers
    2
    >>> ProcessesExecutor(keep_alive_s=-1)
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ConfigError: keep_alive_s must be a number >= 0; got -1
    """

    name = "processes"

    def __init__(
        self, *, max_workers: int | None = None, keep_alive_s: float = DEFAULT_KEEP_ALIVE_S
    ) -> None:
        if max_workers is not None and (
            not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1
        ):
            msg = f"max_workers must be an integer >= 1 or None; got {max_workers!r}"
            raise ConfigError(msg)
        if (
            isinstance(keep_alive_s, bool)
            or not isinstance(keep_alive_s, int | float)
            or not (keep_alive_s >= 0)
        ):
            msg = f"keep_alive_s must be a number >= 0; got {keep_alive_s!r}"
            raise ConfigError(msg)
        self.max_workers = max_workers or os.cpu_count() or 1
        self.keep_alive_s = float(keep_alive_s)
        self._pool: cf.ProcessPoolExecutor | None = None
        self._pool_workers = 0

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
            keep = self.keep_alive_s > 0  # a healthy pool stays open for close() to keep
            yield from self._batch(todo, scenarios, fn, self.max_workers, broken, keep=keep)
            if not broken:
                return
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
        """Run ``positions`` in the open pool, a warm one or a new one; those lost to a
        broken pool go to ``broken``, sorted. ``keep`` leaves a healthy pool open."""
        futures = self._submit(positions, scenarios, fn, workers)
        for future in cf.as_completed(futures):
            if isinstance(future.exception(), BrokenProcessPool):
                broken.append(futures[future])
            else:
                yield futures[future], outcome_of(future)
        broken.sort()
        if broken or not keep:
            self._shutdown_pool()

    def _submit(
        self,
        positions: list[int],
        scenarios: Sequence[Scenario],
        fn: Callable[[Scenario], Outcome],
        workers: int,
    ) -> dict[cf.Future[Outcome], int]:
        """Submit to the open pool, a warm one, or a new one (spawned lazily, per run)."""
        if self._pool is None:
            self._pool_workers = workers
            self._pool = _take_idle_pool(workers) if self.keep_alive_s > 0 else None
        if self._pool is not None:
            try:
                return {self._pool.submit(fn, scenarios[i]): i for i in positions}
            except BrokenProcessPool:  # a warm pool whose worker died while it waited
                self._pool.shutdown(wait=True, cancel_futures=True)
        context = multiprocessing.get_context("spawn")
        # sized to the runs, but a pool for the next sweep keeps max_workers slots (workers
        # spawn only as runs need them)
        size = workers if self.keep_alive_s > 0 else min(workers, len(positions))
        self._pool = cf.ProcessPoolExecutor(size, mp_context=context, initializer=keep_freed_memory)
        with worker_environ():  # workers are spawned by submit(), and inherit os.environ then
            return {self._pool.submit(fn, scenarios[i]): i for i in positions}

    def _shutdown_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def close(self, *, cancel: bool = False) -> None:
        """Keep a healthy pool warm for the next sweep (or shut it down); on ``cancel``
        drop queued runs and stop the workers now."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if cancel:
            _terminate_workers(pool)
            pool.shutdown(wait=False, cancel_futures=True)
        elif self.keep_alive_s > 0 and self._pool_workers == self.max_workers:
            _park_idle_pool(pool, self.max_workers, self.keep_alive_s)
        else:
            pool.shutdown(wait=True)


_idle_lock = threading.Lock()
#: The pool kept warm: (max_workers, environment fingerprint), pool, timer that stops it.
_Idle = tuple[tuple[int, str], cf.ProcessPoolExecutor, threading.Timer]
_idle: _Idle | None = None


def _fingerprint(workers: int) -> tuple[int, str]:
    """What a warm pool must match: its size, and the environment and path its workers got."""
    text = repr((sorted(os.environ.items()), sys.path))
    return workers, hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _swap_idle(entry: _Idle | None = None, *, only: Any = None) -> _Idle | None:
    """Put ``entry`` (or nothing) in the warm slot and return what was there, its timer
    cancelled. With ``only``, swap only while ``only`` is the pool there."""
    global _idle
    with _idle_lock:
        if only is not None and (_idle is None or _idle[1] is not only):
            return None
        previous, _idle = _idle, entry
    if previous is not None:
        previous[2].cancel()
    return previous


def _take_idle_pool(workers: int) -> cf.ProcessPoolExecutor | None:
    """The warm pool if it matches (then it is no longer idle), else None (and stop it)."""
    previous = _swap_idle()
    if previous is None:
        return None
    key, pool, _ = previous
    if key == _fingerprint(workers):
        return pool
    pool.shutdown(wait=False)
    return None


def _park_idle_pool(pool: cf.ProcessPoolExecutor, workers: int, keep_alive_s: float) -> None:
    """Keep ``pool`` for the next sweep; it shuts down after ``keep_alive_s`` unused."""
    timer = threading.Timer(keep_alive_s, _expire, args=(pool,))
    timer.daemon = True
    previous = _swap_idle((_fingerprint(workers), pool, timer))
    timer.start()
    if previous is not None:
        previous[1].shutdown(wait=False)


def _expire(pool: cf.ProcessPoolExecutor) -> None:
    if _swap_idle(only=pool) is not None:
        pool.shutdown(wait=True)


def shutdown_idle_pool() -> bool:
    """Stop the pool kept warm for the next sweep now; True if there was one.

    Examples
    --------
    >>> shutdown_idle_pool() in (True, False)
    True
    """
    previous = _swap_idle()
    if previous is not None:
        previous[1].shutdown(wait=True)
    return previous is not None


def _terminate_workers(pool: cf.ProcessPoolExecutor) -> None:
    # Python 3.14 has ProcessPoolExecutor.terminate_workers(); before, reach the processes.
    terminate: Callable[[], Any] | None = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()
