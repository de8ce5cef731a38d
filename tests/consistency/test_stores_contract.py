"""Every registered store model: fault-free runs pass their own checker, same seed gives the
same frames, the frames keep their schemas, configs pickle and replace."""

from __future__ import annotations

import math
import pickle

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from eventsim.consistency import HISTORY_SCHEMA, validate_history
from eventsim.consistency.stores import (
    FINAL_STATE_SCHEMA,
    STORES,
    TRACE_SCHEMA,
    StoreConfig,
    get_store,
    run_store,
)
from eventsim.consistency.stores.base import Store

# each model with the settings it needs and a 10-second, 3-replica, 6-client workload
CONFIGS = {
    name: StoreConfig(
        model=name,
        duration_s=10,
        seed=4,
        **({"max_staleness_s": 0.3, "max_staleness_versions": 3} if name == "bounded" else {}),
    )
    for name in STORES
}
CRDT_TYPES = ("gcounter", "pncounter", "orset", "lww_register", "mv_register")


@pytest.fixture(scope="module")
def runs() -> dict[str, object]:
    return {name: run_store(cfg) for name, cfg in CONFIGS.items()}


def test_registry_names_its_classes() -> None:
    for name in STORES:
        cls = get_store(name)
        assert issubclass(cls, Store)
        assert cls.name == name
        assert cls.summary


@pytest.mark.parametrize("name", list(STORES))
def test_fault_free_run_passes_its_own_checker(runs: dict, name: str) -> None:
    result = runs[name]
    verdict = result.check()
    assert verdict.valid is True, verdict.anomalies
    assert verdict.n_anomalies == 0
    assert result.summary()["availability"] == 1.0


@pytest.mark.parametrize("crdt", CRDT_TYPES)
def test_every_crdt_type_passes_its_checker(crdt: str) -> None:
    result = run_store(CONFIGS["crdt"].replace(crdt=crdt))
    assert result.check().valid is True
    final = result.final_state
    # strong eventual consistency: every replica holds the same state of every key
    assert final.group_by("key").agg(pl.col("version").n_unique())["version"].max() == 1
    assert final.height == 3 * final["key"].n_unique()


@pytest.mark.parametrize("name", list(STORES))
def test_same_seed_same_frames(runs: dict, name: str) -> None:
    again = run_store(CONFIGS[name])
    first = runs[name]
    for frame in ("history", "trace", "replica_states", "final_state", "faults"):
        assert_frame_equal(getattr(again, frame), getattr(first, frame))
    assert again.messages == first.messages
    other = run_store(CONFIGS[name].replace(seed=5))
    assert not other.history.equals(first.history)


@pytest.mark.parametrize("name", list(STORES))
def test_frames_keep_their_schemas(runs: dict, name: str) -> None:
    result = runs[name]
    h = result.history
    assert dict(h.schema) == {**HISTORY_SCHEMA, "version": pl.Int64()}
    validate_history(h)
    assert h["invoke_s"].is_sorted()
    assert dict(result.trace.schema) == TRACE_SCHEMA
    assert result.trace["row"].to_list() == list(range(h.height))
    assert dict(result.final_state.schema) == FINAL_STATE_SCHEMA
    assert result.replica_states.columns == ["time_s", "replica", "key", "version"]
    assert result.replica_states["time_s"].is_sorted()
    assert result.replica_states["time_s"].max() <= result.config.end_s


@pytest.mark.parametrize("name", list(STORES))
def test_a_session_runs_one_operation_at_a_time(runs: dict, name: str) -> None:
    h = runs[name].history.with_columns(pl.col("process") % 6)
    for _, ops in h.group_by("process"):
        ops = ops.sort("invoke_s")
        done = ops["complete_s"].to_list()
        starts = ops["invoke_s"].to_list()
        timeout = runs[name].config.timeout_s
        for prev_done, prev_start, nxt in zip(done, starts, starts[1:]):
            # an info op completes "at inf" but its client moved on after the timeout
            end = prev_done if math.isfinite(prev_done) else prev_start + timeout
            assert nxt >= end - 1e-9


@pytest.mark.parametrize("name", [n for n in STORES if n != "crdt"])
def test_writes_carry_unique_values_and_versions(runs: dict, name: str) -> None:
    w = runs[name].history.filter(pl.col("op") == "write")
    assert w["value"].n_unique() == w.height
    per_key = (
        w.filter(pl.col("version").is_not_null())
        .group_by("key")
        .agg(pl.col("version").n_unique().alias("distinct"), pl.len())
    )
    assert (per_key["distinct"] == per_key["len"]).all()


def test_config_pickles_replaces_and_hashes() -> None:
    cfg = CONFIGS["quorum"]
    again = pickle.loads(pickle.dumps(cfg))
    assert again == cfg
    assert again.key() == cfg.key()
    assert hash(again) == hash(cfg)
    changed = cfg.replace(r=1, w=3)
    assert (changed.r, changed.w, changed.model) == (1, 3, "quorum")
    assert changed.key() != cfg.key()
    result = run_store(cfg)
    assert pickle.loads(pickle.dumps(result.config)) == cfg


def test_run_store_takes_changes() -> None:
    a = run_store(CONFIGS["eventual"], model="session")
    b = run_store(CONFIGS["session"])
    assert a.config == b.config
    assert_frame_equal(a.history, b.history)
    assert run_store(model="causal", duration_s=2, seed=1).config.model == "causal"


def test_run_with_store_records_history_in_the_run_result(tmp_path) -> None:
    """Issue 5: every client operation is recorded in ``RunResult.history``."""
    from eventsim.consistency import check_session, run_with_store
    from eventsim.scenario import Scenario
    from eventsim.sim.result import RunResult

    sc = Scenario(workload="amazon", duration="60s", seed=3)
    res, store = run_with_store(sc, model="session", duration_s=60, seed=3)
    assert res.history is not None
    assert res.history.equals(store.history)
    assert res.history.height > 0
    assert check_session(res.history).valid
    path = res.write_parquet(tmp_path / "run.parquet")
    back = RunResult.read_parquet(path)
    assert back.history is not None
    assert back.history.equals(res.history)
