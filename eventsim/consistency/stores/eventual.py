"""Eventual consistency: last-writer-wins registers, multi-master, with anti-entropy gossip.

Any replica accepts a write, stamps it with its clock (``clock``: Lamport, hybrid logical or
wall-clock time, skew included), acknowledges at once and pushes it to the other replicas;
pushes lost to a partition are repaired by push-pull gossip every ``gossip_interval_s``.
Reads return the local winner. Nothing orders a session's operations, so reads may be stale,
sessions may read their own writes and then not, and a skewed wall clock makes newer writes
lose (lost updates). What it does promise: once writes stop and the network heals, replicas
converge (its checker, :func:`~eventsim.consistency.stores.check_convergence`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsim.consistency.stores._replica import LwwReplica
from eventsim.consistency.stores.base import Op, Reply, Steps, Store, StoreContext

if TYPE_CHECKING:
    from eventsim.consistency.stores.result import StoreResult
    from eventsim.verdict import CheckResult

__all__ = ["EventualStore"]


class EventualStore(Store):
    """Last-writer-wins replicas with gossip (see the module docstring).

    Examples
    --------
    >>> from eventsim.consistency.stores import StoreConfig, run_store
    >>> res = run_store(StoreConfig(model="eventual", duration_s=5, seed=1))
    >>> res.check().valid
    True
    """

    name = "eventual"
    summary = "last-writer-wins on any replica, anti-entropy gossip; converges"
    clock = ""

    def __init__(self, ctx: StoreContext) -> None:
        super().__init__(ctx)
        clock = self.clock or self.config.clock
        self.replicas = [LwwReplica(i, ctx, clock) for i in range(self.n)]

    def start(self) -> None:
        """Start anti-entropy gossip."""
        self.start_gossip(self._exchange)

    def _exchange(self, i: int, j: int, t: float) -> None:
        a, b = self.replicas[i], self.replicas[j]
        a.advance(t)
        b.advance(t)
        for src, dst in ((a, b), (b, a)):
            arrive = self.net.send(src.index, dst.index, t)
            if arrive is not None:
                dst.deliver(arrive, src.snapshot())

    def finish(self, end_s: float) -> None:
        """Apply what arrived by ``end_s``."""
        for r in self.replicas:
            r.advance(end_s)

    def execute(self, op: Op) -> Steps:
        """Read or write at the routed replica; replicate writes asynchronously."""
        r = self.route(op)
        arrive = self.net.send(op.client, r, op.invoke_s)
        if arrive is None or arrive > op.deadline_s:
            return (yield from self.give_up(op))
        yield from self.until(arrive)
        replica = self.replicas[r]
        replica.advance(arrive)
        ready = yield from self.before(op, replica)
        if not ready:
            return Reply("fail" if op.kind == "read" else "info", replica=r)
        served = self.env.now
        if op.kind == "read":
            w, text = replica.value(op.key)
            self.after_read(op, replica)
            reply = Reply("ok", text, r, served, None)
        else:
            w = self.write(op, replica, served)
            reply = Reply("ok", None, r, served, w)
        return (yield from self.respond(op, r, reply))

    def before(self, op: Op, replica: LwwReplica) -> Steps:
        """Hook: wait until ``replica`` may serve ``op`` (sessions); True when it may."""
        return True
        yield

    def after_read(self, op: Op, replica: LwwReplica) -> None:
        """Hook: a read was served by ``replica``."""

    def write(self, op: Op, replica: LwwReplica, t: float) -> int:
        """Apply ``op`` at ``replica`` and push it to every other replica."""
        ctx = self.ctx
        w = ctx.new_write(op.key, op.value, replica.stamp(t), op.process)
        replica.apply(w, t)
        for j, other in enumerate(self.replicas):
            if j != replica.index:
                arrive = self.net.send(replica.index, j, t)
                if arrive is not None:
                    other.deliver(arrive, w)
        return w

    @classmethod
    def check(cls, result: StoreResult) -> CheckResult:
        """Convergence after the last write and heal."""
        from eventsim.consistency.stores.checks import check_convergence

        return check_convergence(result)
