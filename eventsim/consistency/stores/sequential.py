"""Sequential consistency: one leader orders every write; replicas apply its log in order and
serve reads from the prefix they hold; each session carries a token (the longest prefix it
has written or read) and a replica serves it only once it holds that prefix.

All operations then fit one total order, the log, that respects every session's order
(Lamport's definition), yet a read may return a value long overwritten in real time: a
replica cut off from the leader keeps serving its old prefix (stale but sequential), while
writes from clients that cannot reach the leader time out. The run records each operation's
place in the log (``trace.position``), a witness that
:func:`~eventsim.consistency.stores.check_sequential` verifies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsim.consistency.stores._log import LeaderLog
from eventsim.consistency.stores.base import Op, Reply, Steps, Store, StoreContext

if TYPE_CHECKING:
    from eventsim.consistency.stores.result import StoreResult
    from eventsim.verdict import CheckResult

__all__ = ["SequentialStore"]


class SequentialStore(Store):
    """Leader-ordered log, reads from replicas' prefixes, session tokens.

    Examples
    --------
    >>> from eventsim.consistency.stores import StoreConfig, run_store
    >>> res = run_store(StoreConfig(model="sequential", duration_s=5, seed=1))
    >>> res.check().valid
    True
    """

    name = "sequential"
    summary = "leader-ordered log; reads from any replica's prefix, session tokens"
    session_tokens = True

    def __init__(self, ctx: StoreContext) -> None:
        super().__init__(ctx)
        self.log = LeaderLog(ctx)
        self.tokens = [0] * self.config.n_clients

    def execute(self, op: Op) -> Steps:
        """Writes go to the leader; reads to the routed replica."""
        if op.kind == "write":
            return (yield from self._write(op))
        return (yield from self._read(op))

    def _write(self, op: Op) -> Steps:
        leader = self.log.leader
        arrive = self.net.send(op.client, leader, op.invoke_s)
        if arrive is None or arrive > op.deadline_s:
            return (yield from self.give_up(op))
        yield from self.until(arrive)
        w = self.ctx.new_write(op.key, op.value, len(self.log), op.process)
        i = self.log.append(self.admit(arrive), op.key, w)
        self.ctx.write_stamp[w] = i
        self.record(i)
        appended = self.log.append_s[i]
        reply = Reply("ok", None, leader, appended, w, i + 1)
        if appended > op.deadline_s:
            yield from self.until(op.deadline_s)
            reply.status = "info"
            return reply
        yield from self.until(appended)
        reply = yield from self.respond(op, leader, reply)
        if reply.status == "ok":
            self.tokens[op.process] = max(self.tokens[op.process], i + 1)
        return reply

    def admit(self, t: float) -> float:
        """When the leader may append a write that arrived at ``t`` (at once)."""
        return t

    def record(self, i: int) -> None:
        """Record when each replica holds entry ``i``."""
        log, ctx = self.log, self.ctx
        w = log.writes[i]
        for r in range(self.n):
            ctx.record(log.recv_s[r][i], r, ctx.write_key[w], w, ctx.write_value[w])

    def _read(self, op: Op) -> Steps:
        r = self.route(op)
        arrive = self.net.send(op.client, r, op.invoke_s)
        if arrive is None or arrive > op.deadline_s:
            return (yield from self.give_up(op))
        token = self.tokens[op.process] if self.session_tokens else 0
        ready = arrive if token == 0 else max(arrive, self.log.recv_s[r][token - 1])
        ready = self.fresh_from(r, ready, op)
        if ready > op.deadline_s:
            return (yield from self.give_up(op, r))
        yield from self.until(ready)
        prefix = self.log.prefix(r, ready)
        w = self.log.write_at(op.key, prefix)
        text = None if w is None else self.ctx.write_value[w]
        reply = yield from self.respond(op, r, Reply("ok", text, r, ready, None, prefix))
        if reply.status == "ok":
            self.tokens[op.process] = max(self.tokens[op.process], prefix)
        return reply

    def fresh_from(self, replica: int, t: float, op: Op) -> float:
        """The first time ``>= t`` at which ``replica`` may serve a read (at once)."""
        return t

    @classmethod
    def check(cls, result: StoreResult) -> CheckResult:
        """Sequential consistency, witnessed by the log positions."""
        from eventsim.consistency.stores.sequential_check import check_sequential

        return check_sequential(result.history, witness=result.trace["position"])
