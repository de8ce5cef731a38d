"""Accounting: energy (kWh) and emissions (gCO2eq) of a placement, plus SLO, queue and deadlines.

``account(problem, placement)`` returns a :class:`Ledger` of frames whose sums agree:
per-cell rows add up to the per-topic, per-group, per-region and per-slot views and to the
totals, and :func:`per_event_footprint` spreads each (slot, topic) total evenly over its events,
so per-event sums equal them too.

Energy model: stream IT energy = events x J/event of the handler; facility energy = IT x PUE of
the serving region; moving a cell's payload away from its users' region costs
``network_kwh_per_gb`` at the mean intensity of both regions. Jobs draw ``power_kw`` x PUE in
each slot they run. Migrations move state (GB) at the network energy per GB.

Capacity: per region and slot, work above capacity queues (a fluid Lindley recursion,
vectorised with a running minimum). The queue delays events (``delay_s``) and jobs (a job
finishing in a backlogged slot finishes late and may miss its deadline), but the energy of
queued work is charged at the slot it was placed in (an approximation, documented).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from eventsim.carbon.base import Placement, Problem

__all__ = ["Ledger", "account", "backlog", "per_event_footprint"]


def backlog(arrivals: np.ndarray, capacity: float) -> np.ndarray:
    """Fluid queue backlog after each slot: ``q_t = max(0, q_{t-1} + a_t - c)``, vectorised.

    Examples
    --------
    >>> backlog(np.array([5.0, 5.0, 0.0, 0.0]), 3.0).tolist()
    [2.0, 4.0, 1.0, 0.0]
    """
    if not np.isfinite(capacity):
        return np.zeros(len(arrivals))
    s = np.cumsum(np.asarray(arrivals, dtype=np.float64) - capacity)
    return s - np.minimum(np.minimum.accumulate(s), 0.0)


@dataclass(frozen=True)
class Ledger:
    """Frames describing one placement.

    Attributes
    ----------
    streams
        One row per (cell, serving region): ``slot`` Int64, ``topic``, ``group``, ``handler``,
        ``user_region``, ``region`` String, ``n_events``, ``latency_ms``, ``it_kwh``,
        ``network_kwh``, ``energy_kwh`` (facility + network), ``emissions_g``,
        ``slo_violations`` (events over the SLO) Float64.
    jobs
        One row per (job, slot, region): ``job_id`` Int64, ``kind``, ``region`` String,
        ``slot`` Int64, ``frac``, ``energy_kwh``, ``emissions_g`` Float64.
    job_outcomes
        One row per job: ``job_id`` Int64, ``kind`` String, ``start_s``, ``finish_s``,
        ``deadline_s``, ``delay_s``, ``emissions_g`` Float64, ``missed`` Boolean.
    migrations
        ``kind``, ``name``, ``from_region``, ``to_region`` String, ``slot`` Int64, ``gb``,
        ``energy_kwh``, ``emissions_g`` Float64.
    queue
        Per (slot, region): ``slot`` Int64, ``region`` String, ``events``, ``overflow_events``,
        ``backlog_events``, ``delay_s``, ``job_kw``, ``overflow_kw``, ``job_delay_s`` Float64.
    """

    streams: pl.DataFrame
    jobs: pl.DataFrame
    job_outcomes: pl.DataFrame
    migrations: pl.DataFrame
    queue: pl.DataFrame

    def by(self, key: str) -> pl.DataFrame:
        """Energy and emissions of everything, grouped by ``region`` or ``slot``; or of streams by
        ``topic``, ``group``, ``user_region``.

        Returns
        -------
        polars.DataFrame
            ``key``, ``energy_kwh``, ``emissions_g`` (Float64), sorted by ``key``.
        """
        cols = [pl.col("energy_kwh"), pl.col("emissions_g")]
        frames = [self.streams.select(key, *cols)]
        if key in ("region", "slot"):
            frames.append(self.jobs.select(key, *cols))
            mig_key = "to_region" if key == "region" else "slot"
            frames.append(self.migrations.select(pl.col(mig_key).alias(key), *cols))
        return pl.concat(frames).group_by(key).agg(pl.all().sum()).sort(key)

    def totals(self) -> dict[str, float]:
        """Whole-run figures (energy, emissions by part, SLO, queue, deadlines)."""
        s, j, m, q, o = self.streams, self.jobs, self.migrations, self.queue, self.job_outcomes
        events = float(s["n_events"].sum())
        mean_delay = (
            float((q["events"] * q["delay_s"]).sum() / q["events"].sum()) if events else 0.0
        )
        return {
            "energy_kwh": float(
                s["energy_kwh"].sum() + j["energy_kwh"].sum() + m["energy_kwh"].sum()
            ),
            "emissions_g": float(
                s["emissions_g"].sum() + j["emissions_g"].sum() + m["emissions_g"].sum()
            ),
            "stream_emissions_g": float(s["emissions_g"].sum()),
            "job_emissions_g": float(j["emissions_g"].sum()),
            "migration_emissions_g": float(m["emissions_g"].sum()),
            "n_events": events,
            "slo_violations": float(s["slo_violations"].sum()),
            "overflow_events": float(q["overflow_events"].sum()),
            "mean_queue_delay_s": mean_delay,
            "max_queue_delay_s": float(q["delay_s"].max() or 0.0),
            "n_jobs": float(o.height),
            "deadline_misses": float(o["missed"].sum()),
        }


def account(problem: Problem, placement: Placement) -> Ledger:
    """Energy, emissions, SLO violations, queueing and deadline misses of ``placement``.

    Examples
    --------
    >>> from datetime import datetime
    >>> from eventsim.carbon import PlacementScenario, Region, TopicSpec, make_trace
    >>> from eventsim.carbon.latency_first import LatencyFirst
    >>> cells = pl.DataFrame({"slot": [0], "topic": ["t"], "group": ["g"],
    ...     "handler": ["stateless"], "user_region": ["a"], "n_events": [3_600_000],
    ...     "payload_bytes": [0]})
    >>> trace = make_trace(datetime(2021, 1, 1), [100.0, 100.0], 3600)
    >>> sc = PlacementScenario((Region("a", pue=1.0),), {"a": trace}, {}, datetime(2021, 1, 1),
    ...     3600.0, topics=(TopicSpec("t", "g", "stateless", (("a", 1.0),)),), events=cells)
    >>> p = sc.compile()
    >>> round(account(p, LatencyFirst().place(p)).totals()["emissions_g"], 4)  # 3.9e-4 J/event
    0.0391
    """
    names = np.asarray(problem.regions, dtype=object)
    streams = _stream_ledger(problem, placement, names)
    jobs = _job_ledger(problem, placement, names)
    queue, _, job_delay = _queue(problem, streams, jobs)
    outcomes = _outcomes(problem, placement, jobs, job_delay)
    migrations = _migration_ledger(problem, placement, names)
    return Ledger(streams, jobs, outcomes, migrations, queue)


def _stream_ledger(problem: Problem, placement: Placement, names: np.ndarray) -> pl.DataFrame:
    c, r = np.nonzero(placement.share > 0)
    frac = placement.share[c, r]
    t, u = problem.cell_slot[c], problem.cell_user[c]
    events = problem.cell_events[c] * frac
    it_kwh = events * problem.cell_kwh_per_event[c]
    facility = it_kwh * problem.pue[r]
    net_kwh = np.where(u != r, problem.cell_gb[c] * frac * problem.network_kwh_per_gb, 0.0)
    emissions = facility * problem.ci[t, r] + net_kwh * (problem.ci[t, r] + problem.ci[t, u]) / 2
    latency = problem.latency_ms[u, r]
    over = latency > problem.slo_ms if problem.slo_ms is not None else np.zeros(len(c), bool)
    base = problem.cells.select("slot", "topic", "group", "handler", "user_region")[c]
    return base.with_columns(
        region=pl.Series(names[r].astype(str), dtype=pl.String),
        n_events=pl.Series(events),
        latency_ms=pl.Series(latency.astype(np.float64)),
        it_kwh=pl.Series(it_kwh),
        network_kwh=pl.Series(net_kwh),
        energy_kwh=pl.Series(facility + net_kwh),
        emissions_g=pl.Series(emissions),
        slo_violations=pl.Series(np.where(over, events, 0.0)),
    )


def _job_ledger(problem: Problem, placement: Placement, names: np.ndarray) -> pl.DataFrame:
    j, t, r, f = placement.job_id, placement.job_slot, placement.job_region, placement.job_frac
    if np.any(t >= problem.n_slots) or np.any(t < 0):
        t = np.clip(t, 0, problem.n_slots - 1)  # a policy ran past the grid: charge the edge
    energy = problem.job_power_kw[j] * f * problem.slot_h * problem.pue[r]
    ids = problem.jobs["job_id"].to_numpy()
    kinds = problem.jobs["kind"].to_numpy()
    return pl.DataFrame(
        {
            "job_id": pl.Series(ids[j], dtype=pl.Int64),
            "kind": pl.Series(kinds[j].astype(str), dtype=pl.String),
            "region": pl.Series(names[r].astype(str), dtype=pl.String),
            "slot": pl.Series(placement.job_slot, dtype=pl.Int64),
            "frac": pl.Series(f, dtype=pl.Float64),
            "energy_kwh": pl.Series(energy, dtype=pl.Float64),
            "emissions_g": pl.Series(energy * problem.ci[t, r], dtype=pl.Float64),
        }
    )


def _queue(
    problem: Problem, streams: pl.DataFrame, jobs: pl.DataFrame
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    n_t, n_r = problem.ci.shape
    idx = {n: i for i, n in enumerate(problem.regions)}
    arrivals = np.zeros((n_t, n_r))
    r_s = streams["region"].replace_strict(idx).to_numpy()
    np.add.at(arrivals, (streams["slot"].to_numpy(), r_s), streams["n_events"].to_numpy())
    kw = np.zeros((n_t, n_r))
    if jobs.height:
        r_j = jobs["region"].replace_strict(idx).to_numpy()
        power = problem.job_power_kw[_job_index(problem, jobs["job_id"].to_numpy())]
        slots = np.clip(jobs["slot"].to_numpy(), 0, n_t - 1)
        np.add.at(kw, (slots, r_j), power * jobs["frac"].to_numpy())
    q_ev = np.column_stack([backlog(arrivals[:, r], problem.cap_events[r]) for r in range(n_r)])
    q_kw = np.column_stack([backlog(kw[:, r], problem.cap_kw[r]) for r in range(n_r)])
    with np.errstate(divide="ignore", invalid="ignore"):
        delay = np.where(q_ev > 0, q_ev / (problem.cap_events / problem.slot_s), 0.0)
        job_delay = np.where(q_kw > 0, q_kw / problem.cap_kw * problem.slot_s, 0.0)
    frame = pl.DataFrame(
        {
            "slot": np.repeat(np.arange(n_t, dtype=np.int64), n_r),
            "region": np.tile(np.asarray(problem.regions, dtype=str), n_t),
            "events": arrivals.reshape(-1),
            "overflow_events": np.maximum(arrivals - problem.cap_events, 0).reshape(-1),
            "backlog_events": q_ev.reshape(-1),
            "delay_s": delay.reshape(-1),
            "job_kw": kw.reshape(-1),
            "overflow_kw": np.maximum(kw - problem.cap_kw, 0).reshape(-1),
            "job_delay_s": job_delay.reshape(-1),
        }
    )
    return frame, delay, job_delay


def _job_index(problem: Problem, job_ids: np.ndarray) -> np.ndarray:
    ids = problem.jobs["job_id"].to_numpy()
    order = np.argsort(ids)
    return order[np.searchsorted(ids, job_ids, sorter=order)]


def _outcomes(
    problem: Problem, placement: Placement, jobs: pl.DataFrame, job_delay: np.ndarray
) -> pl.DataFrame:
    n_j = len(problem.job_len)
    j, t, r, f = placement.job_id, placement.job_slot, placement.job_region, placement.job_frac
    done = np.bincount(j, weights=f, minlength=n_j)
    first = np.full(n_j, np.iinfo(np.int64).max)
    last = np.full(n_j, -1)
    np.minimum.at(first, j, t)
    np.maximum.at(last, j, t)
    delay = np.zeros(n_j)
    np.maximum.at(
        delay, j, np.where(t == last[j], job_delay[np.clip(t, 0, problem.n_slots - 1), r], 0)
    )
    finish = (last + 1) * problem.slot_s + delay
    deadline = problem.jobs["deadline_s"].to_numpy()
    incomplete = done < problem.job_len - 1e-6
    emissions = np.zeros(n_j)
    if jobs.height:
        emissions = np.bincount(
            _job_index(problem, jobs["job_id"].to_numpy()),
            weights=jobs["emissions_g"].to_numpy(),
            minlength=n_j,
        )
    return pl.DataFrame(
        {
            "job_id": problem.jobs["job_id"],
            "kind": problem.jobs["kind"],
            "start_s": np.where(last >= 0, first * problem.slot_s, np.nan),
            "finish_s": np.where(last >= 0, finish, np.nan),
            "deadline_s": deadline,
            "delay_s": delay,
            "emissions_g": emissions,
            "missed": incomplete | (finish > deadline + 1e-6),
        }
    )


def _migration_ledger(problem: Problem, placement: Placement, names: np.ndarray) -> pl.DataFrame:
    m = placement.migrations
    t = np.clip(m["slot"].to_numpy(), 0, problem.n_slots - 1)
    a, b = m["from_idx"].to_numpy(), m["to_idx"].to_numpy()
    energy = m["gb"].to_numpy() * problem.network_kwh_per_gb
    emissions = energy * (problem.ci[t, a] + problem.ci[t, b]) / 2 if len(t) else np.zeros(0)
    return pl.DataFrame(
        {
            "kind": m["kind"],
            "name": m["name"],
            "slot": m["slot"],
            "from_region": pl.Series(names[a].astype(str), dtype=pl.String),
            "to_region": pl.Series(names[b].astype(str), dtype=pl.String),
            "gb": m["gb"],
            "energy_kwh": pl.Series(energy, dtype=pl.Float64),
            "emissions_g": pl.Series(emissions, dtype=pl.Float64),
        }
    )


def per_event_footprint(events: pl.DataFrame, ledger: Ledger, slot_s: float) -> pl.DataFrame:
    """Energy and emissions per event: each (slot, topic) total spread evenly over its events.

    Returns
    -------
    polars.DataFrame
        The events with ``slot`` Int64, ``energy_kwh`` and ``emissions_g`` Float64 appended.
        Their sums equal the stream totals of the ledger (when the ledger was built from
        these events).
    """
    per_cell = ledger.streams.group_by("slot", "topic").agg(
        pl.col("energy_kwh").sum(), pl.col("emissions_g").sum()
    )
    counts = (
        events.lazy()
        .with_columns((pl.col("timestamp_s") // slot_s).cast(pl.Int64).alias("slot"))
        .group_by("slot", "topic")
        .len()
        .collect()
    )
    unit = per_cell.join(counts, on=["slot", "topic"], how="inner").select(
        "slot",
        "topic",
        (pl.col("energy_kwh") / pl.col("len")).alias("energy_kwh"),
        (pl.col("emissions_g") / pl.col("len")).alias("emissions_g"),
    )
    return events.with_columns((pl.col("timestamp_s") // slot_s).cast(pl.Int64).alias("slot")).join(
        unit, on=["slot", "topic"], how="left", maintain_order="left"
    )
