"""Observed-remove set (add wins): each add carries a unique tag; a remove tombstones the
tags it has observed, so a concurrent add (with a tag the remove did not see) survives."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from eventsim.consistency.crdt.base import CRDT

__all__ = ["ORSet"]

Tag = tuple[str, int]  # (replica, sequence number at that replica)


@dataclass(frozen=True)
class ORSet(CRDT):
    """An add-wins observed-remove set.

    Parameters
    ----------
    adds
        ``(element, replica, seq)`` for every add seen.
    removed
        Tags ``(replica, seq)`` of adds that a remove has observed.

    Examples
    --------
    >>> a = ORSet().add("x", "a")
    >>> b = a.remove("x")                     # b removed the x it saw ...
    >>> c = a.add("x", "c")                   # ... while c added x again, concurrently
    >>> sorted(b.merge(c).value), sorted(b.value)
    (['x'], [])
    """

    adds: frozenset[tuple[Hashable, str, int]] = field(default_factory=frozenset)
    removed: frozenset[Tag] = field(default_factory=frozenset)

    def add(self, element: Hashable, replica: str) -> ORSet:
        """Add ``element`` at ``replica`` with a fresh tag."""
        seq = 1 + max((s for _, r, s in self.adds if r == replica), default=0)
        return ORSet(self.adds | {(element, replica, seq)}, self.removed)

    def remove(self, element: Hashable) -> ORSet:
        """Remove ``element``: tombstone the tags of it this replica has observed."""
        tags = {(r, s) for e, r, s in self.adds if e == element}
        return ORSet(self.adds, self.removed | tags)

    def merge(self, other: ORSet) -> ORSet:
        """Union of adds and of tombstones."""
        return ORSet(self.adds | other.adds, self.removed | other.removed)

    @property
    def value(self) -> frozenset[Any]:
        """Elements with at least one add that no remove observed."""
        return frozenset(e for e, r, s in self.adds if (r, s) not in self.removed)

    def __contains__(self, element: object) -> bool:
        return element in self.value
