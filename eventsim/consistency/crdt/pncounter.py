"""Increment/decrement counter: two grow-only counters, value = increments − decrements."""

from __future__ import annotations

from dataclasses import dataclass, field

from eventsim.consistency.crdt.base import CRDT
from eventsim.consistency.crdt.gcounter import GCounter

__all__ = ["PNCounter"]


@dataclass(frozen=True)
class PNCounter(CRDT):
    """A counter that can go down.

    Examples
    --------
    >>> a = PNCounter().increment("a", 5)
    >>> b = PNCounter().decrement("b", 2)
    >>> a.merge(b).value
    3
    """

    p: GCounter = field(default_factory=GCounter)
    n: GCounter = field(default_factory=GCounter)

    def increment(self, replica: str, n: int = 1) -> PNCounter:
        """Add ``n >= 0`` at ``replica``."""
        return PNCounter(self.p.increment(replica, n), self.n)

    def decrement(self, replica: str, n: int = 1) -> PNCounter:
        """Subtract ``n >= 0`` at ``replica``."""
        return PNCounter(self.p, self.n.increment(replica, n))

    def merge(self, other: PNCounter) -> PNCounter:
        """Merge both halves."""
        return PNCounter(self.p.merge(other.p), self.n.merge(other.n))

    @property
    def value(self) -> int:
        """Increments minus decrements."""
        return self.p.value - self.n.value
