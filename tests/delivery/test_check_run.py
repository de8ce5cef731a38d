"""The delivery checker on real runs: every preset under faults, saved and recounted."""

from __future__ import annotations

from pathlib import Path

import pytest

import eventsim as es
from eventsim.delivery import apply_preset
from eventsim.delivery.checker import check, recount_from_parquet

BASE = es.Scenario(
    workload="synthetic",
    duration="4s",
    seed=3,
    drain="10s",
    params={"rate_per_s": 100, "n_keys": 20},
    consumers=(es.ConsumerGroupConfig(name="g", members=2, session_timeout_s=1.0),),
)
FAULTS = {
    "scheduled": [
        {
            "kind": "consumer_crash",
            "target": "g-0",
            "start_s": 1.0,
            "duration_s": 0.5,
            "point": "after-process",
        },
        {
            "kind": "link_drop",
            "target": "producer",
            "start_s": 2.0,
            "duration_s": 0.5,
            "probability": 0.3,
        },
    ]
}
COUNTS = ("produced", "delivered_once", "lost", "duplicated")


def test_a_run_without_faults_is_valid() -> None:
    r = check(es.run(BASE, progress=False))
    assert r.valid is True
    assert r.info["exactly_once"] is True
    assert r.info["outcomes"]["delivered_once"] == r.info["produced"] > 0


@pytest.mark.parametrize(
    "preset", ["at-most-once", "at-least-once", "exactly-once", "effectively-once"]
)
def test_checker_agrees_with_the_parquet_recount(preset: str, tmp_path: Path) -> None:
    res = es.run(apply_preset(BASE, preset).replace(faults=FAULTS), progress=False)
    r = check(res)
    recount = recount_from_parquet(res.write_parquet(tmp_path / "run.parquet"))
    assert {k: r.info[k] for k in COUNTS} == {k: recount[k] for k in COUNTS}
    if preset == "at-most-once":
        assert r.info["duplicated"] == 0
    if preset == "at-least-once":
        assert r.info["lost"] == 0
    if preset in ("exactly-once", "effectively-once"):
        assert r.info["exactly_once"] is True
    if preset == "exactly-once":
        assert r.valid is True  # reordering after retried transactions is allowed
