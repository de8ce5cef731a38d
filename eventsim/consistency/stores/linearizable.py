"""Linearizability with a single leader and synchronous majority replication (Raft-like).

Clients send every operation to the leader. A write is appended to the leader's log,
replicated to every replica (retransmitted until a cut heals) and acknowledged once a
majority (the leader included) holds it: the entry is then *committed*, in log order. A read
returns the committed state when it reaches the leader, after a heartbeat round confirms that
a majority still follows it (Raft's read-index). So every operation takes effect inside its
invoke-complete interval (linearizable), and clients that cannot reach the leader, or a
leader that cannot reach a majority, get timeouts: reads fail, writes are unknown (``info``),
and some of those writes commit after the heal. The leader is fixed (no elections): cutting
it off makes the store unavailable, never inconsistent. Checker:
:func:`~eventsim.consistency.check_linearizable`.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from eventsim.consistency.stores._log import LeaderLog
from eventsim.consistency.stores.base import Op, Reply, Steps, Store, StoreContext

if TYPE_CHECKING:
    from eventsim.consistency.stores.result import StoreResult
    from eventsim.verdict import CheckResult

__all__ = ["LinearizableStore"]


class LinearizableStore(Store):
    """Single leader, majority commit, read-index reads.

    Examples
    --------
    >>> from eventsim.consistency.stores import StoreConfig, run_store
    >>> res = run_store(StoreConfig(model="linearizable", duration_s=5, seed=1))
    >>> res.check().valid, set(res.trace["replica"])
    (True, {'replica-0'})
    """

    name = "linearizable"
    summary = "single leader, synchronous majority replication, read-index reads"

    def __init__(self, ctx: StoreContext) -> None:
        super().__init__(ctx)
        self.log = LeaderLog(ctx)
        self.commit_s: list[float] = []
        self.majority = self.n // 2 + 1

    def execute(self, op: Op) -> Steps:
        """Send ``op`` to the leader; write → commit; read → read-index."""
        leader = self.log.leader
        arrive = self.net.send(op.client, leader, op.invoke_s)
        if arrive is None or arrive > op.deadline_s:
            return (yield from self.give_up(op))
        yield from self.until(arrive)
        if op.kind == "write":
            w = self.ctx.new_write(op.key, op.value, len(self.log), op.process)
            i = self.log.append(arrive, op.key, w)
            done = max(self.log.quorum_ack(i, self.majority), self.commit_s[-1] if i else 0.0)
            self.commit_s.append(done)
            self._record(i, done)
            reply = Reply("ok", None, leader, arrive, w, i + 1)
        else:
            committed = bisect.bisect_right(self.commit_s, arrive)
            done = self._confirm(arrive)
            w = self.log.write_at(op.key, committed)
            text = None if w is None else self.ctx.write_value[w]
            reply = Reply("ok", text, leader, arrive, None, committed)
        if done > op.deadline_s:
            yield from self.until(op.deadline_s)
            reply.status = "fail" if op.kind == "read" else "info"
            reply.output = None
            return reply
        yield from self.until(done)
        return (yield from self.respond(op, leader, reply))

    def _confirm(self, t: float) -> float:
        """When a heartbeat round from ``t`` reaches a majority and comes back."""
        net, leader, hb = self.net, self.log.leader, self.config.heartbeat_interval_s
        rounds = sorted(
            t
            if r == leader
            else net.send_reliable(r, leader, net.send_reliable(leader, r, t, hb), hb)
            for r in range(self.n)
        )
        return rounds[self.majority - 1]

    def _record(self, i: int, commit: float) -> None:
        log, ctx = self.log, self.ctx
        w = log.writes[i]
        for r in range(self.n):
            ctx.record(max(log.recv_s[r][i], commit), r, ctx.write_key[w], w, ctx.write_value[w])

    @classmethod
    def check(cls, result: StoreResult) -> CheckResult:
        """Linearizability of the register history (10 s budget)."""
        from eventsim.consistency.linearizable import check_linearizable

        return check_linearizable(result.history, "register", time_budget_s=10.0)
