"""Same table whichever executor runs the sweep: serial, processes, Dask (LocalCluster)."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from polars.testing import assert_frame_equal

from eventsim.exceptions import ConfigError
from eventsim.scenario import Scenario
from eventsim.sweep import Grid, make_executor, shutdown_idle_pool, sweep
from eventsim.sweep.executors import DaskExecutor, FuturesExecutor, ProcessesExecutor

BASE = Scenario(duration="5s", params={"rate_per_s": 50})
GRID = Grid({"log.partitions": [1, 4], "consumers.0.members": [1, 2]}, seeds=range(2))
VOLATILE = ("run_s", "cached")


def fails_for_two_members(result):
    if result.scenario.consumers[0].members == 2 and result.scenario.seed == 0:
        raise ValueError("two members, seed 0")
    return result.summary()


@pytest.fixture(scope="module")
def serial_table():
    return sweep(BASE, GRID, metrics=fails_for_two_members, progress=False)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _same(table, reference):
    assert_frame_equal(table.drop(VOLATILE), reference.drop(VOLATILE))


def test_serial_table_has_the_failures(serial_table):
    assert serial_table.height == 8
    assert (serial_table.get_column("status") == "failed").sum() == 2


def test_processes_give_the_same_table(serial_table):
    table = sweep(BASE, GRID, metrics=fails_for_two_members, executor="processes",
                  max_workers=2, progress=False)  # fmt: skip
    _same(table, serial_table)


def test_a_thread_pool_gives_the_same_table(serial_table):
    with ThreadPoolExecutor(2) as pool:
        table = sweep(BASE, GRID, metrics=fails_for_two_members, executor=pool, progress=False)
    _same(table, serial_table)


def test_dask_client_gives_the_same_table(serial_table, dask_client):
    table = sweep(BASE, GRID, metrics=fails_for_two_members, executor=dask_client,
                  progress=False)  # fmt: skip
    _same(table, serial_table)
    assert dask_client.status == "running"  # a client we passed is left open


def test_dask_scheduler_address_and_a_lambda(serial_table, dask_client, tmp_path):
    address = dask_client.scheduler.address
    table = sweep(BASE, GRID, metrics=lambda r: {"n": r.events.height}, executor=address,
                  out=tmp_path, progress=False)  # fmt: skip
    ok = serial_table.get_column("status") == "ok"
    assert table.filter(ok).get_column("n").to_list() == serial_table.filter(ok)["events"].to_list()
    assert table.get_column("status").unique().to_list() == ["ok"]
    assert len(list((tmp_path / "runs").glob("*.json"))) == 8  # cache written client-side


@pytest.mark.parametrize(
    ("spec", "cls"),
    [("serial", "SerialExecutor"), ("processes", ProcessesExecutor.__name__),
     ("dask", DaskExecutor.__name__), ("tcp://h:8786", DaskExecutor.__name__)],
)  # fmt: skip
def test_make_executor(spec, cls):
    assert type(make_executor(spec, max_workers=2)).__name__ == cls


def test_make_executor_wraps_futures_executors_and_rejects_the_rest():
    with ThreadPoolExecutor(1) as pool:
        assert isinstance(make_executor(pool), FuturesExecutor)
    with pytest.raises(ConfigError, match=r"executor must be one of .*; did you mean 'serial'"):
        make_executor("serail")
    with pytest.raises(ConfigError, match="max_workers must be an integer >= 1"):
        make_executor("processes", max_workers=0)
    with pytest.raises(ConfigError, match="must look like 'tcp://host:8786'"):
        DaskExecutor("localhost")


def test_rows_come_back_in_grid_order_whatever_the_completion_order(serial_table):
    keys = serial_table.get_column("scenario_key").to_list()
    expected = [BASE.replace(**p).replace(seed=s).key() for p, s in GRID]
    assert keys == expected
    assert serial_table.get_column("seed").to_list() == [0, 1] * 4
    assert serial_table.get_column("log.partitions").to_list() == [1] * 4 + [4] * 4


def worker_pid(result):
    import os

    return {"pid": os.getpid()}


def _pids(**kwargs):
    table = sweep(BASE, GRID, metrics=worker_pid, executor="processes", max_workers=2,
                  progress=False, **kwargs)  # fmt: skip
    return set(table.get_column("pid").to_list())


def test_a_second_sweep_reuses_the_warm_pool():
    shutdown_idle_pool()
    first = _pids()
    second = _pids()
    assert second <= first  # the same worker processes, not new ones
    assert os.getpid() not in first
    assert shutdown_idle_pool()  # it was kept after the sweep
    assert not shutdown_idle_pool()
    assert not first & _pids()  # after a shutdown, new workers


def test_a_changed_environment_gets_a_new_pool(monkeypatch):
    shutdown_idle_pool()
    first = _pids()
    monkeypatch.setenv("EVENTSIM_TEST_POOL_ENV", "1")  # workers would not see it
    assert not first & _pids()
    shutdown_idle_pool()


def test_keep_alive_zero_keeps_no_pool():
    shutdown_idle_pool()
    with ProcessesExecutor(max_workers=2, keep_alive_s=0) as ex:
        out = dict(ex.results([BASE], worker_pid))
    assert out[0]["status"] == "ok"
    assert not shutdown_idle_pool()


def test_an_idle_pool_expires():
    from eventsim.sweep.executors import processes

    shutdown_idle_pool()
    _pids()
    pool = processes._idle[1]
    processes._expire(pool)  # what its timer does after keep_alive_s
    assert processes._idle is None
    assert not shutdown_idle_pool()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt is Linux-only")
def test_workers_can_keep_freed_memory():
    code = "from eventsim.sweep.worker import keep_freed_memory as k; print(k())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"  # mallopt accepted every parameter


def allocator_settings(result):
    return {"conf": os.environ.get("_RJEM_MALLOC_CONF", "")}


def test_pool_workers_keep_freed_pages_and_the_parent_environment_is_unchanged():
    before = dict(os.environ)
    with ProcessesExecutor(max_workers=1, keep_alive_s=0) as ex:
        table = sweep(BASE, Grid({"drain": [1.0]}), metrics=allocator_settings, executor=ex,
                      progress=False)  # fmt: skip
    conf = table.get_column("conf").item()
    # polars puts its own short decay first; the worker's setting comes last and wins
    assert conf.endswith("dirty_decay_ms:10000,muzzy_decay_ms:10000")
    assert conf.startswith(os.environ.get("_RJEM_MALLOC_CONF", "dirty_decay_ms:500"))
    assert dict(os.environ) == before


def test_a_dask_cluster_started_by_the_executor_runs_without_the_profiler():
    pytest.importorskip("distributed")
    with DaskExecutor(max_workers=1) as ex:
        client = ex._connect()
        enabled = client.run(
            lambda: __import__("dask").config.get("distributed.worker.profile.enabled")
        )
        conf = client.run(lambda: os.environ.get("_RJEM_MALLOC_CONF", ""))
    assert list(enabled.values()) == [False]
    assert all(c.endswith("muzzy_decay_ms:10000") for c in conf.values())


def environment_at_exec() -> str:
    """This process's environment as it was when it started (Linux)."""
    with open("/proc/self/environ", "rb") as f:
        entries = f.read().split(b"\0")
    return next((e.decode() for e in entries if e.startswith(b"_RJEM_MALLOC_CONF=")), "")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/environ")
def test_dask_workers_have_the_allocator_setting_when_they_start():
    """Set after start, it would come too late for a worker whose spawn re-imports a
    ``__main__`` that imports polars (the sweep benchmark did: 2.7x the page faults)."""
    pytest.importorskip("distributed")
    before = dict(os.environ)
    with DaskExecutor(max_workers=1) as ex:
        at_exec = ex._connect().run(environment_at_exec)
    assert [v.endswith("dirty_decay_ms:10000,muzzy_decay_ms:10000") for v in at_exec.values()] == [
        True
    ]
    assert dict(os.environ) == before
