"""StoreConfig validation, the network (delays, cuts, retransmission, clocks), the operation
streams of each workload, and compare_consistency's table."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from eventsim.consistency.stores import (
    COMPARE_SCHEMA,
    OP_STREAMS,
    OPS_SCHEMA,
    StoreConfig,
    compare_consistency,
    operations,
    run_store,
)
from eventsim.consistency.stores.network import Network, node_regions
from eventsim.exceptions import ConfigError
from eventsim.faults import FaultSpec


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"model": "casual"}, r"store.model 'casual' is unknown.*did you mean 'causal'"),
        ({"n_replicas": 0}, r"store.n_replicas must be >= 1; got 0"),
        ({"routing": "stick"}, r"store.routing must be one of random, sticky; got 'stick'"),
        ({"clock": "atomic"}, r"store.clock must be one of lamport, hlc, wall"),
        ({"crdt": "gset"}, r"store.crdt must be one of gcounter"),
        ({"workload": "netflix"}, r"store.workload 'netflix' is unknown; known: uniform"),
        ({"model": "bounded"}, r"needs max_staleness_s and/or max_staleness_versions"),
        ({"model": "quorum", "r": 4}, r"store.r must be between 1 and n_replicas \(3\); got 4"),
        ({"read_fraction": 1.5}, r"store.read_fraction must be in \[0, 1\]"),
        ({"latency_ms": ((1.0, 2.0),)}, r"store.latency_ms must be a 3 x 3 matrix"),
        ({"leader": 3}, r"store.leader must be a replica index in \[0, 2\]; got 3"),
        ({"seed": -1}, r"store.seed must be an integer >= 0; got -1"),
        ({"regions": ("a", "a")}, r"store.regions must be unique names"),
    ],
)
def test_bad_config_names_the_field(changes: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        StoreConfig(**changes)


@pytest.mark.parametrize(
    ("fault", "match"),
    [
        (FaultSpec("broker_crash", "broker-0"), r"faults\[0\].kind 'broker_crash' does not apply"),
        (FaultSpec("network_partition", "replica-9|replica-0"), r"names 'replica-9'.*known:"),
        (FaultSpec("network_partition", "replica-0"), r"must look like 'a,b\|c'"),
        (FaultSpec("network_partition", "us-east|replica-0"), r"puts \['replica-0'\] on both"),
        (FaultSpec("clock_skew", "replca-1", delay_s=1.0), r"did you mean 'replica-1'"),
    ],
)
def test_bad_faults_are_rejected(fault: FaultSpec, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        StoreConfig(faults=(fault,))


def test_nodes_are_placed_round_robin_over_regions() -> None:
    cfg = StoreConfig(n_replicas=4, n_clients=2)
    assert node_regions(cfg) == {
        "replica-0": "us-east",
        "replica-1": "us-west",
        "replica-2": "eu-west",
        "replica-3": "us-east",
        "client-0": "us-east",
        "client-1": "us-west",
    }


def _net(**changes: object) -> Network:
    fields = {
        "n_replicas": 2,
        "n_clients": 1,
        "regions": ("a", "b"),
        "latency_ms": ((1.0, 20.0), (20.0, 1.0)),
        "jitter": 0.0,
        **changes,
    }
    return Network(StoreConfig(**fields), np.random.default_rng(0))


def test_network_delays_cuts_and_retransmission() -> None:
    part = FaultSpec("network_partition", "replica-0|b", 1.0, 2.0)
    net = _net(faults=(part,))
    assert net.send(0, 1, 0.5) == pytest.approx(0.52)
    assert net.send(0, 2, 0.5) == pytest.approx(0.501)  # client-0 is in region a
    assert net.send(0, 1, 0.99) is None  # arrives during the cut
    assert net.send(1, 0, 2.5) is None
    assert net.send(2, 0, 2.5) == pytest.approx(2.501)  # same side
    assert net.send(0, 0, 1.5) == 1.5
    assert net.reachable(0, 1, 3.0)
    assert not net.reachable(1, 0, 1.0)
    assert net.heals_at(0, 1, 1.5) == 3.0
    assert net.send_reliable(0, 1, 1.5, 0.25) == pytest.approx(3.27)
    assert net.n_messages == 7  # a node's call to itself is no message


def test_network_jitter_only_adds_delay() -> None:
    net = _net(jitter=0.5)
    draws = [net.delay(0, 1) for _ in range(1000)]
    assert min(draws) >= 0.02
    assert np.mean(draws) == pytest.approx(0.02 * 1.5, rel=0.1)


def test_clock_skew_offsets_and_drifts_inside_its_window() -> None:
    skew = FaultSpec("clock_skew", "replica-1", 10.0, 10.0, delay_s=2.0, drift_ppm=1e5)
    net = _net(faults=(skew,))
    assert net.clock(1, 5.0) == 5.0
    assert net.clock(1, 15.0) == pytest.approx(15.0 + 2.0 + 0.5)
    assert net.clock(0, 15.0) == 15.0
    assert net.clock(1, 20.0) == 20.0


@pytest.mark.parametrize("workload", list(OP_STREAMS))
def test_operation_streams(workload: str) -> None:
    cfg = StoreConfig(workload=workload, duration_s=20, n_clients=4, seed=2)
    ops = operations(cfg)
    assert dict(ops.schema) == OPS_SCHEMA
    assert ops.height > 20
    assert ops["time_s"].is_sorted()
    assert ops["time_s"].max() < 20
    assert set(ops["op"]) == {"read", "write"}
    assert ops["process"].is_between(0, 3).all()
    # one actor, one session
    assert ops.group_by("actor").agg(pl.col("process").n_unique())["process"].max() == 1
    assert operations(cfg).equals(ops)


def test_workload_reads_follow_their_writes() -> None:
    ops = operations(StoreConfig(workload="amazon", duration_s=30, seed=1))
    carts = ops.filter(pl.col("actor") != "payment-service")
    writes = carts.filter(pl.col("op") == "write").select("actor", "key", "time_s")
    reads = carts.filter(pl.col("op") == "read").select("actor", "key", "time_s")
    # every customer's cart view follows one of their own cart writes (views after the end
    # of the run are dropped)
    seen = reads.join_asof(
        writes.with_columns(pl.col("time_s").alias("wrote_s")),
        on="time_s",
        by=["actor", "key"],
        strategy="backward",
        check_sortedness=False,
    )
    assert seen["wrote_s"].null_count() == 0
    assert 0 <= writes.height - reads.height <= 5
    assert ops["key"].str.starts_with("cart/").all()
    uber = operations(StoreConfig(workload="uber", duration_s=30, seed=1))
    assert uber["key"].str.starts_with("driver/").all()
    linkedin = operations(StoreConfig(workload="linkedin", duration_s=30, seed=1))
    assert linkedin["key"].str.starts_with("profile/").all()


def test_workload_params_override_the_mapping_defaults() -> None:
    few = operations(StoreConfig(workload="amazon", duration_s=20, seed=1))
    many = operations(
        StoreConfig(workload="amazon", duration_s=20, seed=1, workload_params={"n_customers": 5})
    )
    assert many["key"].n_unique() <= 5 < few["key"].n_unique()


def test_compare_consistency_table() -> None:
    part = FaultSpec("network_partition", "replica-0|replica-1,replica-2", 3.0, 3.0)
    cfg = StoreConfig(duration_s=10, seed=3, faults=(part,))
    table = compare_consistency(cfg, ["linearizable", "bounded", "eventual", "crdt"])
    assert dict(table.schema) == COMPARE_SCHEMA
    assert table["model"].to_list() == ["linearizable", "bounded", "eventual", "crdt"]
    assert table["settings"].to_list() == [
        "leader=replica-0",
        "Δ=1s",
        "clock=lamport",
        "crdt=orset",
    ]
    rows = {r["model"]: r for r in table.iter_rows(named=True)}
    assert rows["linearizable"]["linearizable"] is True
    assert rows["linearizable"]["stale_read_rate"] == 0.0
    assert rows["linearizable"]["availability"] < rows["eventual"]["availability"] == 1.0
    assert rows["eventual"]["linearizable"] is False
    assert rows["eventual"]["stale_read_rate"] > 0
    assert rows["bounded"]["max_stale_for_s"] <= 1.0
    assert all(r["own_check"] for r in rows.values())
    assert rows["crdt"]["linearizable"] is None
    assert rows["crdt"]["read_your_writes"] is None
    assert all(math.isfinite(r["convergence_s"]) for r in rows.values())


def test_compare_takes_whole_configs() -> None:
    cfg = StoreConfig(duration_s=5, seed=1)
    table = compare_consistency(cfg, [cfg.replace(model="quorum", r=1, w=1), "quorum"])
    assert table["settings"].to_list() == ["R=1 W=1 N=3", "R=2 W=2 N=3"]
    assert compare_consistency(cfg, []).is_empty()


def test_the_event_log_of_a_run_drives_the_store() -> None:
    from eventsim import Scenario, run

    log = run(
        Scenario(workload="amazon", duration="20s", seed=1, params={"order_rate_per_s": 3.0}),
        progress=False,
    )
    cfg = StoreConfig(workload="amazon", duration_s=20, seed=1, model="session")
    ops = operations(cfg, log=log)
    delivered = log.deliveries.group_by("event_id").agg(pl.col("delivered_s").min())
    carts = log.events.join(delivered, on="event_id").filter(
        pl.col("event_type").is_in(["order_placed", "cancellation_requested"])
        & (pl.col("delivered_s") < 20)
    )
    writes = ops.filter(pl.col("op") == "write")
    assert writes.height == carts.height
    # a write reaches the store when a consumer applies the record, after it was created
    assert sorted(writes["time_s"].to_list()) == sorted(carts["delivered_s"].to_list())
    result = run_store(cfg, log=log)
    assert result.check().valid is True
    assert compare_consistency(cfg, ["eventual"], log=log)["ops"][0] == ops.height
    with pytest.raises(ConfigError, match="cannot read the log of a 'amazon' run"):
        operations(cfg.replace(workload="uber"), log=log)
