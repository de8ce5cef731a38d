"""EventLog: an in-process, Kafka-like log of topics, partitions and offsets.

Records are appended by key with a *stable* hash (CRC-32 of the UTF-8 key, modulo the
partition count: the same partition in every process and Python version), or round-robin
when the key is null. Each partition keeps its records in columns; ``to_polars()`` builds one
frame without a per-row Python loop.

Frame schema (``to_polars``, ``write_parquet``)
-----------------------------------------------
topic String, partition Int32, offset Int64, event_id Int64, timestamp_s Float64 (creation
time), append_s Float64 (broker append time), key String (nullable), event_type String
(nullable), payload_bytes Int32, tombstone Boolean (null value), then the topics' payload
columns (null where a topic lacks them). Rows are ordered by topic, partition, offset.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from eventsim.exceptions import ConfigError, DataFormatError
from eventsim.log.crc32 import crc32_many
from eventsim.log.dictionary import Dictionary, is_text
from eventsim.log.partition import Partition
from eventsim.log.record import CORE_COLUMNS, Offset, RecordBatch, TopicPartition

__all__ = ["EventLog", "Topic", "partition_for_key"]

SCHEMA_VERSION = 1
_META_KEY = b"eventsim.log"
#: Defaults of the core columns an events frame may leave out.
_FRAME_DEFAULTS = {
    "key": -1,
    "event_type": -1,
    "event_id": -1,
    "payload_bytes": 0,
    "tombstone": False,
}


def partition_for_key(key: str, partitions: int) -> int:
    """The partition of ``key``: CRC-32 of its UTF-8 bytes modulo ``partitions``.

    Examples
    --------
    >>> partition_for_key("user-42", 12)
    7
    """
    return zlib.crc32(key.encode("utf-8")) % partitions


class Topic:
    """A named set of partitions and the types of its payload columns."""

    def __init__(self, name: str, partitions: int) -> None:
        if partitions < 1:
            msg = f"partitions of topic {name!r} must be >= 1; got {partitions!r}"
            raise ConfigError(msg)
        self.name = name
        self.partitions = [Partition(name, i) for i in range(partitions)]
        self.string_columns: set[str] = set()
        self._next_rr = 0

    def round_robin(self, n: int) -> np.ndarray:
        """Partitions for ``n`` null-keyed records, continuing the rotation."""
        parts = (self._next_rr + np.arange(n)) % len(self.partitions)
        self._next_rr = (self._next_rr + n) % len(self.partitions)
        return parts


class EventLog:
    """Topics → partitions → offsets, with retention, compaction and Parquet I/O.

    Parameters
    ----------
    partitions
        Default partition count of topics created on first append.

    Examples
    --------
    >>> log = EventLog(partitions=1)
    >>> log.append("orders", key="u1", value={"total": 9.5})
    Offset(topic='orders', partition=0, offset=0)
    >>> log.append("orders", key="u2", value={"total": 3.0}, timestamp_s=1.0)
    Offset(topic='orders', partition=0, offset=1)
    >>> log.to_polars().select("offset", "key", "total").rows()
    [(0, 'u1', 9.5), (1, 'u2', 3.0)]
    """

    def __init__(self, partitions: int = 1) -> None:
        if partitions < 1:
            msg = f"partitions must be >= 1; got {partitions!r}"
            raise ConfigError(msg)
        self.default_partitions = partitions
        self.topics: dict[str, Topic] = {}
        self.strings = Dictionary()
        self._key_hash = np.zeros(0, dtype=np.uint32)  # CRC-32 of the strings used as keys
        self._hashed = np.zeros(0, dtype=bool)

    # -- topics -------------------------------------------------------------------------------
    def create_topic(self, name: str, partitions: int | None = None) -> Topic:
        """Create ``name`` (or return it if it exists)."""
        topic = self.topics.get(name)
        if topic is None:
            topic = Topic(name, partitions or self.default_partitions)
            self.topics[name] = topic
        return topic

    def partition(self, topic: str, partition: int) -> Partition:
        """The partition object."""
        try:
            return self.topics[topic].partitions[partition]
        except (KeyError, IndexError):
            msg = f"topic-partition {topic}-{partition} does not exist"
            raise ConfigError(msg) from None

    def topic_partitions(self, topics: list[str] | None = None) -> list[TopicPartition]:
        """All (topic, partition) pairs, sorted."""
        names = sorted(self.topics) if topics is None else sorted(topics)
        return [
            TopicPartition(t, p.index)
            for t in names
            if t in self.topics
            for p in self.topics[t].partitions
        ]

    # -- partitioning ------------------------------------------------------------------------
    def _hash_keys(self, codes: np.ndarray) -> None:
        """Make sure ``_key_hash[c]`` holds the CRC-32 of string ``c`` for every code given
        (a string is hashed once, when first used as a key)."""
        size = len(self.strings)
        if self._hashed.shape[0] < size:  # grow geometrically: single appends stay O(1)
            capacity = max(size, 2 * self._hashed.shape[0], 64)
            self._key_hash = np.concatenate(
                [self._key_hash, np.zeros(capacity - self._key_hash.shape[0], np.uint32)]
            )
            self._hashed = np.concatenate(
                [self._hashed, np.zeros(capacity - self._hashed.shape[0], bool)]
            )
        if not codes.shape[0]:
            return
        if codes.shape[0] * 8 < size:
            todo = np.unique(codes[~self._hashed[codes]])
        else:
            todo = np.flatnonzero(np.bincount(codes, minlength=size).astype(bool))
            todo = todo[~self._hashed[todo]]
        if todo.shape[0] > 64:
            self._key_hash[todo] = crc32_many(self.strings.series().gather(todo))
        elif todo.shape[0]:
            strings = self.strings.take(todo)
            self._key_hash[todo] = [zlib.crc32(k.encode("utf-8")) for k in strings]
        self._hashed[todo] = True

    def partitions_for_codes(self, key_codes: np.ndarray, topic: Topic) -> np.ndarray:
        """Partition of each record from its key code (-1 → round-robin)."""
        keyed = key_codes >= 0
        all_keyed = bool(keyed.all())
        codes = key_codes if all_keyed else key_codes[keyed]
        self._hash_keys(codes)
        parts = np.empty(key_codes.shape[0], dtype=np.int64)
        n = len(topic.partitions)
        if all_keyed:
            np.remainder(self._key_hash[codes], n, out=parts)
            return parts
        parts[keyed] = self._key_hash[codes] % n
        parts[~keyed] = topic.round_robin(int((~keyed).sum()))
        return parts

    # -- appends -------------------------------------------------------------------------------
    def append(
        self,
        topic: str,
        key: str | None,
        value: Mapping[str, Any] | None,
        *,
        timestamp_s: float = 0.0,
        append_s: float | None = None,
        event_type: str | None = None,
        event_id: int = -1,
    ) -> Offset:
        """Append one record; a ``None`` value is a tombstone."""
        t = self.create_topic(topic)
        code = self.strings.encode(key)
        part = int(self.partitions_for_codes(np.array([code], dtype=np.int32), t)[0])
        values: dict[str, np.ndarray] = {
            "timestamp_s": np.array([timestamp_s], dtype=np.float64),
            "key": np.array([code], dtype=np.int32),
            "event_type": np.array([self.strings.encode(event_type)], dtype=np.int32),
            "event_id": np.array([event_id], dtype=np.int64),
            "tombstone": np.array([value is None]),
        }
        payload = dict(value or {})
        values["payload_bytes"] = np.array([len(json.dumps(payload, default=str))], np.int32)
        for name, v in payload.items():
            if isinstance(v, str):
                t.string_columns.add(name)
                values[name] = np.array([self.strings.encode(v)], dtype=np.int32)
            else:
                values[name] = np.asarray([v])
        p = t.partitions[part]
        first = p.append(values, append_s=timestamp_s if append_s is None else append_s)
        return Offset(topic, part, first)

    def encode_frame(
        self, frame: pl.DataFrame, *, no_default: tuple[str, ...] = ()
    ) -> dict[str, np.ndarray]:
        """Columns of an events frame as arrays ready for :meth:`append_columns`.

        String columns (``pl.String``, ``pl.Enum`` or ``pl.Categorical``: the same codes for
        the same strings) become dictionary codes; numeric nulls become NaN / 0 with a
        ``<name>.valid`` mask. Core columns the frame lacks get their defaults (null key and
        type, event id -1, payload 0 bytes, not a tombstone), so every stored column is set;
        except those in ``no_default``, which the caller sets itself.
        """
        out: dict[str, np.ndarray] = {
            name: np.full(frame.height, default, dtype=CORE_COLUMNS[name])
            for name, default in _FRAME_DEFAULTS.items()
            if name not in frame.columns and name not in no_default
        }
        text = [name for name in frame.columns if is_text(frame.schema[name])]
        codes = dict(zip(text, self.strings.encode_columns([frame[n] for n in text]), strict=True))
        for name in frame.columns:
            s = frame.get_column(name)
            if name in codes:
                out[name] = codes[name]
                out[f"{name}.is_string"] = np.empty(0)
            elif s.null_count():
                out[name] = s.fill_null(False if s.dtype == pl.Boolean else 0).to_numpy()
                out[f"{name}.valid"] = s.is_not_null().to_numpy()
            else:
                out[name] = s.to_numpy()
        return out

    def append_columns(
        self,
        topic: str,
        partition: int,
        columns: Mapping[str, np.ndarray],
        *,
        append_s: float,
        valid: dict[str, np.ndarray] | None = None,
    ) -> int:
        """Append a batch of encoded columns to one partition; returns its first offset."""
        return (
            self.topics[topic]
            .partitions[partition]
            .append(dict(columns), append_s=append_s, valid=valid)
        )

    def append_frame(self, topic: str, frame: pl.DataFrame, *, append_s: float) -> np.ndarray:
        """Append an events frame (``timestamp_s``, ``key``, ... ) partitioned by key.

        Returns the partition of each row.
        """
        t = self.create_topic(topic)
        enc = self.encode_frame(frame.drop("topic", strict=False))
        strings = {k.removesuffix(".is_string") for k in enc if k.endswith(".is_string")}
        t.string_columns |= strings - {"key", "event_type"}
        valid = {k.removesuffix(".valid"): v for k, v in enc.items() if k.endswith(".valid")}
        cols = {k: v for k, v in enc.items() if "." not in k}
        parts = self.partitions_for_codes(cols.get("key", np.full(frame.height, -1)), t)
        for p in np.unique(parts):
            idx = np.flatnonzero(parts == p)
            t.partitions[int(p)].append(
                {k: v[idx] for k, v in cols.items()},
                append_s=append_s,
                valid={k: v[idx] for k, v in valid.items()},
            )
        return parts

    # -- reads ----------------------------------------------------------------------------------
    def read(self, topic: str, partition: int, offset: int, max_records: int = 500) -> RecordBatch:
        """Up to ``max_records`` records of one partition from ``offset`` on.

        Raises
        ------
        OffsetOutOfRange
            Below the log-start offset (deleted by retention) or past the end.
        """
        return self.partition(topic, partition).read(offset, max_records)

    def start_offset(self, topic: str, partition: int) -> int:
        """Log-start offset (the first readable offset)."""
        return self.partition(topic, partition).start_offset

    def end_offset(self, topic: str, partition: int) -> int:
        """Log-end offset (the offset the next record will get)."""
        return self.partition(topic, partition).end_offset

    def __iter__(self) -> Iterator[Partition]:
        for name in sorted(self.topics):
            yield from self.topics[name].partitions

    def __len__(self) -> int:
        return sum(len(p) for p in self)

    # -- retention & compaction ------------------------------------------------------------------
    def enforce_retention(
        self,
        now_s: float,
        *,
        retention_s: float | None = None,
        retention_records: int | None = None,
    ) -> int:
        """Delete records older than ``retention_s`` or beyond ``retention_records`` per
        partition; the log-start offset advances. Returns the number of records deleted."""
        removed = 0
        for p in self:
            if not len(p):
                continue
            offsets = p.values("offset")
            cut = 0
            if retention_s is not None:
                cut = int(np.searchsorted(p.values("append_s"), now_s - retention_s))
            if retention_records is not None:
                cut = max(cut, len(p) - retention_records)
            if cut > 0:
                target = int(offsets[cut]) if cut < len(p) else p.end_offset
                removed += p.truncate_before(target)
        return removed

    def compact(self, now_s: float, *, delete_retention_s: float = 86400.0) -> int:
        """Keep the latest record per key; drop tombstones older than ``delete_retention_s``.

        Records with a null key are kept. Returns the number of records removed.
        """
        removed = 0
        for p in self:
            n = len(p)
            if not n:
                continue
            keys = p.values("key")
            rev = keys[::-1]
            _, first_rev = np.unique(rev, return_index=True)
            keep = np.zeros(n, dtype=np.bool_)
            keep[n - 1 - first_rev] = True
            keep[keys < 0] = True
            tomb = p.values("tombstone")
            old = p.values("append_s") < now_s - delete_retention_s
            keep &= ~(tomb & old)
            if not keep.all():
                removed += n - int(keep.sum())
                start = p.start_offset
                p.keep(np.flatnonzero(keep))
                p.start_offset = start  # compaction never moves the log-start offset (Kafka)
        return removed

    # -- frames & files -----------------------------------------------------------------------
    def partition_frame(self, p: Partition, lo: int = 0, hi: int | None = None) -> pl.DataFrame:
        """Stored rows ``[lo, hi)`` of one partition as a frame (the schema above)."""
        topic = self.topics[p.topic]
        hi = len(p) if hi is None else hi
        data: dict[str, pl.Series] = {}
        n = hi - lo
        data["topic"] = (
            pl.Series("topic", [p.topic], dtype=pl.String).extend_constant(p.topic, n - 1)
            if n
            else pl.Series("topic", [], dtype=pl.String)
        )
        data["partition"] = pl.Series("partition", np.full(n, p.index, dtype=np.int32))
        order = ["offset", "event_id", "timestamp_s", "append_s", "key", "event_type"]
        order += ["payload_bytes", "tombstone"]
        extra = [c for c in p.columns if c not in CORE_COLUMNS]
        for name in order + extra:
            values = p.data[name][lo:hi]
            if name in ("key", "event_type") or name in topic.string_columns:
                series = self.strings.decode(values).alias(name)
            else:
                series = pl.Series(name, values)
            mask = p.validity(name)
            if mask is not None:
                keep = pl.Series(mask[lo:hi])
                series = pl.select(pl.when(keep).then(series)).to_series().alias(name)
            data[name] = series
        return pl.DataFrame(data)

    def to_polars(self, topic: str | None = None) -> pl.DataFrame:
        """All stored records (or one topic's) as one frame, ordered by topic, partition,
        offset."""
        names = sorted(self.topics) if topic is None else [topic]
        frames = []
        for name in names:
            parts = self.topics[name].partitions
            if len(parts) > 1 and _same_layout(parts):
                frames.append(self._topic_frame(name, parts))
            else:
                frames.extend(self.partition_frame(p) for p in parts)
        if not frames:
            return pl.DataFrame(schema=_empty_schema())
        if len(frames) == 1:
            return frames[0]
        return pl.concat(frames, how="diagonal_relaxed")

    def _topic_frame(self, name: str, parts: list[Partition]) -> pl.DataFrame:
        """The rows of partitions sharing one column layout as one frame (what concatenating
        their partition frames gives), each string column decoded once."""
        topic = self.topics[name]
        sizes = [p.n for p in parts]
        n = sum(sizes)
        data: dict[str, pl.Series] = {
            "topic": pl.repeat(name, n, dtype=pl.String, eager=True).alias("topic"),
            "partition": pl.Series(
                "partition", np.repeat(np.array([p.index for p in parts], np.int32), sizes)
            ),
        }
        order = ["offset", "event_id", "timestamp_s", "append_s", "key", "event_type"]
        order += ["payload_bytes", "tombstone"]
        extra = [c for c in parts[0].columns if c not in CORE_COLUMNS]
        for col in order + extra:
            if col in ("key", "event_type") or col in topic.string_columns:
                codes = np.concatenate([p.data[col][: p.n] for p in parts])
                series = self.strings.decode(codes).alias(col)
            else:  # numpy slices become polars chunks without a copy
                series = pl.concat([pl.Series(col, p.data[col][: p.n]) for p in parts])
            masks = [p.validity(col) for p in parts]
            if any(m is not None for m in masks):
                keep = np.concatenate(
                    [
                        np.ones(p.n, np.bool_) if m is None else m
                        for p, m in zip(parts, masks, strict=True)
                    ]
                )
                series = pl.select(pl.when(pl.Series(keep)).then(series)).to_series().alias(col)
            data[col] = series
        return pl.DataFrame(data)

    def _meta(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "default_partitions": self.default_partitions,
            "topics": {
                name: {
                    "partitions": len(t.partitions),
                    "start_offsets": [p.start_offset for p in t.partitions],
                    "end_offsets": [p.end_offset for p in t.partitions],
                    "string_columns": sorted(t.string_columns),
                    "payload_columns": list(
                        dict.fromkeys(
                            c for p in t.partitions for c in p.columns if c not in CORE_COLUMNS
                        )
                    ),
                }
                for name, t in self.topics.items()
            },
        }

    def write_parquet(self, path: str | Path) -> None:
        """Write the log to one Parquet file (atomically), with topic metadata."""
        from eventsim.log.parquet import write_frame

        write_frame(self.to_polars(), Path(path), {_META_KEY: json.dumps(self._meta())})

    @classmethod
    def read_parquet(cls, path: str | Path) -> EventLog:
        """Read a log written by :meth:`write_parquet`; the round trip is exact."""
        from eventsim.log.parquet import read_frame

        frame, meta = read_frame(Path(path))
        raw = meta.get(_META_KEY)
        if raw is None:
            msg = f"{path}: not an eventsim event log (no {_META_KEY.decode()} metadata)"
            raise DataFormatError(msg)
        info = json.loads(raw)
        log = cls(partitions=info["default_partitions"])
        for name, tinfo in info["topics"].items():
            topic = log.create_topic(name, tinfo["partitions"])
            topic.string_columns = set(tinfo["string_columns"])
            payload = tinfo["payload_columns"]
            rows = frame.filter(pl.col("topic") == name)
            for p in topic.partitions:
                part = rows.filter(pl.col("partition") == p.index)
                log._restore(p, part.select(_core_order() + payload))
                p.start_offset = tinfo["start_offsets"][p.index]
                p.end_offset = tinfo["end_offsets"][p.index]
        return log

    def _restore(self, p: Partition, frame: pl.DataFrame) -> None:
        enc = self.encode_frame(frame)
        cols = {k: v for k, v in enc.items() if "." not in k}
        valid = {k.removesuffix(".valid"): v for k, v in enc.items() if k.endswith(".valid")}
        p.restore(cols, valid)

    def nbytes(self) -> int:
        """Bytes held by all partitions' buffers (the string dictionary excluded)."""
        return sum(p.nbytes() for p in self)


def _same_layout(parts: list[Partition]) -> bool:
    """True if the partitions store the same columns, in the same order, with the same
    dtypes (so their frames concatenate without relaxing any type)."""
    first = [(k, v.dtype) for k, v in parts[0].data.items()]
    return all([(k, v.dtype) for k, v in p.data.items()] == first for p in parts[1:])


def _core_order() -> list[str]:
    return list(CORE_COLUMNS)


def _empty_schema() -> dict[str, pl.DataType]:
    return {
        "topic": pl.String(),
        "partition": pl.Int32(),
        "offset": pl.Int64(),
        "event_id": pl.Int64(),
        "timestamp_s": pl.Float64(),
        "append_s": pl.Float64(),
        "key": pl.String(),
        "event_type": pl.String(),
        "payload_bytes": pl.Int32(),
        "tombstone": pl.Boolean(),
    }
