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

from eventsim.log.event_log import EventLog
from eventsim.scenario import ProducerConfig

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
        breaks: Sequence[float] = (),
        epoch_s: float = EPOCH_S,
    ) -> None:
        self.log = log
        self.cfg = cfg
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
        window = np.floor(cols["timestamp_s"] / cfg.linger_s)
        due = (window + 1) * cfg.linger_s + cfg.network_delay_s
        edges = np.unique(
            np.concatenate(
                [
                    np.arange(0.0, float(due.max(initial=0)) + epoch_s, epoch_s),
                    np.asarray(breaks, float),
                ]
            )
        )
        epoch = np.searchsorted(edges, due, side="right") - 1
        n_parts = max((len(t.partitions) for t in log.topics.values()), default=1)
        order = np.argsort(
            (epoch * len(self.topic_names) + topic_code) * n_parts + partition, kind="stable"
        )
        self.due = due[order]
        self.cols = {k: v[order] for k, v in cols.items()}
        self.valid = {k: v[order] for k, v in valid.items()}
        epoch, topic_code, partition = epoch[order], topic_code[order], partition[order]
        self._prepare_topics(topic_code)
        change = np.flatnonzero(
            (np.diff(epoch) != 0) | (np.diff(topic_code) != 0) | (np.diff(partition) != 0)
        )
        self.run_starts = np.concatenate([[0], change + 1]).astype(np.int64)
        self.run_ends = np.concatenate([change + 1, [n]]).astype(np.int64)
        self.run_epoch_start = edges[epoch[self.run_starts]] if n else np.empty(0)
        self.run_topic = topic_code[self.run_starts]
        self.run_partition = partition[self.run_starts]
        self.appended = 0

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
        topics = [self.log.topics[name] for name in self.topic_names]
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
            self.appended += b - a
