"""sweep(): the table, failed rows, the cache, and resuming after an interruption."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from eventsim.scenario import Scenario
from eventsim.sim.engine import run
from eventsim.sweep import Grid, sweep

BASE = Scenario(duration="5s", params={"rate_per_s": 50})
GRID = Grid({"log.partitions": [1, 4], "params.rate_per_s": [50.0, 80.0]}, seeds=range(2))
KILL_ENV = "EVENTSIM_TEST_SWEEP_KILL"
INTERRUPT_ENV = "EVENTSIM_TEST_SWEEP_INTERRUPT"


def small_metrics(result):
    return {"events": result.events.height, "max_lag": result.summary()["max_lag"]}


def fails_on_4_partitions(result):
    if result.scenario.log.partitions == 4 and result.scenario.seed == 1:
        raise RuntimeError("broken\non purpose")
    return small_metrics(result)


def interrupts_once(result):
    """Raise KeyboardInterrupt in the run named by $INTERRUPT_ENV, once (a marker file)."""
    key, _, marker = os.environ.get(INTERRUPT_ENV, "").partition("|")
    if result.scenario.key() == key and not Path(marker).exists():
        Path(marker).touch()
        raise KeyboardInterrupt
    return small_metrics(result)


def kills_worker(result):
    """Kill the worker process in the run whose key is in $KILL_ENV."""
    if result.scenario.key() == os.environ.get(KILL_ENV):
        os._exit(3)
    return small_metrics(result)


def test_table_schema_order_and_values():
    table = sweep(BASE, GRID, metrics=small_metrics, progress=False)
    assert table.columns == [
        "log.partitions", "params.rate_per_s", "seed", "scenario_key",
        "events", "max_lag", "run_s", "status", "cached", "error",
    ]  # fmt: skip
    assert table.schema["seed"] == pl.Int64
    assert table.schema["run_s"] == pl.Float64
    assert table.schema["cached"] == pl.Boolean
    assert table.get_column("log.partitions").to_list() == [1, 1, 1, 1, 4, 4, 4, 4]
    assert table.get_column("params.rate_per_s").to_list() == [50.0, 50.0, 80.0, 80.0] * 2
    assert table.get_column("seed").to_list() == [0, 1] * 4
    assert table.get_column("status").unique().to_list() == ["ok"]
    assert not table.get_column("cached").any()
    # each row is what a direct run of that scenario gives
    row = table.row(5, named=True)
    sc = BASE.replace(**{"log.partitions": 4, "params.rate_per_s": 50.0}).replace(seed=1)
    assert row["scenario_key"] == sc.key()
    assert row["events"] == run(sc).events.height


def test_a_seed_axis_fills_the_seed_column():
    table = sweep(BASE, Grid({"drain": [1.0], "seed": [5, 6]}), metrics=small_metrics,
                  progress=False)  # fmt: skip
    assert table.columns[:3] == ["drain", "seed", "scenario_key"]
    assert table.get_column("seed").to_list() == [5, 6]


def test_default_metrics_are_the_run_summary():
    table = sweep(BASE, Grid({"drain": [1.0]}, seeds=[3]), progress=False)
    summary = run(BASE.replace(drain=1.0, seed=3)).summary()
    for name, value in summary.items():
        assert table.get_column(name).to_list() == [value]
    assert table.columns.count("seed") == 1
    assert table.columns.count("scenario_key") == 1


def test_a_failed_run_is_a_row_and_the_others_survive():
    table = sweep(BASE, GRID, metrics=fails_on_4_partitions, progress=False)
    failed = table.filter(pl.col("status") == "failed")
    assert failed.height == 2  # partitions 4, seed 1, both rates
    assert failed.get_column("seed").to_list() == [1, 1]
    assert failed.get_column("error").to_list() == ["RuntimeError: broken on purpose"] * 2
    assert failed.get_column("events").null_count() == 2
    assert table.filter(pl.col("status") == "ok").height == 6
    assert table.filter(pl.col("status") == "ok").get_column("error").null_count() == 6


@pytest.mark.parametrize(
    ("metrics", "error"),
    [
        (lambda r: {"x": [1, 2]}, "TypeError: metric 'x' must be a scalar"),
        (lambda r: [1], "TypeError: metrics must return a dict of scalars; got list"),
        (lambda r: {"status": 1}, "SweepError: metric names ['status'] clash"),
        (lambda r: {"drain": 1}, "SweepError: metric names ['drain'] clash"),
    ],
)
def test_bad_metrics_fail_the_run_with_a_message(metrics, error):
    table = sweep(BASE, Grid({"drain": [1.0]}), metrics=metrics, progress=False)
    assert table.get_column("status").to_list() == ["failed"]
    assert table.get_column("error").item().startswith(error)


def test_identical_points_run_once_and_fill_every_row():
    calls = []

    def counting(result):
        calls.append(result.scenario.key())
        return {"n": result.events.height}

    grid = Grid.from_list([{"drain": 1.0}, {"drain": 2.0}, {"drain": 1.0}])
    table = sweep(BASE, grid, metrics=counting, progress=False)
    assert len(calls) == 2
    keys = table.get_column("scenario_key").to_list()
    assert keys[0] == keys[2] != keys[1]
    assert table.get_column("n").to_list()[0] == table.get_column("n").to_list()[2]


def test_cache_files_and_resume(tmp_path):
    first = sweep(BASE, GRID, metrics=small_metrics, out=tmp_path, progress=False)
    files = sorted((tmp_path / "runs").glob("*.json"))
    assert len(files) == 8
    record = json.loads(files[0].read_text())
    assert set(record) >= {"scenario_key", "metrics_id", "metrics", "run_s", "scenario"}
    assert record["metrics_id"].endswith("small_metrics")
    assert_frame_equal(pl.read_parquet(tmp_path / "sweep.parquet"), first)

    again = sweep(BASE, GRID, metrics=small_metrics, out=tmp_path, progress=True)
    assert again.get_column("cached").all()
    assert_frame_equal(again.drop("cached"), first.drop("cached"))  # same run_s too

    # a different metrics function is a different cache entry
    other = sweep(BASE, GRID, metrics=lambda r: {"n": 1}, out=tmp_path, progress=False)
    assert not other.get_column("cached").any()


def test_failed_runs_are_not_cached_and_are_retried(tmp_path):
    sweep(BASE, GRID, metrics=fails_on_4_partitions, out=tmp_path, progress=False)
    assert len(list((tmp_path / "runs").glob("*.json"))) == 6
    again = sweep(BASE, GRID, metrics=fails_on_4_partitions, out=tmp_path, progress=False)
    assert again.get_column("cached").sum() == 6
    assert again.filter(~pl.col("cached")).get_column("status").to_list() == ["failed"] * 2


def test_a_corrupt_cache_file_is_run_again(tmp_path):
    grid = Grid({"drain": [1.0, 2.0]})
    sweep(BASE, grid, metrics=small_metrics, out=tmp_path, progress=False)
    victim = sorted((tmp_path / "runs").glob("*.json"))[0]
    victim.write_text('{"status": "ok", "metr')
    again = sweep(BASE, grid, metrics=small_metrics, out=tmp_path, progress=False)
    assert again.get_column("cached").sum() == 1
    assert json.loads(victim.read_text())["status"] == "ok"


def _interrupt_then_resume(tmp_path, monkeypatch, executor):
    plan = list(GRID)
    k = 5
    point, seed = plan[k]
    victim = BASE.replace(**point).replace(seed=seed).key()
    monkeypatch.setenv(INTERRUPT_ENV, f"{victim}|{tmp_path / 'marker'}")
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sweep(BASE, GRID, metrics=interrupts_once, out=out, executor=executor,
              max_workers=2, progress=False)  # fmt: skip
    saved = {p.name.split("-")[0] for p in (out / "runs").glob("*.json")}
    assert victim not in saved
    assert not (out / "sweep.parquet").exists()
    resumed = sweep(BASE, GRID, metrics=interrupts_once, out=out, progress=False)
    cached = set(resumed.filter(pl.col("cached")).get_column("scenario_key").to_list())
    assert cached == saved
    assert resumed.get_column("status").unique().to_list() == ["ok"]
    fresh = sweep(BASE, GRID, metrics=small_metrics, progress=False)
    assert_frame_equal(resumed.drop("run_s", "cached"), fresh.drop("run_s", "cached"))
    return saved, plan, victim


def test_keyboard_interrupt_serial_keeps_runs_before_it(tmp_path, monkeypatch):
    saved, plan, _ = _interrupt_then_resume(tmp_path, monkeypatch, "serial")
    before = {BASE.replace(**p).replace(seed=s).key() for p, s in plan[:5]}
    assert saved == before


def test_keyboard_interrupt_in_a_worker_process_keeps_finished_runs(tmp_path, monkeypatch):
    saved, _, _ = _interrupt_then_resume(tmp_path, monkeypatch, "processes")
    assert len(saved) < 8


def test_a_killed_worker_fails_only_its_run_and_resume_retries_it(tmp_path, monkeypatch):
    point, seed = list(GRID)[2]
    victim = BASE.replace(**point).replace(seed=seed).key()
    monkeypatch.setenv(KILL_ENV, victim)
    out = tmp_path / "out"
    table = sweep(BASE, GRID, metrics=kills_worker, out=out, executor="processes",
                  max_workers=2, progress=False)  # fmt: skip
    failed = table.filter(pl.col("status") == "failed")
    assert failed.get_column("scenario_key").to_list() == [victim]
    assert failed.get_column("error").item().startswith("WorkerDied: the worker process died")
    assert table.filter(pl.col("status") == "ok").height == 7
    assert len(list((out / "runs").glob("*.json"))) == 7

    monkeypatch.delenv(KILL_ENV)
    again = sweep(BASE, GRID, metrics=kills_worker, out=out, progress=False)
    assert again.filter(~pl.col("cached")).get_column("scenario_key").to_list() == [victim]
    assert again.get_column("status").unique().to_list() == ["ok"]
