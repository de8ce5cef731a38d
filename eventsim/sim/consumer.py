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
    """Accounts every processed record of one group, in columns.

    A member calls :meth:`note` right after a poll (the sink copies the offsets, event ids and
    creation times of the polled rows, so later storage moves by retention or compaction do
    not matter), then :meth:`complete` once processing finished (with when it started and
    which rows took effect) or :meth:`cancel` if it crashed first. :meth:`frame` concatenates
    everything once.

    ``idempotent`` sinks remember the event ids they applied and skip repeats
    (``applied=False``); plain sinks apply every delivery.
    """

    def __init__(self, group: str, *, idempotent: bool = False, n_events: int = 0) -> None:
        self.group = group
        self._members: dict[str, int] = {}
        self._topics: dict[str, int] = {}
        self._seen = np.zeros(n_events, dtype=np.bool_) if idempotent else None
        self.polls = 0
        self.commits = 0
        self._polls: list[list[Any]] = []

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

    def note(
        self, member: str, generation: int, batches: list[tuple[RecordBatch, np.ndarray | None]]
    ) -> int:
        """Copy what identifies the polled rows (``(batch, row mask or None)`` pairs); returns
        a handle for :meth:`complete` or :meth:`cancel`."""
        cols: list[list[np.ndarray]] = [[], [], []]
        sizes, topics, partitions = [], [], []
        for b, rows in batches:
            for out, name in zip(cols, ("offset", "event_id", "timestamp_s"), strict=True):
                col = b.column(name)
                out.append(col.copy() if rows is None else col[rows])
            sizes.append(cols[0][-1].shape[0])
            topics.append(self._topics.setdefault(b.topic, len(self._topics)))
            partitions.append(b.partition)
        self._polls.append(
            [
                self._members.setdefault(member, len(self._members)),
                generation,
                self.polls,
                [c[0] if len(c) == 1 else np.concatenate(c) for c in cols],
                (sizes, topics, partitions),
                None,  # (start_s, per_record_s, applied) once complete
            ]
        )
        return len(self._polls) - 1

    def complete(
        self, handle: int, start_s: float, per_record_s: float, applied: np.ndarray | None
    ) -> None:
        """Processing of a noted poll finished: its k-th row completed at
        ``start_s + k * per_record_s``; ``applied`` None means every row took effect."""
        self._polls[handle][5] = (start_s, per_record_s, applied)

    def cancel(self, handle: int) -> None:
        """The member died before processing a noted poll: nothing was delivered."""
        self._polls[handle][5] = False

    def _completed(self) -> list[list[Any]]:
        return [p for p in self._polls if p[5]]

    def __len__(self) -> int:
        return sum(p[3][0].shape[0] for p in self._completed())

    def frame(self) -> pl.DataFrame:
        """The deliveries as a frame with :data:`DELIVERY_SCHEMA`."""
        polls = self._completed()
        if not polls:
            return pl.DataFrame(schema=DELIVERY_SCHEMA)
        n_poll = np.array([p[3][0].shape[0] for p in polls], dtype=np.int64)
        total = int(n_poll.sum())
        offsets, ids, created = (np.concatenate([p[3][i] for p in polls]) for i in range(3))
        sizes = np.concatenate([np.asarray(p[4][0], dtype=np.int64) for p in polls])
        topic = np.repeat(np.concatenate([np.asarray(p[4][1], np.int32) for p in polls]), sizes)
        part = np.repeat(np.concatenate([np.asarray(p[4][2], np.int32) for p in polls]), sizes)
        meta = np.array([p[:3] for p in polls], dtype=np.int64)
        times = np.array([p[5][:2] for p in polls], dtype=np.float64)
        first = np.cumsum(n_poll) - n_poll
        within = np.arange(total) - np.repeat(first, n_poll)
        done = np.repeat(times[:, 0], n_poll) + np.repeat(times[:, 1], n_poll) * (within + 1)
        applied = np.ones(total, dtype=np.bool_)
        for i, p in enumerate(polls):
            if p[5][2] is not None:
                applied[first[i] : first[i] + n_poll[i]] = p[5][2]
        members = pl.Series(list(self._members), dtype=pl.String)
        topics = pl.Series(list(self._topics), dtype=pl.String)
        return pl.DataFrame(
            {
                "group": pl.repeat(self.group, total, dtype=pl.String, eager=True),
                "member": members.gather(np.repeat(meta[:, 0], n_poll)),
                "generation": np.repeat(meta[:, 1], n_poll).astype(np.int32),
                "poll": np.repeat(meta[:, 2], n_poll),
                "topic": topics.gather(topic),
                "partition": part,
                "offset": offsets,
                "event_id": ids,
                "delivered_s": done,
                "latency_s": done - created,
                "applied": applied,
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
            handle = sink.note(self.name, generation, rows) if done else -1
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
                    sink.complete(handle, start, per_record, applied)
            else:
                if done:
                    applied = sink.apply(ids) if sink.idempotent else None
                    sink.complete(handle, start, per_record, applied)
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
