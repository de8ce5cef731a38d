"""Properties over random partitions and seeds: each model keeps its guarantee whatever the
partition (strong models may only become unavailable), and runs are reproducible."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from eventsim.consistency import check_causal, check_linearizable, check_session
from eventsim.consistency.stores import (
    StoreConfig,
    check_bounded_staleness,
    check_sequential,
    run_store,
)
from eventsim.faults import FaultSpec

NODES = [f"replica-{i}" for i in range(3)] + [f"client-{j}" for j in range(4)]


@st.composite
def partitions(draw: st.DrawFn) -> tuple[FaultSpec, ...]:
    """Zero to two partitions, each a random split of the nodes, within [0, 8] s."""
    out = []
    for k in range(draw(st.integers(0, 2))):
        side = draw(st.sets(st.sampled_from(NODES), min_size=1, max_size=len(NODES) - 1))
        other = [n for n in NODES if n not in side]
        start = draw(st.floats(0.0, 6.0)) + 0.001 * k
        length = draw(st.floats(0.2, 3.0))
        target = f"{','.join(sorted(side))}|{','.join(other)}"
        out.append(FaultSpec("network_partition", target, start, length))
    # windows of one target may not overlap: keep them on distinct splits
    return tuple({f.target: f for f in out}.values())


def _config(model: str, faults: tuple[FaultSpec, ...], seed: int, **kw: object) -> StoreConfig:
    return StoreConfig(
        model=model, n_clients=4, duration_s=8, drain_s=3, seed=seed, faults=faults, **kw
    )


SETTINGS = settings(max_examples=12)


@SETTINGS
@given(partitions(), st.integers(0, 100), st.sampled_from(["linearizable", "quorum"]))
def test_strong_models_stay_linearizable(faults: tuple, seed: int, model: str) -> None:
    res = run_store(_config(model, faults, seed))
    assert check_linearizable(res.history, time_budget_s=30).valid is True
    if not faults:
        assert (res.history["status"] == "ok").all()


@SETTINGS
@given(partitions(), st.integers(0, 100))
def test_sequential_witness_always_holds(faults: tuple, seed: int) -> None:
    res = run_store(_config("sequential", faults, seed))
    assert check_sequential(res.history, witness=res.trace["position"]).info["method"] == "witness"


@SETTINGS
@given(partitions(), st.integers(0, 100), st.sampled_from(["random", "sticky"]))
def test_causal_and_session_keep_their_guarantees(faults: tuple, seed: int, routing: str) -> None:
    causal = run_store(_config("causal", faults, seed, routing=routing))
    assert check_causal(causal.history).valid is True
    session = run_store(_config("session", faults, seed, routing=routing))
    assert check_session(session.history).valid is True


@SETTINGS
@given(partitions(), st.integers(0, 100), st.floats(0.1, 1.0), st.integers(1, 4))
def test_bounded_staleness_bounds_hold(faults: tuple, seed: int, delta: float, k: int) -> None:
    cfg = _config("bounded", faults, seed, max_staleness_s=delta, max_staleness_versions=k)
    res = run_store(cfg)
    verdict = check_bounded_staleness(res.history, max_staleness_s=delta, max_staleness_versions=k)
    assert verdict.valid is True, verdict.anomalies


@SETTINGS
@given(partitions(), st.integers(0, 100), st.sampled_from(["eventual", "crdt"]))
def test_weak_models_stay_available_and_converge(faults: tuple, seed: int, model: str) -> None:
    res = run_store(_config(model, faults, seed, routing="sticky"))
    verdict = res.check()
    assert verdict.valid is True, verdict.anomalies
    assert res.final_state.group_by("key").agg(pl.col("version").n_unique())["version"].max() == 1
    # always available to a client that can reach its home replica (same region)
    for j in range(4):
        client, home = f"client-{j}", f"replica-{j % 3}"
        cut = any((client in f.sides()[0]) != (home in f.sides()[0]) for f in faults)
        mine = res.history.filter(res.trace["client"] == client)
        if not cut:
            assert (mine["status"] == "ok").all()
