"""Offsets and reads: strictly increasing offsets, per-partition order, read() semantics."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from eventsim.exceptions import OffsetOutOfRange
from eventsim.log import EventLog, Offset, Partition, partition_for_key


def _log_with(n: int, partitions: int = 1) -> EventLog:
    log = EventLog(partitions=partitions)
    for i in range(n):
        log.append("t", f"k{i}", {"v": i}, timestamp_s=float(i), event_id=i)
    return log


def test_append_returns_consecutive_offsets_per_partition() -> None:
    log = EventLog(partitions=1)
    got = [log.append("t", f"k{i}", {"v": i}) for i in range(5)]
    assert got == [Offset("t", 0, i) for i in range(5)]
    assert (log.start_offset("t", 0), log.end_offset("t", 0)) == (0, 5)


def test_read_returns_at_most_max_records_from_offset() -> None:
    log = _log_with(10)
    batch = log.read("t", 0, 3, max_records=4)
    assert batch.offsets.tolist() == [3, 4, 5, 6]
    assert batch.column("event_id").tolist() == [3, 4, 5, 6]
    assert batch.next_offset == 7
    assert (batch.topic, batch.partition, len(batch)) == ("t", 0, 4)


def test_read_near_the_end_is_short_and_at_the_end_is_empty() -> None:
    log = _log_with(10)
    assert log.read("t", 0, 8, max_records=5).offsets.tolist() == [8, 9]
    at_end = log.read("t", 0, 10, max_records=5)
    assert len(at_end) == 0
    assert at_end.next_offset is None


def test_read_default_max_records_is_500() -> None:
    log = EventLog(partitions=1)
    frame = pl.DataFrame({"timestamp_s": np.zeros(700), "key": ["k"] * 700})
    log.append_frame("t", frame, append_s=0)
    assert len(log.read("t", 0, 0)) == 500


def test_read_past_end_raises() -> None:
    log = _log_with(3)
    with pytest.raises(OffsetOutOfRange, match=r"offset 4 of t-0 is out of range \[0, 3\]"):
        log.read("t", 0, 4, max_records=1)


def test_read_below_log_start_raises() -> None:
    log = _log_with(6)
    log.enforce_retention(0.0, retention_records=2)
    assert log.start_offset("t", 0) == 4
    with pytest.raises(OffsetOutOfRange, match=r"offset 3 of t-0 is out of range \[4, 6\]"):
        log.read("t", 0, 3, max_records=1)
    assert log.read("t", 0, 4, max_records=10).offsets.tolist() == [4, 5]


def test_offset_out_of_range_is_a_lookup_error() -> None:
    assert issubclass(OffsetOutOfRange, LookupError)


def test_read_until_hides_later_appends() -> None:
    p = Partition("t", 0)
    p.append_slice(
        {"timestamp_s": np.arange(5.0)}, 0, 5, append_s=np.array([1.0, 1.0, 2.0, 3.0, 3.0])
    )
    assert p.read(0, 10, until_s=0.5).offsets.tolist() == []
    assert p.read(0, 10, until_s=2.0).offsets.tolist() == [0, 1, 2]
    assert p.read(1, 1, until_s=2.0).offsets.tolist() == [1]
    assert p.read(0, 10, until_s=3.0).offsets.tolist() == [0, 1, 2, 3, 4]
    assert p.visible_end(2.5) == 3


def test_batch_columns_are_views_of_all_stored_columns() -> None:
    log = _log_with(4)
    batch = log.read("t", 0, 1, max_records=2)
    cols = batch.columns
    assert set(cols) >= {"offset", "timestamp_s", "append_s", "key", "event_type", "v"}
    assert cols["v"].tolist() == [1, 2]
    assert cols["timestamp_s"].tolist() == [1.0, 2.0]


# -- properties ---------------------------------------------------------------------------------
_keys = st.one_of(st.none(), st.sampled_from([f"user-{i}" for i in range(20)]))
_batch = st.lists(_keys, min_size=1, max_size=30)
_ops = st.lists(st.tuples(st.booleans(), _batch), max_size=25)


@given(ops=_ops)
@example(ops=[])
def test_offsets_increase_and_order_is_kept_per_partition(ops: list) -> None:
    """Any mix of single appends and frame appends: per partition, offsets are 0..n-1 and
    records come back in the order they were appended (the key decides the partition; null
    keys rotate)."""
    n_parts = 4
    log = EventLog(partitions=n_parts)
    log.create_topic("t")
    model: list[list[int]] = [[] for _ in range(n_parts)]
    rr = 0
    next_id = 0
    for single, keys in ops:
        ids = list(range(next_id, next_id + len(keys)))
        next_id += len(keys)
        for key, eid in zip(keys, ids):
            if key is None:
                part, rr = rr, (rr + 1) % n_parts
            else:
                part = partition_for_key(key, n_parts)
            model[part].append(eid)
        if single:
            for key, eid in zip(keys, ids):
                log.append("t", key, {"v": eid}, event_id=eid)
        else:
            frame = pl.DataFrame(
                {"timestamp_s": [0.0] * len(keys), "key": keys, "event_id": ids},
                schema={"timestamp_s": pl.Float64, "key": pl.String, "event_id": pl.Int64},
            )
            log.append_frame("t", frame, append_s=0.0)
    for p in range(n_parts):
        expected = model[p]
        assert log.end_offset("t", p) == len(expected)
        batch = log.read("t", p, 0, max_records=10_000)
        assert batch.offsets.tolist() == list(range(len(expected)))
        assert batch.column("event_id").tolist() == expected
        offsets = log.to_polars().filter(pl.col("partition") == p)["offset"].to_numpy()
        assert (np.diff(offsets) > 0).all()


@given(sizes=st.lists(st.integers(0, 200), max_size=20), start=st.integers(0, 50))
def test_partition_grows_without_losing_rows(sizes: list[int], start: int) -> None:
    p = Partition("t", 0)
    total = 0
    for k in sizes:
        ts = np.arange(total, total + k, dtype=np.float64)
        first = p.append({"timestamp_s": ts}, append_s=float(total))
        assert first == total
        total += k
    assert len(p) == p.end_offset == total
    assert p.values("offset").tolist() == list(range(total))
    assert p.values("timestamp_s").tolist() == [float(i) for i in range(total)]
    lo = min(start, total)
    batch = p.read(lo, 7)
    assert batch.offsets.tolist() == list(range(lo, min(lo + 7, total)))
