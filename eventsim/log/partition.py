"""A partition: an append-only, offset-ordered sequence of records stored as columns.

Each column is a numpy array; all columns of a partition grow together (by 25% at a time, so
at most a fifth of the buffer is slack), which keeps an append to one slice assignment per
column. Offsets increase strictly; records keep their order. Retention advances the
log-start offset; compaction keeps the latest record per key (offsets stay, so they become
sparse). A stored row is never rewritten in place: retention and compaction move what they
keep to new arrays, so a view of stored rows keeps its values.
"""

from __future__ import annotations

import numpy as np

from eventsim.exceptions import OffsetOutOfRange
from eventsim.log.record import CORE_COLUMNS, RecordBatch

__all__ = ["Partition"]

_GROWTH = 1.25
_MIN_CAPACITY = 64


class Partition:
    """Columns of one topic partition.

    Parameters
    ----------
    topic, index
        Which partition this is.

    Examples
    --------
    >>> p = Partition("orders", 0)
    >>> p.append({"timestamp_s": np.array([0.5, 0.7]), "key": np.array([3, 4], dtype=np.int32)},
    ...          append_s=1.0)
    0
    >>> p.read(1, 10).offsets.tolist(), p.end_offset
    ([1], 2)
    """

    def __init__(self, topic: str, index: int) -> None:
        self.topic = topic
        self.index = index
        self.n = 0
        self.cap = _MIN_CAPACITY
        self.data: dict[str, np.ndarray] = {
            name: np.empty(self.cap, dtype=dt) for name, dt in CORE_COLUMNS.items()
        }
        self.valid: dict[str, np.ndarray] = {}
        self.start_offset = 0
        self.end_offset = 0
        # Layout cache for _index: offset of stored row 0, and whether stored offsets are
        # consecutive (no compaction holes), so that most reads need no search.
        self._first = 0
        self._dense = True
        # Columns whose storage is a slice of a producer's array (see adopt): name ->
        # (that array, its row holding our row 0).
        self._views: dict[str, tuple[np.ndarray, int]] = {}

    def __len__(self) -> int:
        return self.n

    @property
    def columns(self) -> list[str]:
        """Names of the stored columns (core first, then payload)."""
        return list(self.data)

    def _grow(self, need: int) -> None:
        cap = max(need, int(self.cap * _GROWTH) + 1)
        self._views.clear()
        for name, arr in self.data.items():
            new = np.empty(cap, dtype=arr.dtype)
            new[: self.n] = arr[: self.n]
            self.data[name] = new
        for name, arr in self.valid.items():
            new = np.ones(cap, dtype=np.bool_)
            new[: self.n] = arr[: self.n]
            self.valid[name] = new
        self.cap = cap

    def reserve(self, capacity: int) -> None:
        """Make room for ``capacity`` rows, so that appends up to it need no regrowth."""
        if capacity > self.cap:
            self._grow(capacity)

    def adopt(self, source: dict[str, np.ndarray], lo: int, hi: int) -> bool:
        """Store this (empty) partition's next ``hi - lo`` rows in rows ``[lo, hi)`` of
        ``source``'s arrays, which must not change: :meth:`append_slice` of exactly those
        rows then copies nothing. Columns ``source`` lacks (``offset`` among them) get their
        own buffers. Any other write moves the columns to buffers of their own first.

        A producer that laid its records out partition by partition uses this; returns
        False (and changes nothing) if the partition is not empty or a dtype differs.
        """
        cap = hi - lo
        if self.n or any(
            name in self.data and self.data[name].dtype != arr.dtype for name, arr in source.items()
        ):
            return False
        for name, arr in source.items():
            self.data[name] = arr[lo:hi]
            self._views[name] = (arr, lo)
        for name, arr in self.data.items():
            if name not in source:
                self.data[name] = np.empty(cap, dtype=arr.dtype)
        for name in self.valid:
            self.valid[name] = np.ones(cap, dtype=np.bool_)
        self.cap = cap
        return True

    def _own(self) -> None:
        """Give adopted columns buffers of their own before a write that is not theirs."""
        if self._views:
            for name in self._views:
                own = np.empty(self.cap, dtype=self.data[name].dtype)
                own[: self.n] = self.data[name][: self.n]
                self.data[name] = own
            self._views.clear()

    def add_column(self, name: str, dtype: np.dtype) -> None:
        """Add a payload column (earlier rows become null)."""
        self._views.pop(name, None)
        self.data[name] = np.empty(self.cap, dtype=dtype)
        self.data[name][: self.n] = np.nan if dtype.kind == "f" else 0
        if self.n:
            self.valid[name] = np.ones(self.cap, dtype=np.bool_)
            self.valid[name][: self.n] = False

    def append(
        self,
        values: dict[str, np.ndarray],
        *,
        append_s: float | np.ndarray,
        valid: dict[str, np.ndarray] | None = None,
    ) -> int:
        """Append a batch; returns the first offset given.

        ``values`` must hold ``timestamp_s``; ``offset`` and ``append_s`` are assigned here.
        Core columns not given get defaults (null key and type, event id -1); payload columns
        are created on first sight with the dtype of the first batch.
        """
        k = values["timestamp_s"].shape[0]
        n, end = self.n, self.n + k
        if end > self.cap:
            self._grow(end)
        self._own()
        first = self.end_offset
        self._note_append(n, first)
        data = self.data
        data["offset"][n:end] = np.arange(first, first + k)
        data["append_s"][n:end] = append_s
        for name, arr in values.items():
            col = data.get(name)
            if col is None:
                self.add_column(name, arr.dtype)
                col = data[name]
            col[n:end] = arr
        missing = set()
        if len(values) + 2 < len(data):
            missing = data.keys() - values.keys() - {"offset", "append_s"}
            for name in missing:
                data[name][n:end] = _default(name, data[name].dtype)
                if name not in CORE_COLUMNS:
                    self._set_valid(name, n, end, None)
        valid = valid or {}
        for name, arr in self.valid.items():
            if name not in valid and name not in missing:
                arr[n:end] = True
        for name, mask in valid.items():
            self._set_valid(name, n, end, mask)
        self.n = end
        self.end_offset = first + k
        return first

    def append_slice(
        self,
        source: dict[str, np.ndarray],
        lo: int,
        hi: int,
        *,
        append_s: float | np.ndarray | None = None,
    ) -> int:
        """Append rows ``[lo, hi)`` of ``source`` (all stored columns but ``offset``, none
        null): the producers' fast path, one slice copy per column (none for the columns
        already in place, see :meth:`adopt`).

        ``append_s`` comes from ``source`` or the argument, and may be an array (one append
        time per row, non-decreasing): records staged ahead of time become visible to
        time-gated reads only when their time comes.
        """
        k = hi - lo
        n, end = self.n, self.n + k
        if end > self.cap:
            self._grow(end)
        first = self.end_offset
        self._note_append(n, first)
        data = self.data
        data["offset"][n:end] = np.arange(first, first + k)
        if append_s is not None:
            data["append_s"][n:end] = append_s
        views = self._views
        if views and any(
            (view := views.get(name)) is not None and (view[0] is not src or view[1] + n != lo)
            for name, src in source.items()
        ):
            self._own()  # not the rows adopted: stop sharing before writing
        for name, src in source.items():
            if name not in views:
                data[name][n:end] = src[lo:hi]
        for arr in self.valid.values():
            arr[n:end] = True
        self.n = end
        self.end_offset = first + k
        return first

    def _note_append(self, n: int, first: int) -> None:
        if not n:
            self._first, self._dense = first, True
        elif self._dense and first != self._first + n:
            self._dense = False

    def _note_layout(self) -> None:
        if self.n:
            offsets = self.data["offset"]
            self._first = int(offsets[0])
            self._dense = int(offsets[self.n - 1]) - self._first == self.n - 1
        else:
            self._first, self._dense = self.end_offset, True

    def _set_valid(self, name: str, lo: int, hi: int, mask: np.ndarray | None) -> None:
        arr = self.valid.get(name)
        if arr is None:
            if mask is not None and mask.all():
                return
            arr = self.valid[name] = np.ones(self.cap, dtype=np.bool_)
        arr[lo:hi] = False if mask is None else mask

    def _index(self, offset: int) -> int:
        if not self.n:
            return 0
        if self._dense:  # no compaction holes
            return min(max(offset - self._first, 0), self.n)
        return int(self.data["offset"][: self.n].searchsorted(offset, side="left"))

    def read(
        self,
        offset: int,
        max_records: int,
        *,
        until_s: float | None = None,
        gate: str = "append_s",
    ) -> RecordBatch:
        """Records from ``offset`` on, at most ``max_records``.

        ``until_s`` hides records whose ``gate`` time (``append_s``; or ``visible_s``, the
        high watermark, or ``stable_s``, the last stable offset, where the producer staged
        them) is later. Gate columns are non-decreasing within a partition.

        Raises
        ------
        OffsetOutOfRange
            If ``offset`` is below the log-start offset or past the log-end offset.
        """
        if offset < self.start_offset or offset > self.end_offset:
            msg = (
                f"offset {offset} of {self.topic}-{self.index} is out of range"
                f" [{self.start_offset}, {self.end_offset}]"
            )
            raise OffsetOutOfRange(msg)
        n = self.n
        if offset == self.end_offset:  # caught up: the common case, answered at once
            return RecordBatch(self.topic, self.index, self, n, n)
        lo = min(max(offset - self._first, 0), n) if self._dense else self._index(offset)
        hi = min(lo + max_records, n)
        if until_s is not None and hi > lo:
            gated = self.data.get(gate)
            if gated is None:
                gated = self.data["append_s"]
            if gated[lo] > until_s:  # staged, not visible yet
                hi = lo
            elif gated[hi - 1] > until_s:
                hi = lo + int(gated[lo:hi].searchsorted(until_s, side="right"))
        return RecordBatch(self.topic, self.index, self, lo, hi)

    def offset_after(self, hi: int) -> int:
        """The offset after stored row ``hi - 1`` (``hi`` >= 1)."""
        if self._dense:
            return self._first + hi
        return int(self.data["offset"][hi - 1]) + 1

    def slice(self, lo: int, hi: int) -> dict[str, np.ndarray]:
        """Column views of stored rows ``[lo, hi)``."""
        return {name: col[lo:hi] for name, col in self.data.items()}

    def values(self, name: str) -> np.ndarray:
        """A view of one column's stored values."""
        return self.data[name][: self.n]

    def validity(self, name: str) -> np.ndarray | None:
        """Non-null mask of a column, or None when no value is null."""
        arr = self.valid.get(name)
        return None if arr is None or arr[: self.n].all() else arr[: self.n]

    def visible_end(self, until_s: float, gate: str = "append_s") -> int:
        """The offset after the last record whose ``gate`` time is at or before ``until_s``."""
        gated = self.data.get(gate)
        if gated is None:
            gated = self.data["append_s"]
        i = int(gated[: self.n].searchsorted(until_s, side="right"))
        return int(self.data["offset"][i - 1]) + 1 if i else self.start_offset

    def keep(self, index: np.ndarray) -> None:
        """Keep only the rows at sorted positions ``index``; the log-start offset follows."""
        k = index.shape[0]
        self.cap = max(k, _MIN_CAPACITY)
        self._views.clear()
        for store in (self.data, self.valid):
            for name, arr in store.items():
                new = np.empty(self.cap, dtype=arr.dtype)
                new[:k] = arr[: self.n][index]
                store[name] = new
        self.n = k
        self.start_offset = int(self.data["offset"][0]) if k else self.end_offset
        self._note_layout()

    def truncate_before(self, offset: int) -> int:
        """Delete records below ``offset`` (retention); returns how many were removed."""
        cut = self._index(offset)
        if cut:
            self.keep(np.arange(cut, self.n))
        self.start_offset = max(self.start_offset, min(offset, self.end_offset))
        return cut

    def restore(self, columns: dict[str, np.ndarray], valid: dict[str, np.ndarray]) -> None:
        """Load stored rows as they were (offsets included), replacing what is here."""
        self._own()
        k = columns["offset"].shape[0]
        self.cap = max(k, _MIN_CAPACITY)
        for name, arr in columns.items():
            dtype = CORE_COLUMNS.get(name, arr.dtype)
            self.data[name] = np.empty(self.cap, dtype=dtype)
            self.data[name][:k] = arr
        for name, mask in valid.items():
            self.valid[name] = np.ones(self.cap, dtype=np.bool_)
            self.valid[name][:k] = mask
        self.n = k
        self._note_layout()

    def nbytes(self) -> int:
        """Bytes held by this partition's buffers (capacity, not just the used part)."""
        return sum(a.nbytes for a in self.data.values()) + sum(
            a.nbytes for a in self.valid.values()
        )


def _default(name: str, dtype: np.dtype) -> float | int:
    if name in ("key", "event_type", "event_id"):
        return -1
    return np.nan if dtype.kind == "f" else 0
