"""Rate curves: daily and weekly cycles per region, flash crowds, and Poisson arrivals.

- :func:`diurnal_factor` and :func:`weekly_factor` — daily and weekly rate curves in a
  region's local time (mean 1 over a day / a week);
- :class:`RateCurve` — a base rate shaped by regions (each with its own time zone), the
  weekly curve and spikes (:class:`~eventsim.workloads.spikes.Spike`);
  :meth:`RateCurve.arrivals` draws a non-homogeneous Poisson process by inverting the
  integrated rate, with the region of each arrival;
- :func:`poisson_arrivals` — the same for any rate function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from eventsim.workloads.spikes import Spike

__all__ = [
    "DAY_S",
    "WEEK_S",
    "RateCurve",
    "Region",
    "diurnal_factor",
    "poisson_arrivals",
    "weekly_factor",
]

DAY_S = 86_400.0
WEEK_S = 7 * DAY_S


def diurnal_factor(
    t_s: np.ndarray,
    *,
    peak_to_trough: float,
    peak_hour: float = 20.0,
    utc_offset_h: float = 0.0,
    start_hour_utc: float = 0.0,
) -> np.ndarray:
    """Daily rate multiplier: a cosine with mean 1 and the given peak/trough ratio.

    Parameters
    ----------
    t_s
        Simulated times in seconds since the run started.
    peak_to_trough
        Ratio of the rate at the daily peak to the rate at the trough (>= 1).
    peak_hour
        Local hour of the peak (the trough is 12 hours later).
    utc_offset_h
        Time zone of the region, hours ahead of UTC.
    start_hour_utc
        UTC hour at which the run starts.

    Examples
    --------
    >>> f = diurnal_factor(np.array([0.0, 43_200.0]), peak_to_trough=3.0, peak_hour=0.0)
    >>> f.round(3).tolist(), float(f[0] / f[1])
    ([1.5, 0.5], 3.0)
    """
    amp = (peak_to_trough - 1.0) / (peak_to_trough + 1.0)
    hour = (start_hour_utc + utc_offset_h + np.asarray(t_s, dtype=float) / 3600.0) % 24.0
    return 1.0 + amp * np.cos(2.0 * np.pi * (hour - peak_hour) / 24.0)


def weekly_factor(
    t_s: np.ndarray,
    *,
    weekend_factor: float,
    start_weekday: int = 0,
    utc_offset_h: float = 0.0,
    start_hour_utc: float = 0.0,
) -> np.ndarray:
    """Weekly rate multiplier: weekend days run at ``weekend_factor`` times weekdays, mean 1.

    ``start_weekday`` is the UTC weekday at the start of the run (0 = Monday).

    Examples
    --------
    >>> t = np.arange(7) * 86_400.0 + 3600.0
    >>> weekly_factor(t, weekend_factor=1.5).round(3).tolist()
    [0.875, 0.875, 0.875, 0.875, 0.875, 1.312, 1.312]
    """
    hours = start_hour_utc + utc_offset_h + np.asarray(t_s, dtype=float) / 3600.0
    day = (np.floor(hours / 24.0).astype(np.int64) + start_weekday) % 7
    weekday = 7.0 / (5.0 + 2.0 * weekend_factor)
    return np.where(day >= 5, weekend_factor * weekday, weekday)


@dataclass(frozen=True)
class Region:
    """A region of a workload: its name, time zone and share of the traffic.

    Examples
    --------
    >>> Region("emea", utc_offset_h=1.0, weight=0.3)
    Region(name='emea', utc_offset_h=1.0, weight=0.3)
    """

    name: str
    utc_offset_h: float
    weight: float


@dataclass(frozen=True)
class RateCurve:
    """A base rate shaped by per-region diurnal curves, the weekly curve and spikes.

    ``rate(t) = base_rate_per_s × Σ_r w_r·diurnal_r(t)·weekly_r(t) × Π spikes(t)``, with the
    region weights normalised to sum 1, so the long-run mean (without spikes) is the base rate.

    Examples
    --------
    >>> curve = RateCurve(base_rate_per_s=10.0, peak_to_trough=1.0)
    >>> t, region = curve.arrivals(np.random.default_rng(0), 0.0, 100.0)
    >>> 800 < len(t) < 1200, bool(np.all(np.diff(t) >= 0)), set(region.tolist())
    (True, True, {0})
    """

    base_rate_per_s: float
    peak_to_trough: float = 1.0
    peak_hour: float = 20.0
    regions: tuple[Region, ...] = (Region("global", 0.0, 1.0),)
    weekend_factor: float = 1.0
    start_hour_utc: float = 0.0
    spikes: tuple[Spike, ...] = field(default=())

    def region_rates(self, t_s: np.ndarray) -> np.ndarray:
        """Rate of each region at ``t_s``, shape ``(len(regions), len(t_s))``, without spikes."""
        total = sum(r.weight for r in self.regions)
        rows = [
            (r.weight / total)
            * diurnal_factor(
                t_s,
                peak_to_trough=self.peak_to_trough,
                peak_hour=self.peak_hour,
                utc_offset_h=r.utc_offset_h,
                start_hour_utc=self.start_hour_utc,
            )
            * weekly_factor(
                t_s,
                weekend_factor=self.weekend_factor,
                utc_offset_h=r.utc_offset_h,
                start_hour_utc=self.start_hour_utc,
            )
            for r in self.regions
        ]
        return self.base_rate_per_s * np.vstack(rows)

    def rate(self, t_s: np.ndarray) -> np.ndarray:
        """Total rate (events/s) at ``t_s``, spikes included."""
        out = self.region_rates(t_s).sum(axis=0)
        for spike in self.spikes:
            out = out * spike.factor(t_s)
        return out

    def arrivals(
        self, rng: np.random.Generator, start_s: float, end_s: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Arrival times in ``[start_s, end_s)`` and the region index of each arrival."""
        t = poisson_arrivals(rng, self.rate, start_s, end_s)
        if len(self.regions) == 1:
            return t, np.zeros(len(t), dtype=np.int64)
        cum = np.cumsum(self.region_rates(t), axis=0)
        u = rng.random(len(t)) * cum[-1]
        return t, (u[None, :] >= cum).sum(axis=0).astype(np.int64)


def poisson_arrivals(
    rng: np.random.Generator,
    rate_fn: Callable[[np.ndarray], np.ndarray],
    start_s: float,
    end_s: float,
    *,
    step_s: float | None = None,
) -> np.ndarray:
    """Sorted arrival times of a non-homogeneous Poisson process on ``[start_s, end_s)``.

    The rate is tabulated on a grid of ``step_s`` (default: 1 s, or finer for short windows)
    and held constant within each step; unit-rate exponential gaps, drawn in chunks, are
    mapped through the inverse of the integrated rate.

    Examples
    --------
    >>> t = poisson_arrivals(np.random.default_rng(1), lambda t: np.full(len(t), 2.0), 0, 1000)
    >>> 1800 < len(t) < 2200, float(t.min()) >= 0, float(t.max()) < 1000
    (True, True, True)
    """
    span = float(end_s) - float(start_s)
    if span <= 0:
        return np.empty(0)
    step = step_s or min(1.0, span / 1000.0)
    n_steps = int(np.ceil(span / step))
    edges = start_s + step * np.arange(n_steps + 1, dtype=float)
    edges[-1] = end_s
    widths = np.diff(edges)
    rate = np.maximum(np.asarray(rate_fn(edges[:-1] + widths / 2), dtype=float), 0.0)
    cum = np.concatenate([[0.0], np.cumsum(rate * widths)])
    total = cum[-1]
    u = _unit_poisson(rng, total)
    idx = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, n_steps - 1)
    t = edges[idx] + (u - cum[idx]) / np.maximum(rate[idx], 1e-300)
    return np.minimum(t, np.nextafter(end_s, -np.inf))


def _unit_poisson(rng: np.random.Generator, total: float) -> np.ndarray:
    """Points of a unit-rate Poisson process on ``[0, total)``: cumsum of exponential gaps."""
    parts: list[np.ndarray] = []
    last = 0.0
    while last < total:
        n = int(total - last + 6.0 * np.sqrt(total - last) + 16)
        pts = last + np.cumsum(rng.exponential(1.0, n))
        parts.append(pts)
        last = float(pts[-1])
    out = np.concatenate(parts) if parts else np.empty(0)
    return out[out < total]
