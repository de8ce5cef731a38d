"""Retention (by age, by count) and compaction, and how consumers reset after them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from eventsim.exceptions import OffsetOutOfRange
from eventsim.log import ConsumerGroup, EventLog, TopicPartition

TP = TopicPartition("t", 0)


def _log(n: int, partitions: int = 1) -> EventLog:
    """``n`` records per partition, record ``i`` appended at ``i`` seconds."""
    log = EventLog(partitions=partitions)
    log.create_topic("t")
    for p in range(partitions):
        for i in range(n):
            log.partition("t", p).append(
                {"timestamp_s": np.array([float(i)]), "v": np.array([i])}, append_s=float(i)
            )
    return log


# -- retention ------------------------------------------------------------------------------------
def test_retention_by_age_deletes_older_records_and_advances_log_start() -> None:
    log = _log(10)
    removed = log.enforce_retention(10.0, retention_s=5.0)  # keep append_s >= 5
    assert removed == 5
    assert (log.start_offset("t", 0), log.end_offset("t", 0)) == (5, 10)
    assert log.read("t", 0, 5, 100).offsets.tolist() == [5, 6, 7, 8, 9]
    with pytest.raises(OffsetOutOfRange):
        log.read("t", 0, 4, 1)
    assert log.to_polars()["offset"].to_list() == [5, 6, 7, 8, 9]
    assert log.enforce_retention(10.0, retention_s=5.0) == 0  # idempotent


def test_retention_by_count_is_per_partition() -> None:
    log = _log(10, partitions=3)
    assert log.enforce_retention(0.0, retention_records=4) == 18
    for p in range(3):
        assert (log.start_offset("t", p), log.end_offset("t", p)) == (6, 10)
        assert log.read("t", p, 6, 100).column("v").tolist() == [6, 7, 8, 9]


def test_retention_takes_the_stricter_of_age_and_count() -> None:
    log = _log(10)
    assert log.enforce_retention(10.0, retention_s=8.0, retention_records=5) == 5
    assert log.start_offset("t", 0) == 5
    assert log.enforce_retention(10.0, retention_s=3.0, retention_records=5) == 2
    assert log.start_offset("t", 0) == 7


def test_retention_can_empty_a_partition_and_appends_continue() -> None:
    log = _log(4)
    assert log.enforce_retention(100.0, retention_s=1.0) == 4
    assert (log.start_offset("t", 0), log.end_offset("t", 0), len(log)) == (4, 4, 0)
    assert len(log.read("t", 0, 4, 10)) == 0
    assert log.append("t", "k", {"v": 9}, timestamp_s=100.0).offset == 4


@pytest.mark.parametrize(("reset", "expected"), [("earliest", 6), ("latest", 10)])
def test_committed_offset_deleted_by_retention_resets_on_rebalance(
    reset: str, expected: int
) -> None:
    """Kafka: a committed offset that is no longer in the log is out of range; the consumer
    resets to the log start (earliest) or the log end (latest)."""
    log = _log(10)
    group = ConsumerGroup(log, "g", ["t"], auto_offset_reset=reset)
    group.join("a")
    group.commit("a", {TP: 2})
    log.enforce_retention(0.0, retention_records=4)
    group.join("b")
    owner = group.owner[TP]
    assert group.position[TP] == expected
    assert group.resets == 1
    got = [o for b in group.poll(owner, 100) for o in b.offsets.tolist()]
    assert got == list(range(expected, 10))


@pytest.mark.parametrize(("reset", "expected"), [("earliest", [6, 7, 8, 9]), ("latest", [])])
def test_position_deleted_under_a_consumer_resets_on_poll(reset: str, expected: list) -> None:
    log = _log(10)
    group = ConsumerGroup(log, "g", ["t"], auto_offset_reset=reset)
    group.join("a")
    group.seek(TP, 0)
    assert group.poll("a", 2)[0].offsets.tolist() == [0, 1]
    log.enforce_retention(0.0, retention_records=4)
    got = [o for b in group.poll("a", 100) for o in b.offsets.tolist()]
    assert got == expected
    assert group.resets == 1
    assert group.position[TP] == 10
    log.append("t", "k", {"v": 10})
    assert [o for b in group.poll("a", 100) for o in b.offsets.tolist()] == [10]


@pytest.mark.parametrize(("reset", "expected"), [("earliest", 0), ("latest", 5)])
def test_no_committed_offset_starts_by_auto_offset_reset(reset: str, expected: int) -> None:
    log = _log(5)
    group = ConsumerGroup(log, "g", ["t"], auto_offset_reset=reset)
    group.join("a")
    assert group.position[TP] == expected
    assert group.resets == 0


def test_committed_offset_at_log_end_is_valid() -> None:
    log = _log(5)
    group = ConsumerGroup(log, "g", ["t"], auto_offset_reset="earliest")
    group.join("a")
    group.commit("a", {TP: 5})
    group.join("b")
    assert group.position[TP] == 5
    assert group.resets == 0


# -- compaction -----------------------------------------------------------------------------------
def _compaction_log() -> EventLog:
    log = EventLog(partitions=1)
    rows = [("a", {"v": 1}), ("b", {"v": 2}), ("a", {"v": 3}), ("b", None), (None, {"v": 5})]
    rows += [(None, {"v": 6}), ("c", {"v": 7})]
    for key, value in rows:
        log.append("t", key, value, timestamp_s=0.0)
    return log


def test_compaction_keeps_latest_per_key_with_original_offsets() -> None:
    log = _compaction_log()
    assert log.compact(10.0, delete_retention_s=100.0) == 2
    rows = log.to_polars().select("offset", "key", "v", "tombstone").rows()
    assert rows == [
        (2, "a", 3, False),
        (3, "b", None, True),  # tombstone kept: younger than delete_retention_s
        (4, None, 5, False),  # null keys are never compacted
        (5, None, 6, False),
        (6, "c", 7, False),
    ]
    assert (log.start_offset("t", 0), log.end_offset("t", 0)) == (0, 7)


def test_compaction_drops_tombstones_only_after_delete_retention() -> None:
    log = _compaction_log()
    log.compact(10.0, delete_retention_s=100.0)
    assert log.compact(99.0, delete_retention_s=100.0) == 0
    assert log.compact(100.5, delete_retention_s=100.0) == 1
    assert log.to_polars()["offset"].to_list() == [2, 4, 5, 6]


def test_reads_from_compacted_holes_return_the_next_record() -> None:
    log = _compaction_log()
    log.compact(1000.0, delete_retention_s=100.0)
    assert log.read("t", 0, 0, 10).offsets.tolist() == [2, 4, 5, 6]
    assert log.read("t", 0, 3, 10).offsets.tolist() == [4, 5, 6]
    assert log.read("t", 0, 3, 1).offsets.tolist() == [4]
    assert log.append("t", "a", {"v": 8}).offset == 7


@pytest.mark.parametrize("reset", ["earliest", "latest"])
def test_compaction_does_not_move_log_start_or_reset_consumers(reset: str) -> None:
    """Kafka compaction never changes the log-start offset: a consumer at offset 0 reads the
    surviving records (no OffsetOutOfRange, no reset to the end with ``latest``)."""
    log = _compaction_log()
    group = ConsumerGroup(log, "g", ["t"], auto_offset_reset=reset)
    group.join("a")
    group.commit("a", {TP: 0})
    log.compact(1000.0, delete_retention_s=100.0)
    group.join("b")
    owner = group.owner[TP]
    assert group.position[TP] == 0
    assert [o for b in group.poll(owner, 100) for o in b.offsets.tolist()] == [2, 4, 5, 6]
    assert group.resets == 0


_keys = st.one_of(st.none(), st.sampled_from("abcdef"))
_records = st.lists(st.tuples(_keys, st.booleans(), st.floats(0, 100)), max_size=40)


@given(records=_records, now=st.floats(0, 300))
@example(records=[], now=0.0)
def test_compaction_property(records: list, now: float) -> None:
    """Survivors: every null-keyed record and the latest record of each key, minus tombstones
    older than delete_retention_s; offsets stay, in order."""
    log = EventLog(partitions=1)
    log.create_topic("t")
    times = sorted(t for _, _, t in records)
    for (key, tomb, _), t in zip(records, times):
        log.append("t", key, None if tomb else {"v": 1}, timestamp_s=t)
    log.compact(now, delete_retention_s=50.0)
    last = {key: i for i, (key, _, _) in enumerate(records) if key is not None}
    expected = [
        i
        for i, (key, tomb, _) in enumerate(records)
        if (key is None or last[key] == i) and not (tomb and times[i] < now - 50.0)
    ]
    assert log.to_polars()["offset"].to_list() == expected
    assert (log.start_offset("t", 0), log.end_offset("t", 0)) == (0, len(records))
    assert log.read("t", 0, 0, 1000).offsets.tolist() == expected


def test_append_after_compaction_removed_the_tail_reads_correctly() -> None:
    log = EventLog(partitions=1)
    for key, value in [("a", {"v": 0}), ("b", {"v": 1}), ("b", None)]:
        log.append("t", key, value, timestamp_s=0.0)
    log.compact(100.0, delete_retention_s=10.0)  # drops b's value and tombstone: tail gone
    assert log.to_polars()["offset"].to_list() == [0]
    assert log.append("t", "c", {"v": 3}).offset == 3
    assert log.read("t", 0, 3, 10).offsets.tolist() == [3]
    assert log.read("t", 0, 1, 10).offsets.tolist() == [3]
    assert log.read("t", 0, 0, 1).offsets.tolist() == [0]


_op = st.one_of(
    st.tuples(st.just("append"), st.lists(st.tuples(_keys, st.booleans()), max_size=8)),
    st.tuples(st.just("compact"), st.floats(0, 20)),
    st.tuples(st.just("retain"), st.integers(0, 10)),
    st.tuples(st.just("read"), st.integers(-2, 40), st.integers(1, 6)),
)


@given(ops=st.lists(_op, max_size=30))
def test_log_matches_a_model_under_appends_compaction_retention(ops: list) -> None:
    """Appends, compaction, count retention and reads in any order agree with a list model:
    offsets never reused, reads return the stored records from the offset on."""
    log = EventLog(partitions=1)
    log.create_topic("t")
    rows: list[tuple[int, str | None, bool, float]] = []  # offset, key, tombstone, append_s
    start = end = 0
    now = 0.0
    for op in ops:
        now += 1.0
        if op[0] == "append":
            for key, tomb in op[1]:
                log.append("t", key, None if tomb else {"v": end}, timestamp_s=now)
                rows.append((end, key, tomb, now))
                end += 1
        elif op[0] == "compact":
            log.compact(now, delete_retention_s=op[1])
            last = {k: off for off, k, _, _ in rows if k is not None}
            rows = [
                r
                for r in rows
                if (r[1] is None or last[r[1]] == r[0]) and not (r[2] and r[3] < now - op[1])
            ]
        elif op[0] == "retain":
            log.enforce_retention(now, retention_records=op[1])
            cut = len(rows) - op[1]
            if cut > 0:
                target = rows[cut][0] if cut < len(rows) else end
                rows = rows[cut:]
                start = max(start, min(target, end))
        else:
            offset, n = op[1], op[2]
            if offset < start or offset > end:
                with pytest.raises(OffsetOutOfRange):
                    log.read("t", 0, offset, n)
            else:
                want = [r[0] for r in rows if r[0] >= offset][:n]
                assert log.read("t", 0, offset, n).offsets.tolist() == want
        assert (log.start_offset("t", 0), log.end_offset("t", 0)) == (start, end)
        assert log.to_polars()["offset"].to_list() == [r[0] for r in rows]
