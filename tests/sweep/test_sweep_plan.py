"""Bad input is reported before any run starts, one line per problem."""

from __future__ import annotations

import pytest

from eventsim.scenario import Scenario
from eventsim.sweep import Grid, SweepError, sweep
from eventsim.sweep.plan import check_path, plan_runs

BASE = Scenario(duration="5s", params={"rate_per_s": 50})


def _never(result):
    raise AssertionError("no run may start when the grid is invalid")


def _problems(grid: Grid, tmp_path=None) -> list[str]:
    with pytest.raises(SweepError) as info:
        sweep(BASE, grid, metrics=_never, progress=False, out=tmp_path)
    text = str(info.value)
    return text.splitlines()[1:] if text.startswith("sweep has") else [text]


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("log.partitons", "is not a scenario field; did you mean 'log.partitions'?"),
        ("logs.partitions", "is not a scenario field; did you mean 'log.partitions'?"),
        ("duraton", "is not a scenario field; did you mean 'duration'?"),
        (
            "params.rate_per_sec",
            "not a parameter of workload 'synthetic'; did you mean 'params.rate_per_s'?",
        ),
        ("consumers.1.members", "consumers has 1 item (indices 0..0)"),
        ("consumers.x.members", "consumers has 1 item"),
        ("consumers.0.membrs", "did you mean 'consumers.0.members'?"),
        ("seed.x", "seed is a value (0), not a table or list"),
    ],
)
def test_unknown_paths_are_named_with_a_suggestion(path, problem):
    found = check_path(BASE, path)
    assert found is not None
    assert found.startswith(f"grid key {path!r}")
    assert problem in found


@pytest.mark.parametrize(
    "path",
    ["log.partitions", "params.rate_per_s", "params.n_keys", "consumers.0.members", "seed",
     "log.retention_s", "incidents", "consumers"],
)  # fmt: skip
def test_known_paths_pass(path):
    assert check_path(BASE, path) is None


def test_every_bad_key_is_reported_at_once(tmp_path):
    grid = Grid({"log.partitons": [1], "params.rate": [5], "log.brokers": [3]})
    problems = _problems(grid, tmp_path)
    assert len(problems) == 2
    assert problems[0] == (
        "  grid key 'log.partitons' is not a scenario field; did you mean 'log.partitions'?"
    )
    assert problems[1] == (
        "  grid key 'params.rate' is not a parameter of workload 'synthetic';"
        " did you mean 'params.rate_per_s'?"
    )
    assert not (tmp_path / "runs").exists()


def test_rejected_values_are_reported_once_per_message_with_first_point():
    grid = Grid({"log.partitions": [4, 0], "log.brokers": [1, 2, 3]}, seeds=range(2))
    problems = _problems(grid)
    assert problems == [
        "log.partitions must be >= 1; got 0"
        " (first at grid point 3: log.partitions=0, log.brokers=1 and 2 more)"
    ]


def test_distinct_value_problems_each_get_a_line():
    grid = Grid.from_list(
        [
            {"log.partitions": 0},
            {"log.replication_factor": 5},
            {"params.rate_per_s": -1.0},
            {"duration": "soon"},
            {"log.partitions": "many"},
        ]
    )
    problems = [p.strip() for p in _problems(grid)]
    assert len(problems) == 5
    assert problems[0].startswith("log.partitions must be >= 1; got 0 (first at grid point 0")
    assert problems[1].startswith("log.replication_factor must be between 1 and log.brokers")
    assert problems[2].startswith("workload.params.rate_per_s must be > 0; got -1.0")
    assert problems[3].startswith("duration")
    assert "grid point 3" in problems[3]
    assert problems[4].startswith("log: '>=' not supported between instances of 'str'")
    assert "grid point 4" in problems[4]


def test_plan_dedupes_nothing_and_keeps_grid_order():
    grid = Grid.from_list([{"drain": 1.0}, {"drain": 1.0}], seeds=[2, 1])
    runs = plan_runs(BASE, grid)
    assert [r.index for r in runs] == [0, 1, 2, 3]
    assert [r.scenario.seed for r in runs] == [2, 1, 2, 1]
    assert runs[0].key == runs[2].key != runs[1].key


def test_base_and_grid_types_are_checked():
    with pytest.raises(SweepError, match="needs a Scenario"):
        sweep({"duration": 5}, Grid({"a": [1]}))  # type: ignore[arg-type]
    with pytest.raises(SweepError, match=r"needs a Grid; got dict \(wrap axes in Grid"):
        sweep(BASE, {"log.partitions": [1]})  # type: ignore[arg-type]
    with pytest.raises(SweepError, match="metrics must be a function"):
        sweep(BASE, Grid({"drain": [1]}), metrics=42)  # type: ignore[arg-type]
