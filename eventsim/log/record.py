"""Records as the log hands them out: an :class:`Offset` for one append, a
:class:`RecordBatch` (columns, not row objects) for a read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

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


@dataclass(frozen=True)
class RecordBatch:
    """Records read from one partition: column arrays (views into the log), in offset order.

    ``columns`` holds the :data:`CORE_COLUMNS` plus any payload columns of the topic.
    """

    topic: str
    partition: int
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return int(self.columns["offset"].shape[0])

    @property
    def offsets(self) -> np.ndarray:
        """The records' offsets."""
        return self.columns["offset"]

    @property
    def next_offset(self) -> int | None:
        """The offset after the last record (None for an empty batch)."""
        return int(self.offsets[-1]) + 1 if len(self) else None
