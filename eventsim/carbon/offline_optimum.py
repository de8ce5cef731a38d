"""The offline optimum: least emissions with perfect knowledge, under the scenario's constraints.

Streams: every cell is served in the region that costs least (compute at intensity x PUE plus
network transfer), among the regions within the SLO (the nearest when none is). Jobs: the
cheapest slots in ``[submit, deadline)``, each slot in its cheapest region; the job may split
and move for free, so this bounds every time-shifting and migration policy from below.

Without capacity limits these choices are independent and the solution above is exact. With
capacity limits (``capacity_events_per_s``, ``capacity_kw``) the problem is solved as a linear
program with ``scipy.optimize.linprog`` (HiGHS): fractional shares, a lower bound on any integral
placement. If the capacity makes the LP infeasible, the capacity is dropped (still a bound)
and ``info["capacity"]`` says so.
"""

from __future__ import annotations

import numpy as np

from eventsim.carbon.base import Placement, Policy, Problem, one_hot
from eventsim.carbon.schedule import greenest_slots

__all__ = ["OfflineOptimum"]


class OfflineOptimum(Policy):
    """Perfect-knowledge optimum (exact, or an LP with capacities).

    Examples
    --------
    >>> OfflineOptimum().name
    'offline-optimum'
    """

    name = "offline-optimum"

    def place(self, problem: Problem) -> Placement:
        """Solve exactly (no capacity limits) or by LP."""
        capped = np.isfinite(problem.cap_events).any() or np.isfinite(problem.cap_kw).any()
        if capped:
            solved = _solve_lp(problem)
            if solved is not None:
                return solved
        placement = _exact(problem)
        if capped:
            placement.info["capacity"] = "relaxed (LP infeasible)"
        return placement


def _stream_cost(problem: Problem) -> np.ndarray:
    allowed = problem.allowed
    nearest = np.argmin(problem.latency_ms, axis=1)[problem.cell_user]
    none = ~allowed.any(axis=1)
    allowed[none, nearest[none]] = True
    return np.where(allowed, problem.cell_cost_g(), np.inf)


def _exact(problem: Problem) -> Placement:
    cost = _stream_cost(problem)
    share = one_hot(np.argmin(cost, axis=1), len(problem.regions))
    if not len(problem.job_len):
        return Placement(share, info={"method": "exact"})
    eff = problem.effective_ci
    best_region = np.argmin(eff, axis=1)
    best = eff.min(axis=1)
    window = problem.job_deadline - problem.job_submit
    offsets = np.arange(int(window.max()))
    idx = problem.job_submit[:, None] + offsets[None, :]
    values = np.where(idx < len(best), best[np.minimum(idx, len(best) - 1)], np.inf)
    jobs, offset = np.nonzero(greenest_slots(values, problem.job_len, window))
    slots = problem.job_submit[jobs] + offset
    return Placement(
        share, jobs, slots, best_region[slots], np.ones(len(jobs)), info={"method": "exact"}
    )


def _solve_lp(problem: Problem) -> Placement | None:
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, vstack

    n_r = len(problem.regions)
    cost = _stream_cost(problem)
    c_idx, r_idx = np.nonzero(np.isfinite(cost))
    n_x = len(c_idx)
    window = problem.job_deadline - problem.job_submit
    j_rep = np.repeat(np.arange(len(window)), window)
    o_rep = np.arange(window.sum()) - np.repeat(np.cumsum(window) - window, window)
    jo = len(j_rep)
    y_j, y_r = np.repeat(j_rep, n_r), np.tile(np.arange(n_r), jo)
    y_t = np.repeat(problem.job_submit[j_rep] + o_rep, n_r)
    y_pair = np.repeat(np.arange(jo), n_r)
    y_cost = problem.job_power_kw[y_j] * problem.slot_h * problem.effective_ci[y_t, y_r]
    n_y = len(y_j)
    objective = np.concatenate([cost[c_idx, r_idx], y_cost])
    n_c, n_j, n_t = len(problem.cell_slot), len(window), problem.n_slots
    a_eq = vstack(
        [
            coo_matrix((np.ones(n_x), (c_idx, np.arange(n_x))), shape=(n_c, n_x + n_y)),
            coo_matrix((np.ones(n_y), (y_j, n_x + np.arange(n_y))), shape=(n_j, n_x + n_y)),
        ]
    )
    b_eq = np.concatenate([np.ones(n_c), problem.job_len.astype(float)])
    rows = [coo_matrix((np.ones(n_y), (y_pair, n_x + np.arange(n_y))), shape=(jo, n_x + n_y))]
    b_ub = [np.ones(jo)]
    x_t = problem.cell_slot[c_idx]
    for r in np.flatnonzero(np.isfinite(problem.cap_events)):
        sel = r_idx == r
        rows.append(
            coo_matrix(
                (problem.cell_events[c_idx[sel]], (x_t[sel], np.flatnonzero(sel))),
                shape=(n_t, n_x + n_y),
            )
        )
        b_ub.append(np.full(n_t, problem.cap_events[r]))
    for r in np.flatnonzero(np.isfinite(problem.cap_kw)):
        sel = y_r == r
        rows.append(
            coo_matrix(
                (problem.job_power_kw[y_j[sel]], (y_t[sel], n_x + np.flatnonzero(sel))),
                shape=(n_t, n_x + n_y),
            )
        )
        b_ub.append(np.full(n_t, problem.cap_kw[r]))
    result = linprog(
        objective,
        A_ub=vstack(rows).tocsr(),
        b_ub=np.concatenate(b_ub),
        A_eq=a_eq.tocsr(),
        b_eq=b_eq,
        bounds=(0.0, 1.0),
        method="highs",
    )
    if result.status != 0:
        return None
    share = np.zeros((n_c, n_r))
    share[c_idx, r_idx] = result.x[:n_x]
    y = result.x[n_x:]
    keep = y > 1e-9
    return Placement(
        share, y_j[keep], y_t[keep], y_r[keep], y[keep], info={"method": "lp", "bound": result.fun}
    )
