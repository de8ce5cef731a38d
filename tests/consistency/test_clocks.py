"""Lamport, vector and hybrid logical clocks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventsim.consistency import HybridLogicalClock, LamportClock, VectorClock


def test_lamport_receive_jumps_past_the_message() -> None:
    a = LamportClock().tick().tick()
    b = LamportClock(5).receive(a)
    assert (a.time, b.time, LamportClock(1).receive(7).time) == (2, 6, 8)


def test_vector_clock_compare_and_merge() -> None:
    a = VectorClock({"a": 2, "b": 1})
    b = VectorClock({"a": 1, "b": 3})
    m = a.merge(b)
    assert m == VectorClock({"a": 2, "b": 3})
    assert [a.compare(b), a.compare(m), m.compare(b), m.compare(m)] == [
        "concurrent",
        "before",
        "after",
        "equal",
    ]
    assert VectorClock({"a": 0}) == VectorClock()
    assert hash(VectorClock({"a": 0})) == hash(VectorClock())
    assert a.happened_before(m)
    assert not m.happened_before(a)
    with pytest.raises(ValueError, match=r"counts must be >= 0"):
        VectorClock({"a": -1})


_vc = st.dictionaries(st.sampled_from("abc"), st.integers(0, 4)).map(VectorClock)


@given(_vc, _vc, _vc)
def test_vector_clock_merge_is_a_join(a: VectorClock, b: VectorClock, c: VectorClock) -> None:
    assert a.merge(b) == b.merge(a)
    assert a.merge(b).merge(c) == a.merge(b.merge(c))
    assert a.merge(a) == a
    assert a.compare(a.merge(b)) in ("before", "equal")
    flipped = {"before": "after", "after": "before", "equal": "equal", "concurrent": "concurrent"}
    assert b.compare(a) == flipped[a.compare(b)]


def test_hlc_follows_physical_time_and_causality() -> None:
    a = HybridLogicalClock().now(10.0)
    a2 = a.now(10.0)  # same physical reading: the counter moves
    b = HybridLogicalClock(l=3.0).receive(a2, 9.0)  # receiver's clock behind the sender's
    c = b.now(12.0)  # physical time overtook: counter resets
    assert [x.timestamp for x in (a, a2, b, c)] == [(10.0, 0), (10.0, 1), (10.0, 2), (12.0, 0)]
    assert HybridLogicalClock(5.0, 3).receive(HybridLogicalClock(5.0, 7), 1.0).timestamp == (5.0, 8)
    assert HybridLogicalClock(6.0, 3).receive(HybridLogicalClock(5.0, 7), 1.0).timestamp == (6.0, 4)


@given(st.lists(st.tuples(st.booleans(), st.floats(0, 100), st.integers(0, 2)), max_size=30))
def test_hlc_send_receive_chains_increase(steps: list[tuple[bool, float, int]]) -> None:
    nodes = [HybridLogicalClock() for _ in range(3)]
    for is_receive, physical, src in steps:
        before = nodes[0]
        nodes[0] = nodes[0].receive(nodes[src], physical) if is_receive else nodes[0].now(physical)
        assert nodes[0] > before
        assert nodes[0].l >= physical
        if is_receive:
            assert nodes[0] > nodes[src] or src == 0
