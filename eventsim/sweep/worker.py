"""What a worker does with one run: simulate the scenario, compute its metrics, report back.

:func:`execute_run` never raises for a failing run: an exception in the simulation or in the
metrics function comes back as an outcome with ``status="failed"`` and a one-line ``error``.
Only interruptions (``KeyboardInterrupt``, ``SystemExit``) escape, so that a sweep stops.
An outcome is a small dict: ``status``, ``error``, ``run_s`` (wall seconds) and ``metrics``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from eventsim._memory import keep_freed_memory
from eventsim.scenario import Scenario
from eventsim.sim.result import RunResult

__all__ = [
    "DASK_WORKER_CONFIG",
    "Metrics",
    "ShippedCallable",
    "execute_run",
    "failed_outcome",
    "keep_freed_memory",
    "metrics_id",
    "worker_env",
    "worker_environ",
]

Metrics = Callable[[RunResult], Mapping[str, Any]]


def failed_outcome(error: str, run_s: float | None = None) -> dict[str, Any]:
    """The outcome of a run that did not produce metrics.

    Examples
    --------
    >>> failed_outcome("ValueError: bad", 0.5)
    {'status': 'failed', 'error': 'ValueError: bad', 'run_s': 0.5, 'metrics': {}}
    """
    return {"status": "failed", "error": error, "run_s": run_s, "metrics": {}}


def _scalar(name: str, value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    msg = f"metric {name!r} must be a scalar (number, string, bool or None); got {value!r}"
    raise TypeError(msg)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def execute_run(scenario: Scenario, metrics: Metrics) -> dict[str, Any]:
    """Run ``scenario`` and apply ``metrics`` to the result; failures become outcomes.

    Examples
    --------
    >>> sc = Scenario(duration="5s", seed=1, params={"rate_per_s": 50})
    >>> out = execute_run(sc, lambda r: {"events": r.events.height})
    >>> out["status"], out["metrics"], out["error"]
    ('ok', {'events': 232}, None)
    >>> execute_run(sc, lambda r: {"x": 1 / 0})["error"]
    'ZeroDivisionError: division by zero'
    """
    from eventsim.sim.engine import run

    start = time.perf_counter()
    try:
        result = run(scenario, progress=False)
        values = metrics(result)
        if not isinstance(values, Mapping):
            msg = f"metrics must return a dict of scalars; got {type(values).__name__}"
            raise TypeError(msg)
        clean = {str(k): _scalar(str(k), v) for k, v in values.items()}
    except Exception as exc:
        return failed_outcome(_one_line(exc), time.perf_counter() - start)
    return {"status": "ok", "error": None, "run_s": time.perf_counter() - start, "metrics": clean}


def metrics_id(metrics: Callable[..., Any]) -> str:
    """A stable name of a metrics function (module and qualified name; partials' arguments).

    It keys the cache, so two functions with the same name share cached results: rename the
    function (or clear the cache) when its body changes.

    Examples
    --------
    >>> metrics_id(RunResult.summary)
    'eventsim.sim.result.RunResult.summary'
    """
    import functools

    if isinstance(metrics, functools.partial):
        kwargs = sorted(metrics.keywords.items())
        return f"{metrics_id(metrics.func)}(*{metrics.args!r}, **{dict(kwargs)!r})"
    func = getattr(metrics, "__func__", metrics)
    module = getattr(func, "__module__", None) or type(func).__module__
    name = getattr(func, "__qualname__", None) or type(func).__qualname__
    return f"{module}.{name}"


class ShippedCallable:
    """A callable that pickles by value where it can (cloudpickle), so lambdas and functions
    defined in a notebook reach worker processes; plain pickle otherwise.

    Examples
    --------
    >>> f = pickle.loads(pickle.dumps(ShippedCallable(abs)))
    >>> f(-3)
    3
    """

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def __getstate__(self) -> bytes:
        try:
            import cloudpickle
        except ImportError:  # pragma: no cover - cloudpickle ships with the dask extra
            return pickle.dumps(self.func)
        return bytes(cloudpickle.dumps(self.func))

    def __setstate__(self, state: bytes) -> None:
        self.func = pickle.loads(state)


#: How long polars' allocator (jemalloc) keeps freed pages in a sweep worker, in ms.
JEMALLOC_DECAY_MS = 10_000


def worker_env() -> dict[str, str]:
    """Environment variables for a sweep worker process (spawned, or a Dask worker).

    ``polars`` sets ``_RJEM_MALLOC_CONF`` to ``dirty_decay_ms:500,muzzy_decay_ms:1000`` when
    it is imported (so that a notebook's memory goes back to the OS soon), with what the
    variable held before appended, and later options win. A worker running ~1 s runs back
    to back then faults in a few hundred MB afresh for every run, and two workers doing that
    side by side slow each other down (the pages are zeroed by the kernel: memory bandwidth).
    Workers keep freed pages for ``JEMALLOC_DECAY_MS`` instead (jemalloc's own default),
    long enough for the next run to reuse them; an idle worker still gives them back.
    ``NUMPY_MADVISE_HUGEPAGE=0``: numpy does not ask for transparent huge pages in a worker
    (see :mod:`eventsim._memory`; a run turns it off for its length anyway).

    Examples
    --------
    >>> worker_env()["_RJEM_MALLOC_CONF"].endswith("dirty_decay_ms:10000,muzzy_decay_ms:10000")
    True
    >>> worker_env()["NUMPY_MADVISE_HUGEPAGE"]
    '0'
    """
    keep = f"dirty_decay_ms:{JEMALLOC_DECAY_MS},muzzy_decay_ms:{JEMALLOC_DECAY_MS}"
    current = os.environ.get("_RJEM_MALLOC_CONF")
    jemalloc = f"{current},{keep}" if current else keep
    return {"_RJEM_MALLOC_CONF": jemalloc, "NUMPY_MADVISE_HUGEPAGE": "0"}


#: Dask configuration for sweep workers: a worker's statistical profiler samples the running
#: task's stack every 10 ms (taking the GIL), 2-5 % of a CPU-bound run here, and a sweep does
#: not need it. Set while a LocalCluster is created (its nannies pass their configuration to
#: the workers they start), or as ``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False`` in the
#: environment of ``dask worker``.
DASK_WORKER_CONFIG = {"distributed.worker.profile.enabled": False}


_environ_lock = threading.Lock()


@contextlib.contextmanager
def worker_environ() -> Iterator[None]:
    """While active, ``os.environ`` holds :func:`worker_env` for processes spawned then;
    restored after (the parent's own allocator read its settings long before)."""
    with _environ_lock:
        env = worker_env()
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
