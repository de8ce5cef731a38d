"""What the theory predicts under partitions and clock skew, asserted on fixed scenarios:
stronger models stay correct and become unavailable, weaker ones stay available and show
the anomalies they allow, and every model keeps its own guarantee."""

from __future__ import annotations

import math

import polars as pl
import pytest

from eventsim.consistency import (
    check_causal,
    check_linearizable,
    check_session,
    convergence_time,
    staleness,
)
from eventsim.consistency.stores import StoreConfig, check_sequential, run_store
from eventsim.faults import FaultSpec

# replica-0 (us-east, the leader) is cut off from the other replicas for 5 s; every client
# can still reach every replica (an inter-datacenter link fails, the load balancer does not)
SPLIT = FaultSpec("network_partition", "replica-0|replica-1,replica-2", 5.0, 5.0)
# the whole eu-west region (replica-2, client-2, client-5) is cut off for 5 s
REGION = FaultSpec("network_partition", "eu-west|us-east,us-west", 5.0, 5.0)
BASE = StoreConfig(duration_s=20, seed=1)


def _run(model: str, fault: FaultSpec = SPLIT, **changes: object):
    return run_store(BASE.replace(model=model, faults=(fault,), **changes))


def _stale(history: pl.DataFrame) -> int:
    st = staleness(history)
    return st.filter(pl.col("versions_behind") > 0).height


def _not_ok(history: pl.DataFrame) -> pl.DataFrame:
    return history.filter(pl.col("status") != "ok")


def test_linearizable_is_unavailable_not_wrong_when_the_leader_is_cut_off() -> None:
    res = _run("linearizable")
    assert check_linearizable(res.history).valid is True
    bad = _not_ok(res.history)
    assert bad.height > 20
    # only operations that needed the leader during the cut fail or time out
    assert bad["invoke_s"].min() >= SPLIT.start_s - BASE.timeout_s
    assert bad["invoke_s"].max() < SPLIT.end_s
    assert set(bad.filter(pl.col("op") == "read")["status"]) == {"fail"}
    assert set(bad.filter(pl.col("op") == "write")["status"]) == {"info"}
    # writes that timed out during the cut commit after the heal: some are read later
    assert _stale(res.history) == 0


def test_linearizable_fails_only_the_cut_off_region() -> None:
    res = _run("linearizable", REGION)
    assert check_linearizable(res.history).valid is True
    regions = res.trace["region"]
    bad = regions.filter(res.history["status"] != "ok")
    assert bad.len() > 0
    assert set(bad) == {"eu-west"}


@pytest.mark.parametrize("n_replicas", [3, 5])
def test_majority_quorums_stay_linearizable(n_replicas: int) -> None:
    for fault in (SPLIT, REGION):
        res = _run("quorum", fault, n_replicas=n_replicas)
        assert check_linearizable(res.history).valid is True
        assert _stale(res.history) == 0


def test_quorum_region_cut_fails_the_minority_clients_only() -> None:
    res = _run("quorum", REGION)
    bad = res.trace["region"].filter(res.history["status"] != "ok")
    assert bad.len() > 0
    assert set(bad) == {"eu-west"}


def test_sloppy_quorums_read_stale_values() -> None:
    res = _run("quorum", REGION, r=1, w=1)
    assert check_linearizable(res.history).valid is False
    assert _stale(res.history) > 0
    assert res.summary()["availability"] == 1.0


def test_sequential_keeps_one_order_but_not_real_time() -> None:
    res = _run("sequential", REGION)
    assert check_sequential(res.history, witness=res.trace["position"]).valid is True
    assert check_session(res.history).valid is True
    assert check_linearizable(res.history).valid is False
    assert _stale(res.history) > 0
    # eu-west clients cannot reach the leader: their writes time out
    assert res.history.filter((pl.col("op") == "write") & (pl.col("status") == "info")).height


def test_causal_never_misses_a_causal_dependency_but_reads_stale() -> None:
    for fault in (SPLIT, REGION):
        res = _run("causal", fault)
        assert check_causal(res.history).valid is True
        assert check_session(res.history).valid is True
        assert _stale(res.history) > 0
        assert check_linearizable(res.history).valid is False


def test_causal_with_sticky_sessions_stays_available() -> None:
    res = _run("causal", REGION, routing="sticky")
    assert res.summary()["availability"] == 1.0
    assert check_causal(res.history).valid is True


def test_session_guarantees_hold_through_a_partition() -> None:
    res = _run("session")
    assert check_session(res.history).valid is True
    assert _stale(res.history) > 0
    # a replica that cannot catch up with the session makes it wait, then fail
    assert res.summary()["availability"] < 1.0


@pytest.mark.parametrize("delta", [0.2, 1.0])
def test_bounded_staleness_by_time_never_exceeds_delta(delta: float) -> None:
    res = _run("bounded", max_staleness_s=delta)
    verdict = res.check()
    assert verdict.valid is True
    assert verdict.info["max_stale_for_s"] <= delta
    assert verdict.info["max_seconds_behind"] <= verdict.info["max_stale_for_s"]
    # the followers lose the leader: they stop serving reads after Δ
    assert res.summary()["read_availability"] < 1.0


@pytest.mark.parametrize("k", [1, 3])
def test_bounded_staleness_by_versions_never_exceeds_k(k: int) -> None:
    res = _run("bounded", REGION, max_staleness_versions=k)
    verdict = res.check()
    assert verdict.valid is True
    assert verdict.info["max_versions_behind"] <= k
    writes = res.history.filter(pl.col("op") == "write")
    assert writes.filter(pl.col("status") != "ok").height > 0  # writes stall on the lagger


def test_eventual_shows_stale_reads_and_session_anomalies_then_converges() -> None:
    res = _run("eventual")
    assert res.summary()["availability"] == 1.0
    assert _stale(res.history) > 5
    counts = check_session(res.history).info["counts"]
    assert counts["read-your-writes"] > 0
    assert counts["monotonic-writes"] > 0
    assert check_linearizable(res.history).valid is False
    conv = convergence_time(res.replica_states, SPLIT.end_s)
    assert conv < 2.0
    assert res.check().valid is True  # converged by the end


def test_eventual_without_gossip_lost_pushes_stay_lost_for_longer() -> None:
    quick = _run("eventual", gossip_interval_s=0.2).check().info["convergence_s"]
    slow = _run("eventual", gossip_interval_s=3.0).check().info["convergence_s"]
    assert quick < slow < math.inf


def test_crdt_counter_keeps_every_acknowledged_update() -> None:
    res = _run("crdt", crdt="gcounter")
    assert res.check().valid is True
    h = res.history
    ok = h.filter((pl.col("op") == "increment") & (pl.col("status") == "ok"))
    final = res.final_state.group_by("key").agg(pl.col("value").first().cast(pl.Int64))
    expected = ok.group_by("key").agg(pl.col("value").cast(pl.Int64).sum())
    assert final.sort("key").rows() == expected.sort("key").rows()


def test_lww_cart_loses_concurrent_adds_an_orset_keeps() -> None:
    cfg = BASE.replace(workload="amazon", faults=(SPLIT,))
    lww = run_store(cfg.replace(model="eventual"))
    orset = run_store(cfg.replace(model="crdt", crdt="orset"))
    assert orset.check().valid is True
    # an OR-set cart holds every add that was not removed; the LWW cart only its last write
    writes = lww.history.filter(pl.col("op") == "write").group_by("key").len()
    assert (writes["len"] > 1).any()
    sets = orset.final_state.filter(pl.col("replica") == "replica-0")
    assert sets["value"].str.json_decode(pl.List(pl.String)).list.len().max() > 1


def test_wall_clock_skew_makes_newer_writes_lose() -> None:
    skew = FaultSpec("clock_skew", "replica-1", 2.0, 10.0, delay_s=-3.0)
    base = BASE.replace(model="eventual", clock="wall")
    calm = check_session(run_store(base).history).info["counts"]
    skewed = run_store(base.replace(faults=(skew,)))
    hit = check_session(skewed.history).info["counts"]
    # the slow clock stamps a session's later write below its earlier one: it loses
    assert calm["monotonic-writes"] == calm["writes-follow-reads"] == 0
    assert hit["monotonic-writes"] > 5
    assert hit["writes-follow-reads"] > 5
    # by real-time order instead of the store's order, the losses are read-your-writes
    by_time = check_session(skewed.history.drop("version")).info["counts"]
    assert by_time["read-your-writes"] > calm["read-your-writes"]
    # Lamport clocks ignore physical time altogether
    lamport = base.replace(clock="lamport")
    assert run_store(lamport.replace(faults=(skew,))).history.equals(run_store(lamport).history)


@pytest.mark.parametrize(
    "model", ["linearizable", "quorum", "sequential", "causal", "session", "bounded", "eventual"]
)
def test_every_model_converges_after_the_heal(model: str) -> None:
    from eventsim.consistency.stores import check_convergence

    extra = {"max_staleness_s": 1.0} if model == "bounded" else {}
    verdict = check_convergence(_run(model, **extra))
    assert verdict.valid is True
    assert verdict.info["convergence_s"] < 2.0
