"""Partitions adopting a producer's column slices: staging copies nothing, and no other write
can reach the producer's arrays."""

from __future__ import annotations

import numpy as np

from eventsim.log.partition import Partition


def _source(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "timestamp_s": np.sort(rng.uniform(0, 10, n)),
        "append_s": np.sort(rng.uniform(10, 20, n)),
        "key": rng.integers(0, 9, n).astype(np.int32),
        "event_type": np.zeros(n, dtype=np.int32),
        "event_id": np.arange(n, dtype=np.int64) + 100,
        "payload_bytes": np.full(n, 7, dtype=np.int32),
        "tombstone": np.zeros(n, dtype=np.bool_),
    }


def _copy(src: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in src.items()}


def test_adopted_rows_are_staged_in_place() -> None:
    src = _source(50)
    p = Partition("t", 0)
    assert p.adopt(src, 10, 40)
    assert p.append_slice(src, 10, 25) == 0
    assert p.append_slice(src, 25, 40) == 15
    assert np.shares_memory(p.values("key"), src["key"])
    np.testing.assert_array_equal(p.values("event_id"), src["event_id"][10:40])
    np.testing.assert_array_equal(p.values("append_s"), src["append_s"][10:40])
    np.testing.assert_array_equal(p.values("offset"), np.arange(30))
    assert p.read(5, 3).column("event_id").tolist() == [115, 116, 117]


def test_other_writes_never_reach_the_source() -> None:
    src = _source(40)
    before = _copy(src)
    p = Partition("t", 0)
    assert p.adopt(src, 0, 40)
    p.append_slice(src, 0, 10)
    # a plain append in the middle: the partition moves to its own buffers first
    p.append({"timestamp_s": np.array([99.0]), "key": np.array([5], np.int32)}, append_s=21.0)
    for k, v in before.items():
        np.testing.assert_array_equal(src[k], v)
    assert not np.shares_memory(p.values("key"), src["key"])
    # rows that are no longer the adopted ones are copied
    p.append_slice(src, 10, 20)
    assert len(p) == 21
    np.testing.assert_array_equal(p.values("event_id")[11:], src["event_id"][10:20])
    assert p.values("event_id")[10] == -1
    for k, v in before.items():
        np.testing.assert_array_equal(src[k], v)


def test_retention_then_staging_stays_correct() -> None:
    src = _source(60)
    p = Partition("t", 0)
    assert p.adopt(src, 0, 60)
    p.append_slice(src, 0, 30)
    assert p.truncate_before(20) == 20  # new buffers holding offsets 20..29
    p.append_slice(src, 30, 60)
    np.testing.assert_array_equal(p.values("offset"), np.arange(20, 60))
    np.testing.assert_array_equal(p.values("event_id"), src["event_id"][20:60])
    np.testing.assert_array_equal(src["event_id"], np.arange(60) + 100)


def test_adopt_refused_when_not_empty_or_dtype_differs() -> None:
    src = _source(10)
    p = Partition("t", 0)
    p.append_slice(src, 0, 2, append_s=1.0)
    assert not p.adopt(src, 2, 10)
    q = Partition("t", 1)
    bad = dict(src, key=src["key"].astype(np.int64))
    assert not q.adopt(bad, 0, 10)
    assert q.cap >= 1
    assert not q._views
