"""Dask: runs on a ``dask.distributed`` cluster — a Client you pass, a scheduler address, or a
LocalCluster started here.

Dask ships the scenarios and the metrics function (cloudpickle) to the workers and the outcome
dicts back; the sweep writes the cache on the client side, so workers need no shared disk. A
worker that dies is replaced by the cluster and its run retried; a run that keeps killing
workers comes back as a failed outcome (``KilledWorker``). ``distributed`` is imported only here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

from eventsim.exceptions import ConfigError
from eventsim.scenario import Scenario
from eventsim.sweep.executors.base import Outcome, SweepExecutor
from eventsim.sweep.executors.futures import FuturesExecutor
from eventsim.sweep.worker import (
    DASK_WORKER_CONFIG,
    Metrics,
    keep_freed_memory,
    worker_env,
    worker_environ,
)

__all__ = ["DaskExecutor", "is_dask_client", "local_cluster"]


def is_dask_client(obj: Any) -> bool:
    """True for a ``distributed.Client`` (checked without importing dask).

    Examples
    --------
    >>> is_dask_client("tcp://127.0.0.1:8786"), is_dask_client(None)
    (False, False)
    """
    module = type(obj).__module__ or ""
    return module.split(".")[0] == "distributed" and hasattr(obj, "get_executor")


def local_cluster(n_workers: int | None = None) -> Any:
    """A ``distributed.LocalCluster`` of ``n_workers`` (default: every CPU) single-threaded
    worker processes, set up for sweeps (``executor="dask"`` starts this one).

    No profiler on the workers, and :func:`~eventsim.sweep.worker.worker_env` in
    ``os.environ`` while they are spawned: a worker process imports the parent's
    ``__main__`` module (spawn) before the Nanny applies ``env``, and if that imports polars,
    jemalloc has read its settings by then (on the sweep benchmark: 2.7x the page faults,
    8-13 % slower). ``env`` still carries them for workers the Nanny restarts later.
    """
    import dask
    from distributed import LocalCluster

    with dask.config.set(DASK_WORKER_CONFIG), worker_environ():
        return LocalCluster(
            n_workers=n_workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: None still tries 8787 (warns if taken)
            env=worker_env(),
        )


class DaskExecutor(SweepExecutor):
    """Runs on a Dask cluster.

    Parameters
    ----------
    client
        A ``distributed.Client`` (left open), a scheduler address such as
        ``"tcp://host:8786"`` (connected and closed here), or None to start a LocalCluster
        of ``max_workers`` single-threaded worker processes (closed here).
    max_workers
        Workers of the LocalCluster started when ``client`` is None (default: every CPU).

    Examples
    --------
    >>> DaskExecutor("tcp://scheduler:8786").address
    'tcp://scheduler:8786'
    """

    name = "dask"

    def __init__(self, client: Any = None, *, max_workers: int | None = None) -> None:
        self.address: str | None = None
        self.max_workers = max_workers
        self._client: Any = None
        self._owned: list[Any] = []  # cluster and client this object started, closed in order
        self._inner: FuturesExecutor | None = None
        if isinstance(client, str):
            if "://" not in client:
                msg = f"Dask scheduler address must look like 'tcp://host:8786'; got {client!r}"
                raise ConfigError(msg)
            self.address = client
        elif client is not None and not is_dask_client(client):
            msg = f"Dask executor needs a distributed.Client or an address; got {client!r}"
            raise ConfigError(msg)
        else:
            self._client = client

    @property
    def workers(self) -> int:
        """Worker threads in the cluster (once connected), else ``max_workers`` or 1."""
        if self._client is not None:
            info = self._client.scheduler_info()
            return sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()) or 1
        return self.max_workers or 1

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        from distributed import Client

        if self.address is not None:
            self._client = Client(self.address)
            self._owned = [self._client]
        else:
            cluster = local_cluster(self.max_workers)
            self._client = Client(cluster)
            self._owned = [self._client, cluster]
        return self._client

    def results(
        self, scenarios: Sequence[Scenario], metrics: Metrics
    ) -> Iterator[tuple[int, Outcome]]:
        """Submit every run to the cluster; yield outcomes as they complete."""
        client = self._connect()
        client.run(keep_freed_memory)  # on the workers there are now (cheap; see its docs)
        self._inner = FuturesExecutor(client.get_executor(pure=False))
        yield from self._inner.results(scenarios, metrics)

    def close(self, *, cancel: bool = False) -> None:
        """Cancel queued runs on ``cancel``; close the client/cluster started here."""
        if self._inner is not None:
            self._inner.close(cancel=cancel)
            self._inner = None
        owned, self._owned = self._owned, []
        for obj in owned:
            obj.close()
        if owned:
            self._client = None
