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
        sizes = [len(b) for b in batches]
        topic = np.repeat(
            [self._topics.setdefault(b.topic, len(self._topics)) for b in batches], sizes
        )
        cols = [b.columns for b in batches]
        created = np.concatenate([c["timestamp_s"] for c in cols])
        self._chunks.append(
            (
                np.full(delivered_s.shape[0], m, dtype=np.int32),
                topic.astype(np.int32),
                np.repeat([b.partition for b in batches], sizes).astype(np.int32),
                np.concatenate([c["offset"] for c in cols]),
                np.concatenate([c["event_id"] for c in cols]),
                delivered_s,
                delivered_s - created,
            )
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
