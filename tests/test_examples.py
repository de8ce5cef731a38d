"""Every scenario file in examples/ loads and runs (shortened so the suite stays quick)."""

from __future__ import annotations

from pathlib import Path

import pytest

import eventsim as es
from eventsim.scenario import load_scenario

ALL = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.toml"))
SWEEPS = [p for p in ALL if p.name.startswith("sweep_")]
EXAMPLES = [p for p in ALL if p not in SWEEPS]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path: Path) -> None:
    scenario = load_scenario(path)
    needed = max(
        [120.0]
        + [f.end_s for f in scenario.faults.scheduled]
        + [i.end_s for i in scenario.incidents]
    )
    short = scenario.replace(duration=min(scenario.duration, needed), drain=5.0)
    result = es.run(short, progress=False)
    assert result.events.height > 0
    assert result.deliveries.height > 0
    assert result.summary()["scenario_key"] == short.key()


def test_examples_exist() -> None:
    assert {p.name for p in EXAMPLES} >= {"synthetic.toml", "delivery_faults.toml"}


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.name)
def test_sweep_example_loads(path: Path) -> None:
    from eventsim.sweep import load_sweep

    loaded = load_sweep(path)
    assert loaded is not None
