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
from eventsim.log.dictionary import labels
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

    A member calls :meth:`note` right after a poll, then :meth:`complete` once processing
    finished (with when it started and which rows took effect) or :meth:`cancel` if it
    crashed first. :meth:`frame` builds the deliveries once.

    A note keeps where the polled rows are (the partition's arrays and the row range); the
    offsets, event ids and creation times are copied out of them by :meth:`flush`, for all
    noted polls at once. The log never rewrites a stored row in place (retention and
    compaction move what they keep to new arrays), so the arrays a note points to keep their
    values; flushing before retention or compaction only lets the old arrays go.

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
        # one row per polled record (room for every event once; grown for redeliveries)
        self._n = 0
        self._cols = _row_columns(max(n_events, 1024))
        # noted batches not copied yet, 7 ints each: source, lo, hi, first row, topic,
        # partition, rows; the source indexes _sources (a partition's offset, event_id and
        # timestamp_s arrays at the time)
        self._batches: list[int] = []
        self._masks: dict[int, np.ndarray] = {}  # noted batch -> its row mask
        self._sources: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._source_of: dict[tuple[int, int, int], int] = {}
        self._copied: list[np.ndarray] = []  # topic, partition, rows of the copied batches
        # per noted poll: member, generation, poll number, first row, rows (5 ints); start_s
        # and per_record_s once complete; state 0 pending, 1 complete, 2 cancelled
        self._meta: list[int] = []
        self._start: list[float] = []
        self._per: list[float] = []
        self._state: list[int] = []
        self._applied: dict[int, np.ndarray] = {}  # per completed poll, when not all applied

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

    def _reserve(self, rows: int) -> None:
        cap = self._cols["offset"].shape[0]
        if rows > cap:
            grown = _row_columns(max(rows, cap + cap // 2))
            for name, col in self._cols.items():
                grown[name][: col.shape[0]] = col
            self._cols = grown

    def note(
        self, member: str, generation: int, batches: list[tuple[RecordBatch, np.ndarray | None]]
    ) -> int:
        """Note the polled rows (``(batch, row mask or None)`` pairs); returns a handle for
        :meth:`complete` or :meth:`cancel`."""
        first = n = self._n
        noted, topics = self._batches, self._topics
        for b, rows in batches:
            data, lo, hi = b.source.data, b.lo, b.hi
            arrays = (data["offset"], data["event_id"], data["timestamp_s"])
            key = (id(arrays[0]), id(arrays[1]), id(arrays[2]))
            source = self._source_of.get(key)
            if source is None:  # (held, so these ids stay unique)
                source = self._source_of[key] = len(self._sources)
                self._sources.append(arrays)
            if rows is None:
                size = hi - lo
            else:
                size = int(np.count_nonzero(rows))
                self._masks[len(noted) // 7] = rows
            topic = topics.get(b.topic)
            if topic is None:
                topic = topics[b.topic] = len(topics)
            noted.extend((source, lo, hi, n, topic, b.partition, size))
            n += size
        self._n = n
        member_code = self._members.get(member)
        if member_code is None:
            member_code = self._members[member] = len(self._members)
        self._meta.extend((member_code, generation, self.polls, first, n - first))
        self._start.append(0.0)
        self._per.append(0.0)
        self._state.append(0)
        return len(self._state) - 1

    def flush(self) -> None:
        """Copy the noted rows' offsets, event ids and creation times out of the log."""
        noted, masks = self._batches, self._masks
        if not noted:
            return
        self._batches, self._masks = [], {}
        self._reserve(self._n)
        c = self._cols
        targets = (c["offset"], c["event_id"], c["created"])
        table = np.array(noted, dtype=np.int64).reshape(-1, 7)
        self._copied.append(table[:, 4:])
        for i, rows in masks.items():
            source, lo, hi, dst, _, _, size = table[i].tolist()
            for target, column in zip(targets, self._sources[source], strict=True):
                target[dst : dst + size] = column[lo:hi][rows]
        table = table[:, :4]
        if masks:
            table = np.delete(table, list(masks), axis=0)
        order = np.argsort(table[:, 0], kind="stable")
        table = table[order]
        bounds = np.flatnonzero(np.diff(table[:, 0])) + 1
        for part in np.split(table, bounds):  # the batches read from one set of arrays
            if not part.shape[0]:
                continue
            lo, hi, dst = part[:, 1], part[:, 2], part[:, 3]
            rows = _ranges(dst, hi - lo)  # where each copied row goes
            contiguous = bool((lo[1:] == hi[:-1]).all())
            src = None if contiguous else _ranges(lo, hi - lo)
            for target, column in zip(targets, self._sources[int(part[0, 0])], strict=True):
                target[rows] = column[lo[0] : hi[-1]] if contiguous else column[src]
        self._sources, self._source_of = [], {}

    def complete(
        self, handle: int, start_s: float, per_record_s: float, applied: np.ndarray | None
    ) -> None:
        """Processing of a noted poll finished: its k-th row completed at
        ``start_s + k * per_record_s``; ``applied`` None means every row took effect."""
        self._start[handle] = start_s
        self._per[handle] = per_record_s
        self._state[handle] = 1
        if applied is not None and not applied.all():
            self._applied[handle] = applied

    def cancel(self, handle: int) -> None:
        """The member died before processing a noted poll: nothing was delivered."""
        self._state[handle] = 2

    def __len__(self) -> int:
        return sum(self._meta[5 * i + 4] for i, s in enumerate(self._state) if s == 1)

    def frame(self) -> pl.DataFrame:
        """The deliveries as a frame with :data:`DELIVERY_SCHEMA`."""
        done = np.array(self._state, dtype=np.int8) == 1
        if not done.any():
            return pl.DataFrame(schema=DELIVERY_SCHEMA)
        self.flush()
        meta = np.array(self._meta, dtype=np.int64).reshape(-1, 5)
        times = np.stack([np.array(self._start), np.array(self._per)], axis=1)
        c = {name: col[: self._n] for name, col in self._cols.items()}
        c["applied"] = np.ones(self._n, dtype=np.bool_)
        for handle, applied in self._applied.items():
            first, rows = self._meta[5 * handle + 3 : 5 * handle + 5]
            c["applied"][first : first + rows] = applied
        spans = np.concatenate(self._copied)
        c["partition"] = np.repeat(spans[:, 1].astype(np.int32), spans[:, 2])
        topics = list(self._topics)
        if len(topics) > 1:
            c["topic"] = np.repeat(spans[:, 0], spans[:, 2])
        if not done.all():
            keep = np.repeat(done, meta[:, 4])
            c = {name: col[keep] for name, col in c.items()}
            meta, times = meta[done], times[done]
        n_poll = meta[:, 4]
        total = int(n_poll.sum())
        # the k-th row of a poll (k = 1, 2, ...) completed at start_s + k * per_record_s
        k = _ranges(np.ones(n_poll.shape[0]), n_poll, np.float64)
        per = times[:, 1]
        if per.shape[0] and (per == per[0]).all():
            k *= per[0]
        else:
            k *= np.repeat(per, n_poll)
        latency = np.repeat(times[:, 0], n_poll)  # each row's poll start, then its latency
        done_s = np.add(k, latency, out=k)
        np.subtract(done_s, c["created"], out=latency)
        member = meta[:, 0].astype(np.uint8 if len(self._members) < 256 else np.int64)
        return pl.DataFrame(
            {
                "group": pl.repeat(self.group, total, dtype=pl.String, eager=True),
                "member": labels(list(self._members), np.repeat(member, n_poll)),
                "generation": np.repeat(meta[:, 1].astype(np.int32), n_poll),
                "poll": np.repeat(meta[:, 2], n_poll),
                "topic": (
                    labels(topics, c["topic"])
                    if len(topics) > 1
                    else pl.repeat(topics[0], total, dtype=pl.String, eager=True)
                ),
                "partition": c["partition"],
                "offset": c["offset"],
                "event_id": c["event_id"],
                "delivered_s": done_s,
                "latency_s": latency,
                "applied": c["applied"],
            },
            schema=DELIVERY_SCHEMA,
        )


def _ranges(starts: np.ndarray, sizes: np.ndarray, dtype: type = np.int64) -> np.ndarray:
    """``arange(start, start + size)`` for each pair, concatenated (one array, no loop).

    Examples
    --------
    >>> _ranges(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist()
    [5, 6, 9, 10, 11]
    """
    keep = sizes > 0
    starts, sizes = starts[keep], sizes[keep]
    out = np.ones(int(sizes.sum()), dtype=dtype)
    if out.shape[0]:
        out[0] = starts[0]
        # at each range's first row, jump from the previous range's last value to its start
        out[np.cumsum(sizes[:-1])] = starts[1:] - (starts[:-1] + sizes[:-1]) + 1
        np.cumsum(out, out=out)
    return out


def _row_columns(cap: int) -> dict[str, np.ndarray]:
    return {
        "offset": np.empty(cap, dtype=np.int64),
        "event_id": np.empty(cap, dtype=np.int64),
        "created": np.empty(cap, dtype=np.float64),
    }


def _ends(batches: list[RecordBatch]) -> dict[TopicPartition, int]:
    """The offset after each polled partition's last record (what a commit stores)."""
    return {TopicPartition(b.topic, b.partition): int(b.offsets[-1]) + 1 for b in batches}


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
        max_records, poll_interval_s = cfg.max_poll_records, cfg.poll_interval_s
        commit, auto = cfg.commit, cfg.commit == "auto"
        read_committed = cfg.isolation == "read_committed"
        needs_ids = sink.idempotent or commit == "transactional"
        skip = None if self.skip is None else (lambda tp: self.skip(self.name, tp, env.now))
        while True:
            if auto and env.now >= next_auto:
                self._commit(group.generation, None)
                next_auto = env.now + cfg.auto_commit_interval_s
            start = env.now
            generation = group.generation
            batches = group.poll(self.name, max_records, until_s=start, gate=self.gate, skip=skip)
            sink.polls += 1
            if not batches:
                yield env.timeout(poll_interval_s)
                continue
            ends = None if auto else _ends(batches)
            if commit == "before-process":
                self._commit(generation, ends)
            if self.crashes:
                fault = self._crash_due("before-process")
                if fault is not None:
                    yield from self._down(fault)
                    continue
            if read_committed:
                rows: list[tuple[RecordBatch, np.ndarray | None]] = [
                    (b, b.column("txn_state") != 2 if "txn_state" in b.source.data else None)
                    for b in batches
                ]
            else:
                rows = [(b, None) for b in batches]
            if needs_ids or (read_committed and any(r is not None for _, r in rows)):
                ids = np.concatenate(
                    [
                        b.column("event_id") if r is None else b.column("event_id")[r]
                        for b, r in rows
                    ]
                )
                done = ids.shape[0]
            else:
                ids = None
                done = 0
                for b in batches:
                    done += b.hi - b.lo
            handle = sink.note(self.name, generation, rows) if done else -1
            for handler in self.handlers:
                handler(self.name, rows, start)
            busy = per_record * done
            if done < max_records:
                busy = max(busy, poll_interval_s)
            if busy > 0:
                yield env.timeout(busy)
            if auto and not self.crashes:  # the common case: nothing else to do
                if done:
                    applied = sink.apply(ids) if sink.idempotent else None
                    sink.complete(handle, start, per_record, applied)
                continue
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
