"""The engine without faults: exactly-once delivery per group, latencies, commit policies,
several groups, incidents of the synthetic workload."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from eventsim import ConsumerGroupConfig, IncidentSpec, LogConfig, Scenario, run
from eventsim.log import TopicPartition, partition_for_key
from eventsim.sim.consumer import DELIVERY_SCHEMA
from eventsim.sim.engine import Simulation
from eventsim.sim.recorder import METRICS_SCHEMA
from eventsim.sim.rng import RngStreams
from eventsim.workloads.base import INCIDENT_SCHEMA
from eventsim.workloads.synthetic import Synthetic

PARAMS = {"rate_per_s": 200, "n_keys": 40, "topics": ("a", "b"), "topic_mix": (0.5, 0.5)}


def _scenario(**kw: object) -> Scenario:
    base: dict = {"duration": "15s", "seed": 2, "params": PARAMS, "drain": "5s"}
    base.update(kw)
    return Scenario(**base)


@pytest.fixture(scope="module")
def two_groups() -> object:
    return run(
        _scenario(
            consumers=(
                ConsumerGroupConfig(name="g1", members=4),
                ConsumerGroupConfig(name="g2", members=3, assignor="roundrobin"),
                ConsumerGroupConfig(name="only_b", members=2, topics=("b",)),
            ),
            log=LogConfig(partitions=5),
        ),
        progress=False,
    )


def test_log_holds_exactly_the_workloads_events(two_groups: object) -> None:
    sc = two_groups.scenario
    expected = Synthetic(sc.params).generate(sc.duration, RngStreams(sc.seed)).events
    assert isinstance(expected.schema["key"], pl.Enum)  # the log decodes it to strings
    expected = expected.with_columns(pl.col("topic", "key", "event_type").cast(pl.String))
    got = two_groups.events.sort("event_id")
    assert got["event_id"].to_list() == list(range(expected.height))
    assert_frame_equal(got.select(expected.columns), expected)
    assert not got["tombstone"].any()
    parts = [partition_for_key(k, 5) for k in got["key"].to_list()]
    assert got["partition"].to_list() == parts


def test_offsets_are_dense_and_follow_creation_order(two_groups: object) -> None:
    ev = two_groups.events
    per = ev.group_by("topic", "partition").agg(
        pl.col("offset").sort_by("event_id"), pl.len().alias("n")
    )
    for offsets, n in per.select("offset", "n").rows():
        assert offsets == list(range(n))
    assert (ev["append_s"] >= ev["timestamp_s"]).all()


def test_every_event_delivered_exactly_once_per_group(two_groups: object) -> None:
    ev, dl = two_groups.events, two_groups.deliveries
    assert dl.schema == pl.Schema(DELIVERY_SCHEMA)
    counts = dl.group_by("group", "event_id").len()
    assert counts["len"].max() == 1
    for group, topics in (("g1", {"a", "b"}), ("g2", {"a", "b"}), ("only_b", {"b"})):
        want = ev.filter(pl.col("topic").is_in(topics))["event_id"].sort()
        got = dl.filter(pl.col("group") == group)["event_id"].sort()
        assert got.to_list() == want.to_list(), group


def test_deliveries_match_the_log_rows(two_groups: object) -> None:
    ev, dl = two_groups.events, two_groups.deliveries
    joined = dl.join(ev, on="event_id", how="left", suffix="_log")
    assert joined["topic"].to_list() == joined["topic_log"].to_list()
    assert joined["partition"].to_list() == joined["partition_log"].to_list()
    assert joined["offset"].to_list() == joined["offset_log"].to_list()


def test_latency_is_delivery_minus_creation_and_never_negative(two_groups: object) -> None:
    joined = two_groups.deliveries.join(two_groups.events, on="event_id")
    diff = joined["delivered_s"] - joined["timestamp_s"]
    assert (joined["latency_s"] - diff).abs().max() < 1e-9
    assert joined["latency_s"].min() >= 0
    assert (joined["delivered_s"] >= joined["append_s"]).all()


def test_each_member_sees_its_partitions_in_offset_order(two_groups: object) -> None:
    dl = two_groups.deliveries
    owners = dl.group_by("group", "topic", "partition").agg(pl.col("member").n_unique())
    assert owners["member"].max() == 1  # no rebalance: one owner per partition
    ordered = dl.group_by("group", "topic", "partition", maintain_order=True).agg(
        (pl.col("offset").diff().drop_nulls() == 1).all().alias("consecutive")
    )
    assert ordered["consecutive"].all()


def test_members_of_a_group_share_the_partitions(two_groups: object) -> None:
    dl = two_groups.deliveries
    members = dl.group_by("group").agg(pl.col("member").n_unique()).sort("group")
    assert members.rows() == [("g1", 4), ("g2", 3), ("only_b", 2)]


def test_frames_have_their_schemas(two_groups: object) -> None:
    assert two_groups.incidents.schema == pl.Schema(INCIDENT_SCHEMA)
    assert two_groups.metrics.schema == pl.Schema(METRICS_SCHEMA)
    lag = two_groups.metrics.filter(pl.col("metric") == "lag")
    assert set(lag["group"].unique()) == {"g1", "g2", "only_b"}
    assert lag["value"].min() >= 0


def test_summary_counts(two_groups: object) -> None:
    s = two_groups.summary()
    assert s["events"] == two_groups.events.height
    assert s["deliveries"] == two_groups.deliveries.height
    assert s["delivered_events"] == s["events"]
    assert (s["topics"], s["partitions"], s["incidents"]) == (2, 10, 0)
    assert s["scenario_key"] == two_groups.scenario.key()


def test_without_drain_slow_consumers_leave_events_undelivered() -> None:
    sc = _scenario(
        drain=0,
        consumers=(ConsumerGroupConfig(members=1, processing_time_s=0.01, max_poll_records=50),),
    )
    res = run(sc, progress=False)
    assert 0 < res.deliveries.height < res.events.height
    assert res.summary()["undelivered_events"] == res.events.height - res.deliveries.height


# -- commit policies -----------------------------------------------------------------------------
def _committed_vs_delivered(commit: str) -> tuple[dict, dict]:
    """End-of-run committed offsets and processed ends (last delivered offset + 1) per
    partition, for a group that is still busy (slow handler, no drain)."""
    sc = _scenario(
        drain=0,
        consumers=(
            ConsumerGroupConfig(
                name="g", members=2, commit=commit, processing_time_s=0.02, max_poll_records=40
            ),
        ),
    )
    sim = Simulation(sc)
    res = sim.run(progress=False)
    group, _ = sim.groups[0]
    committed = {(tp.topic, tp.partition): off for tp, off in group.committed.items()}
    ends = res.deliveries.group_by("topic", "partition").agg(pl.col("offset").max() + 1)
    delivered = {(t, p): o for t, p, o in ends.rows()}
    assert len(res.deliveries) < res.events.height  # the group really is behind
    tps = set(committed) | set(delivered)
    return {tp: committed.get(tp, 0) for tp in tps}, {tp: delivered.get(tp, 0) for tp in tps}


def test_before_process_commits_what_is_not_processed_yet() -> None:
    """At-most-once: offsets are committed before the records are processed, so when the run
    ends the committed offsets already cover the batch still being processed."""
    committed, processed = _committed_vs_delivered("before-process")
    assert all(committed[tp] >= processed[tp] for tp in committed)
    assert sum(committed.values()) > sum(processed.values())


def test_after_process_commits_exactly_what_was_processed() -> None:
    """At-least-once: the batch being processed when the run ends is not committed."""
    committed, processed = _committed_vs_delivered("after-process")
    assert committed == processed


def test_no_delivery_after_the_end_of_the_run() -> None:
    sc = _scenario(
        drain=0,
        consumers=(ConsumerGroupConfig(members=2, processing_time_s=0.02, max_poll_records=40),),
    )
    res = run(sc, progress=False)
    assert res.deliveries["delivered_s"].max() <= sc.duration + sc.drain


def test_auto_commit_covers_everything_after_a_drain_longer_than_the_interval() -> None:
    sc = _scenario(consumers=(ConsumerGroupConfig(name="g", auto_commit_interval_s=2.0),))
    sim = Simulation(sc)
    res = sim.run(progress=False)
    group, _ = sim.groups[0]
    ends = res.events.group_by("topic", "partition").agg(pl.col("offset").max() + 1)
    assert {TopicPartition(t, p): o for t, p, o in ends.rows()} == group.committed


# -- incidents of the synthetic workload ----------------------------------------------------------
@pytest.fixture(scope="module")
def incidents_run() -> object:
    sc = _scenario(
        duration="40s",
        incidents=(
            IncidentSpec("outage", start_s=5.0, duration_s=5.0, intensity=1.0, target="a"),
            IncidentSpec("error_burst", start_s=15.0, duration_s=5.0, intensity=1.0, target="b"),
            IncidentSpec("hot_key", start_s=25.0, duration_s=5.0, intensity=3.0),
            IncidentSpec("latency_regression", start_s=32.0, duration_s=4.0, intensity=4.0),
        ),
    )
    return run(sc, progress=False)


def test_incidents_frame_lists_exactly_the_injected_incidents(incidents_run: object) -> None:
    inc = incidents_run.incidents
    assert inc.select("kind", "start_s", "end_s", "target").rows() == [
        ("outage", 5.0, 10.0, "a"),
        ("error_burst", 15.0, 20.0, "b"),
        ("hot_key", 25.0, 30.0, "a"),
        ("latency_regression", 32.0, 36.0, "a"),
    ]
    hot = inc.filter(pl.col("kind") == "hot_key")["affected"].to_list()[0]
    assert len(hot) == 1
    assert [len(a) for a in inc["affected"].to_list()] == [0, 0, 1, 0]


def _window(ev: pl.DataFrame, lo: float, hi: float) -> pl.DataFrame:
    return ev.filter(pl.col("timestamp_s").is_between(lo, hi, closed="left"))


def test_outage_drops_the_target_topic_in_its_window(incidents_run: object) -> None:
    ev = incidents_run.events
    inside = _window(ev, 5.0, 10.0)
    assert inside.filter(pl.col("topic") == "a").height == 0
    assert inside.filter(pl.col("topic") == "b").height > 300  # ~100/s on b
    assert _window(ev, 0.0, 5.0).filter(pl.col("topic") == "a").height > 300


def test_error_burst_turns_events_into_errors(incidents_run: object) -> None:
    ev = incidents_run.events
    errors = ev.filter(pl.col("event_type") == "error")
    assert errors.height > 300
    assert errors["topic"].unique().to_list() == ["b"]
    assert errors["timestamp_s"].min() >= 15.0
    assert errors["timestamp_s"].max() < 20.0
    in_window = _window(ev, 15.0, 20.0).filter(pl.col("topic") == "b")
    assert (in_window["event_type"] == "error").all()


def test_hot_key_adds_events_of_one_key(incidents_run: object) -> None:
    ev = incidents_run.events
    key = incidents_run.incidents.filter(pl.col("kind") == "hot_key")["affected"].to_list()[0][0]
    inside = _window(ev, 25.0, 30.0).filter(pl.col("key") == key).height
    before = _window(ev, 0.0, 25.0).filter(pl.col("key") == key).height
    # 3 × 200/s for 5 s ≈ 3000 extra events, against a few per 25 s for a tail key
    assert 2700 < inside < 3300
    assert before < 50
    top = _window(ev, 25.0, 30.0).group_by("key").len().sort("len", descending=True)
    assert top["key"][0] == key


def test_latency_regression_multiplies_latency_in_window(incidents_run: object) -> None:
    ev = incidents_run.events
    a = ev.filter(pl.col("topic") == "a")
    inside = _window(a, 32.0, 36.0)["latency_ms"].median()
    outside = _window(a, 20.0, 32.0)["latency_ms"].median()
    assert 4.5 < inside / outside < 5.5  # x (1 + 4) on the target topic only
    b = ev.filter(pl.col("topic") == "b")
    assert 0.9 < _window(b, 32.0, 36.0)["latency_ms"].median() / outside < 1.1


def test_hot_key_events_go_to_the_target_topic() -> None:
    sc = _scenario(incidents=(IncidentSpec("hot_key", 5.0, 5.0, 3.0, target="b"),))
    res = run(sc, progress=False)
    key = res.incidents["affected"].to_list()[0][0]
    extra = _window(res.events, 5.0, 10.0).filter(pl.col("key") == key)
    counts = dict(extra.group_by("topic").len().iter_rows())
    # the key's own background traffic still follows topic_mix; the burst goes to "b"
    assert counts["b"] > 20 * counts.get("a", 0) + 100
