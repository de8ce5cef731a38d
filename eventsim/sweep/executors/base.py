"""The executor interface: run scenarios somewhere, yield their outcomes as they finish.

An executor receives scenarios (small, picklable) and a metrics function and yields
``(position, outcome)`` pairs in completion order; the sweep puts rows back in grid order.
A run that fails yields a failed outcome; an interruption (``KeyboardInterrupt``) escapes,
and leaving the ``with`` block then cancels what has not started.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, ClassVar

from eventsim.scenario import Scenario
from eventsim.sweep.worker import Metrics

__all__ = ["Outcome", "SweepExecutor"]

Outcome = dict[str, Any]


class SweepExecutor(ABC):
    """Where a sweep's runs execute. Subclasses implement :meth:`results`.

    Use as a context manager: leaving it closes what the executor started, and on an
    exception (an interrupted sweep) cancels the runs still queued.

    Examples
    --------
    >>> from eventsim.sweep.worker import execute_run
    >>> class Reversed(SweepExecutor):
    ...     name = "reversed"
    ...     def results(self, scenarios, metrics):
    ...         for i in reversed(range(len(scenarios))):
    ...             yield i, execute_run(scenarios[i], metrics)
    >>> sc = Scenario(duration="5s", params={"rate_per_s": 50})
    >>> with Reversed() as ex:
    ...     [i for i, _ in ex.results([sc, sc], lambda r: {})]
    [1, 0]
    """

    name: ClassVar[str]

    @property
    def workers(self) -> int:
        """How many runs execute at once (for the progress display)."""
        return 1

    @abstractmethod
    def results(
        self, scenarios: Sequence[Scenario], metrics: Metrics
    ) -> Iterator[tuple[int, Outcome]]:
        """Run every scenario; yield ``(position in scenarios, outcome)`` as each finishes."""

    def close(self, *, cancel: bool = False) -> None:  # noqa: B027 - optional hook
        """Release what this executor started; ``cancel`` drops queued runs first."""

    def __enter__(self) -> SweepExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(cancel=exc_type is not None)
