"""Logical clocks: Lamport, vector and hybrid logical clocks, as immutable values.

Every operation returns a new clock, so clocks can be stored in histories and compared
later. ``LamportClock`` orders events consistently with causality; ``VectorClock`` also
tells when two events are concurrent; ``HybridLogicalClock`` (Kulkarni et al., 2014) stays
close to physical time while respecting causality.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["HybridLogicalClock", "LamportClock", "Order", "VectorClock"]

Order = Literal["before", "after", "concurrent", "equal"]


@dataclass(frozen=True, order=True)
class LamportClock:
    """A Lamport clock: one counter, bumped on every event and on every receive.

    Examples
    --------
    >>> a = LamportClock().tick()          # a local event
    >>> b = LamportClock().receive(a)      # b receives a's message
    >>> a.time, b.time, a < b
    (1, 2, True)
    """

    time: int = 0

    def tick(self) -> LamportClock:
        """The clock after a local or send event."""
        return LamportClock(self.time + 1)

    def receive(self, other: LamportClock | int) -> LamportClock:
        """The clock after receiving a message stamped with ``other``."""
        t = other.time if isinstance(other, LamportClock) else int(other)
        return LamportClock(max(self.time, t) + 1)


@dataclass(frozen=True)
class VectorClock:
    """A vector clock: one counter per replica (missing replicas count 0).

    Parameters
    ----------
    counts
        Replica → counter. Zero entries are dropped, so equal clocks compare equal.

    Examples
    --------
    >>> a = VectorClock().increment("a")
    >>> b = VectorClock().increment("b")
    >>> a.compare(b), a.compare(a.merge(b)), a.merge(b).compare(a)
    ('concurrent', 'before', 'after')
    """

    counts: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clean = {str(k): int(v) for k, v in sorted(self.counts.items()) if v}
        if any(v < 0 for v in clean.values()):
            msg = f"VectorClock counts must be >= 0; got {dict(self.counts)!r}"
            raise ValueError(msg)
        object.__setattr__(self, "counts", clean)

    def __hash__(self) -> int:
        return hash(tuple(self.counts.items()))

    def __getitem__(self, replica: str) -> int:
        return self.counts.get(replica, 0)

    def increment(self, replica: str) -> VectorClock:
        """The clock after an event at ``replica``."""
        return VectorClock({**self.counts, replica: self[replica] + 1})

    def merge(self, other: VectorClock) -> VectorClock:
        """The element-wise maximum (what a receiver knows after a message)."""
        keys = self.counts.keys() | other.counts.keys()
        return VectorClock({k: max(self[k], other[k]) for k in keys})

    def compare(self, other: VectorClock) -> Order:
        """``"before"`` (happened before ``other``), ``"after"``, ``"equal"``, ``"concurrent"``."""
        keys = self.counts.keys() | other.counts.keys()
        le = all(self[k] <= other[k] for k in keys)
        ge = all(self[k] >= other[k] for k in keys)
        if le and ge:
            return "equal"
        if le:
            return "before"
        return "after" if ge else "concurrent"

    def happened_before(self, other: VectorClock) -> bool:
        """True when ``self`` → ``other`` (strictly)."""
        return self.compare(other) == "before"


@dataclass(frozen=True, order=True)
class HybridLogicalClock:
    """A hybrid logical clock ``(l, c)``: ``l`` the largest physical time seen, ``c`` a counter.

    Timestamps compare as tuples, respect causality, and ``l`` never runs ahead of the
    largest physical clock reading seen (Kulkarni, Demirbas et al., "Logical Physical
    Clocks", OPODIS 2014).

    Examples
    --------
    >>> a = HybridLogicalClock().now(10.0)             # send at physical time 10
    >>> b = HybridLogicalClock().receive(a, 9.5)       # receiver's clock lags
    >>> a, b, a < b
    (HybridLogicalClock(l=10.0, c=0), HybridLogicalClock(l=10.0, c=1), True)
    """

    l: float = 0.0  # noqa: E741 (the paper's name)
    c: int = 0

    def now(self, physical_s: float) -> HybridLogicalClock:
        """The clock after a local or send event at physical time ``physical_s``."""
        l_new = max(self.l, physical_s)
        return HybridLogicalClock(l_new, self.c + 1 if l_new == self.l else 0)

    def receive(self, other: HybridLogicalClock, physical_s: float) -> HybridLogicalClock:
        """The clock after receiving a message stamped ``other`` at ``physical_s``."""
        l_new = max(self.l, other.l, physical_s)
        if l_new == self.l and l_new == other.l:
            c = max(self.c, other.c) + 1
        elif l_new == self.l:
            c = self.c + 1
        elif l_new == other.l:
            c = other.c + 1
        else:
            c = 0
        return HybridLogicalClock(l_new, c)

    @property
    def timestamp(self) -> tuple[float, int]:
        """``(l, c)``."""
        return (self.l, self.c)
