"""Records as the log hands them out: an :class:`Offset` for one append, a
:class:`RecordBatch` (columns, not row objects) for a read."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from eventsim.log.partition import Partition

__all__ = ["CORE_COLUMNS", "Offset", "RecordBatch", "TopicPartition"]

#: Columns every partition stores, with their numpy dtypes. ``key`` and ``event_type`` are
#: int32 codes into the log's string dictionary (-1 = null); ``tombstone`` marks a null value.
CORE_COLUMNS: dict[str, np.dtype] = {
    "offset": np.dtype(np.int64),
    "timestamp_s": np.dtype(np.float64),
    "append_s": np.dtype(np.float64),
    "key": np.dtype(np.int32),
    "event_type": np.dtype(np.int32),
    "event_id": np.dtype(np.int64),
    "payload_bytes": np.dtype(np.int32),
    "tombstone": np.dtype(np.bool_),
}


class TopicPartition(NamedTuple):
    """A (topic, partition) pair."""

    topic: str
    partition: int


class Offset(NamedTuple):
    """Where one appended record landed."""

    topic: str
    partition: int
    offset: int


class RecordBatch:
    """Records read from one partition, in offset order: rows ``[lo, hi)`` of its storage.

    Columns are numpy views, taken on demand (:meth:`column`, or all of them via
    :attr:`columns`): the :data:`CORE_COLUMNS` plus the topic's payload columns.
    """

    __slots__ = ("hi", "lo", "partition", "source", "topic")

    def __init__(self, topic: str, partition: int, source: Partition, lo: int, hi: int) -> None:
        self.topic = topic
        self.partition = partition
        self.source = source
        self.lo = lo
        self.hi = hi

    def __len__(self) -> int:
        return self.hi - self.lo

    def column(self, name: str) -> np.ndarray:
        """A view of one column of these records."""
        return self.source.data[name][self.lo : self.hi]

    @property
    def columns(self) -> dict[str, np.ndarray]:
        """Views of every stored column of these records."""
        return self.source.slice(self.lo, self.hi)

    @property
    def offsets(self) -> np.ndarray:
        """The records' offsets."""
        return self.column("offset")

    @property
    def next_offset(self) -> int | None:
        """The offset after the last record (None for an empty batch)."""
        return int(self.offsets[-1]) + 1 if len(self) else None
