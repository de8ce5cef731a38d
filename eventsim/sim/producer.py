"""Producers: walk a workload's events and append them to the log in linger-window batches.

Records created within one linger window travel in one batch per partition and are appended
``network_delay_s`` after the window closes: that is each record's ``append_s``. For speed the
producer stages whole *epochs* of windows at once (one slice per partition per epoch, each
row carrying its own append time); reads in the simulation are gated by append time, so a
staged record is invisible until its batch would have arrived (faults change append times,
not the staging).

The producer encodes the events once and lays the surviving copies out partition by
partition (then epoch by epoch) in one stable sort; each partition adopts its slice of those
columns (:meth:`~eventsim.log.partition.Partition.adopt`), so staging an epoch only advances
the partition's end over rows already in place.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import polars as pl
import simpy

from eventsim.delivery.send import SENDS_SCHEMA, SendOutcome, send_records
from eventsim.faults import FaultSpec
from eventsim.log.dictionary import labels
from eventsim.log.event_log import EventLog
from eventsim.log.replication import PartitionTimeline, partition_timelines
from eventsim.scenario import LogConfig, ProducerConfig

__all__ = ["EPOCH_S", "Producer"]

#: Default length of a staging epoch (simulated seconds).
EPOCH_S = 1.0


class Producer:
    """Encodes an events frame once and stages it into the log epoch by epoch.

    Parameters
    ----------
    log
        The event log to append to (topics are created as needed).
    events
        Workload events (``timestamp_s``, ``topic``, ``key``, ... ); row ``i`` gets
        ``event_id = i``.
    cfg
        Linger window and network delay.
    log_cfg, timelines, faults, rng
        What decides each record's fate (see :func:`~eventsim.delivery.send.send_records`).
    epoch_s
        Length of a staging epoch (simulated seconds).
    """

    def __init__(
        self,
        log: EventLog,
        events: pl.DataFrame,
        cfg: ProducerConfig,
        *,
        log_cfg: LogConfig | None = None,
        timelines: list[PartitionTimeline] | None = None,
        faults: Sequence[FaultSpec] = (),
        rng: np.random.Generator | None = None,
        epoch_s: float = EPOCH_S,
    ) -> None:
        self.log = log
        self.cfg = cfg
        log_cfg = log_cfg or LogConfig()
        n = events.height
        topics = events.get_column("topic")
        self.topic_names: list[str] = sorted(topics.unique().to_list())
        n_topics = len(self.topic_names)
        if n_topics == 1:
            topic_code = np.zeros(n, dtype=np.int8)
        else:
            topic_code = (
                topics.cast(pl.Enum(self.topic_names)).to_physical().to_numpy().astype(np.int64)
            )
        enc = log.encode_frame(
            events.drop("topic", "event_id", strict=False), no_default=("event_id",)
        )
        for name in (k.removesuffix(".is_string") for k in enc if k.endswith(".is_string")):
            if name not in ("key", "event_type"):
                for t in self.topic_names:
                    log.create_topic(t).string_columns.add(name)
        valid = {k.removesuffix(".valid"): v for k, v in enc.items() if k.endswith(".valid")}
        cols = {k: v for k, v in enc.items() if "." not in k}
        self.key_codes = cols["key"]
        topics = [log.create_topic(name) for name in self.topic_names]
        # a keyed record's partition depends on its topic only through the partition count
        one_pass = len({len(t.partitions) for t in topics}) == 1 and (
            n_topics == 1 or bool((cols["key"] >= 0).all())
        )
        if one_pass:
            partition = log.partitions_for_codes(cols["key"], topics[0])
        else:
            partition = np.empty(n, dtype=np.int64)
            for code in range(n_topics):
                mask = topic_code == code
                partition[mask] = log.partitions_for_codes(cols["key"][mask], topics[code])
        ready = cols["timestamp_s"] / cfg.linger_s  # the end of each record's linger window
        np.floor(ready, out=ready)
        ready += 1
        ready *= cfg.linger_s
        self.created_s = cols["timestamp_s"]
        cols["timestamp_s"] = _skewed(cols["timestamp_s"], faults)
        self.outcome = self._send(ready, partition, cfg, log_cfg, timelines, list(faults), rng)
        out = self.outcome
        rec, due, txn, stable = out.rec, out.append_s, out.txn, out.stable_s
        one_copy_each = self._one_copy_each = _is_identity(rec, n)  # copy i is record i
        part = partition if one_copy_each else partition[rec]
        in_time_order = _non_decreasing(due)
        if not in_time_order:  # each partition's copies in append order
            order = np.lexsort((due, part))
            rec, due, txn, stable, part = (
                rec[order],
                due[order],
                txn[order],
                stable[order],
                part[order],
            )
        gates = {}
        lag = log_cfg.replication_lag_s if log_cfg.replication_factor > 1 else 0.0
        if lag > 0:
            gates["visible_s"] = due + lag
        if cfg.transactional:
            gates["txn_state"] = txn
            gates["stable_s"] = np.maximum(stable, due + lag)
        self.partition_of = partition
        self.topic_of = topic_code
        self.n_records = n
        for k in [g for g in gates if g.endswith("_s")]:
            for p in np.unique(part):
                sel = part == p
                gates[k][sel] = np.maximum.accumulate(gates[k][sel])
        edges = np.arange(0.0, float(due.max(initial=0)) + epoch_s, epoch_s)
        n_parts = max((len(t.partitions) for t in log.topics.values()), default=1)
        tc = topic_code if one_copy_each and in_time_order else topic_code[rec]
        n_epochs = edges.shape[0]
        # laid out partition by partition (then by epoch), so that each partition's records
        # are one slice of the columns: the partition adopts it and staging copies nothing
        bound = n_epochs * n_topics * n_parts
        key_type = np.uint16 if bound <= 1 << 16 else np.int64  # small keys: radix sort
        if n_topics == 1:
            run_key = part.astype(key_type)
        else:
            run_key = (tc * n_parts + part).astype(key_type)
        run_key *= n_epochs
        _add_epochs(run_key, edges, due, in_time_order)
        order = np.argsort(run_key, kind="stable")
        rec = order if one_copy_each and in_time_order else rec[order]
        due = due[order]
        self.due = due
        self.cols = {k: v[rec] for k, v in cols.items() if k != "event_id"}
        self.cols["event_id"] = rec.astype(np.int64, copy=False)  # row i has event id i
        self.cols.update({k: v[order] for k, v in gates.items()})
        self.valid = {k: v[rec] for k, v in valid.items()}
        first_key, starts, ends = _runs(run_key, bound)
        run_slot, run_epoch = first_key // n_epochs, first_key % n_epochs
        self._prepare_topics(tc[order] if self.valid else None)
        self._topics = [self.log.topics[name] for name in self.topic_names]
        self._sources = [{**cols, "append_s": due} for cols in self.topic_cols]
        self._lay_out(run_slot, starts, ends, n_parts)
        sched = np.lexsort((run_slot, run_epoch))  # staged epoch by epoch
        self.run_starts, self.run_ends = starts[sched], ends[sched]
        self.run_topic = run_slot[sched] // n_parts
        self.run_partition = run_slot[sched] % n_parts
        self.run_epoch_start = edges[run_epoch[sched]]

    def _lay_out(
        self, run_slot: np.ndarray, starts: np.ndarray, ends: np.ndarray, n_parts: int
    ) -> None:
        """Each partition adopts its slice of the columns (or reserves room for it)."""
        bounds = np.flatnonzero(np.diff(run_slot)) + 1
        firsts = np.concatenate([[0], bounds]).astype(np.int64).tolist() if len(starts) else []
        lasts = np.concatenate([bounds, [len(starts)]]).astype(np.int64).tolist()
        for i, j in zip(firsts, lasts[: len(firsts)], strict=True):
            code, index = divmod(int(run_slot[i]), n_parts)
            part = self._topics[code].partitions[index]
            lo, hi = int(starts[i]), int(ends[j - 1])
            if self.topic_valid[code] or not part.adopt(self._sources[code], lo, hi):
                part.reserve(len(part) + hi - lo)

    @staticmethod
    def _send(
        ready: np.ndarray,
        partition: np.ndarray,
        cfg: ProducerConfig,
        log_cfg: LogConfig,
        timelines: list[PartitionTimeline] | None,
        faults: list[FaultSpec],
        rng: np.random.Generator | None,
    ) -> SendOutcome:
        """Every record's fate; without faults (and transactions) one copy each, at once."""
        touches = {
            "producer_crash",
            "link_drop",
            "link_duplicate",
            "link_delay",
            "network_partition",
            "broker_crash",
            "broker_pause",
        }
        if cfg.transactional or any(f.kind in touches for f in faults):
            if timelines is None:
                n_parts = int(partition.max(initial=0)) + 1
                timelines = partition_timelines(
                    n_parts, log_cfg.brokers, log_cfg.replication_factor, down={}, paused={}
                )
            rng = rng if rng is not None else np.random.default_rng(0)
            return send_records(ready, partition, timelines, faults, cfg, log_cfg, rng)
        n = ready.shape[0]
        requests = _distinct(ready)
        append = ready  # ready + delay, in place: the caller does not need ready after
        append += cfg.network_delay_s
        lag = log_cfg.replication_lag_s if cfg.acks == "all" else 0.0
        if cfg.acks == "0":
            acked = np.full(n, np.nan)
        else:
            acked = append + lag
            acked += cfg.network_delay_s
        return SendOutcome(
            rec=np.arange(n),
            append_s=append,
            txn=np.zeros(n, dtype=np.int8),
            stable_s=append,
            attempts=np.ones(n, dtype=np.int32),
            status=np.full(n, 2 if cfg.acks == "0" else 0, dtype=np.int8),
            acked_s=acked,
            requests=requests,
        )

    def sends(self) -> pl.DataFrame:
        """The ``sends`` frame (:data:`~eventsim.delivery.send.SENDS_SCHEMA`)."""
        out = self.outcome
        return pl.DataFrame(
            {
                "event_id": self.outcome.rec if self._one_copy_each else np.arange(self.n_records),
                "topic": labels(self.topic_names, self.topic_of),
                "key": self.log.strings.decode(self.key_codes),
                "partition": self.partition_of.astype(np.int32),
                "created_s": self.created_s,
                "attempts": out.attempts,
                "status": labels(["acked", "failed", "unacked"], out.status),
                "acked_s": _nan_to_null(out.acked_s),
            },
            schema=SENDS_SCHEMA,
        )

    def _prepare_topics(self, topic_code: np.ndarray | None) -> None:
        """Per topic: the columns it carries and the null masks it needs (``topic_code`` of
        each row, needed only with null masks)."""
        self.topic_cols: list[dict[str, np.ndarray]] = []
        self.topic_valid: list[dict[str, np.ndarray]] = []
        for code, name in enumerate(self.topic_names):
            rows = topic_code == code if self.valid else None
            present = {
                k: v
                for k, v in self.cols.items()
                if k not in self.valid or bool(self.valid[k][rows].any())
            }
            masks = {k: v for k, v in self.valid.items() if k in present and not v[rows].all()}
            self.topic_cols.append(present)
            self.topic_valid.append(masks)
            for part in self.log.topics[name].partitions:
                for k, v in present.items():
                    if k not in part.data:
                        part.add_column(k, v.dtype)

    def process(self, env: simpy.Environment) -> Generator[Any, Any, None]:
        """The SimPy process: at the start of each epoch, stage that epoch's batches."""
        starts = self.run_epoch_start
        if not starts.shape[0]:
            return
        bounds = np.flatnonzero(np.diff(starts)) + 1
        firsts = np.concatenate([[0], bounds]).tolist()
        lasts = np.concatenate([bounds, [starts.shape[0]]]).tolist()
        for first, last in zip(firsts, lasts, strict=True):
            at = float(starts[first])
            if at > env.now:
                yield env.timeout(at - env.now)
            self.stage(first, last)

    def stage(self, first: int, last: int) -> None:
        """Append runs ``[first, last)``, each record with its own append time."""
        topics = self._topics
        starts, ends, due = self.run_starts, self.run_ends, self.due
        for r in range(first, last):
            a, b = int(starts[r]), int(ends[r])
            code = int(self.run_topic[r])
            part = topics[code].partitions[int(self.run_partition[r])]
            valid = self.topic_valid[code]
            if valid:
                mask = {k: v[a:b] for k, v in valid.items()}
                batch = {k: v[a:b] for k, v in self.topic_cols[code].items()}
                part.append(batch, append_s=due[a:b], valid=mask)
            else:
                part.append_slice(self._sources[code], a, b)


def _nan_to_null(values: np.ndarray) -> pl.Series:
    series = pl.Series(values)
    return series.fill_nan(None) if np.isnan(values).any() else series


def _is_identity(rec: np.ndarray, n: int) -> bool:
    """True if ``rec`` is ``0, 1, ..., n - 1``."""
    if rec.shape[0] != n:
        return False
    return not n or (rec[0] == 0 and rec[-1] == n - 1 and bool((rec[1:] > rec[:-1]).all()))


def _runs(keys: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct ``keys`` (non-negative ints below ``bound``) in ascending order, and the
    first and past-the-last position of each among the keys sorted."""
    if bound <= 1 << 22:
        counts = np.bincount(keys, minlength=bound)
        present = np.flatnonzero(counts)
        sizes = counts[present]
    else:
        present, sizes = np.unique(keys, return_counts=True)
    ends = np.cumsum(sizes)
    return present.astype(np.int64), ends - sizes, ends


def _non_decreasing(a: np.ndarray) -> bool:
    return bool((a[1:] >= a[:-1]).all())


def _distinct(a: np.ndarray) -> int:
    """How many distinct values ``a`` holds (no sort when it is already sorted)."""
    if not a.shape[0]:
        return 0
    if _non_decreasing(a):
        return 1 + int(np.count_nonzero(a[1:] != a[:-1]))
    return int(np.unique(a).shape[0])


def _add_epochs(keys: np.ndarray, edges: np.ndarray, due: np.ndarray, in_time_order: bool) -> None:
    """Add to each key the index of the last edge at or before its time (0 before the
    first): in place, one slice per epoch when the times are sorted."""
    if not in_time_order or (due.shape[0] and due[0] < edges[0]):
        keys += np.maximum(np.searchsorted(edges, due, side="right") - 1, 0).astype(keys.dtype)
        return
    starts = np.searchsorted(due, edges, side="left").tolist()  # first time at or after
    for j, (a, b) in enumerate(zip(starts, [*starts[1:], due.shape[0]], strict=True)):
        if j and b > a:
            keys[a:b] += j


def _skewed(created: np.ndarray, faults: Sequence[FaultSpec]) -> np.ndarray:
    """CreateTime as the producer's clock reads it, under ``clock_skew`` faults."""
    out = created
    for f in faults:
        if f.kind == "clock_skew" and f.target == "producer":
            inside = (created >= f.start_s) & (created < f.end_s)
            skew = f.delay_s + f.drift_ppm * 1e-6 * (created - f.start_s)
            out = np.where(inside, created + skew, out)
    return out
