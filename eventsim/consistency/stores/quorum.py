"""Majority quorums with read write-back (Attiya, Bar-Noy and Dolev's ABD, multi-writer).

The client coordinates. A write first asks every replica for the key's stamp and waits for
``R`` answers, then sends the value with a larger stamp ``(counter + 1, client)`` to every
replica and waits for ``W`` acknowledgements. A read asks every replica, takes the value
with the largest stamp among the first ``R`` answers and writes it back to ``W`` replicas
before returning it. With ``R + W > N`` every read quorum meets every write quorum, so each
operation sees all that completed before it: linearizable
(:func:`~eventsim.consistency.check_linearizable`). With ``R + W <= N`` (say ``R = W = 1``)
reads can miss completed writes: fast, available, stale. Clients that cannot reach ``R`` (or
``W``) replicas time out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsim.consistency.stores._replica import LwwReplica
from eventsim.consistency.stores.base import Op, Reply, Steps, Store, StoreContext

if TYPE_CHECKING:
    from eventsim.consistency.stores.result import StoreResult
    from eventsim.verdict import CheckResult

__all__ = ["QuorumStore"]


class QuorumStore(Store):
    """ABD quorums of sizes ``R`` and ``W`` (majorities by default).

    Examples
    --------
    >>> from eventsim.consistency.stores import StoreConfig, run_store
    >>> res = run_store(StoreConfig(model="quorum", n_replicas=5, duration_s=5, seed=1))
    >>> res.check().valid
    True
    """

    name = "quorum"
    summary = "ABD quorums: read R, write W, read write-back; linearizable when R + W > N"

    def __init__(self, ctx: StoreContext) -> None:
        super().__init__(ctx)
        majority = self.n // 2 + 1
        self.r = self.config.r or majority
        self.w = self.config.w or majority
        self.replicas = [LwwReplica(i, ctx, "lamport") for i in range(self.n)]

    def finish(self, end_s: float) -> None:
        """Apply what arrived by ``end_s``."""
        for r in self.replicas:
            r.advance(end_s)

    def _query(self, op: Op) -> Steps:
        """Phase 1: the first ``R`` answers ``(arrival, stamp, write, replica, served)``."""
        net, c = self.net, op.client
        sent = sorted(
            (a, r) for r in range(self.n) if (a := net.send(c, r, op.invoke_s)) is not None
        )
        answers: list[tuple[float, Any, int | None, int, float]] = []
        for a, r in sent:
            if a > op.deadline_s or (len(answers) >= self.r and a > answers[self.r - 1][0]):
                break
            yield from self.until(a)
            replica = self.replicas[r]
            replica.advance(a)
            back = net.send(r, c, a)
            if back is not None:
                answers.append((back, replica.key_stamp(op.key), replica.best.get(op.key), r, a))
                answers.sort(key=lambda x: x[0])
        return answers[: self.r]

    def _propagate(self, op: Op, w: int, t: float) -> float | None:
        """Phase 2: send write ``w`` to every replica at ``t``; when ``W`` acks are back."""
        net, c = self.net, op.client
        acks = []
        for r, replica in enumerate(self.replicas):
            a = net.send(c, r, t)
            if a is not None:
                replica.deliver(a, w)
                back = net.send(r, c, a)
                if back is not None:
                    acks.append(back)
        acks.sort()
        return acks[self.w - 1] if len(acks) >= self.w else None

    def execute(self, op: Op) -> Steps:
        """Query ``R`` replicas, then write (back) to ``W``."""
        answers = yield from self._query(op)
        if len(answers) < self.r or answers[-1][0] > op.deadline_s:
            yield from self.until(op.deadline_s)
            return Reply("fail")
        t1 = answers[-1][0]
        yield from self.until(t1)
        first = min(answers, key=lambda x: x[4])
        replica, served = first[3], first[4]
        newest = max(answers, key=lambda x: x[1])
        if op.kind == "read":
            w = newest[2]
            if w is None:
                return Reply("ok", None, replica, served)
            reply = Reply("ok", self.ctx.write_value[w], replica, served)
        else:
            counter = newest[1][0] if newest[1] else 0
            stamp = (counter + 1, op.process, len(self.ctx.write_key))
            w = self.ctx.new_write(op.key, op.value, stamp, op.process)
            reply = Reply("ok", None, replica, served, w)
        done = self._propagate(op, w, t1)
        if done is None or done > op.deadline_s:
            yield from self.until(op.deadline_s)
            reply.status = "fail" if op.kind == "read" else "info"
            reply.output = None
            return reply
        yield from self.until(done)
        return reply

    @classmethod
    def check(cls, result: StoreResult) -> CheckResult:
        """Linearizability of the register history (10 s budget)."""
        from eventsim.consistency.linearizable import check_linearizable

        return check_linearizable(result.history, "register", time_budget_s=10.0)
