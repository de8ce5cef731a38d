"""Conflict-free replicated data types over gossip: strong eventual consistency.

Every key holds a state-based CRDT of the configured type (``crdt``:
:data:`~eventsim.consistency.crdt.CRDTS`). Any replica applies an update at once and pushes
the key's new state to the others; push-pull gossip merges whole states every
``gossip_interval_s``. Merges commute, so replicas that have seen the same updates hold the
same state, whatever the order, duplicates or partitions, and no acknowledged update is ever
lost (contrast last-writer-wins). Workload writes become the type's updates:

=============  ===========================================  ===============================
type           history ops (value)                          read output
=============  ===========================================  ===============================
gcounter       ``increment`` (1)                            the count
pncounter      ``increment`` / ``decrement`` (1; 30 %        the count
               decrements)
orset          ``add`` (a unique element) / ``remove``      JSON list of the elements,
               (25 %: an element the session last read)     sorted
lww_register   ``write`` (unique value; hybrid-logical      the value
               timestamp)
mv_register    ``write`` (unique value)                     JSON list of the siblings
=============  ===========================================  ===============================

Checker: :func:`~eventsim.consistency.stores.check_crdt`.
"""

from __future__ import annotations

import heapq
import json
from typing import TYPE_CHECKING, Any

from eventsim.consistency.clocks import HybridLogicalClock
from eventsim.consistency.crdt import (
    CRDT,
    CRDTS,
    LWWRegister,
    ORSet,
)
from eventsim.consistency.stores.base import Op, Reply, Steps, Store, StoreContext

if TYPE_CHECKING:
    from eventsim.consistency.stores.result import StoreResult
    from eventsim.verdict import CheckResult

__all__ = ["CRDTStore"]

P_DECREMENT = 0.3
P_REMOVE = 0.25


def _text(state: CRDT) -> str | None:
    value = state.value
    if isinstance(value, frozenset):
        return json.dumps(sorted(value))
    return None if value is None else str(value)


class _Replica:
    def __init__(self, index: int, store: CRDTStore) -> None:
        self.index = index
        self.name = f"replica-{index}"
        self.store = store
        self.states: dict[str, CRDT] = {}
        self.inbox: list[tuple[float, int, dict[str, CRDT]]] = []
        self.hlc = HybridLogicalClock()

    def state(self, key: str) -> CRDT:
        s = self.states.get(key)
        return s if s is not None else self.store.kind()

    def set(self, key: str, state: CRDT, t: float) -> None:
        old = self.states.get(key)
        if old is state or old == state:
            return
        self.states[key] = state
        self.store.ctx.record(t, self.index, key, self.store.state_id(state), _text(state))

    def deliver(self, t: float, states: dict[str, CRDT]) -> None:
        heapq.heappush(self.inbox, (t, self.store.ctx.seq(), states))

    def advance(self, t: float) -> None:
        while self.inbox and self.inbox[0][0] <= t:
            at, _, states = heapq.heappop(self.inbox)
            for key, other in states.items():
                mine = self.states.get(key)
                if mine is other:
                    continue
                merged = other if mine is None else mine.merge(other)
                # keep sharing the sender's object when it already holds everything
                self.set(key, other if merged == other else merged, at)


class CRDTStore(Store):
    """State-based CRDTs with pushes and gossip (see the module docstring).

    Examples
    --------
    >>> from eventsim.consistency.stores import StoreConfig, run_store
    >>> res = run_store(StoreConfig(model="crdt", crdt="orset", duration_s=5, seed=1))
    >>> sorted(set(res.history["op"])), res.check().valid
    (['add', 'read', 'remove'], True)
    """

    name = "crdt"
    summary = "CRDTs (counters, OR-set, LWW/MV registers) merged by gossip; never lose updates"
    history_model = None
    versions_are_writes = False

    def __init__(self, ctx: StoreContext) -> None:
        super().__init__(ctx)
        self.kind = CRDTS[self.config.crdt]
        self.replicas = [_Replica(i, self) for i in range(self.n)]
        self.ids: dict[CRDT, int] = {}
        self.seen: list[dict[str, list[str]]] = [{} for _ in range(self.config.n_clients)]
        self.rng = ctx.rng("crdt")

    def state_id(self, state: CRDT) -> int:
        """A number per distinct state (states are hashable values), in order of first
        appearance (1, 2, ...)."""
        return self.ids.setdefault(state, len(self.ids) + 1)

    def start(self) -> None:
        """Start push-pull gossip of whole states."""
        self.start_gossip(self._exchange)

    def _exchange(self, i: int, j: int, t: float) -> None:
        a, b = self.replicas[i], self.replicas[j]
        a.advance(t)
        b.advance(t)
        for src, dst in ((a, b), (b, a)):
            arrive = self.net.send(src.index, dst.index, t)
            if arrive is not None and src.states:
                dst.deliver(arrive, dict(src.states))

    def finish(self, end_s: float) -> None:
        """Merge what arrived by ``end_s``."""
        for r in self.replicas:
            r.advance(end_s)

    def execute(self, op: Op) -> Steps:
        """Update or read the key's CRDT at the routed replica."""
        r = self.route(op)
        arrive = self.net.send(op.client, r, op.invoke_s)
        if arrive is None or arrive > op.deadline_s:
            name, value = self._update_name(op)
            reply = yield from self.give_up(op)
            reply.op, reply.value = name, value
            return reply
        yield from self.until(arrive)
        replica = self.replicas[r]
        replica.advance(arrive)
        state = replica.state(op.key)
        if op.kind == "read":
            text = _text(state)
            if isinstance(state, ORSet):
                self.seen[op.process][op.key] = sorted(state.value)
            return (yield from self.respond(op, r, Reply("ok", text, r, arrive)))
        name, value = self._update_name(op)
        replica.set(op.key, self._update(replica, state, name, value, arrive), arrive)
        for other in self.replicas:
            if other is not replica:
                t = self.net.send(r, other.index, arrive)
                if t is not None:
                    other.deliver(t, {op.key: replica.states[op.key]})
        reply = Reply("ok", None, r, arrive, None, None, name, value)
        return (yield from self.respond(op, r, reply))

    def _update_name(self, op: Op) -> tuple[str, str | None]:
        kind = self.config.crdt
        if kind == "gcounter":
            return "increment", "1"
        if kind == "pncounter":
            down = self.rng.uniform() < P_DECREMENT
            return ("decrement" if down else "increment"), "1"
        if kind == "orset":
            seen = self.seen[op.process].get(op.key)
            if seen and self.rng.uniform() < P_REMOVE:
                return "remove", seen[int(self.rng.integers(len(seen)))]
            return "add", op.value
        return "write", op.value

    def _update(self, replica: _Replica, state: Any, name: str, value: Any, t: float) -> CRDT:
        who = replica.name
        if name == "increment":
            return state.increment(who, 1)  # type: ignore[no-any-return]
        if name == "decrement":
            return state.decrement(who, 1)  # type: ignore[no-any-return]
        if name == "add":
            return state.add(value, who)  # type: ignore[no-any-return]
        if name == "remove":
            return state.remove(value)  # type: ignore[no-any-return]
        if isinstance(state, LWWRegister):
            replica.hlc = replica.hlc.now(self.net.clock(replica.index, t))
            return state.assign(value, replica.hlc.timestamp, who)
        return state.assign(value, who)  # type: ignore[no-any-return]

    @classmethod
    def check(cls, result: StoreResult) -> CheckResult:
        """Convergence, no lost or phantom updates."""
        from eventsim.consistency.stores.checks import check_crdt

        return check_crdt(result)
