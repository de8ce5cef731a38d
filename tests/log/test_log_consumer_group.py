"""Consumer groups: ownership after rebalances, committed offsets, resumption, lag."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from eventsim.exceptions import ConfigError
from eventsim.log import (
    ASSIGNORS,
    ConsumerGroup,
    EventLog,
    TopicPartition,
    range_assign,
    round_robin_assign,
)

MEMBERS = [f"m{i}" for i in range(6)]


def _log(counts: dict[str, int], per_partition: int = 0) -> EventLog:
    log = EventLog()
    for name, n in counts.items():
        log.create_topic(name, n)
        for p in range(n):
            for i in range(per_partition):
                log.partition(name, p).append({"timestamp_s": np.array([float(i)])}, append_s=i)
    return log


def _check_ownership(group: ConsumerGroup) -> None:
    tps = group.log.topic_partitions(group.topics)
    owners: dict[TopicPartition, list[str]] = {tp: [] for tp in tps}
    for member, owned in group.assignment.items():
        assert member in group.members, f"non-member {member} owns {owned}"
        for tp in owned:
            owners[tp].append(member)
    if group.members:
        assert all(len(v) == 1 for v in owners.values()), owners
        assert group.owner == {tp: v[0] for tp, v in owners.items()}
    else:
        assert all(not v for v in owners.values())
        assert group.owner == {}


@pytest.mark.parametrize("assignor", sorted(ASSIGNORS))
@given(steps=st.lists(st.sampled_from(MEMBERS), max_size=30))
@example(steps=[])
def test_every_partition_has_exactly_one_owner_after_each_rebalance(
    assignor: str, steps: list[str]
) -> None:
    """Toggle membership (join if absent, leave if present) at random; after every rebalance
    each partition is owned by exactly one current member; committed offsets survive and new
    owners start at them."""
    log = _log({"a": 5, "b": 3, "c": 1}, per_partition=10)
    group = ConsumerGroup(log, "g", ["a", "b", "c"], assignor=assignor)
    _check_ownership(group)
    committed: dict[TopicPartition, int] = {}
    for step, member in enumerate(steps):
        if member in group.members:
            group.leave(member)
        else:
            group.join(member)
        _check_ownership(group)
        assert group.committed == committed
        for tp in group.owner:
            assert group.position[tp] == committed.get(tp, 0)
        if group.members:  # the first member consumes a little and commits
            first = sorted(group.members)[0]
            group.poll(first, max_records=1 + step % 4)
            group.commit(first)
            for tp in group.assignment[first]:
                committed[tp] = group.position[tp]


def test_assignors_are_kafkas() -> None:
    tps = [TopicPartition("a", i) for i in range(3)] + [TopicPartition("b", i) for i in range(3)]
    ranged = range_assign(["y", "x"], tps)
    assert ranged == {
        "x": [TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0),
              TopicPartition("b", 1)],
        "y": [TopicPartition("a", 2), TopicPartition("b", 2)],
    }  # fmt: skip
    robin = round_robin_assign(["y", "x"], tps)
    assert robin == {
        "x": [TopicPartition("a", 0), TopicPartition("a", 2), TopicPartition("b", 1)],
        "y": [TopicPartition("a", 1), TopicPartition("b", 0), TopicPartition("b", 2)],
    }


def test_more_members_than_partitions_leaves_some_idle() -> None:
    log = _log({"t": 2})
    group = ConsumerGroup(log, "g", ["t"])
    for m in ("a", "b", "c"):
        group.join(m)
    assert {m: len(o) for m, o in group.assignment.items()} == {"a": 1, "b": 1, "c": 0}
    assert group.poll("c") == []


def test_new_owner_resumes_from_committed_offset_and_redelivers_uncommitted() -> None:
    log = _log({"t": 1}, per_partition=10)
    tp = TopicPartition("t", 0)
    group = ConsumerGroup(log, "g", ["t"])
    group.join("a")
    assert [b.offsets.tolist() for b in group.poll("a", max_records=4)] == [[0, 1, 2, 3]]
    group.commit("a")
    assert group.committed == {tp: 4}
    assert group.poll("a", max_records=3)[0].offsets.tolist() == [4, 5, 6]  # not committed
    group.leave("a")
    group.join("b")
    assert group.owner == {tp: "b"}
    assert group.position[tp] == 4
    assert group.poll("b", max_records=100)[0].offsets.tolist() == [4, 5, 6, 7, 8, 9]


def test_commit_ignores_partitions_the_member_does_not_own() -> None:
    log = _log({"t": 2}, per_partition=3)
    group = ConsumerGroup(log, "g", ["t"])
    group.join("a")
    group.join("b")
    group.commit("a", {TopicPartition("t", 0): 2, TopicPartition("t", 1): 3})
    assert group.committed == {TopicPartition("t", 0): 2}


def test_lag_per_partition() -> None:
    log = _log({"t": 3}, per_partition=5)
    group = ConsumerGroup(log, "g", ["t"])
    group.join("a")
    group.commit("a", {TopicPartition("t", 0): 5, TopicPartition("t", 1): 2})
    lag = group.lag()
    assert lag.schema == pl.Schema(
        {
            "topic": pl.String,
            "partition": pl.Int32,
            "end_offset": pl.Int64,
            "committed": pl.Int64,
            "lag": pl.Int64,
        }
    )
    assert lag.rows() == [("t", 0, 5, 5, 0), ("t", 1, 5, 2, 3), ("t", 2, 5, 0, 5)]


def test_poll_spreads_budget_over_owned_partitions_in_order() -> None:
    log = _log({"t": 3}, per_partition=4)
    group = ConsumerGroup(log, "g", ["t"])
    group.join("a")
    batches = group.poll("a", max_records=6)
    assert [(b.partition, b.offsets.tolist()) for b in batches] == [(0, [0, 1, 2, 3]), (1, [0, 1])]
    batches = group.poll("a", max_records=6)
    assert [(b.partition, b.offsets.tolist()) for b in batches] == [(1, [2, 3]), (2, [0, 1, 2, 3])]


def test_subscribing_to_all_topics_picks_up_new_topics_on_rebalance() -> None:
    log = _log({"a": 1})
    group = ConsumerGroup(log, "g")
    group.join("x")
    log.create_topic("b", 2)
    assert sorted(group.owner) == [TopicPartition("a", 0)]
    group.join("y")
    assert sorted(group.owner) == [
        TopicPartition("a", 0),
        TopicPartition("b", 0),
        TopicPartition("b", 1),
    ]


def test_membership_errors_name_member_and_group() -> None:
    group = ConsumerGroup(_log({"t": 1}), "g", ["t"])
    group.join("a")
    with pytest.raises(ConfigError, match="member 'a' is already in group 'g'"):
        group.join("a")
    with pytest.raises(ConfigError, match="member 'b' is not in group 'g'"):
        group.leave("b")
    with pytest.raises(ConfigError, match="auto_offset_reset must be earliest or latest"):
        ConsumerGroup(_log({"t": 1}), "g", auto_offset_reset="middle")
    with pytest.raises(ConfigError, match="assignor must be one of range, roundrobin"):
        ConsumerGroup(_log({"t": 1}), "g", assignor="sticky").join("a")
