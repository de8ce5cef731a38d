"""Consumer groups: members join and leave, partitions are reassigned, offsets committed.

After every rebalance each partition is owned by exactly one member; a new owner resumes from
the committed offset (so records processed but not committed are delivered again, as in
Kafka). A position below the log-start offset (deleted by retention) or without a commit is
reset by ``auto_offset_reset``.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from eventsim.exceptions import ConfigError, OffsetOutOfRange
from eventsim.log.assignor import assign
from eventsim.log.event_log import EventLog
from eventsim.log.partition import Partition
from eventsim.log.record import RecordBatch, TopicPartition

__all__ = ["ConsumerGroup"]


class ConsumerGroup:
    """A named group consuming ``topics`` of ``log``.

    Parameters
    ----------
    log
        The event log.
    group_id
        The group's name.
    topics
        Subscribed topics; None subscribes to every topic of the log at each rebalance.
    assignor
        ``range`` | ``roundrobin``.
    auto_offset_reset
        ``earliest`` | ``latest``: where to start without a valid committed offset.

    Examples
    --------
    >>> log = EventLog(partitions=2)
    >>> for i in range(4):
    ...     _ = log.append("t", key=f"k{i}", value={"v": i})
    >>> g = ConsumerGroup(log, "g", ["t"])
    >>> g.join("c1")
    >>> batches = g.poll("c1", max_records=10)
    >>> sum(len(b) for b in batches), g.lag()["lag"].sum()
    (4, 4)
    >>> g.commit("c1")
    True
    >>> int(g.lag()["lag"].sum())
    0
    """

    def __init__(
        self,
        log: EventLog,
        group_id: str,
        topics: list[str] | None = None,
        *,
        assignor: str = "range",
        auto_offset_reset: str = "earliest",
    ) -> None:
        if auto_offset_reset not in ("earliest", "latest"):
            msg = f"auto_offset_reset must be earliest or latest; got {auto_offset_reset!r}"
            raise ConfigError(msg)
        self.log = log
        self.group_id = group_id
        self.topics = topics
        self.assignor = assignor
        self.auto_offset_reset = auto_offset_reset
        self.members: list[str] = []
        self.assignment: dict[str, list[TopicPartition]] = {}
        self.owner: dict[TopicPartition, str] = {}
        self.committed: dict[TopicPartition, int] = {}
        self.position: dict[TopicPartition, int] = {}
        self.generation = 0
        self.resets = 0
        self._parts: dict[TopicPartition, Partition] = {}  # the assigned partitions' storage

    # -- membership --------------------------------------------------------------------------
    def join(self, member: str) -> None:
        """Add ``member`` and rebalance."""
        if member in self.members:
            msg = f"member {member!r} is already in group {self.group_id!r}"
            raise ConfigError(msg)
        self.members.append(member)
        self.rebalance()

    def leave(self, member: str) -> None:
        """Remove ``member`` (leave or crash) and rebalance."""
        if member not in self.members:
            msg = f"member {member!r} is not in group {self.group_id!r}"
            raise ConfigError(msg)
        self.members.remove(member)
        self.rebalance()

    def rebalance(self) -> None:
        """Reassign partitions; new owners resume from committed offsets."""
        self.generation += 1
        tps = self.log.topic_partitions(self.topics)
        self.assignment = assign(self.assignor, self.members, tps)
        self.owner = {tp: m for m, owned in self.assignment.items() for tp in owned}
        self.position = {tp: self._start(tp) for tp in self.owner}
        self._parts = {tp: self.log.partition(*tp) for tp in self.owner}

    def _start(self, tp: TopicPartition) -> int:
        p = self.log.partition(*tp)
        committed = self.committed.get(tp)
        if committed is not None and p.start_offset <= committed <= p.end_offset:
            return committed
        self.resets += committed is not None
        return p.start_offset if self.auto_offset_reset == "earliest" else p.end_offset

    # -- consuming -------------------------------------------------------------------------------
    def poll(
        self,
        member: str,
        max_records: int = 500,
        *,
        until_s: float | None = None,
        gate: str = "append_s",
        skip: Callable[[TopicPartition], bool] | None = None,
    ) -> list[RecordBatch]:
        """Up to ``max_records`` records from ``member``'s partitions, advancing its positions.

        ``until_s`` hides records whose ``gate`` time is later (see :meth:`Partition.read`);
        ``skip(tp)`` true leaves a partition out of this poll (its leader is unreachable).
        """
        out: list[RecordBatch] = []
        budget = max_records
        parts, position = self._parts, self.position
        for tp in self.assignment.get(member, ()):
            if budget <= 0:
                break
            if skip is not None and skip(tp):
                continue
            part = parts[tp]
            pos = position[tp]
            if pos == part.end_offset:  # caught up (always in range): nothing to read
                continue
            try:
                batch = part.read(pos, budget, until_s=until_s, gate=gate)
            except OffsetOutOfRange:
                self.resets += 1
                pos = part.start_offset if self.auto_offset_reset == "earliest" else part.end_offset
                batch = part.read(pos, budget, until_s=until_s, gate=gate)
            size = batch.hi - batch.lo
            if size:
                position[tp] = part.offset_after(batch.hi)
                budget -= size
                out.append(batch)
            else:
                position[tp] = pos
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        """Set the fetch position of ``tp``."""
        self.position[tp] = offset

    def commit(
        self,
        member: str,
        offsets: dict[TopicPartition, int] | None = None,
        *,
        generation: int | None = None,
    ) -> bool:
        """Commit ``offsets`` (default: ``member``'s current positions) for owned partitions.

        With ``generation`` given, a commit from an older generation (a rebalance happened
        since the poll) is rejected, as Kafka rejects it; returns whether it was accepted.
        """
        if generation is not None and generation != self.generation:
            return False
        owned = self.assignment.get(member, [])
        items = offsets if offsets is not None else {tp: self.position[tp] for tp in owned}
        for tp, off in items.items():
            if self.owner.get(tp) == member:
                self.committed[tp] = off
        return True

    def lag(self) -> pl.DataFrame:
        """Per partition: ``topic`` String, ``partition`` Int32, ``end_offset`` Int64,
        ``committed`` Int64, ``lag`` Int64 (end − committed, or end − start without a commit)."""
        rows = []
        for tp in self.log.topic_partitions(self.topics):
            p = self.log.partition(*tp)
            committed = self.committed.get(tp, p.start_offset)
            rows.append((tp.topic, tp.partition, p.end_offset, committed, p.end_offset - committed))
        schema = {
            "topic": pl.String,
            "partition": pl.Int32,
            "end_offset": pl.Int64,
            "committed": pl.Int64,
            "lag": pl.Int64,
        }
        return pl.DataFrame(rows, schema=schema, orient="row")
