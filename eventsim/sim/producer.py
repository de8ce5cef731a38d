"""Producers: walk a workload's events and append them to the log in linger-window batches.

Records created within one linger window (per topic partition) travel in one batch and are
appended ``network_delay_s`` after the window closes: one SimPy event moves a whole window.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import polars as pl
import simpy

from eventsim.log.event_log import EventLog
from eventsim.scenario import ProducerConfig

__all__ = ["Producer"]


class Producer:
    """Encodes an events frame once, sorts it into (window, topic, partition) runs and
    appends each run when its window closes.

    Parameters
    ----------
    log
        The event log to append to (topics are created as needed).
    events
        Workload events (``timestamp_s``, ``topic``, ``key``, ... ); row ``i`` gets
        ``event_id = i``.
    cfg
        Linger window and network delay.
    """

    def __init__(self, log: EventLog, events: pl.DataFrame, cfg: ProducerConfig) -> None:
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
        self.valid = {k.removesuffix(".valid"): v for k, v in enc.items() if k.endswith(".valid")}
        cols = {k: v for k, v in enc.items() if "." not in k}
        cols["event_id"] = np.arange(n, dtype=np.int64)
        partition = np.empty(n, dtype=np.int64)
        for code, name in enumerate(self.topic_names):
            mask = topic_code == code
            partition[mask] = log.partitions_for_codes(cols["key"][mask], log.create_topic(name))
        window = np.floor(cols["timestamp_s"] / cfg.linger_s).astype(np.int64)
        n_parts = max(len(t.partitions) for t in log.topics.values()) if n else 1
        run_key = (window * len(self.topic_names) + topic_code) * n_parts + partition
        order = np.argsort(run_key, kind="stable")
        self.cols = {k: v[order] for k, v in cols.items()}
        self.valid = {k: v[order] for k, v in self.valid.items()}
        window, topic_code, partition = window[order], topic_code[order], partition[order]
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
            for part in log.topics[name].partitions:
                for k, v in present.items():
                    if k not in part.data:
                        part.add_column(k, v.dtype)
        change = np.flatnonzero(
            (np.diff(window) != 0) | (np.diff(topic_code) != 0) | (np.diff(partition) != 0)
        )
        self.run_starts = np.concatenate([[0], change + 1]).astype(np.int64)
        self.run_ends = np.concatenate([change + 1, [n]]).astype(np.int64)
        self.run_window = window[self.run_starts]
        self.run_topic = topic_code[self.run_starts]
        self.run_partition = partition[self.run_starts]
        self.appended = 0

    def process(self, env: simpy.Environment) -> Generator[Any, Any, None]:
        """The SimPy process: one timeout per non-empty window, then its appends."""
        windows = self.run_window
        if not windows.shape[0]:
            return
        bounds = np.flatnonzero(np.diff(windows)) + 1
        firsts = np.concatenate([[0], bounds])
        lasts = np.concatenate([bounds, [windows.shape[0]]])
        linger, delay = self.cfg.linger_s, self.cfg.network_delay_s
        for first, last in zip(firsts.tolist(), lasts.tolist(), strict=True):
            due = (int(windows[first]) + 1) * linger + delay
            if due > env.now:
                yield env.timeout(due - env.now)
            self.flush(first, last, env.now)

    def flush(self, first: int, last: int, now: float) -> None:
        """Append runs ``[first, last)`` at time ``now``."""
        topics = [self.log.topics[name] for name in self.topic_names]
        starts, ends = self.run_starts, self.run_ends
        for r in range(first, last):
            a, b = int(starts[r]), int(ends[r])
            code = int(self.run_topic[r])
            part = topics[code].partitions[int(self.run_partition[r])]
            cols, valid = self.topic_cols[code], self.topic_valid[code]
            if valid:
                mask = {k: v[a:b] for k, v in valid.items()}
                part.append({k: v[a:b] for k, v in cols.items()}, append_s=now, valid=mask)
            else:
                part.append_slice(cols, a, b, append_s=now)
            self.appended += b - a
