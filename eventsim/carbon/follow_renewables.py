"""Follow-the-renewables: move work to the cleanest region, when the move pays for itself.

Each consumer group (topic) is served from one region at a time. At every slot the policy looks
``horizon_h`` ahead on the forecast; it migrates to the region with the lowest mean forecast
intensity x PUE when the emissions saved over the horizon (at the last slot's load, a
persistence estimate) exceed those of moving the group's state (``state_gb`` at the network
energy per GB). Jobs start at submit and ride one shared track computed the same way with
``checkpoint_gb``; every move of a running job is a migration. Latency SLOs are not considered
(violations are counted by the accounting).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from eventsim.carbon.base import Placement, Policy, Problem, job_blocks, one_hot

__all__ = ["FollowTheRenewables"]


class FollowTheRenewables(Policy):
    """Migrate groups and running jobs to the greenest region when it is worth the move.

    Parameters
    ----------
    horizon_h
        Look-ahead of the forecast used to judge a move.
    checkpoint_gb
        State a running job moves per migration.

    Examples
    --------
    >>> FollowTheRenewables(horizon_h=3).name
    'follow-renewables'
    """

    name = "follow-renewables"

    def __init__(self, *, horizon_h: float = 6.0, checkpoint_gb: float = 10.0) -> None:
        self.horizon_h = horizon_h
        self.checkpoint_gb = checkpoint_gb

    def __repr__(self) -> str:
        h, gb = self.horizon_h, self.checkpoint_gb
        return f"FollowTheRenewables(horizon_h={h}, checkpoint_gb={gb})"

    def place(self, problem: Problem) -> Placement:
        """Compute one track per topic and one for jobs; serve and run along them."""
        n_t, n_r = problem.ci.shape
        horizon = max(1, round(self.horizon_h * 3600 / problem.slot_s))
        fc = problem.forecast.window(problem.ci, np.arange(n_t), horizon, problem.slot_s)
        fc = np.where(np.isfinite(fc), fc, np.nan)
        score = np.nanmean(fc, axis=1) * problem.pue[None, :]  # (T, R)
        n_k = len(problem.topics)
        load = np.zeros((n_k, n_t))
        it_kwh = problem.cell_events * problem.cell_kwh_per_event
        np.add.at(load, (problem.cell_topic, problem.cell_slot), it_kwh)
        expected = np.concatenate([load[:, :1], load[:, :-1]], axis=1) * horizon
        tracks = np.array(
            [
                _track(score, problem.ci, expected[k], problem.topic_state_gb[k], problem)
                for k in range(n_k)
            ]
        ).reshape(n_k, n_t)
        share = one_hot(tracks[problem.cell_topic, problem.cell_slot], n_r)
        migrations = [
            _moves(tracks[k], "stream", problem.topics[k], problem.topic_state_gb[k])
            for k in range(n_k)
        ]
        jobs = (np.zeros(0, np.int64),) * 3 + (np.zeros(0),)
        if len(problem.job_len):
            power = float(problem.job_power_kw.mean()) * problem.slot_h * horizon
            jtrack = _track(score, problem.ci, np.full(n_t, power), self.checkpoint_gb, problem)
            j, s, _, f = job_blocks(problem, problem.job_submit, problem.job_home)
            s = np.minimum(s, n_t - 1)
            jobs = (j, s, jtrack[s], f)
            moved = (s > problem.job_submit[j]) & (jtrack[s] != jtrack[np.maximum(s - 1, 0)])
            migrations.append(
                pl.DataFrame(
                    {
                        "kind": "job",
                        "name": problem.jobs["job_id"].to_numpy()[j[moved]].astype(str),
                        "slot": s[moved],
                        "from_idx": jtrack[s[moved] - 1],
                        "to_idx": jtrack[s[moved]],
                        "gb": np.full(int(moved.sum()), self.checkpoint_gb),
                    }
                )
            )
        placement = Placement(share, *jobs)
        frames = [m.cast(placement.migrations.schema) for m in migrations if m.height]  # type: ignore[arg-type]
        if frames:
            placement = Placement(share, *jobs, migrations=pl.concat(frames))
        return placement


def _track(
    score: np.ndarray, ci: np.ndarray, energy_kwh: np.ndarray, state_gb: float, problem: Problem
) -> np.ndarray:
    """Region per slot: start at the greenest, move when the saving beats the move's emissions."""
    n_t = score.shape[0]
    best = np.argmin(score, axis=1)
    out = np.empty(n_t, dtype=np.int64)
    cur = int(best[0])
    move_kwh = state_gb * problem.network_kwh_per_gb
    for t in range(n_t):  # a sequential decision (hysteresis), T iterations of scalar work
        g = int(best[t])
        if g != cur:
            gain = (score[t, cur] - score[t, g]) * energy_kwh[t]
            if gain > move_kwh * (ci[t, cur] + ci[t, g]) / 2:
                cur = g
        out[t] = cur
    return out


def _moves(track: np.ndarray, kind: str, name: str, gb: float) -> pl.DataFrame:
    t = np.flatnonzero(track[1:] != track[:-1]) + 1
    return pl.DataFrame(
        {
            "kind": kind,
            "name": name,
            "slot": t,
            "from_idx": track[t - 1],
            "to_idx": track[t],
            "gb": np.full(len(t), float(gb)),
        }
    )
