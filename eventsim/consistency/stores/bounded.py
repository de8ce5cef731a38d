"""Bounded staleness (as in Azure Cosmos DB): the sequential store's leader-ordered log, plus
two bounds on how far a replica may lag.

Δ seconds (``max_staleness_s``)
    The leader sends a heartbeat every ``heartbeat_interval_s`` stamped with its clock; a
    replica serves a read only if the newest heartbeat (or log entry) it holds, with every
    entry before it, was sent at most Δ ago by its own clock. A replica cut off from the
    leader stops serving reads Δ after the cut (the client times out: unavailable).
k versions (``max_staleness_versions``)
    The leader appends write ``i`` only once every replica has acknowledged entry
    ``i - k``: no replica is ever more than ``k`` entries (so ``k`` versions of any key)
    behind. Cut-off replicas stall every write (unavailable).

The bounds are all it promises: sessions carry no tokens, so a session routed to a replica
further behind than the last one may read older values (within the bounds). With synchronised
clocks no read is staler than the bounds
(:func:`~eventsim.consistency.stores.check_bounded_staleness`); a skewed replica clock can
break the time bound, which is why real systems add the clock error to Δ.
"""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING

from eventsim.consistency.stores.base import POLL_S, Op, StoreContext
from eventsim.consistency.stores.sequential import SequentialStore

if TYPE_CHECKING:
    from eventsim.consistency.stores.result import StoreResult
    from eventsim.verdict import CheckResult

__all__ = ["BoundedStalenessStore"]


class BoundedStalenessStore(SequentialStore):
    """Sequential store whose replicas are at most Δ seconds and/or k versions behind.

    Examples
    --------
    >>> from eventsim.consistency.stores import StoreConfig, run_store
    >>> cfg = StoreConfig(model="bounded", max_staleness_s=0.2, duration_s=5, seed=1)
    >>> run_store(cfg).check().valid
    True
    """

    name = "bounded"
    summary = "leader log; replicas serve reads only within Δ s / k versions of the leader"
    session_tokens = False

    def __init__(self, ctx: StoreContext) -> None:
        super().__init__(ctx)
        self.delta = self.config.max_staleness_s
        self.k = self.config.max_staleness_versions
        self._beats = self._heartbeats() if self.delta is not None else []

    def _heartbeats(self) -> list[tuple[list[float], list[float], list[float]]]:
        """Per replica: heartbeats sorted by arrival — arrival, send time, leader clock."""
        net, leader, hb = self.net, self.log.leader, self.config.heartbeat_interval_s
        sends = [k * hb for k in range(1, int(self.config.end_s / hb) + 1)]
        out = []
        for r in range(self.n):
            beats = []
            if r != leader:
                for s in sends:
                    arrive = net.send(leader, r, s)
                    if arrive is not None:
                        beats.append((arrive, s, net.clock(leader, s)))
            beats.sort()
            out.append(([b[0] for b in beats], [b[1] for b in beats], [b[2] for b in beats]))
        return out

    def admit(self, t: float) -> float:
        """Hold a write until every replica acknowledged the entry ``k`` before it."""
        if self.k is None:
            return t
        j = len(self.log) - self.k
        if j < 0:
            return t
        return max(t, max(self.log.ack_s[r][j] for r in range(self.n)))

    def _is_fresh(self, r: int, t: float) -> bool:
        log = self.log
        local = self.net.clock(r, t)
        prefix = log.prefix(r, t)
        if prefix and local - self.net.clock(log.leader, log.append_s[prefix - 1]) <= self.delta:
            return True
        arrivals, sends, stamps = self._beats[r]
        k = bisect.bisect_right(arrivals, t) - 1
        # the newest heartbeats first; one counts only once its entries are all held
        while k >= 0 and sends[k] >= t - 2.0 * self.delta - 1.0:
            if local - stamps[k] <= self.delta and prefix >= log.appended_by(sends[k]):
                return True
            k -= 1
        return False

    def fresh_from(self, replica: int, t: float, op: Op) -> float:
        """The first heartbeat or entry arrival ``>= t`` that makes ``replica`` fresh
        (``inf`` if none before the deadline)."""
        if self.delta is None or replica == self.log.leader:
            return t
        arrivals = self._beats[replica][0]
        recv = self.log.recv_s[replica]
        while t <= op.deadline_s:
            if self._is_fresh(replica, t):
                return t
            nxt = [t + POLL_S]
            k = bisect.bisect_right(arrivals, t)
            if k < len(arrivals):
                nxt.append(arrivals[k])
            i = bisect.bisect_right(recv, t)
            if i < len(recv):
                nxt.append(recv[i])
            t = min(nxt)
        return math.inf

    @classmethod
    def check(cls, result: StoreResult) -> CheckResult:
        """No read staler than the configured Δ / k."""
        from eventsim.consistency.stores.checks import check_bounded_staleness

        cfg = result.config
        return check_bounded_staleness(
            result.history,
            max_staleness_s=cfg.max_staleness_s,
            max_staleness_versions=cfg.max_staleness_versions,
        )
