"""Producers: walk a workload's events and append them to the log in linger-window batches.

Records created within one linger window travel in one batch per partition and are appended
``network_delay_s`` after the window closes: that is each record's ``append_s``. For speed the
producer stages whole *epochs* of windows at once (one slice per partition per epoch, each
row carrying its own append time); reads in the simulation are gated by append time, so a
staged record is invisible until its batch would have arrived. Epochs end at ``breaks``
(fault boundaries), so nothing is staged across a change of the world.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import polars as pl
import simpy

from eventsim.delivery.send import SENDS_SCHEMA, SendOutcome, send_records
from eventsim.faults import FaultSpec
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
    breaks
        Simulated times at which an epoch must end (fault boundaries).
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
        topic_code = topics.cast(pl.Enum(self.topic_names)).to_physical().to_numpy()
        enc = log.encode_frame(events.drop("topic"))
        for name in (k.removesuffix(".is_string") for k in enc if k.endswith(".is_string")):
            if name not in ("key", "event_type"):
                for t in self.topic_names:
                    log.create_topic(t).string_columns.add(name)
        valid = {k.removesuffix(".valid"): v for k, v in enc.items() if k.endswith(".valid")}
        cols = {k: v for k, v in enc.items() if "." not in k}
        cols["event_id"] = np.arange(n, dtype=np.int64)
        partition = np.empty(n, dtype=np.int64)
        for code, name in enumerate(self.topic_names):
            mask = topic_code == code
            partition[mask] = log.partitions_for_codes(cols["key"][mask], log.create_topic(name))
        ready = (np.floor(cols["timestamp_s"] / cfg.linger_s) + 1) * cfg.linger_s
        self.created_s = cols["timestamp_s"].copy()
        cols["timestamp_s"] = _skewed(cols["timestamp_s"], faults)
        self.outcome = self._send(ready, partition, cfg, log_cfg, timelines, list(faults), rng)
        out = self.outcome
        rec = out.rec
        order = np.lexsort((out.append_s, partition[rec]))
        rec = rec[order]
        due = out.append_s[order]
        gates = {}
        lag = log_cfg.replication_lag_s if log_cfg.replication_factor > 1 else 0.0
        if lag > 0:
            gates["visible_s"] = due + lag
        if cfg.transactional:
            gates["txn_state"] = out.txn[order]
            gates["stable_s"] = np.maximum(out.stable_s[order], due + lag)
        self.partition_of = partition
        self.topic_of = topic_code
        self.n_records = n
        part = partition[rec]
        for k in [g for g in gates if g.endswith("_s")]:
            for p in np.unique(part):
                sel = part == p
                gates[k][sel] = np.maximum.accumulate(gates[k][sel])
        edges = np.arange(0.0, float(due.max(initial=0)) + epoch_s, epoch_s)
        epoch = np.searchsorted(edges, due, side="right") - 1
        n_parts = max((len(t.partitions) for t in log.topics.values()), default=1)
        tc = topic_code[rec]
        order = np.argsort((epoch * len(self.topic_names) + tc) * n_parts + part, kind="stable")
        rec, due, epoch, tc, part = rec[order], due[order], epoch[order], tc[order], part[order]
        self.due = due
        self.cols = {k: v[rec] for k, v in cols.items()}
        self.cols.update({k: v[order] for k, v in gates.items()})
        self.valid = {k: v[rec] for k, v in valid.items()}
        self._prepare_topics(tc)
        change = np.flatnonzero((np.diff(epoch) != 0) | (np.diff(tc) != 0) | (np.diff(part) != 0))
        m = rec.shape[0]
        self.run_starts = (
            np.concatenate([[0], change + 1]).astype(np.int64) if m else np.empty(0, dtype=np.int64)
        )
        self.run_ends = (
            np.concatenate([change + 1, [m]]).astype(np.int64) if m else np.empty(0, dtype=np.int64)
        )
        self.run_epoch_start = edges[epoch[self.run_starts]] if m else np.empty(0)
        self.run_topic = tc[self.run_starts]
        self.run_partition = part[self.run_starts]
        self._topics = [self.log.topics[name] for name in self.topic_names]

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
        append = ready + cfg.network_delay_s
        lag = log_cfg.replication_lag_s if cfg.acks == "all" else 0.0
        return SendOutcome(
            rec=np.arange(n),
            append_s=append,
            txn=np.zeros(n, dtype=np.int8),
            stable_s=append,
            attempts=np.ones(n, dtype=np.int32),
            status=np.full(n, 2 if cfg.acks == "0" else 0, dtype=np.int8),
            acked_s=np.full(n, np.nan) if cfg.acks == "0" else append + lag + cfg.network_delay_s,
            requests=int(np.unique(ready).shape[0]),
        )

    def sends(self, events: pl.DataFrame) -> pl.DataFrame:
        """The ``sends`` frame (:data:`~eventsim.delivery.send.SENDS_SCHEMA`)."""
        out = self.outcome
        statuses = pl.Series(["acked", "failed", "unacked"], dtype=pl.String)
        return pl.DataFrame(
            {
                "event_id": np.arange(self.n_records, dtype=np.int64),
                "topic": events.get_column("topic").cast(pl.String),
                "key": events.get_column("key").cast(pl.String),
                "partition": self.partition_of.astype(np.int32),
                "created_s": self.created_s,
                "attempts": out.attempts,
                "status": statuses.gather(out.status.astype(np.int64)),
                "acked_s": pl.Series(out.acked_s).fill_nan(None),
            },
            schema=SENDS_SCHEMA,
        )

    def _prepare_topics(self, topic_code: np.ndarray) -> None:
        """Per topic: the columns it carries and the null masks it needs."""
        self.topic_cols: list[dict[str, np.ndarray]] = []
        self.topic_valid: list[dict[str, np.ndarray]] = []
        for code, name in enumerate(self.topic_names):
            rows = topic_code == code
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
            cols, valid = self.topic_cols[code], self.topic_valid[code]
            if valid:
                mask = {k: v[a:b] for k, v in valid.items()}
                batch = {k: v[a:b] for k, v in cols.items()}
                part.append(batch, append_s=due[a:b], valid=mask)
            else:
                part.append_slice(cols, a, b, append_s=due[a:b])


def _skewed(created: np.ndarray, faults: Sequence[FaultSpec]) -> np.ndarray:
    """CreateTime as the producer's clock reads it, under ``clock_skew`` faults."""
    out = created.copy()
    for f in faults:
        if f.kind == "clock_skew" and f.target == "producer":
            inside = (created >= f.start_s) & (created < f.end_s)
            skew = f.delay_s + f.drift_ppm * 1e-6 * (created - f.start_s)
            out = np.where(inside, created + skew, out)
    return out
