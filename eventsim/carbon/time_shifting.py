"""Temporal shifting of deferrable jobs within [submit, deadline), planned on a forecast.

Non-interrupting jobs move as one block to the start with the lowest forecast sum; interrupting
jobs run in the slots with the lowest forecast (:mod:`eventsim.carbon.schedule`). Jobs stay in
their home region; stream cells are served latency-first. The plan is made once, at submit,
with the scenario's forecast (error included) and is charged at the true intensity; since it
always lies inside the window, forecast error costs emissions, never deadlines (misses come
only from capacity queueing and are counted by the accounting).
"""

from __future__ import annotations

import numpy as np

from eventsim.carbon.base import Placement, Policy, Problem, job_blocks, one_hot
from eventsim.carbon.schedule import best_start, greenest_slots

__all__ = ["TimeShifting"]


class TimeShifting(Policy):
    """Shift jobs in time (home region) on the scenario's forecast.

    Parameters
    ----------
    interrupting
        Split jobs into slots (True) or move them as one block (False).

    Examples
    --------
    >>> TimeShifting(interrupting=True).name
    'shift-interrupting'
    """

    def __init__(self, *, interrupting: bool = False) -> None:
        self.interrupting = interrupting

    @property
    def name(self) -> str:  # type: ignore[override]
        """``shift-interrupting`` or ``shift-non-interrupting``."""
        return "shift-interrupting" if self.interrupting else "shift-non-interrupting"

    def __repr__(self) -> str:
        return f"TimeShifting(interrupting={self.interrupting})"

    def place(self, problem: Problem) -> Placement:
        """Latency-first streams; jobs at the forecast-greenest start (or slots) at home."""
        nearest = np.argmin(problem.latency_ms, axis=1)[problem.cell_user]
        share = one_hot(nearest, len(problem.regions))
        if not len(problem.job_len):
            return Placement(share)
        window = problem.job_deadline - problem.job_submit
        fc = forecast_at_home(problem, int(window.max()))
        if not self.interrupting:
            start = problem.job_submit + best_start(fc, problem.job_len, window)
            return Placement(share, *job_blocks(problem, start, problem.job_home))
        jobs, offset = np.nonzero(greenest_slots(fc, problem.job_len, window))
        slots = problem.job_submit[jobs] + offset
        return Placement(share, jobs, slots, problem.job_home[jobs], np.ones(len(jobs)))


def forecast_at_home(problem: Problem, length: int) -> np.ndarray:
    """Forecast of intensity x PUE at each job's home, from its submit slot: ``(J, length)``."""
    full = problem.forecast.window(problem.ci, problem.job_submit, length, problem.slot_s)
    rows = np.arange(len(problem.job_submit))
    return full[rows, :, problem.job_home] * problem.pue[problem.job_home][:, None]
