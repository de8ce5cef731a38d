"""Determinism: a scenario and its seed determine every frame; streams are per component."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from eventsim import ConsumerGroupConfig, IncidentSpec, Scenario, run
from eventsim.sim.rng import RngStreams, stable_hash


def _scenario(seed: int = 5) -> Scenario:
    return Scenario(
        workload="synthetic",
        duration="20s",
        seed=seed,
        params={"rate_per_s": 150, "n_keys": 50, "topics": ("a", "b"), "topic_mix": (0.6, 0.4)},
        consumers=(
            ConsumerGroupConfig(name="g1", members=3),
            ConsumerGroupConfig(
                name="g2", members=2, assignor="roundrobin", commit="after-process"
            ),
        ),
        incidents=(IncidentSpec("error_burst", start_s=5.0, duration_s=3.0, intensity=0.5),),
        drain="5s",
    )


@pytest.fixture(scope="module")
def first() -> object:
    return run(_scenario(), progress=False)


def test_same_scenario_same_frames(first: object) -> None:
    again = run(_scenario(), progress=False)
    assert first.events.height > 2000
    assert_frame_equal(again.events, first.events)
    assert_frame_equal(again.deliveries, first.deliveries)
    assert_frame_equal(again.incidents, first.incidents)
    assert_frame_equal(again.metrics, first.metrics)
    assert again.summary() == first.summary()


def test_different_seed_different_frames(first: object) -> None:
    other = run(_scenario(seed=6), progress=False)
    assert not other.events.equals(first.events)
    assert not other.deliveries.equals(first.deliveries)


_CHILD = """
import sys
sys.path.insert(0, {here!r})
from test_sim_determinism import _scenario
from eventsim import run
run(_scenario(), progress=False).write_parquet({out!r})
"""


def test_same_frames_in_another_process(first: object, tmp_path: Path) -> None:
    """A fresh interpreter with another string-hash seed produces the very same tables."""
    out = tmp_path / "run.parquet"
    code = _CHILD.format(here=str(Path(__file__).parent), out=str(out))
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
    other = pl.read_parquet(out)
    assert_frame_equal(other, first.events)
    assert_frame_equal(pl.read_parquet(tmp_path / "run.deliveries.parquet"), first.deliveries)


# -- RngStreams -----------------------------------------------------------------------------------
def test_adding_a_component_does_not_change_another_stream() -> None:
    alone = RngStreams(7)("workload").random(5)
    streams = RngStreams(7)
    streams("producer").random(100)
    streams("a-new-component").integers(0, 10, 3)
    assert np.array_equal(streams("workload").random(5), alone)


def test_streams_depend_on_seed_and_name() -> None:
    a = RngStreams(7)("workload").random(4)
    assert not np.array_equal(RngStreams(8)("workload").random(4), a)
    assert not np.array_equal(RngStreams(7)("producer").random(4), a)


def test_stream_is_reused_and_fresh_replays() -> None:
    streams = RngStreams(3)
    gen = streams("x")
    assert streams("x") is gen
    first = gen.random(3)
    assert not np.array_equal(gen.random(3), first)
    assert np.array_equal(streams.fresh("x").random(3), first)


def test_stable_hash_is_crc32() -> None:
    assert stable_hash("producer") == 2539932124
    assert stable_hash("") == 0
