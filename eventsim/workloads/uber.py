"""Ride hailing: driver location pings over a city grid, trip sagas, surge pricing, demand spikes.

Models an Uber-style city. A fleet of ``n_drivers × rate_multiplier`` drivers (at least one;
the multiplier scales supply and demand alike) streams ``location_ping`` events every
``ping_interval_s`` while online (the online share follows the city's diurnal curve); drivers
move as reflected random walks over a ``grid_x × grid_y`` grid of square cells. Riders
request trips as a non-homogeneous Poisson process over Zipf-popular cells; a demand spike
(concert end, rain) multiplies demand in ``n_spike_cells`` adjacent cells from ``spike_at_s``
(``"auto"``: halfway through the run; None: no spike; see :mod:`~eventsim.workloads.spikes`).
Each trip is a saga::

    trip_requested → payment_authorized (hold) → trip_matched → picked_up → dropped_off
                   → payment_captured → trip_completed
    failures and their compensations:
      payment_declined → trip_rejected
      match_failed → authorization_released → trip_unfulfilled
      rider_cancelled | driver_cancelled → driver_released + authorization_released
                                         → trip_cancelled

Every ``surge_interval_s`` each cell's surge multiplier is recomputed from the previous
interval's demand (requests) and supply (online drivers in the cell) and a ``surge_updated``
event is emitted where it changed; fares are multiplied by the cell's current surge.

Topics, event types and keys
----------------------------
trips (key ``trip_id``): trip_requested, match_failed, trip_matched, rider_cancelled,
driver_cancelled, driver_released, picked_up, dropped_off and the terminal events
trip_completed, trip_cancelled, trip_rejected, trip_unfulfilled. payments (key ``trip_id``):
payment_authorized, payment_declined, authorization_released, payment_captured.
driver_locations (key driver ``d<id>``): location_ping. surge (key cell): surge_updated.

Payload columns
---------------
trip_id : Int64 (trip number; the key ``t<trip_id>``), rider : Int64 (rider number), driver :
Int64 (driver number, the key ``d<driver>`` of its pings; on trip events from the match on),
cell : String (``c<x>_<y>``), x_m, y_m : Float64 (pings, metres), surge_multiplier : Float64 (surge
events and requests), amount_usd : Float64 (payment events; the hold is either captured or
released, so per trip authorized = captured + released). Identifiers in the payload are
numbers; only the keys are strings.

Incidents (``intensity`` meaning)
---------------------------------
outage (target a topic; fraction of its events lost), latency_regression (target stage
payment | matching | pickup | trip; delay multiplier), error_burst (target payment: decline
probability, or matching: no-driver probability; affected = failed trip ids), gps_spoofing
(target driver_locations; ``ceil(3 × intensity)`` online drivers teleport to uniformly random
points at every ping in the window; affected = those drivers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import polars as pl

from eventsim.exceptions import ScenarioError
from eventsim.sim.rng import RngStreams
from eventsim.workloads._checks import check_params
from eventsim.workloads._city import cell_names, drive, price_surge
from eventsim.workloads._frame import EventFrame, Labels, format_keys
from eventsim.workloads._incidents import (
    check_incidents,
    drop_outage,
    incidents_frame,
    pick_target,
)
from eventsim.workloads._saga import Saga
from eventsim.workloads.base import KEY_PREFIX, IncidentSpec, Workload, WorkloadOutput
from eventsim.workloads.popularity import Zipf
from eventsim.workloads.rates import RateCurve, Region, diurnal_factor, poisson_arrivals
from eventsim.workloads.spikes import AUTO, Spike, check_spike_param, spike_start

__all__ = ["Uber"]

TRIP = KEY_PREFIX["trip_id"]

TYPES = (
    "trip_requested",
    "payment_authorized",
    "payment_declined",
    "trip_rejected",
    "match_failed",
    "trip_unfulfilled",
    "trip_matched",
    "rider_cancelled",
    "driver_cancelled",
    "driver_released",
    "authorization_released",
    "trip_cancelled",
    "picked_up",
    "dropped_off",
    "payment_captured",
    "trip_completed",
)
PAYMENTS = ("payment_authorized", "payment_declined", "authorization_released", "payment_captured")
TERMINAL = ("trip_completed", "trip_cancelled", "trip_rejected", "trip_unfulfilled")
PAYLOAD_SCHEMA: dict[str, pl.DataType] = {
    "trip_id": pl.Int64(),
    "rider": pl.Int64(),
    "driver": pl.Int64(),
    "cell": pl.String(),
    "x_m": pl.Float64(),
    "y_m": pl.Float64(),
    "surge_multiplier": pl.Float64(),
    "amount_usd": pl.Float64(),
}


@dataclass(frozen=True)
class UberParams:
    """Parameters of :class:`Uber` (rates per second, times in seconds, distances in metres)."""

    rate_multiplier: float = 1.0
    trip_rate_per_s: float = 10.0
    n_riders: int = 500_000
    n_drivers: int = 3_000
    ping_interval_s: float = 4.0
    online_fraction: float = 0.6
    driver_speed_mps: float = 8.0
    grid_x: int = 20
    grid_y: int = 20
    cell_size_m: float = 1000.0
    cell_zipf_exponent: float = 0.8
    peak_to_trough: float = 4.0
    peak_hour: float = 18.0
    utc_offset_h: float = -5.0
    start_hour_utc: float = 0.0
    payment_median_s: float = 1.0
    match_median_s: float = 8.0
    pickup_median_s: float = 240.0
    trip_median_s: float = 900.0
    fare_median_usd: float = 18.0
    p_payment_decline: float = 0.02
    p_no_match: float = 0.03
    p_rider_cancel: float = 0.05
    p_driver_cancel: float = 0.03
    surge_interval_s: float = 60.0
    surge_sensitivity: float = 0.5
    surge_max: float = 3.0
    spike_at_s: float | str | None = AUTO
    spike_ramp_s: float = 120.0
    spike_peak_multiplier: float = 20.0
    spike_decay_s: float = 900.0
    n_spike_cells: int = 3

    def __post_init__(self) -> None:
        check_params(
            self,
            positive=(
                "rate_multiplier",
                "trip_rate_per_s",
                "n_riders",
                "n_drivers",
                "ping_interval_s",
                "driver_speed_mps",
                "grid_x",
                "grid_y",
                "cell_size_m",
                "payment_median_s",
                "match_median_s",
                "pickup_median_s",
                "trip_median_s",
                "fare_median_usd",
                "surge_interval_s",
                "spike_decay_s",
            ),
            non_negative=("cell_zipf_exponent", "surge_sensitivity", "spike_ramp_s"),
            probability=("online_fraction", "p_payment_decline", "p_no_match"),
            at_least_one=("peak_to_trough", "surge_max", "spike_peak_multiplier"),
        )
        check_params(self, probability=("p_rider_cancel", "p_driver_cancel"))
        check_params(self, at_least_one=("n_spike_cells",))
        check_spike_param("spike_at_s", self.spike_at_s)
        if self.n_spike_cells > self.grid_x * self.grid_y:
            cap = self.grid_x * self.grid_y
            msg = f"workload.params.n_spike_cells must be <= {cap} cells; got {self.n_spike_cells}"
            raise ScenarioError(msg)


class Uber(Workload):
    """Ride hailing: driver pings, trip sagas with compensations, surge pricing, demand spikes.

    Examples
    --------
    >>> out = Uber({"n_drivers": 50, "trip_rate_per_s": 1.0}).generate(120.0, RngStreams(1))
    >>> sorted(out.events["topic"].unique())
    ['driver_locations', 'payments', 'surge', 'trips']
    """

    name = "uber"
    Params = UberParams
    incident_kinds = ("outage", "latency_regression", "error_burst", "gps_spoofing")
    topics: ClassVar[dict[str, tuple[str, ...]]] = {
        "trips": tuple(t for t in TYPES if t not in PAYMENTS),
        "payments": PAYMENTS,
        "driver_locations": ("location_ping",),
        "surge": ("surge_updated",),
    }
    payload_schema = PAYLOAD_SCHEMA
    incident_targets: ClassVar[dict[str, tuple[str, ...]]] = {
        "outage": ("trips", "payments", "driver_locations", "surge"),
        "latency_regression": ("payment", "matching", "pickup", "trip"),
        "error_burst": ("payment", "matching"),
        "gps_spoofing": ("driver_locations",),
    }

    def __init__(
        self, params: dict[str, object] | None = None, incidents: tuple[IncidentSpec, ...] = ()
    ) -> None:
        super().__init__(params, incidents)
        check_incidents(self.incidents, self.incident_targets, self.name)

    @property
    def fleet_size(self) -> int:
        """Drivers in the city: ``n_drivers`` scaled by ``rate_multiplier`` (at least 1), so that
        pings and supply grow with demand.

        Examples
        --------
        >>> Uber({"n_drivers": 3000, "rate_multiplier": 0.5}).fleet_size
        1500
        """
        return max(1, round(self.params.n_drivers * self.params.rate_multiplier))

    def online_fraction(self, t_s: np.ndarray) -> np.ndarray:
        """Share of drivers online at ``t_s`` (follows the city's diurnal curve, capped at 1)."""
        p = self.params
        curve = diurnal_factor(
            t_s,
            peak_to_trough=p.peak_to_trough,
            peak_hour=p.peak_hour,
            utc_offset_h=p.utc_offset_h,
            start_hour_utc=p.start_hour_utc,
        )
        return np.minimum(p.online_fraction * curve, 1.0)

    def generate(self, duration_s: float, rngs: RngStreams) -> WorkloadOutput:
        """Draw the run's pings, trips, surge updates and incidents (see the module doc)."""
        self.check_window(duration_s)
        p = self.params
        spike_s = spike_start("spike_at_s", p.spike_at_s, duration_s, duration_s / 2)
        pick = rngs("uber.incidents")
        pairs = [(s, pick_target(s, self.incident_targets[s.kind], pick)) for s in self.incidents]
        n_cells = p.grid_x * p.grid_y
        rng = rngs("uber.city")
        hot = rng.permutation(n_cells)
        venue = int(rng.integers(n_cells - p.n_spike_cells + 1))
        spike_cells = np.arange(venue, venue + p.n_spike_cells)
        u_driver = rng.random(self.fleet_size)
        spoofers = self._spoofers(pairs, u_driver, rngs("uber.spoof"))
        ef = EventFrame(PAYLOAD_SCHEMA, until_s=duration_s, topics=self.topics)
        supply = drive(self, ef, duration_s, u_driver, spoofers, rngs("uber.pings"))
        t, cell = self._requests(duration_s, spike_s, hot, spike_cells, rngs("uber.requests"))
        surge = price_surge(self, ef, t, cell, supply)
        rate_idx = np.minimum((t // p.surge_interval_s).astype(np.int64), len(surge) - 1)
        surge_at = surge[rate_idx, cell]
        burst = self._trips(ef, t, cell, surge_at, u_driver, pairs, rngs("uber.trips"))
        events = ef.build()
        rows = []
        for i, (spec, target) in enumerate(pairs):
            affected: list[str] = []
            if spec.kind == "outage":
                events = drop_outage(events, spec, target, rngs(f"uber.outage{i}"))
            elif spec.kind == "error_burst" and i in burst:
                affected = [f"{TRIP}{j}" for j in np.flatnonzero(burst[i])]
            elif spec.kind == "gps_spoofing":
                affected = [f"{KEY_PREFIX['driver']}{j}" for j in spoofers[i]]
            rows.append((spec, target, affected))
        return WorkloadOutput(events, incidents_frame(rows))

    def _spoofers(
        self, pairs: list[tuple[IncidentSpec, str]], u_driver: np.ndarray, rng: np.random.Generator
    ) -> dict[int, np.ndarray]:
        """Drivers that teleport, per gps_spoofing incident (chosen among the most online)."""
        out = {}
        for i, (spec, _) in enumerate(pairs):
            if spec.kind == "gps_spoofing":
                k = min(int(np.ceil(3 * spec.intensity)), len(u_driver))
                pool = np.argsort(u_driver)[: max(k, len(u_driver) // 10)]
                out[i] = np.sort(rng.choice(pool, k, replace=False))
        return out

    def _requests(
        self,
        duration_s: float,
        spike_s: float | None,
        hot: np.ndarray,
        spike_cells: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Trip requests: Poisson over Zipf-popular cells, plus the spike in a few cells
        (none if ``spike_s`` is None)."""
        p = self.params
        curve = RateCurve(
            p.trip_rate_per_s * p.rate_multiplier,
            peak_to_trough=p.peak_to_trough,
            peak_hour=p.peak_hour,
            regions=(Region("city", p.utc_offset_h, 1.0),),
            start_hour_utc=p.start_hour_utc,
        )
        zipf = Zipf(len(hot), p.cell_zipf_exponent)
        t, _ = curve.arrivals(rng, 0.0, duration_s)
        cell = hot[zipf.sample(rng, len(t))]
        if spike_s is None:
            return t, cell
        share = zipf.pmf[np.argsort(hot)][spike_cells]
        spike = Spike(spike_s, p.spike_ramp_s, p.spike_peak_multiplier, p.spike_decay_s)

        def extra_rate(x: np.ndarray) -> np.ndarray:
            return curve.rate(x) * share.sum() * (spike.factor(x) - 1.0)

        t2 = poisson_arrivals(rng, extra_rate, 0.0, duration_s)
        cell2 = rng.choice(spike_cells, len(t2), p=share / share.sum())
        order = np.argsort(np.concatenate([t, t2]), kind="stable")
        return np.concatenate([t, t2])[order], np.concatenate([cell, cell2])[order]

    def _trips(
        self,
        ef: EventFrame,
        t: np.ndarray,
        cell: np.ndarray,
        surge_at: np.ndarray,
        u_driver: np.ndarray,
        pairs: list[tuple[IncidentSpec, str]],
        rng: np.random.Generator,
    ) -> dict[int, np.ndarray]:
        """Walk every trip through its saga and add its events; returns error-burst failures."""
        p = self.params
        n = len(t)

        def ln(median: float, sigma: float = 0.5) -> np.ndarray:
            return rng.lognormal(np.log(median), sigma, n)

        s = Saga(t, TYPES, rng, pairs)
        s.emit("trip_requested")
        s.advance("payment", ln(p.payment_median_s))
        declined = s.fail("payment", p.p_payment_decline)
        s.emit("payment_declined", declined)
        s.advance("compensation", ln(0.1), declined)
        s.end("trip_rejected", declined)
        s.emit("payment_authorized")
        s.advance("matching", ln(p.match_median_s))
        no_match = s.fail("matching", p.p_no_match)
        s.emit("match_failed", no_match)
        s.advance("compensation", ln(0.2), no_match)
        s.emit("authorization_released", no_match)
        s.advance("compensation", ln(0.05), no_match)
        s.end("trip_unfulfilled", no_match)
        s.emit("trip_matched")
        matched_at = s.t.copy()
        pickup = ln(p.pickup_median_s)
        rider = s.alive & (rng.random(n) < p.p_rider_cancel)
        driver = s.alive & ~rider & (rng.random(n) < p.p_driver_cancel)
        cancel = rider | driver
        s.advance("pickup", pickup * rng.random(n), cancel)
        s.emit("rider_cancelled", rider)
        s.emit("driver_cancelled", driver)
        s.advance("compensation", ln(0.2), cancel)
        s.emit("driver_released", cancel)
        s.emit("authorization_released", cancel)
        s.advance("compensation", ln(0.05), cancel)
        s.end("trip_cancelled", cancel)
        s.advance("pickup", pickup)
        s.emit("picked_up")
        s.advance("trip", ln(p.trip_median_s))
        s.emit("dropped_off")
        s.advance("payment", ln(p.payment_median_s))
        s.emit("payment_captured")
        s.advance("compensation", ln(0.05))
        s.end("trip_completed")
        idx, ts, code = s.events()
        order = np.argsort(u_driver)
        fleet = len(u_driver)
        n_online = np.maximum(1, (self.online_fraction(matched_at) * fleet).astype(np.int64))
        driver_of = order[np.minimum((rng.random(n) * n_online).astype(np.int64), fleet - 1)]
        fare = np.round(rng.lognormal(np.log(p.fare_median_usd), 0.5, n) * surge_at, 2)
        was_matched = np.zeros(n, dtype=bool)
        was_matched[idx[code == TYPES.index("trip_matched")]] = True
        matched = was_matched[idx] & (ts >= matched_at[idx])
        pay = np.isin(code, [TYPES.index(x) for x in PAYMENTS])
        cells = cell_names(p)
        trips = format_keys(TRIP, np.arange(n))
        for topic, m in (("trips", ~pay), ("payments", pay)):
            i = idx[m]
            ef.add(
                ts[m],
                topic,
                Labels(code[m], TYPES),
                Labels(i, trips),
                np.where(code[m] == 0, 450, 250),
                trip_id=i,
                rider=(i * 2654435761) % p.n_riders,
                driver=np.where(matched[m], driver_of[i], np.nan),
                cell=Labels(cell[i], cells),
                surge_multiplier=np.where(code[m] == 0, surge_at[i], np.nan),
                amount_usd=np.where(pay[m], fare[i], np.nan),
            )
        return s.burst_failed
