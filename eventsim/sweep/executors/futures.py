"""Futures: any :class:`concurrent.futures.Executor` (thread pool, process pool, Dask's).

Every run is submitted at once and outcomes are yielded as futures complete. An exception the
worker could not turn into an outcome (the worker died, a result did not unpickle) becomes a
failed outcome for that run; ``KeyboardInterrupt`` from a worker stops the sweep.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
from collections.abc import Iterator, Sequence

from eventsim.scenario import Scenario
from eventsim.sweep.executors.base import Outcome, SweepExecutor
from eventsim.sweep.worker import Metrics, ShippedCallable, execute_run, failed_outcome

__all__ = ["FuturesExecutor", "outcome_of"]


def outcome_of(future: cf.Future[Outcome]) -> Outcome:
    """The outcome a finished future holds; its exception as a failed outcome.

    Raises
    ------
    BaseException
        Exceptions that are not ``Exception`` (``KeyboardInterrupt``, ``SystemExit``).

    Examples
    --------
    >>> f = cf.Future()
    >>> f.set_exception(MemoryError("out of memory"))
    >>> outcome_of(f)["error"]
    'MemoryError: out of memory'
    """
    if future.cancelled():
        return failed_outcome("CancelledError: the run was cancelled")
    exc = future.exception()
    if exc is None:
        return future.result()
    if not isinstance(exc, Exception):
        raise exc
    text = " ".join(str(exc).split())
    return failed_outcome(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


class FuturesExecutor(SweepExecutor):
    """Runs on a :class:`concurrent.futures.Executor` you own (it is not shut down here).

    Parameters
    ----------
    executor
        The pool to submit runs to.
    own
        Shut the pool down on :meth:`close` (for pools this object created).

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> sc = Scenario(duration="5s", params={"rate_per_s": 50})
    >>> with ThreadPoolExecutor(2) as pool, FuturesExecutor(pool) as ex:
    ...     out = dict(ex.results([sc, sc.replace(seed=1)], lambda r: {"n": r.events.height}))
    >>> out[0]["metrics"], out[1]["metrics"]
    ({'n': 251}, {'n': 232})
    """

    name = "futures"

    def __init__(self, executor: cf.Executor, *, own: bool = False) -> None:
        self.executor = executor
        self.own = own
        self._futures: list[cf.Future[Outcome]] = []

    @property
    def workers(self) -> int:
        """The pool's ``_max_workers`` when it tells, else 1."""
        return int(getattr(self.executor, "_max_workers", 1) or 1)

    def results(
        self, scenarios: Sequence[Scenario], metrics: Metrics
    ) -> Iterator[tuple[int, Outcome]]:
        """Submit every run, then yield outcomes as they complete."""
        fn = functools.partial(execute_run, metrics=ShippedCallable(metrics))
        self._futures = [self.executor.submit(fn, sc) for sc in scenarios]
        position = {id(f): i for i, f in enumerate(self._futures)}
        for future in cf.as_completed(self._futures):
            yield position[id(future)], outcome_of(future)

    def close(self, *, cancel: bool = False) -> None:
        """Cancel queued runs on ``cancel``; shut the pool down if this object owns it."""
        if cancel:
            for future in self._futures:
                future.cancel()
        if self.own:
            self.executor.shutdown(wait=not cancel, cancel_futures=cancel)
