"""A last-writer-wins replica: one winning write per key, a clock that stamps local writes,
and an inbox of messages applied lazily in arrival order."""

from __future__ import annotations

import heapq
import math
from typing import Any

from eventsim.consistency.clocks import HybridLogicalClock
from eventsim.consistency.stores.base import StoreContext

__all__ = ["LwwReplica"]


class LwwReplica:
    """Replica ``index``: ``best[key]`` is the write id with the largest stamp it has seen.

    Stamps are tuples ordered as Python tuples: ``(lamport, replica)``, ``(l, c, replica)``
    for hybrid logical clocks or ``(wall_s, replica)``.
    """

    def __init__(self, index: int, ctx: StoreContext, clock: str) -> None:
        self.index = index
        self.ctx = ctx
        self.clock = clock
        self.best: dict[str, int] = {}
        self.inbox: list[tuple[float, int, Any]] = []
        self.lamport = 0
        self.hlc = HybridLogicalClock()

    # -- stamps ------------------------------------------------------------------------------
    def stamp(self, t: float) -> tuple[Any, ...]:
        """The stamp of a local write at time ``t`` (ticks the clock)."""
        if self.clock == "lamport":
            self.lamport += 1
            return (self.lamport, self.index)
        if self.clock == "hlc":
            self.hlc = self.hlc.now(self.ctx.net.clock(self.index, t))
            return (self.hlc.l, self.hlc.c, self.index)
        return (self.ctx.net.clock(self.index, t), self.index)

    def _observe(self, stamp: tuple[Any, ...], t: float) -> None:
        if self.clock == "lamport":
            self.lamport = max(self.lamport, stamp[0])
        elif self.clock == "hlc":
            seen = HybridLogicalClock(stamp[0], stamp[1])
            self.hlc = self.hlc.receive(seen, self.ctx.net.clock(self.index, t))

    # -- state -------------------------------------------------------------------------------
    def apply(self, w: int, t: float) -> bool:
        """Merge write ``w`` at ``t``; True when it became the key's value here."""
        ctx = self.ctx
        key = ctx.write_key[w]
        stamp = ctx.write_stamp[w]
        self._observe(stamp, t)
        cur = self.best.get(key)
        if cur is not None and ctx.write_stamp[cur] >= stamp:
            return False
        self.best[key] = w
        ctx.record(t, self.index, key, w, ctx.write_value[w])
        return True

    def value(self, key: str) -> tuple[int | None, str | None]:
        """``(write id, value)`` of ``key`` here (None, None before any write)."""
        w = self.best.get(key)
        return (None, None) if w is None else (w, self.ctx.write_value[w])

    def key_stamp(self, key: str) -> Any:
        """The stamp of ``key``'s current write (``()`` before any: below every stamp)."""
        w = self.best.get(key)
        return () if w is None else self.ctx.write_stamp[w]

    # -- inbox -------------------------------------------------------------------------------
    def deliver(self, t: float, writes: Any) -> None:
        """A message carrying write id(s) ``writes`` arrives at ``t``."""
        heapq.heappush(self.inbox, (t, self.ctx.seq(), writes))

    def advance(self, t: float) -> None:
        """Apply every message that arrived by ``t``, in arrival order."""
        inbox = self.inbox
        while inbox and inbox[0][0] <= t:
            at, _, writes = heapq.heappop(inbox)
            if isinstance(writes, int):
                self.apply(writes, at)
            else:
                for w in writes:
                    self.apply(w, at)

    def next_change(self) -> float:
        """When the next queued message arrives (inf if none)."""
        return self.inbox[0][0] if self.inbox else math.inf

    def snapshot(self) -> list[int]:
        """The write ids of every key's winner (what anti-entropy sends)."""
        return list(self.best.values())
