"""Greenest-now: serve each slot's events where the grid is cleanest now, ignoring latency.

"Cleanest" is the lowest intensity x PUE (grams per IT kWh) in the current slot, which is
known (a nowcast). Jobs start at submit, as one block, in the region cleanest at that moment.
"""

from __future__ import annotations

import numpy as np

from eventsim.carbon.base import Placement, Policy, Problem, job_blocks, one_hot

__all__ = ["GreenestNow"]


class GreenestNow(Policy):
    """Lowest current intensity x PUE for every cell; jobs run at once in the greenest region.

    Examples
    --------
    >>> GreenestNow().name
    'greenest-now'
    """

    name = "greenest-now"

    def place(self, problem: Problem) -> Placement:
        """Send each cell and each job to the region with the lowest effective intensity now."""
        greenest = np.argmin(problem.effective_ci, axis=1)  # (T,)
        share = one_hot(greenest[problem.cell_slot], len(problem.regions))
        start = problem.job_submit
        jobs = job_blocks(problem, start, greenest[np.minimum(start, problem.n_slots - 1)])
        return Placement(share, *jobs)
