"""``PlacementScenario``: regions, traces, latencies, SLO, work and forecast, validated once.

The scenario is plain data (frozen); :meth:`PlacementScenario.compile` turns it into the numeric
:class:`~eventsim.carbon.base.Problem` every policy reads. Work comes from (in this order) an
event log (``RunResult.events``, aggregated by :func:`~eventsim.carbon.work.events_to_work`),
ready-made stream cells, a jobs frame, or the seeded :class:`WorkSpec` generator.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from eventsim.carbon.base import Problem
from eventsim.carbon.forecast import FORECASTS, Forecast, make_forecast
from eventsim.carbon.region import NETWORK_KWH_PER_GB, Region, handler_energy
from eventsim.carbon.trace import to_grid
from eventsim.carbon.work import (
    JOB_SCHEMA,
    STREAM_SCHEMA,
    TopicSpec,
    events_to_work,
    generate_jobs,
    generate_streams,
    validate_jobs,
)
from eventsim.exceptions import ScenarioError

__all__ = ["PlacementScenario", "WorkSpec"]


@dataclass(frozen=True)
class WorkSpec:
    """Seeded synthetic work: Poisson stream cells per topic plus jobs from ``JOB_KINDS``.

    Parameters
    ----------
    rate_per_s
        ``((topic, mean events/s), ...)``; every topic needs a ``TopicSpec`` in the scenario.
    job_kinds
        Names of ``JOB_KINDS`` families to generate (empty = no jobs).
    bytes_per_event
        Mean payload size.
    diurnal_amplitude
        Relative amplitude of the daily load cycle.

    Examples
    --------
    >>> WorkSpec((("plays", 100.0),), job_kinds=("encode",)).job_kinds
    ('encode',)
    """

    rate_per_s: tuple[tuple[str, float], ...]
    job_kinds: tuple[str, ...] = ("encode", "analytics", "training", "compaction")
    bytes_per_event: float = 500.0
    diurnal_amplitude: float = 0.4


def _fail(field: str, value: Any, allowed: str) -> None:
    msg = f"PlacementScenario.{field} must be {allowed}; got {value!r}"
    raise ScenarioError(msg)


@dataclass(frozen=True, eq=False)
class PlacementScenario:
    """Everything a placement comparison needs.

    Parameters
    ----------
    regions
        The data-centre regions (unique names).
    traces
        Region name → trace frame (``timestamp``, ``intensity_g_per_kwh``) covering the run.
    latency_ms
        ``{(user_region, serving_region): ms}``; the reverse pair and 0 on the diagonal fill in.
    start
        Wall-clock time (UTC if naive) of simulated second 0.
    duration_s
        Length of the stream workload; the grid extends to the latest job deadline.
    slot_s
        Slot length of the grid.
    slo_ms
        Latency SLO of stream events (None = no SLO).
    topics
        One spec per topic (group, handler, user regions).
    events
        An event log (``timestamp_s``, ``topic``, ``payload_bytes``, ...) or stream cells
        (``STREAM_SCHEMA``); None with ``work`` set = generate.
    jobs
        Deferrable jobs (``JOB_SCHEMA``; ``home_region`` optional); None with ``work`` = generate.
    work
        Seeded generator used for whatever of ``events``/``jobs`` is None.
    forecast
        A forecast or its registry name.
    network_kwh_per_gb
        Network energy per GB moved between regions.
    seed
        Seed of generated work and of the user-region split of events.

    Examples
    --------
    >>> from datetime import datetime
    >>> from eventsim.carbon.trace import make_trace
    >>> t = make_trace(datetime(2021, 1, 1), [100.0] * 24, 3600)
    >>> s = PlacementScenario((Region("a"),), {"a": t}, {}, datetime(2021, 1, 1), 3600.0)
    >>> s.compile().ci.shape
    (1, 1)
    >>> s.replace(slot_s=0)
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ScenarioError: PlacementScenario.slot_s must be > 0; got 0
    """

    regions: tuple[Region, ...]
    traces: Mapping[str, pl.DataFrame]
    latency_ms: Mapping[tuple[str, str], float]
    start: datetime
    duration_s: float
    slot_s: float = 3600.0
    slo_ms: float | None = None
    topics: tuple[TopicSpec, ...] = ()
    events: pl.DataFrame | None = None
    jobs: pl.DataFrame | None = None
    work: WorkSpec | None = None
    forecast: Forecast | str = "perfect"
    network_kwh_per_gb: float = NETWORK_KWH_PER_GB
    seed: int = 0

    def __post_init__(self) -> None:
        names = [r.name for r in self.regions]
        if not names or len(set(names)) != len(names):
            _fail("regions", names, "a non-empty tuple of Regions with unique names")
        missing = [n for n in names if n not in self.traces]
        if missing:
            _fail("traces", sorted(self.traces), f"a mapping with a trace for every region {names}")
        if not self.slot_s > 0:
            _fail("slot_s", self.slot_s, "> 0")
        if not self.duration_s > 0:
            _fail("duration_s", self.duration_s, "> 0")
        if self.slo_ms is not None and not self.slo_ms > 0:
            _fail("slo_ms", self.slo_ms, "> 0 or None")
        if not self.network_kwh_per_gb >= 0:
            _fail("network_kwh_per_gb", self.network_kwh_per_gb, ">= 0")
        try:
            make_forecast(self.forecast)
        except ScenarioError:
            raise
        except ValueError:
            _fail("forecast", self.forecast, f"a Forecast or one of {sorted(FORECASTS)}")
        for spec in self.topics:
            bad = [r for r, _ in spec.user_regions if r not in names]
            if bad:
                _fail("topics", f"{spec.topic}: user region(s) {bad}", f"user regions in {names}")
        self._latency_matrix()  # validates
        if self.work is not None:
            known = {t.topic for t in self.topics}
            unknown = [t for t, _ in self.work.rate_per_s if t not in known]
            if unknown:
                _fail("work.rate_per_s", unknown, f"topics with a TopicSpec ({sorted(known)})")

    def replace(self, **changes: Any) -> PlacementScenario:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    @property
    def region_names(self) -> tuple[str, ...]:
        """Region names in order."""
        return tuple(r.name for r in self.regions)

    def _latency_matrix(self) -> np.ndarray:
        names = self.region_names
        n = len(names)
        out = np.zeros((n, n))
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                if i == j:
                    value = self.latency_ms.get((a, b), 0.0)
                else:
                    value = self.latency_ms.get((a, b), self.latency_ms.get((b, a)))
                if value is None or not value >= 0:
                    _fail("latency_ms", {(a, b): value}, "a latency >= 0 for every region pair")
                out[i, j] = value
        return out

    def _cells(self) -> pl.DataFrame:
        if self.events is None:
            if self.work is None:
                return pl.DataFrame(schema=STREAM_SCHEMA)
            return generate_streams(
                self.topics,
                dict(self.work.rate_per_s),
                self.duration_s,
                self.slot_s,
                bytes_per_event=self.work.bytes_per_event,
                diurnal_amplitude=self.work.diurnal_amplitude,
                seed=self.seed,
            )
        if "timestamp_s" in self.events.columns:
            return events_to_work(self.events, self.topics, self.slot_s, seed=self.seed)
        missing = [c for c in STREAM_SCHEMA if c not in self.events.columns]
        if missing:
            _fail("events", f"columns {self.events.columns}", "an event log or stream cells")
        return self.events.select(list(STREAM_SCHEMA)).cast(STREAM_SCHEMA)  # type: ignore[arg-type]

    def _jobs(self) -> pl.DataFrame:
        if self.jobs is not None:
            return validate_jobs(self.jobs, self.region_names[0])
        if self.work is None or not self.work.job_kinds:
            return pl.DataFrame(schema=JOB_SCHEMA)
        from eventsim.carbon.work import JOB_KINDS

        kinds = {k: JOB_KINDS[k] for k in self.work.job_kinds}
        return generate_jobs(
            self.duration_s, kinds=kinds, home_regions=self.region_names, seed=self.seed + 1
        )

    def compile(self) -> Problem:
        """The numeric problem on the slot grid.

        Raises
        ------
        ScenarioError
            Work outside the grid, jobs that cannot fit their window once rounded to slots,
            unknown regions in the work, or traces that do not cover the grid.
        """
        names = self.region_names
        index = {n: i for i, n in enumerate(names)}
        cells = self._cells()
        jobs = self._jobs()
        end_s = max(self.duration_s, float(jobs["deadline_s"].max() or 0.0))
        n_slots = int(np.ceil(end_s / self.slot_s - 1e-9))
        ci = np.column_stack(
            [to_grid(self.traces[n], self.start, n_slots, self.slot_s) for n in names]
        )
        bad_users = set(cells["user_region"].unique().to_list()) - set(names)
        if bad_users:
            _fail("events", f"user regions {sorted(bad_users)}", f"regions in {names}")
        if cells.height and (cells["slot"].min() < 0 or cells["slot"].max() >= n_slots):  # type: ignore[operator]
            _fail("events", "events outside [0, duration_s)", "events inside the run")
        topics = tuple(sorted(cells["topic"].unique().to_list()))
        state = {t.topic: t.state_gb for t in self.topics}
        kwh = {h: handler_energy(h).j_per_event / 3.6e6 for h in cells["handler"].unique()}
        submit = np.ceil(jobs["submit_s"].to_numpy() / self.slot_s - 1e-9).astype(np.int64)
        length = np.ceil(jobs["duration_s"].to_numpy() / self.slot_s - 1e-9).astype(np.int64)
        deadline = np.floor(jobs["deadline_s"].to_numpy() / self.slot_s + 1e-9).astype(np.int64)
        tight = np.flatnonzero(deadline - submit < length)
        if tight.size:
            job = jobs.row(int(tight[0]), named=True)
            _fail(
                "slot_s",
                self.slot_s,
                f"small enough for job {job['job_id']} (submit {job['submit_s']} s, duration "
                f"{job['duration_s']} s, deadline {job['deadline_s']} s) to fit on whole slots",
            )
        homes = jobs["home_region"].to_list()
        if set(homes) - set(names):
            _fail("jobs", f"home regions {sorted(set(homes) - set(names))}", f"one of {names}")
        caps = [r.capacity_events_per_s for r in self.regions]
        return Problem(
            regions=names,
            slot_s=self.slot_s,
            ci=ci,
            pue=np.array([r.pue for r in self.regions]),
            latency_ms=self._latency_matrix(),
            slo_ms=self.slo_ms,
            network_kwh_per_gb=self.network_kwh_per_gb,
            forecast=make_forecast(self.forecast),
            cells=cells,
            cell_slot=cells["slot"].to_numpy().astype(np.int64),
            cell_user=cells["user_region"].replace_strict(index).to_numpy().astype(np.int64),
            cell_topic=cells["topic"]
            .replace_strict({t: i for i, t in enumerate(topics)})
            .to_numpy()
            .astype(np.int64),
            cell_events=cells["n_events"].to_numpy().astype(np.float64),
            cell_gb=cells["payload_bytes"].to_numpy().astype(np.float64) / 1e9,
            cell_kwh_per_event=cells["handler"].replace_strict(kwh).to_numpy().astype(np.float64),
            topics=topics,
            topic_state_gb=np.array([state.get(t, 0.0) for t in topics]),
            jobs=jobs,
            job_submit=submit,
            job_len=length,
            job_deadline=deadline,
            job_home=np.array([index[h] for h in homes], dtype=np.int64),
            job_power_kw=jobs["power_kw"].to_numpy().astype(np.float64),
            cap_events=np.array([np.inf if c is None else c * self.slot_s for c in caps]),
            cap_kw=np.array(
                [np.inf if r.capacity_kw is None else r.capacity_kw for r in self.regions]
            ),
        )
