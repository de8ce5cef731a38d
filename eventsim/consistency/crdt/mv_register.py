"""Multi-value register: concurrent assignments are all kept (as Dynamo's siblings) until a
later assignment, which has seen them, replaces them."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import reduce

from eventsim.consistency.clocks import VectorClock
from eventsim.consistency.crdt.base import CRDT

__all__ = ["MVRegister"]


@dataclass(frozen=True)
class MVRegister(CRDT):
    """A multi-value register of ``(value, VectorClock)`` entries, none dominating another.

    Examples
    --------
    >>> a = MVRegister().assign("red", "a")
    >>> b = MVRegister().assign("blue", "b")
    >>> both = a.merge(b)
    >>> sorted(both.value), sorted(both.assign("green", "a").value)
    (['blue', 'red'], ['green'])
    """

    entries: frozenset[tuple[Hashable, VectorClock]] = field(default_factory=frozenset)

    def assign(self, value: Hashable, replica: str) -> MVRegister:
        """Replace every value this replica sees with ``value``."""
        seen = reduce(VectorClock.merge, (vc for _, vc in self.entries), VectorClock())
        return MVRegister(frozenset({(value, seen.increment(replica))}))

    def merge(self, other: MVRegister) -> MVRegister:
        """Keep the entries that no entry of either side happened after."""
        union = self.entries | other.entries
        keep = frozenset(
            (v, vc)
            for v, vc in union
            if not any(vc.compare(other_vc) == "before" for _, other_vc in union)
        )
        return MVRegister(keep)

    @property
    def value(self) -> frozenset[Hashable]:
        """The concurrent values."""
        return frozenset(v for v, _ in self.entries)
