"""The interface of a sequential specification (a *model*) for the linearizability checker.

A model says how an operation changes the state of one object and whether its output was a
legal one. The checker (:func:`eventsim.consistency.check_linearizable`) compiles each history
row into a *step*: a function ``state -> new_state``, or :data:`ILLEGAL` when the recorded
output cannot follow from ``state``. Steps are plain closures so the search's inner loop pays
one call per try.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from typing import Any

from eventsim.exceptions import DataFormatError

__all__ = ["ILLEGAL", "Model", "Step"]

ILLEGAL: Any = object()
"""Returned by a step when the operation's output is not possible from the given state."""

Step = Callable[[Any], Any]
"""``state -> new state``, or :data:`ILLEGAL`."""


class Model(ABC):
    """A sequential object: its initial state and one step per operation kind.

    Subclasses set ``name`` and ``ops`` and implement :meth:`init` and :meth:`compile`.
    Histories are partitioned by the ``key`` column (P-compositionality): each key is an
    independent object of the model, a null key the single object of the history.

    Examples
    --------
    >>> from eventsim.consistency.models import MODELS
    >>> m = MODELS["register"]()
    >>> step = m.compile("write", "3", None, "ok")
    >>> step(m.init())
    '3'
    """

    name: str = ""
    ops: tuple[str, ...] = ()

    @abstractmethod
    def init(self) -> Hashable:
        """The state of an object that no operation has touched."""

    @abstractmethod
    def compile(self, op: str, value: str | None, output: str | None, status: str) -> Step | None:
        """The step of one history row, or None when the row has no effect and no constraint.

        ``status`` is ok, fail or info. An ``info`` row may or may not have taken effect: its
        step must accept any state (the checker lets it complete at the end of the history).
        """

    def describe(self, state: Any) -> str | None:
        """The state as text for evidence tables (None stays None)."""
        return None if state is None else str(state)

    def unknown_op(self, op: str) -> DataFormatError:
        """The error for an operation the model does not have."""
        msg = f"model {self.name!r} has no operation {op!r}; its operations: {', '.join(self.ops)}"
        return DataFormatError(msg)
