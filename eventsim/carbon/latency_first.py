"""Latency-first: serve every event in the region nearest its users; run jobs at once, at home.

This is the carbon-unaware baseline of :func:`~eventsim.carbon.compare.compare_placement`.
"""

from __future__ import annotations

import numpy as np

from eventsim.carbon.base import Placement, Policy, Problem, job_blocks, one_hot

__all__ = ["LatencyFirst"]


class LatencyFirst(Policy):
    """Nearest region for streams (lowest latency, ties to the lower index); jobs start at submit.

    Examples
    --------
    >>> LatencyFirst().name
    'latency-first'
    """

    name = "latency-first"

    def place(self, problem: Problem) -> Placement:
        """Place stream cells at their nearest region and run jobs immediately at home."""
        nearest = np.argmin(problem.latency_ms, axis=1)[problem.cell_user]
        jobs = job_blocks(problem, problem.job_submit, problem.job_home)
        return Placement(one_hot(nearest, len(problem.regions)), *jobs)
