"""The placement interface: a compiled ``Problem`` in, a ``Placement`` out, one ``Policy`` per file.

A :class:`Problem` is the numeric form of a :class:`~eventsim.carbon.scenario.PlacementScenario`
(numpy arrays on a slot grid). A policy decides

* for each stream cell ``c`` (slot, topic, user region) the share served by each region,
  ``share[c, r]`` (rows sum to 1);
* for each deferrable job the slots and regions it runs in (``job_*`` arrays, one entry per
  job-slot; ``job_frac`` is the fraction of the job's power drawn there);
* migrations (state moved between regions), each with its size in GB.

:func:`~eventsim.carbon.accounting.account` turns a placement into energy and emissions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import polars as pl

from eventsim.carbon.forecast import Forecast

__all__ = ["Placement", "Policy", "Problem", "job_blocks", "one_hot"]


@dataclass(frozen=True, eq=False)
class Problem:
    """Numeric placement problem on a slot grid (built by ``PlacementScenario.compile``).

    Attributes
    ----------
    regions
        Region names; index ``r`` in every array.
    slot_s
        Slot length in seconds; slot ``t`` covers ``[t * slot_s, (t + 1) * slot_s)``.
    ci
        True intensity (gCO2eq/kWh), shape ``(T, R)``.
    pue
        PUE per region, shape ``(R,)``.
    latency_ms
        Latency from user region ``u`` to serving region ``r``, shape ``(R, R)``.
    slo_ms
        Latency SLO of stream cells (None = none).
    network_kwh_per_gb
        Network energy per GB moved between regions.
    forecast
        Forecast the policies may use.
    cells
        Stream cells frame (``STREAM_SCHEMA``).
    cell_slot, cell_user, cell_topic
        Int arrays ``(C,)``: slot, user-region index, topic index.
    cell_events, cell_gb, cell_kwh_per_event
        Float arrays ``(C,)``: events, payload GB, IT kWh per event.
    topics, topic_state_gb
        Topic names ``(K,)`` and state to move on migration.
    jobs
        Jobs frame (``JOB_SCHEMA``).
    job_submit, job_len, job_deadline, job_home
        Int arrays ``(J,)``: first allowed slot, length in slots, slot by which the job must
        end (exclusive), home-region index.
    job_power_kw
        Float array ``(J,)``.
    cap_events, cap_kw
        Capacity per region: events per slot, IT kW for jobs (``inf`` = unlimited).
    """

    regions: tuple[str, ...]
    slot_s: float
    ci: np.ndarray
    pue: np.ndarray
    latency_ms: np.ndarray
    slo_ms: float | None
    network_kwh_per_gb: float
    forecast: Forecast
    cells: pl.DataFrame
    cell_slot: np.ndarray
    cell_user: np.ndarray
    cell_topic: np.ndarray
    cell_events: np.ndarray
    cell_gb: np.ndarray
    cell_kwh_per_event: np.ndarray
    topics: tuple[str, ...]
    topic_state_gb: np.ndarray
    jobs: pl.DataFrame
    job_submit: np.ndarray
    job_len: np.ndarray
    job_deadline: np.ndarray
    job_home: np.ndarray
    job_power_kw: np.ndarray
    cap_events: np.ndarray
    cap_kw: np.ndarray

    @property
    def n_slots(self) -> int:
        """Number of slots ``T``."""
        return int(self.ci.shape[0])

    @property
    def slot_h(self) -> float:
        """Slot length in hours."""
        return self.slot_s / 3600.0

    @property
    def effective_ci(self) -> np.ndarray:
        """Grams per IT kWh: intensity x PUE, shape ``(T, R)``."""
        return self.ci * self.pue[None, :]

    @property
    def allowed(self) -> np.ndarray:
        """Boolean ``(C, R)``: serving region within the SLO of the cell's users."""
        lat = self.latency_ms[self.cell_user]
        if self.slo_ms is None:
            return np.ones_like(lat, dtype=bool)
        return lat <= self.slo_ms

    def cell_cost_g(self) -> np.ndarray:
        """Emissions (g) of serving each whole cell in each region, shape ``(C, R)``.

        Facility energy at the serving region's intensity plus, away from the users' region,
        the network energy of moving the payload at the mean of both regions' intensities.
        """
        ci_t = self.ci[self.cell_slot]  # (C, R)
        it_kwh = self.cell_events * self.cell_kwh_per_event
        compute = it_kwh[:, None] * self.pue[None, :] * ci_t
        user_ci = ci_t[np.arange(len(self.cell_slot)), self.cell_user]
        net_kwh = self.cell_gb * self.network_kwh_per_gb
        remote = np.arange(len(self.regions))[None, :] != self.cell_user[:, None]
        return compute + remote * net_kwh[:, None] * (ci_t + user_ci[:, None]) / 2


@dataclass(frozen=True, eq=False)
class Placement:
    """A policy's decisions (see the module docstring).

    Examples
    --------
    >>> Placement.empty(n_cells=2, n_regions=3).share.shape
    (2, 3)
    """

    share: np.ndarray
    job_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    job_slot: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    job_region: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    job_frac: np.ndarray = field(default_factory=lambda: np.zeros(0))
    migrations: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={
                "kind": pl.String,
                "name": pl.String,
                "slot": pl.Int64,
                "from_idx": pl.Int64,
                "to_idx": pl.Int64,
                "gb": pl.Float64,
            }
        )
    )
    info: dict[str, object] = field(default_factory=dict)

    @classmethod
    def empty(cls, n_cells: int, n_regions: int) -> Placement:
        """A placement with no decisions (all-zero shares)."""
        return cls(share=np.zeros((n_cells, n_regions)))


def job_blocks(
    problem: Problem, start: np.ndarray, region: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """COO arrays (job, slot, region, frac) for jobs run as one block from ``start`` in ``region``.

    Examples
    --------
    >>> class P:  # a stand-in with the two fields used
    ...     job_len = np.array([2, 1])
    >>> [a.tolist() for a in job_blocks(P, np.array([0, 5]), np.array([1, 0]))]
    [[0, 0, 1], [0, 1, 5], [1, 1, 0], [1.0, 1.0, 1.0]]
    """
    lengths = np.asarray(problem.job_len)
    jobs = np.repeat(np.arange(len(lengths)), lengths)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    slots = np.repeat(start, lengths) + (np.arange(lengths.sum()) - first)
    return jobs, slots.astype(np.int64), np.repeat(region, lengths), np.ones(len(jobs))


def one_hot(index: np.ndarray, n_regions: int) -> np.ndarray:
    """Shares that send row ``i`` wholly to region ``index[i]``.

    Examples
    --------
    >>> one_hot(np.array([1, 0]), 2).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    out = np.zeros((len(index), n_regions))
    out[np.arange(len(index)), index] = 1.0
    return out


class Policy(ABC):
    """A placement policy: ``place(problem) -> Placement``; one file per policy, registered in
    :data:`~eventsim.carbon.policies.POLICIES`."""

    name: ClassVar[str]

    @abstractmethod
    def place(self, problem: Problem) -> Placement:
        """Decide where (and, for jobs, when) the work runs."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
