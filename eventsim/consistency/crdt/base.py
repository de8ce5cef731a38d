"""The interface of a state-based CRDT (convergent replicated data type).

A state is an immutable value; updates return new states; ``merge`` is the least upper bound
of two states: commutative, associative and idempotent, so replicas that have seen the same
updates, in any order and any number of times, hold equal states.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Self

__all__ = ["CRDT"]


class CRDT(ABC):
    """A state-based CRDT: ``merge(other)`` and ``value``.

    Examples
    --------
    >>> from eventsim.consistency.crdt import GCounter
    >>> isinstance(GCounter(), CRDT)
    True
    """

    @abstractmethod
    def merge(self, other: Self) -> Self:
        """The join of two states of the same type."""

    @property
    @abstractmethod
    def value(self) -> Any:
        """What a reader sees."""
