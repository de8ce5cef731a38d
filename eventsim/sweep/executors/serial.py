"""Serial: every run in this process, one after another (the baseline; easiest to debug)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from eventsim._memory import retained_memory
from eventsim.scenario import Scenario
from eventsim.sweep.executors.base import Outcome, SweepExecutor
from eventsim.sweep.worker import Metrics, execute_run

__all__ = ["SerialExecutor"]


class SerialExecutor(SweepExecutor):
    """Runs in this process, in order.

    Parameters
    ----------
    max_workers
        Ignored (accepted so every registered executor takes it): one run at a time.

    Examples
    --------
    >>> sc = Scenario(duration="5s", params={"rate_per_s": 50})
    >>> with SerialExecutor() as ex:
    ...     out = list(ex.results([sc, sc.replace(seed=1)], lambda r: {"n": r.events.height}))
    >>> [(i, o["metrics"]) for i, o in out]
    [(0, {'n': 251}), (1, {'n': 232})]
    """

    name = "serial"

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = 1  # accepted for a uniform signature; runs go one at a time

    def results(
        self, scenarios: Sequence[Scenario], metrics: Metrics
    ) -> Iterator[tuple[int, Outcome]]:
        """Run each scenario here and yield its outcome.

        Freed memory is kept from one run to the next (as pool workers keep it) and given
        back to the OS when the sweep ends (see ``eventsim._memory``)."""
        with retained_memory():
            for i, scenario in enumerate(scenarios):
                yield i, execute_run(scenario, metrics)
