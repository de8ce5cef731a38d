"""Consumers: members of a consumer group poll batches, process them and commit offsets.

Commit policies: ``auto`` (positions committed on the next poll once the interval passed),
``before-process`` (commit, then process: at-most-once) and ``after-process`` (process, then
commit: at-least-once). Each record's delivery time is the poll time plus the handler time of
the records before it in the batch, plus its own.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import polars as pl
import simpy

from eventsim.faults import FaultSpec
from eventsim.log.consumer_group import ConsumerGroup
from eventsim.log.record import RecordBatch, TopicPartition
from eventsim.scenario import ConsumerGroupConfig

__all__ = ["DELIVERY_SCHEMA", "Handler", "Member", "Sink"]

#: Schema of ``RunResult.deliveries``: one row per record a consumer processed.
DELIVERY_SCHEMA: dict[str, pl.DataType] = {
    "group": pl.String(),
    "member": pl.String(),
    "generation": pl.Int32(),
    "poll": pl.Int64(),
    "topic": pl.String(),
    "partition": pl.Int32(),
    "offset": pl.Int64(),
    "event_id": pl.Int64(),
    "delivered_s": pl.Float64(),
    "latency_s": pl.Float64(),
    "applied": pl.Boolean(),
}


class Sink:
    """Accounts every processed record of one group, in columns (one chunk per poll).

    ``idempotent`` sinks remember the event ids they applied and skip repeats
    (``applied=False``); plain sinks apply every delivery.
    """

    def __init__(self, group: str, *, idempotent: bool = False, n_events: int = 0) -> None:
        self.group = group
        self._members: dict[str, int] = {}
        self._topics: dict[str, int] = {}
        self._chunks: list[tuple[np.ndarray, ...]] = []
        self._seen = np.zeros(n_events, dtype=np.bool_) if idempotent else None
        self.polls = 0
        self.commits = 0

    @property
    def idempotent(self) -> bool:
        """True if repeats of an event id are skipped."""
        return self._seen is not None

    def apply(self, event_ids: np.ndarray) -> np.ndarray:
        """Which of these deliveries take effect (all, or first sightings when idempotent)."""
        if self._seen is None:
            return np.ones(event_ids.shape[0], dtype=np.bool_)
        fresh = ~self._seen[event_ids]
        _, first = np.unique(event_ids, return_index=True)
        once = np.zeros(event_ids.shape[0], dtype=np.bool_)
        once[first] = True
        self._seen[event_ids] = True
        return fresh & once

    def record(
        self,
        member: str,
        generation: int,
        batches: list[tuple[RecordBatch, np.ndarray | None]],
        start_s: float,
        per_record_s: float,
        applied: np.ndarray | None,
    ) -> None:
        """Record the processed rows (``(batch, row mask or None for all)`` pairs) of one poll,
        in order: the k-th row completes at ``start_s + k * per_record_s``. ``applied`` None
        means every row took effect. Columns are gathered once, in :meth:`frame`."""
        m = self._members.setdefault(member, len(self._members))
        parts = [
            (
                self._topics.setdefault(b.topic, len(self._topics)),
                b.partition,
                b.source,
                b.lo,
                b.hi,
                rows,
            )
            for b, rows in batches
        ]
        self._chunks.append((m, generation, self.polls, parts, start_s, per_record_s, applied))

    def __len__(self) -> int:
        return sum(
            sum(hi - lo if r is None else int(r.sum()) for _, _, _, lo, hi, r in c[3])
            for c in self._chunks
        )

    def frame(self) -> pl.DataFrame:
        """The deliveries as a frame with :data:`DELIVERY_SCHEMA`."""
        if not self._chunks:
            return pl.DataFrame(schema=DELIVERY_SCHEMA)
        ints: dict[str, list[np.ndarray]] = {
            k: [] for k in ("member", "generation", "poll", "topic", "partition")
        }
        offsets, ids, created, delivered, applied = [], [], [], [], []
        for m, gen, poll, parts, start, per_record, ok in self._chunks:
            n = 0
            for topic, partition, source, lo, hi, rows in parts:
                cols = [source.data[c][lo:hi] for c in ("offset", "event_id", "timestamp_s")]
                if rows is not None:
                    cols = [c[rows] for c in cols]
                k = cols[0].shape[0]
                n += k
                offsets.append(cols[0])
                ids.append(cols[1])
                created.append(cols[2])
                ints["topic"].append(np.full(k, topic, dtype=np.int32))
                ints["partition"].append(np.full(k, partition, dtype=np.int32))
            ints["member"].append(np.full(n, m, dtype=np.int32))
            ints["generation"].append(np.full(n, gen, dtype=np.int32))
            ints["poll"].append(np.full(n, poll, dtype=np.int64))
            delivered.append(start + per_record * np.arange(1, n + 1))
            applied.append(np.ones(n, dtype=np.bool_) if ok is None else ok)
        col = {k: np.concatenate(v) for k, v in ints.items()}
        done = np.concatenate(delivered)
        members = pl.Series(list(self._members), dtype=pl.String)
        topics = pl.Series(list(self._topics), dtype=pl.String)
        return pl.DataFrame(
            {
                "group": pl.repeat(self.group, done.shape[0], dtype=pl.String, eager=True),
                "member": members.gather(col["member"]),
                "generation": col["generation"],
                "poll": col["poll"],
                "topic": topics.gather(col["topic"]),
                "partition": col["partition"],
                "offset": np.concatenate(offsets),
                "event_id": np.concatenate(ids),
                "delivered_s": done,
                "latency_s": done - np.concatenate(created),
                "applied": np.concatenate(applied),
            },
            schema=DELIVERY_SCHEMA,
        )


#: A batch handler: ``handler(member, [(batch, row mask or None)], now_s)``, called with every
#: polled batch before it is processed (feature windows, detectors, projections).
Handler = Callable[[str, list[tuple[RecordBatch, np.ndarray | None]], float], None]


class Member:
    """One consumer of a group, as a SimPy process: poll, (commit), process, (commit).

    A poll that fills ``max_poll_records`` is followed at once by the next (backlog); a
    partial one waits out ``poll_interval_s`` from its start (as a fetch wait would).
    Crash faults stop it at their ``point``; the group rebalances after the session timeout
    and the member rejoins when the fault ends.
    """

    def __init__(
        self,
        env: simpy.Environment,
        group: ConsumerGroup,
        name: str,
        cfg: ConsumerGroupConfig,
        sink: Sink,
        *,
        gate: str = "append_s",
        crashes: list[FaultSpec] | None = None,
        skip: Callable[[str, TopicPartition, float], bool] | None = None,
        handlers: list[Handler] | None = None,
    ) -> None:
        self.env, self.group, self.name, self.cfg, self.sink = env, group, name, cfg, sink
        self.handlers = handlers if handlers is not None else []
        self.gate = gate
        self.crashes = sorted(crashes or [], key=lambda f: f.start_s)
        self.skip = skip
        self.crashed = 0

    def _crash_due(self, point: str) -> FaultSpec | None:
        head = self.crashes[0] if self.crashes else None
        if head is not None and self.env.now >= head.start_s and head.point == point:
            return self.crashes.pop(0)
        return None

    def _down(self, fault: FaultSpec) -> Generator[Any, Any, None]:
        """Dead: partitions stay assigned until the session timeout, then a rebalance; the
        member rejoins when the fault window ends."""
        self.crashed += 1
        timeout_at = self.env.now + self.cfg.session_timeout_s
        yield self.env.timeout(self.cfg.session_timeout_s)
        self.group.leave(self.name)
        back = max(fault.end_s, timeout_at)
        if back > self.env.now:
            yield self.env.timeout(back - self.env.now)
        self.group.join(self.name)

    def _commit(self, generation: int, offsets: dict[TopicPartition, int] | None) -> bool:
        self.sink.commits += 1
        return self.group.commit(self.name, offsets, generation=generation)

    def process(self) -> Generator[Any, Any, None]:
        """The SimPy process."""
        env, group, cfg, sink = self.env, self.group, self.cfg, self.sink
        next_auto = cfg.auto_commit_interval_s
        per_record = cfg.processing_time_s
        read_committed = cfg.isolation == "read_committed"
        skip = None if self.skip is None else (lambda tp: self.skip(self.name, tp, env.now))
        while True:
            if cfg.commit == "auto" and env.now >= next_auto:
                self._commit(group.generation, None)
                next_auto = env.now + cfg.auto_commit_interval_s
            start = env.now
            generation = group.generation
            batches = group.poll(
                self.name, cfg.max_poll_records, until_s=start, gate=self.gate, skip=skip
            )
            sink.polls += 1
            if not batches:
                yield env.timeout(cfg.poll_interval_s)
                continue
            ends = {TopicPartition(b.topic, b.partition): int(b.offsets[-1]) + 1 for b in batches}
            if cfg.commit == "before-process":
                self._commit(generation, ends)
            fault = self._crash_due("before-process")
            if fault is not None:
                yield from self._down(fault)
                continue
            rows: list[tuple[RecordBatch, np.ndarray | None]] = [
                (
                    b,
                    b.column("txn_state") != 2
                    if read_committed and "txn_state" in b.source.data
                    else None,
                )
                for b in batches
            ]
            needs_ids = sink.idempotent or cfg.commit == "transactional"
            if needs_ids or any(r is not None for _, r in rows):
                ids = np.concatenate(
                    [
                        b.column("event_id") if r is None else b.column("event_id")[r]
                        for b, r in rows
                    ]
                )
                done = ids.shape[0]
            else:
                ids = None
                done = sum(len(b) for b in batches)
            for handler in self.handlers:
                handler(self.name, rows, start)
            busy = per_record * done
            if done < cfg.max_poll_records:
                busy = max(busy, cfg.poll_interval_s)
            if busy > 0:
                yield env.timeout(busy)
            fault = self._crash_due("after-process")
            if cfg.commit == "transactional":
                ok = fault is None and self._commit(generation, ends)
                if done:
                    applied = sink.apply(ids) if ok else np.zeros(done, dtype=np.bool_)
                    sink.record(self.name, generation, rows, start, per_record, applied)
            else:
                if done:
                    applied = sink.apply(ids) if sink.idempotent else None
                    sink.record(self.name, generation, rows, start, per_record, applied)
                if fault is None and cfg.commit == "after-process":
                    if cfg.ack_mode == "record":
                        sink.commits += max(done - 1, 0)
                    self._commit(generation, ends)
            if fault is not None:
                if cfg.commit == "after-process" and cfg.ack_mode == "record" and done:
                    last = batches[-1]
                    partial = dict(ends)
                    partial[TopicPartition(last.topic, last.partition)] -= 1
                    self._commit(generation, partial)
                yield from self._down(fault)
                continue
            fault = self._crash_due("after-commit")
            if fault is not None:
                yield from self._down(fault)
