"""Sweep files (TOML) and the `eventsim sweep` command helpers."""

from __future__ import annotations

import argparse
import textwrap

import polars as pl
import pytest

from eventsim.scenario import Scenario
from eventsim.sweep import (
    Grid,
    SweepError,
    add_sweep_parser,
    load_sweep,
    read_sweep_file,
    run_sweep_cli,
    sweep_main,
)


def _write(tmp_path, text, name="sweep.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_full_file_with_grid_points_and_sample(tmp_path):
    Scenario(duration="5s", params={"rate_per_s": 50}).write_toml(tmp_path / "base.toml")
    path = _write(
        tmp_path,
        """
        scenario = "base.toml"
        seeds = [3, 4]
        metrics = "eventsim.sim.result:RunResult.summary"

        [grid]
        log.partitions = [4, 12]
        "consumers.0.members" = [1]

        [[points]]
        drain = 1.0
        [[points]]
        drain = 2.0
        producer = { linger_s = 0.01 }

        [sample]
        method = "random"
        n = 3
        seed = 9
        [sample.ranges]
        params.rate_per_s = [10.0, 100.0]
        "consumers.0.commit" = { choices = ["auto", "after-process"] }
        log.retention_s = { low = 60.0, high = 600.0, log = true }
        """,
    )
    spec = read_sweep_file(path)
    assert spec.scenario.duration == 5.0
    assert spec.metrics == "eventsim.sim.result:RunResult.summary"
    grid = spec.grid
    assert grid.seeds == (3, 4)
    assert len(grid.points) == 2 * 1 * 2 * 3
    assert grid.params == (
        "log.partitions", "consumers.0.members", "drain", "params.rate_per_s",
        "consumers.0.commit", "log.retention_s", "producer.linger_s",
    )  # fmt: skip
    sampled = Grid.sample(
        {
            "params.rate_per_s": [10.0, 100.0],
            "consumers.0.commit": {"choices": ["auto", "after-process"]},
            "log.retention_s": {"low": 60.0, "high": 600.0, "log": True},
        },
        3,
        method="random",
        sample_seed=9,
    )
    assert [p["params.rate_per_s"] for p in grid.points[:3]] == [
        p["params.rate_per_s"] for p in sampled.points
    ]
    assert load_sweep(path) == (spec.scenario, grid)


def test_inline_scenario_and_n_seeds(tmp_path):
    path = _write(
        tmp_path,
        """
        n_seeds = 3
        [scenario]
        duration = "5s"
        params = { rate_per_s = 50 }
        """,
    )
    base, grid = load_sweep(path)
    assert base == Scenario(duration="5s", params={"rate_per_s": 50})
    assert list(grid) == [({}, 0), ({}, 1), ({}, 2)]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[scenario]\nduration = "5s"\n', "grid is empty"),
        ('seeds = [1]\nn_seeds = 2\n[scenario]\nduration = "5s"\n', "not both"),
        ('n_seeds = 0\n[scenario]\nduration = "5s"\n', "n_seeds must be an integer >= 1"),
        ('seeds = 3\n[scenario]\nduration = "5s"\n', "seeds must be a list"),
        ("seeds = [1]\n", "needs scenario = 'file.toml' or a"),
        ('seed = [1]\n[scenario]\nduration = "5s"\n', "unknown key 'seed'; did you mean 'seeds'"),
        ('[scenario]\nduration = "5s"\n[grid]\nlog.partitions = []\n', "'log.partitions' is empty"),
        ('[scenario]\nduration = "5s"\n[sample]\nn = 2\n', r"needs n \(how many points\) and"),
        ('[scenario]\nduration = "5s"\n[sample]\nn = 2\nmethd = "lhs"\n', "did you mean 'method'"),
        ('scenario = "missing.toml"\nseeds = [1]\n', "cannot be read"),
        ("seeds = [1\n", "is not valid TOML"),
        ('metrics = 3\nseeds = [1]\n[scenario]\nduration = "5s"\n', "metrics must be a name"),
    ],
)  # fmt: skip
def test_bad_files(tmp_path, text, match):
    path = _write(tmp_path, text)
    with pytest.raises(Exception, match=match) as info:
        read_sweep_file(path)
    assert "\n" not in str(info.value)


def test_a_missing_sweep_file(tmp_path):
    with pytest.raises(SweepError, match="cannot be read"):
        read_sweep_file(tmp_path / "nope.toml")


def test_add_sweep_parser_wires_a_subcommand():
    parser = argparse.ArgumentParser(prog="eventsim")
    add_sweep_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["sweep", "s.toml", "--scheduler", "tcp://h:8786", "--out", "res", "--no-progress"]
    )
    assert args.func is run_sweep_cli
    assert (args.scheduler, str(args.out), args.no_progress) == ("tcp://h:8786", "res", True)


def test_cli_runs_prints_a_summary_and_resumes(tmp_path, capsys):
    path = _write(
        tmp_path,
        """
        n_seeds = 2
        [scenario]
        duration = "5s"
        params = { rate_per_s = 50 }
        [grid]
        log.partitions = [1, 4]
        """,
    )
    out = tmp_path / "results"
    argv = [str(path), "--executor", "serial", "--out", str(out), "--no-progress"]
    assert sweep_main(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("4 runs: 4 ok (0 cached), 0 failed in ")
    assert f"table in {out / 'sweep.parquet'}" in text
    assert "max_lag" in text  # varies with partitions
    assert "duration_s" not in text  # constant: left out of the summary
    assert pl.read_parquet(out / "sweep.parquet").height == 4
    assert sweep_main(argv) == 0
    assert capsys.readouterr().out.startswith("4 runs: 4 ok (4 cached), 0 failed")


def test_cli_reports_failed_runs_and_exits_1(tmp_path, capsys):
    path = _write(tmp_path, '[scenario]\nduration = "5s"\n[grid]\ndrain = [1.0, 2.0]\n')
    argv = [str(path), "--executor", "serial", "--no-progress"]
    assert sweep_main([*argv, "--metrics", "test_sweep_config:metrics_failing_on_drain_2"]) == 1
    text = capsys.readouterr().out
    assert "2 runs: 1 ok (0 cached), 1 failed" in text
    assert "failed: drain=2.0, seed=0: ValueError: drain 2" in text


def metrics_failing_on_drain_2(result):
    if result.scenario.drain == 2.0:
        raise ValueError("drain 2")
    return {"events": result.events.height}


def test_cli_bad_input_exits_2_before_running(tmp_path, capsys):
    path = _write(tmp_path, '[scenario]\nduration = "5s"\n[grid]\nlog.partitons = [1]\n')
    assert sweep_main([str(path), "--executor", "serial", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: grid key 'log.partitons' is not a scenario field; did you mean 'log.partitions'?\n"
    )
    assert not (tmp_path / "o").exists()
    assert sweep_main([str(path), "--metrics", "nowhere:thing"]) == 2
    assert "metrics 'nowhere:thing' cannot be loaded" in capsys.readouterr().err
