"""A leader's replicated log, computed as it is appended: for every entry, when each replica
receives it (FIFO, the leader retransmitting every heartbeat until a cut heals) and when the
leader hears each replica's acknowledgement. Nothing here waits; readers bisect the times."""

from __future__ import annotations

import bisect

from eventsim.consistency.stores.base import StoreContext

__all__ = ["LeaderLog"]


class LeaderLog:
    """Entries ``0 .. len-1`` of the leader's log.

    ``append_s[i]`` when the leader appended entry ``i``; ``recv_s[r][i]`` when replica
    ``r`` holds entries ``0..i`` (non-decreasing in ``i``); ``ack_s[r][i]`` when the leader
    knows it.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx
        self.net = ctx.net
        self.n = ctx.n
        self.leader = ctx.config.leader
        self.retry_s = ctx.config.heartbeat_interval_s
        self.append_s: list[float] = []
        self.writes: list[int] = []
        self.recv_s: list[list[float]] = [[] for _ in range(self.n)]
        self.ack_s: list[list[float]] = [[] for _ in range(self.n)]
        self.by_key: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self.append_s)

    def append(self, t: float, key: str, w: int) -> int:
        """Append write ``w`` of ``key`` at ``t`` (not before the previous entry)."""
        i = len(self.append_s)
        t = max(t, self.append_s[-1]) if self.append_s else t
        self.append_s.append(t)
        self.writes.append(w)
        net, leader = self.net, self.leader
        for r in range(self.n):
            recv = self.recv_s[r]
            if r == leader:
                got = t
                ack = t
            else:
                got = net.send_reliable(leader, r, t, self.retry_s)
                if recv:
                    got = max(got, recv[-1])
                ack = net.send_reliable(r, leader, got, self.retry_s)
            recv.append(got)
            self.ack_s[r].append(ack)
        self.by_key.setdefault(key, []).append(i)
        return i

    def prefix(self, replica: int, t: float) -> int:
        """How many entries ``replica`` holds at ``t``."""
        return bisect.bisect_right(self.recv_s[replica], t)

    def appended_by(self, t: float) -> int:
        """How many entries the leader had appended by ``t``."""
        return bisect.bisect_right(self.append_s, t)

    def write_at(self, key: str, prefix: int) -> int | None:
        """The write id of ``key``'s last entry among the first ``prefix`` entries."""
        entries = self.by_key.get(key)
        if not entries:
            return None
        j = bisect.bisect_left(entries, prefix) - 1
        return self.writes[entries[j]] if j >= 0 else None

    def quorum_ack(self, i: int, size: int) -> float:
        """When the leader knows ``size`` replicas (itself included) hold entry ``i``."""
        acks = sorted(self.ack_s[r][i] for r in range(self.n))
        return acks[size - 1]
