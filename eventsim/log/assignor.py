"""Partition assignors: who in a consumer group owns which partitions after a rebalance.

Every partition is owned by exactly one member (when the group has members).
"""

from __future__ import annotations

from collections.abc import Callable

from eventsim.exceptions import ConfigError
from eventsim.log.record import TopicPartition

__all__ = ["ASSIGNORS", "assign", "range_assign", "round_robin_assign"]

Assignment = dict[str, list[TopicPartition]]


def range_assign(members: list[str], partitions: list[TopicPartition]) -> Assignment:
    """Kafka's RangeAssignor: per topic, contiguous ranges; the first members get one extra.

    Examples
    --------
    >>> tps = [TopicPartition("t", i) for i in range(5)]
    >>> {m: [tp.partition for tp in a] for m, a in range_assign(["a", "b"], tps).items()}
    {'a': [0, 1, 2], 'b': [3, 4]}
    """
    members = sorted(members)
    out: Assignment = {m: [] for m in members}
    by_topic: dict[str, list[TopicPartition]] = {}
    for tp in sorted(partitions):
        by_topic.setdefault(tp.topic, []).append(tp)
    for tps in by_topic.values():
        size, extra = divmod(len(tps), len(members))
        start = 0
        for i, m in enumerate(members):
            n = size + (1 if i < extra else 0)
            out[m].extend(tps[start : start + n])
            start += n
    return out


def round_robin_assign(members: list[str], partitions: list[TopicPartition]) -> Assignment:
    """Kafka's RoundRobinAssignor: all partitions, sorted, dealt to sorted members in turn.

    Examples
    --------
    >>> tps = [TopicPartition("t", i) for i in range(5)]
    >>> {m: [tp.partition for tp in a] for m, a in round_robin_assign(["a", "b"], tps).items()}
    {'a': [0, 2, 4], 'b': [1, 3]}
    """
    members = sorted(members)
    out: Assignment = {m: [] for m in members}
    for i, tp in enumerate(sorted(partitions)):
        out[members[i % len(members)]].append(tp)
    return out


ASSIGNORS: dict[str, Callable[[list[str], list[TopicPartition]], Assignment]] = {
    "range": range_assign,
    "roundrobin": round_robin_assign,
}


def assign(name: str, members: list[str], partitions: list[TopicPartition]) -> Assignment:
    """Run the assignor called ``name`` (no members → empty assignment)."""
    fn = ASSIGNORS.get(name)
    if fn is None:
        msg = f"assignor must be one of {', '.join(ASSIGNORS)}; got {name!r}"
        raise ConfigError(msg)
    return fn(members, partitions) if members else {}
