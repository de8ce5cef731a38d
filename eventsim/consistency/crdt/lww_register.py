"""Last-writer-wins register: the assignment with the largest ``(timestamp, replica)`` wins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsim.consistency.crdt.base import CRDT

__all__ = ["LWWRegister"]


@dataclass(frozen=True)
class LWWRegister(CRDT):
    """A last-writer-wins register.

    Ties on ``(timestamp, replica)`` (which one replica should never produce) are broken by
    ``repr(value)`` so that merge stays commutative. Timestamps may be numbers or
    :class:`~eventsim.consistency.clocks.HybridLogicalClock` values.

    Examples
    --------
    >>> a = LWWRegister().assign("red", 1.0, "a")
    >>> b = LWWRegister().assign("blue", 2.0, "b")
    >>> a.merge(b).value, b.merge(a).value
    ('blue', 'blue')
    """

    payload: Any = None
    timestamp: Any = None
    replica: str = ""

    def assign(self, value: Any, timestamp: Any, replica: str) -> LWWRegister:
        """Set ``value`` at ``timestamp`` by ``replica`` (if it is newer than the state)."""
        return self.merge(LWWRegister(value, timestamp, replica))

    def _rank(self) -> tuple[bool, Any, str, str]:
        return (self.timestamp is not None, self.timestamp, self.replica, repr(self.payload))

    def merge(self, other: LWWRegister) -> LWWRegister:
        """The newer of the two assignments."""
        if self.timestamp is None:
            return other
        if other.timestamp is None:
            return self
        return other if other._rank() > self._rank() else self

    @property
    def value(self) -> Any:
        """The winning value (None before any assignment)."""
        return self.payload
