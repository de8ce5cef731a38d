"""A run keeps freed memory for its phases and gives it back at the end (glibc mallopt)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import threading

import pytest

from eventsim import _memory
from eventsim.scenario import Scenario
from eventsim.sim import engine


class FakeLibc:
    """Records mallopt / malloc_trim calls instead of changing the real allocator."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append(("mallopt", param, value))
        return 1

    def malloc_trim(self, pad: int) -> int:
        self.calls.append(("trim", pad))
        return 1


class FakeHugepages:
    """Stands for numpy's ``_set_madvise_hugepage`` (returns the previous setting)."""

    def __init__(self, on: bool = True) -> None:
        self.on = on
        self.calls: list[bool] = []

    def __call__(self, enabled: bool) -> bool:
        before, self.on = self.on, enabled
        self.calls.append(enabled)
        return before


@pytest.fixture
def hugepages(monkeypatch):
    fake = FakeHugepages()
    monkeypatch.setattr(_memory, "_HUGEPAGES", fake)
    return fake


@pytest.fixture
def libc(monkeypatch, hugepages):
    fake = FakeLibc()
    monkeypatch.setattr(_memory, "_LIBC", fake)
    monkeypatch.setattr(_memory, "_kept", False)
    monkeypatch.setattr(_memory, "_depth", 0)
    return fake


def settings(calls):
    return tuple((p, v) for kind, *args in calls if kind == "mallopt" for p, v in [args])


def test_settings_hold_for_the_outermost_block_then_defaults_and_trim(libc):
    with _memory.retained_memory() as kept:
        assert kept
        assert settings(libc.calls) == _memory.RETAIN
        with _memory.retained_memory():  # nested (or another thread's run): no change
            pass
        assert len(libc.calls) == len(_memory.RETAIN)
    assert settings(libc.calls) == _memory.RETAIN + _memory.DEFAULTS
    assert libc.calls[-1] == ("trim", 0)
    assert _memory._depth == 0


@pytest.mark.parametrize("before", [True, False])
def test_numpy_asks_for_no_huge_pages_within_the_outermost_block(libc, hugepages, before):
    hugepages.on = before
    with _memory.retained_memory():
        assert hugepages.on is False
        with _memory.retained_memory():
            pass
        assert hugepages.calls == [False]  # the nested block changes nothing
    assert hugepages.on is before
    assert hugepages.calls == [False, before]


def test_numpy_huge_pages_come_back_when_the_run_fails(libc, hugepages):
    with pytest.raises(RuntimeError), _memory.retained_memory():
        raise RuntimeError("boom")
    assert hugepages.on is True


def test_defaults_come_back_even_when_the_run_fails(libc):
    with pytest.raises(RuntimeError), _memory.retained_memory():
        raise RuntimeError("boom")
    assert settings(libc.calls)[-3:] == _memory.DEFAULTS
    assert libc.calls[-1] == ("trim", 0)


def test_threads_share_one_block(libc):
    inside, release = threading.Barrier(3), threading.Event()

    def hold():
        with _memory.retained_memory():
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()  # both threads are inside
    assert settings(libc.calls) == _memory.RETAIN
    release.set()
    for t in threads:
        t.join()
    assert settings(libc.calls) == _memory.RETAIN + _memory.DEFAULTS


def test_a_worker_that_keeps_memory_is_never_reset(libc, hugepages):
    assert _memory.keep_freed_memory()
    with _memory.retained_memory() as kept:
        assert kept
    assert settings(libc.calls) == _memory.KEEP
    assert not any(kind == "trim" for kind, *_ in libc.calls)
    assert hugepages.on is False
    assert hugepages.calls == [False]


def test_without_glibc_nothing_is_called(monkeypatch):
    monkeypatch.setattr(_memory, "_LIBC", None)
    monkeypatch.setattr(_memory, "_kept", False)
    with _memory.retained_memory() as kept:
        assert not kept
    assert not _memory.keep_freed_memory()


def test_run_holds_the_block(libc, monkeypatch):
    depth = []
    simulate = engine.Simulation.run

    def spy(self, **kw):
        depth.append(_memory._depth)
        return simulate(self, **kw)

    monkeypatch.setattr(engine.Simulation, "run", spy)
    sc = Scenario(workload="synthetic", duration="5s", seed=1, params={"rate_per_s": 20})
    res = engine.run(sc)
    assert depth == [1]
    assert res.deliveries.height == res.events.height
    assert settings(libc.calls) == _memory.RETAIN + _memory.DEFAULTS


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt is Linux-only")
def test_glibc_accepts_every_setting():
    code = (
        "from eventsim import _memory as m\n"
        "with m.retained_memory() as kept: print(kept)\n"
        "print(m._set(m.DEFAULTS), m.keep_freed_memory())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "True"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="huge pages: Linux only")
@pytest.mark.parametrize(("env", "after"), [("1", "True"), ("0", "False")])
def test_numpy_huge_pages_are_off_during_a_run_and_as_before_after(env, after):
    code = (
        "from numpy._core.multiarray import _get_madvise_hugepage as on\n"
        "from eventsim import _memory as m\n"
        "with m.retained_memory(): print(on())\n"
        "print(on())"
    )
    env = {**os.environ, "NUMPY_MADVISE_HUGEPAGE": env}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["False", after]


def test_a_serial_sweep_keeps_memory_between_its_runs(libc):
    from eventsim.sweep.executors.serial import SerialExecutor

    sc = Scenario(workload="synthetic", duration="5s", seed=1, params={"rate_per_s": 20})
    seen = []
    with SerialExecutor() as ex:
        for _, outcome in ex.results([sc, sc.replace(seed=2)], lambda r: {"n": r.events.height}):
            seen.append((_memory._depth, outcome["status"]))
    assert seen == [(1, "ok"), (1, "ok")]  # each run() nested in the sweep's block
    assert settings(libc.calls) == _memory.RETAIN + _memory.DEFAULTS  # set once, reset once
    assert [c for c in libc.calls if c[0] == "trim"] == [("trim", 0)]


def test_after_a_run_the_process_gets_the_settings_it_started_with():
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536", "MALLOC_TOP_PAD_": "x"}
    code = "from eventsim import _memory as m; print(dict(m.DEFAULTS))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    restored = ast.literal_eval(out.stdout)
    assert restored == {
        _memory.M_MMAP_THRESHOLD: 128 << 10,  # glibc's default
        _memory.M_TRIM_THRESHOLD: 65536,  # from the environment (Dask sets this one)
        _memory.M_TOP_PAD: 0,  # not a number: glibc's default
    }
