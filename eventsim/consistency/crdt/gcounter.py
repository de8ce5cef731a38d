"""Grow-only counter: one count per replica; the value is their sum, merge the maximum."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from eventsim.consistency.crdt.base import CRDT

__all__ = ["GCounter"]


@dataclass(frozen=True)
class GCounter(CRDT):
    """A grow-only counter.

    Examples
    --------
    >>> a = GCounter().increment("a", 2)
    >>> b = GCounter().increment("b")
    >>> a.merge(b).value, a.merge(b) == b.merge(a)
    (3, True)
    """

    counts: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "counts", {k: v for k, v in sorted(self.counts.items()) if v})

    def __hash__(self) -> int:
        return hash(tuple(self.counts.items()))

    def increment(self, replica: str, n: int = 1) -> GCounter:
        """Add ``n >= 0`` at ``replica``."""
        if n < 0:
            msg = f"GCounter.increment: n must be >= 0; got {n}"
            raise ValueError(msg)
        return GCounter({**self.counts, replica: self.counts.get(replica, 0) + n})

    def merge(self, other: GCounter) -> GCounter:
        """Per-replica maximum."""
        keys = self.counts.keys() | other.counts.keys()
        return GCounter({k: max(self.counts.get(k, 0), other.counts.get(k, 0)) for k in keys})

    @property
    def value(self) -> int:
        """The sum of the counts."""
        return sum(self.counts.values())
