"""Carbon-aware within a latency SLO: the cleanest region among those that meet the SLO.

For each stream cell, the regions whose latency from the cell's users is within the SLO are
candidates; the one with the lowest intensity x PUE now wins (the nearest region when none
meets the SLO). Jobs, which have no latency SLO, start at submit in the cleanest region.
"""

from __future__ import annotations

import numpy as np

from eventsim.carbon.base import Placement, Policy, Problem, job_blocks, one_hot

__all__ = ["CarbonWithinSLO"]


class CarbonWithinSLO(Policy):
    """Greenest region within the SLO for streams; greenest-now for jobs.

    Examples
    --------
    >>> CarbonWithinSLO().name
    'carbon-slo'
    """

    name = "carbon-slo"

    def place(self, problem: Problem) -> Placement:
        """Place cells at the cleanest SLO-compliant region and jobs at the cleanest region."""
        eff = problem.effective_ci
        allowed = problem.allowed
        nearest = np.argmin(problem.latency_ms, axis=1)[problem.cell_user]
        cost = np.where(allowed, eff[problem.cell_slot], np.inf)
        choice = np.where(allowed.any(axis=1), np.argmin(cost, axis=1), nearest)
        greenest = np.argmin(eff, axis=1)
        start = problem.job_submit
        jobs = job_blocks(problem, start, greenest[np.minimum(start, problem.n_slots - 1)])
        return Placement(one_hot(choice, len(problem.regions)), *jobs)
