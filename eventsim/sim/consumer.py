"""Consumers: members of a consumer group poll batches, process them and commit offsets.

Commit policies: ``auto`` (positions committed on the next poll once the interval passed),
``before-process`` (commit, then process: at-most-once) and ``after-process`` (process, then
commit: at-least-once). Each record's delivery time is the poll time plus the handler time of
the records before it in the batch, plus its own.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import polars as pl
import simpy

from eventsim.log.consumer_group import ConsumerGroup
from eventsim.log.record import RecordBatch
from eventsim.scenario import ConsumerGroupConfig

__all__ = ["DELIVERY_SCHEMA", "Sink"]

#: Schema of ``RunResult.deliveries``: one row per record delivered to a consumer.
DELIVERY_SCHEMA: dict[str, pl.DataType] = {
    "group": pl.String(),
    "member": pl.String(),
    "topic": pl.String(),
    "partition": pl.Int32(),
    "offset": pl.Int64(),
    "event_id": pl.Int64(),
    "delivered_s": pl.Float64(),
    "latency_s": pl.Float64(),
}


class Sink:
    """Accounts every delivered record of one group, in columns (one chunk per poll)."""

    def __init__(self, group: str) -> None:
        self.group = group
        self._members: dict[str, int] = {}
        self._topics: dict[str, int] = {}
        self._chunks: list[tuple[np.ndarray, ...]] = []

    def record(self, member: str, batches: list[RecordBatch], delivered_s: np.ndarray) -> None:
        """Record the batches one poll delivered, in order, with their delivery times."""
        m = self._members.setdefault(member, len(self._members))
        n = delivered_s.shape[0]
        if len(batches) == 1:
            b = batches[0]
            topic = np.full(n, self._topics.setdefault(b.topic, len(self._topics)), np.int32)
            partition = np.full(n, b.partition, dtype=np.int32)
            offsets, event_ids = b.column("offset").copy(), b.column("event_id").copy()
            created = b.column("timestamp_s")
        else:
            sizes = [len(b) for b in batches]
            codes = [self._topics.setdefault(b.topic, len(self._topics)) for b in batches]
            topic = np.repeat(np.array(codes, dtype=np.int32), sizes)
            partition = np.repeat(np.array([b.partition for b in batches], np.int32), sizes)
            offsets = np.concatenate([b.column("offset") for b in batches])
            event_ids = np.concatenate([b.column("event_id") for b in batches])
            created = np.concatenate([b.column("timestamp_s") for b in batches])
        member_col = np.full(n, m, dtype=np.int32)
        self._chunks.append(
            (member_col, topic, partition, offsets, event_ids, delivered_s, delivered_s - created)
        )

    def __len__(self) -> int:
        return sum(c[0].shape[0] for c in self._chunks)

    def frame(self) -> pl.DataFrame:
        """The deliveries as a frame with :data:`DELIVERY_SCHEMA`."""
        if not self._chunks:
            return pl.DataFrame(schema=DELIVERY_SCHEMA)
        cols = [np.concatenate(parts) for parts in zip(*self._chunks, strict=True)]
        members = pl.Series(list(self._members), dtype=pl.String)
        topics = pl.Series(list(self._topics), dtype=pl.String)
        n = cols[0].shape[0]
        return pl.DataFrame(
            {
                "group": pl.repeat(self.group, n, dtype=pl.String, eager=True),
                "member": members.gather(cols[0]),
                "topic": topics.gather(cols[1]),
                "partition": cols[2],
                "offset": cols[3],
                "event_id": cols[4],
                "delivered_s": cols[5],
                "latency_s": cols[6],
            },
            schema=DELIVERY_SCHEMA,
        )


def member_process(
    env: simpy.Environment,
    group: ConsumerGroup,
    member: str,
    cfg: ConsumerGroupConfig,
    sink: Sink,
) -> Generator[Any, Any, None]:
    """One consumer: poll, (commit), process, (commit), forever.

    A poll that fills ``max_poll_records`` is followed at once by the next (backlog); a
    partial one waits out ``poll_interval_s`` from its start (as a fetch wait would).
    """
    next_auto = cfg.auto_commit_interval_s
    per_record = cfg.processing_time_s
    while True:
        if cfg.commit == "auto" and env.now >= next_auto:
            group.commit(member)
            next_auto = env.now + cfg.auto_commit_interval_s
        start = env.now
        batches = group.poll(member, cfg.max_poll_records, until_s=start)
        if not batches:
            yield env.timeout(cfg.poll_interval_s)
            continue
        if cfg.commit == "before-process":
            group.commit(member)
        done = sum(len(b) for b in batches)
        sink.record(member, batches, start + per_record * np.arange(1, done + 1))
        busy = per_record * done
        if done < cfg.max_poll_records:
            busy = max(busy, cfg.poll_interval_s)
        if busy > 0:
            yield env.timeout(busy)
        if cfg.commit == "after-process":
            group.commit(member)
