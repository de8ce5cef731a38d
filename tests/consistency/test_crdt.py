"""CRDT laws: merge is commutative, associative, idempotent; replicas converge."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from functools import reduce
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventsim.consistency import CRDTS, GCounter, LWWRegister, MVRegister, ORSet, PNCounter

REPLICAS = ("a", "b", "c")


def _apply(kind: str, state: Any, op: tuple[int, int, int]) -> Any:
    """One update at replica ``REPLICAS[r]`` on ``state`` (what a replica does locally)."""
    r, x, t = op
    replica = REPLICAS[r]
    if kind == "gcounter":
        return state.increment(replica, x)
    if kind == "pncounter":
        return state.increment(replica, x) if t % 2 else state.decrement(replica, x)
    if kind == "orset":
        return state.add(x, replica) if t % 3 else state.remove(x)
    if kind == "lww_register":
        return state.assign(x, (t, r), replica)
    return state.assign(x, replica)


_ops = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 20)), max_size=12)


def _states(kind: str, ops: list[tuple[int, int, int]]) -> list[Any]:
    """Replica states along a run where replicas exchange states now and then."""
    states = {r: CRDTS[kind]() for r in range(3)}
    seen = []
    for i, op in enumerate(ops):
        r = op[0]
        states[r] = _apply(kind, states[r], op)
        if i % 3 == 2:  # gossip: r pulls from its neighbour
            states[r] = states[r].merge(states[(r + 1) % 3])
        seen.append(states[r])
    return seen or [CRDTS[kind]()]


@pytest.mark.parametrize("kind", sorted(CRDTS))
@given(ops=_ops, picks=st.lists(st.integers(0, 100), min_size=3, max_size=3))
def test_merge_laws(kind: str, ops: list, picks: list[int]) -> None:
    states = _states(kind, ops)
    a, b, c = (states[p % len(states)] for p in picks)
    assert a.merge(b) == b.merge(a)
    assert a.merge(b).merge(c) == a.merge(b.merge(c))
    assert a.merge(a) == a
    assert a.merge(b).merge(b) == a.merge(b)


@pytest.mark.parametrize("kind", sorted(CRDTS))
@given(ops=_ops, seed=st.integers(0, 1000))
def test_replicas_that_saw_the_same_updates_converge(kind: str, ops: list, seed: int) -> None:
    deltas = _states(kind, ops)  # the states to deliver
    rng = random.Random(seed)
    deliveries = []
    for _ in range(3):
        batch = deltas + rng.sample(deltas, k=min(3, len(deltas)))  # with duplicates
        rng.shuffle(batch)
        deliveries.append(reduce(lambda s, d: s.merge(d), batch, CRDTS[kind]()))
    assert deliveries[0] == deliveries[1] == deliveries[2]
    assert len({repr(d.value) for d in deliveries}) == 1


def test_counters() -> None:
    g = GCounter().increment("a", 3).increment("b")
    assert (g.value, g.merge(GCounter({"a": 5})).value) == (4, 6)
    p = PNCounter().increment("a", 3).decrement("b", 5)
    assert p.value == -2
    with pytest.raises(ValueError, match=r"n must be >= 0; got -1"):
        GCounter().increment("a", -1)


def test_orset_add_wins_over_concurrent_remove() -> None:
    base = ORSet().add("x", "a").add("y", "a")
    removed = base.remove("x")
    re_added = base.add("x", "b")
    merged = removed.merge(re_added)
    assert merged.value == frozenset({"x", "y"})
    assert "x" in merged
    assert removed.merge(base).value == frozenset({"y"})  # a remove beats the adds it saw


def test_registers() -> None:
    lww: Callable[..., LWWRegister] = LWWRegister().assign
    assert lww("a", 1, "r1").merge(lww("b", 1, "r2")).value == "b"  # tie: larger replica id
    assert LWWRegister().value is None
    a = MVRegister().assign("a", "r1")
    b = MVRegister().assign("b", "r2")
    assert a.merge(b).value == frozenset({"a", "b"})
    assert a.merge(b).assign("c", "r1").merge(b).value == frozenset({"c"})


def test_registry_names() -> None:
    assert sorted(CRDTS) == ["gcounter", "lww_register", "mv_register", "orset", "pncounter"]
    assert all(callable(c) for c in itertools.chain(CRDTS.values()))
