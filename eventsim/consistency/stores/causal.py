"""Causal consistency (causal+, as in COPS/Bayou): vector clocks, causal delivery buffers and
client dependency tracking, over always-writable replicas.

Each write originates at one replica and carries its dependencies: that replica's vector
clock (how many writes of every origin it had applied). Another replica buffers an arriving
write until it has applied everything the write depends on, then applies it; concurrent
writes of one key are resolved by Lamport stamp (which respects causality), so replicas
converge. Each client carries a causal context, the vector clock of everything it has read
or written; a replica serves it only once its own clock covers that context. Pushes lost to a
partition are repaired by pull gossip (each replica asks a peer for the writes its clock
lacks). So no read ever misses a write in its causal past
(:func:`~eventsim.consistency.check_causal`), though reads may be stale, and clients stay
available on either side of a partition as long as they reach a replica that has seen their
context.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsim.consistency.stores.base import Op, Reply, Steps, Store, StoreContext

if TYPE_CHECKING:
    from eventsim.consistency.stores.result import StoreResult
    from eventsim.verdict import CheckResult

__all__ = ["CausalStore"]

import heapq
import math


class _Replica:
    """A replica: vector clock, per-origin log, buffer of early writes, LWW winners."""

    def __init__(self, index: int, store: CausalStore) -> None:
        self.index = index
        self.store = store
        n = store.n
        self.vc = [0] * n
        self.log: list[list[int]] = [[] for _ in range(n)]
        self.buffer: list[dict[int, int]] = [{} for _ in range(n)]
        self.best: dict[str, int] = {}
        self.lamport = 0
        self.inbox: list[tuple[float, int, list[int]]] = []

    def covers(self, context: list[int]) -> bool:
        """True when this replica has applied everything in ``context``."""
        return all(a >= b for a, b in zip(self.vc, context))

    def deliver(self, t: float, writes: list[int]) -> None:
        """A message with ``writes`` arrives at ``t``."""
        heapq.heappush(self.inbox, (t, self.store.ctx.seq(), writes))

    def next_change(self) -> float:
        """When the next message arrives (inf if none)."""
        return self.inbox[0][0] if self.inbox else math.inf

    def advance(self, t: float) -> None:
        """Take in every message that arrived by ``t``; apply what became deliverable."""
        s = self.store
        while self.inbox and self.inbox[0][0] <= t:
            at, _, writes = heapq.heappop(self.inbox)
            for w in writes:
                o, q = s.origin[w], s.seq[w]
                if q > self.vc[o]:
                    self.buffer[o][q] = w
            self._drain(at)

    def _drain(self, t: float) -> None:
        s = self.store
        moved = True
        while moved:
            moved = False
            for o in range(len(self.vc)):
                w = self.buffer[o].get(self.vc[o] + 1)
                if w is not None and all(
                    k == o or a >= b for k, (a, b) in enumerate(zip(self.vc, s.deps[w]))
                ):
                    del self.buffer[o][self.vc[o] + 1]
                    self.apply(w, t)
                    moved = True

    def apply(self, w: int, t: float) -> None:
        """Apply write ``w`` (its dependencies are here)."""
        s, ctx = self.store, self.store.ctx
        o = s.origin[w]
        self.vc[o] += 1
        self.log[o].append(w)
        stamp = ctx.write_stamp[w]
        self.lamport = max(self.lamport, stamp[0])
        key = ctx.write_key[w]
        cur = self.best.get(key)
        if cur is None or ctx.write_stamp[cur] < stamp:
            self.best[key] = w
            ctx.record(t, self.index, key, w, ctx.write_value[w])

    def missing_for(self, other: _Replica) -> list[int]:
        """The writes this replica has applied that ``other`` has not."""
        out: list[int] = []
        for o, have in enumerate(other.vc):
            out.extend(self.log[o][have:])
        return out


class CausalStore(Store):
    """Causal+ store: vector clocks, causal delivery, client causal contexts.

    Examples
    --------
    >>> from eventsim.consistency.stores import StoreConfig, run_store
    >>> res = run_store(StoreConfig(model="causal", duration_s=5, seed=1))
    >>> res.check().valid
    True
    """

    name = "causal"
    summary = "vector clocks, causal delivery buffers, client causal contexts"

    def __init__(self, ctx: StoreContext) -> None:
        super().__init__(ctx)
        self.origin: list[int] = []
        self.seq: list[int] = []
        self.deps: list[tuple[int, ...]] = []
        self.replicas = [_Replica(i, self) for i in range(self.n)]
        self.contexts = [[0] * self.n for _ in range(self.config.n_clients)]

    def start(self) -> None:
        """Start pull gossip."""
        self.start_gossip(self._exchange)

    def _exchange(self, i: int, j: int, t: float) -> None:
        a, b = self.replicas[i], self.replicas[j]
        a.advance(t)
        b.advance(t)
        for src, dst in ((a, b), (b, a)):
            ask = self.net.send(dst.index, src.index, t)
            answer = None if ask is None else self.net.send(src.index, dst.index, ask)
            missing = src.missing_for(dst)
            if answer is not None and missing:
                dst.deliver(answer, missing)

    def finish(self, end_s: float) -> None:
        """Apply what arrived by ``end_s``."""
        for r in self.replicas:
            r.advance(end_s)

    def _clock(self, w: int) -> list[int]:
        vc = list(self.deps[w])
        vc[self.origin[w]] = self.seq[w]
        return vc

    def _merge(self, process: int, vc: list[int]) -> None:
        ctx = self.contexts[process]
        for k, v in enumerate(vc):
            if v > ctx[k]:
                ctx[k] = v

    def execute(self, op: Op) -> Steps:
        """Wait until the replica covers the client's context; then read or write."""
        r = self.route(op)
        arrive = self.net.send(op.client, r, op.invoke_s)
        if arrive is None or arrive > op.deadline_s:
            return (yield from self.give_up(op))
        yield from self.until(arrive)
        replica = self.replicas[r]
        context = self.contexts[op.process]

        def ready() -> bool:
            replica.advance(self.env.now)
            return replica.covers(context)

        if not (yield from self.wait_for(op, ready, replica.next_change)):
            return Reply("fail" if op.kind == "read" else "info", replica=r)
        now = self.env.now
        if op.kind == "read":
            w = replica.best.get(op.key)
            if w is not None:
                self._merge(op.process, self._clock(w))
            text = None if w is None else self.ctx.write_value[w]
            return (yield from self.respond(op, r, Reply("ok", text, r, now)))
        w = self._write(op, replica, now)
        return (yield from self.respond(op, r, Reply("ok", None, r, now, w)))

    def _write(self, op: Op, replica: _Replica, t: float) -> int:
        replica.lamport += 1
        w = self.ctx.new_write(op.key, op.value, (replica.lamport, replica.index), op.process)
        self.origin.append(replica.index)
        self.seq.append(replica.vc[replica.index] + 1)
        self.deps.append(tuple(replica.vc))
        replica.apply(w, t)
        self._merge(op.process, self._clock(w))
        for other in self.replicas:
            if other is not replica:
                arrive = self.net.send(replica.index, other.index, t)
                if arrive is not None:
                    other.deliver(arrive, [w])
        return w

    @classmethod
    def check(cls, result: StoreResult) -> CheckResult:
        """Causal reads (no read misses a write in its causal past)."""
        from eventsim.consistency.causal import check_causal

        return check_causal(result.history)
