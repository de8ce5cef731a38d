"""Shared shapes of traffic: rate curves, flash crowds, heavy tails and sessions.

Every workload builds on these pieces, all vectorised with numpy and seeded by the caller's
:class:`numpy.random.Generator`:

- :func:`diurnal_factor` and :func:`weekly_factor` — daily and weekly rate curves in a
  region's local time (mean 1 over a day / a week);
- :class:`Spike` — a flash crowd: linear ramp to a peak multiplier, optional hold,
  exponential decay back to 1;
- :class:`RateCurve` — a base rate shaped by regions (each with its own time zone), the
  weekly curve and spikes; :meth:`RateCurve.arrivals` draws a non-homogeneous Poisson process
  by inverting the integrated rate, with the region of each arrival;
- :func:`poisson_arrivals` — the same for any rate function;
- :class:`Zipf` and :func:`fit_zipf_exponent` — heavy-tailed popularity over a finite catalogue
  and its maximum-likelihood fit;
- :func:`lognormal_sizes`, :func:`pareto_sizes` — heavy-tailed sizes;
- :func:`draw_sessions` — a user's session as a sequence of events with think times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

__all__ = [
    "RateCurve",
    "Region",
    "Sessions",
    "Spike",
    "Zipf",
    "diurnal_factor",
    "draw_sessions",
    "fit_zipf_exponent",
    "lognormal_sizes",
    "pareto_sizes",
    "poisson_arrivals",
    "segment_starts",
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
class Spike:
    """A flash crowd: rate multiplier 1 → ``peak_multiplier`` (linear ramp), hold, then decay.

    Parameters
    ----------
    start_s
        When the ramp starts (simulated seconds).
    ramp_s
        Length of the linear ramp up to the peak.
    peak_multiplier
        Rate multiplier at the peak (1 = no spike).
    decay_s
        Time constant of the exponential decay back to 1 after the peak (and hold).
    hold_s
        How long the peak is held before it decays.

    Examples
    --------
    >>> s = Spike(start_s=100.0, ramp_s=10.0, peak_multiplier=5.0, decay_s=20.0)
    >>> s.factor(np.array([0.0, 105.0, 110.0, 130.0])).round(3).tolist()
    [1.0, 3.0, 5.0, 2.472]
    """

    start_s: float
    ramp_s: float
    peak_multiplier: float
    decay_s: float
    hold_s: float = 0.0

    def factor(self, t_s: np.ndarray) -> np.ndarray:
        """Rate multiplier at times ``t_s``."""
        t = np.asarray(t_s, dtype=float) - self.start_s
        extra = self.peak_multiplier - 1.0
        ramp = np.clip(t / self.ramp_s, 0.0, 1.0) if self.ramp_s > 0 else (t >= 0).astype(float)
        after = np.maximum(t - self.ramp_s - self.hold_s, 0.0)
        decay = np.exp(-after / self.decay_s) if self.decay_s > 0 else (after <= 0).astype(float)
        return 1.0 + extra * np.where(t < 0, 0.0, ramp * decay)


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


@dataclass(frozen=True)
class Zipf:
    """Zipf popularity over a finite catalogue: item of rank ``k`` (1-based) has p ∝ k^-s.

    :meth:`sample` returns 0-based ranks (0 is the most popular item).

    Examples
    --------
    >>> z = Zipf(n_items=1000, exponent=1.0)
    >>> ranks = z.sample(np.random.default_rng(0), 100_000)
    >>> round(fit_zipf_exponent(ranks + 1, 1000), 1)
    1.0
    """

    n_items: int
    exponent: float

    @cached_property
    def pmf(self) -> np.ndarray:
        """Probability of each rank (index 0 = rank 1)."""
        w = np.arange(1, self.n_items + 1, dtype=float) ** -self.exponent
        return w / w.sum()

    @cached_property
    def _cdf(self) -> np.ndarray:
        cdf = np.cumsum(self.pmf)
        cdf[-1] = 1.0
        return cdf

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` 0-based ranks drawn from the distribution (int64)."""
        idx = np.searchsorted(self._cdf, rng.random(size), side="right")
        return np.minimum(idx, self.n_items - 1).astype(np.int64)


def fit_zipf_exponent(ranks: np.ndarray, n_items: int) -> float:
    """Maximum-likelihood exponent of a discrete Zipf law on ranks ``1..n_items``.

    Solves ``mean(log k) = Σ k^-s log k / Σ k^-s`` for ``s`` by bisection on [0, 10].

    Examples
    --------
    >>> fit_zipf_exponent(np.array([1, 1, 1, 2]), 2)
    1.58...
    """
    counts = np.bincount(np.asarray(ranks, dtype=np.int64) - 1, minlength=n_items)
    logk = np.log(np.arange(1, n_items + 1, dtype=float))
    target = float(counts @ logk) / counts.sum()
    lo, hi = 0.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        w = np.exp(-mid * logk)
        expected = float(w @ logk) / w.sum()
        # expected mean log-rank falls as s grows
        lo, hi = (mid, hi) if expected > target else (lo, mid)
    return (lo + hi) / 2


def lognormal_sizes(
    rng: np.random.Generator, size: int, *, median: float, sigma: float
) -> np.ndarray:
    """Heavy-tailed positive sizes: lognormal with the given median and log-sd (int64, >= 1).

    Examples
    --------
    >>> s = lognormal_sizes(np.random.default_rng(0), 100_001, median=500, sigma=1.0)
    >>> 480 < float(np.median(s)) < 520, int(s.min()) >= 1
    (True, True)
    """
    vals = rng.lognormal(np.log(median), sigma, size)
    return np.maximum(np.rint(vals), 1).astype(np.int64)


def pareto_sizes(
    rng: np.random.Generator, size: int, *, minimum: float, alpha: float
) -> np.ndarray:
    """Heavy-tailed sizes: Pareto with scale ``minimum`` and tail index ``alpha`` (int64).

    Examples
    --------
    >>> s = pareto_sizes(np.random.default_rng(0), 10_000, minimum=100, alpha=1.5)
    >>> int(s.min()) >= 100, float(np.median(s)) < 200
    (True, True)
    """
    return np.floor(minimum * (1.0 + rng.pareto(alpha, size))).astype(np.int64)


@dataclass(frozen=True)
class Sessions:
    """Events of many sessions, flattened: which session, position in it, and time.

    ``session`` is non-decreasing, ``position`` counts 0, 1, ... within each session and
    ``time_s`` is the session start plus the cumulative think time.
    """

    session: np.ndarray
    position: np.ndarray
    time_s: np.ndarray
    length: np.ndarray


def segment_starts(counts: np.ndarray) -> np.ndarray:
    """Index of the first element of each segment, for segments of the given lengths.

    Examples
    --------
    >>> segment_starts(np.array([2, 0, 3])).tolist()
    [0, 2, 2]
    """
    counts = np.asarray(counts, dtype=np.int64)
    return np.cumsum(counts) - counts


def draw_sessions(
    rng: np.random.Generator,
    starts_s: np.ndarray,
    *,
    mean_events: float,
    think_mean_s: float,
    think_sigma: float = 1.0,
) -> Sessions:
    """Sessions with geometric lengths (mean ``mean_events`` >= 1) and lognormal think times.

    The first event of a session happens at its start; each next one after a lognormal think
    time with mean ``think_mean_s`` and log-sd ``think_sigma``.

    Examples
    --------
    >>> s = draw_sessions(np.random.default_rng(0), np.array([0.0, 100.0]), mean_events=3,
    ...                   think_mean_s=5.0)
    >>> s.session.tolist() == np.repeat([0, 1], s.length).tolist()
    True
    >>> float(s.time_s[s.position == 0][1])
    100.0
    """
    starts_s = np.asarray(starts_s, dtype=float)
    n = len(starts_s)
    length = rng.geometric(1.0 / mean_events, n).astype(np.int64)
    session = np.repeat(np.arange(n, dtype=np.int64), length)
    first = segment_starts(length)
    mu = np.log(think_mean_s) - think_sigma**2 / 2
    think = rng.lognormal(mu, think_sigma, len(session))
    think[first] = 0.0
    cum = np.cumsum(think)
    offset = cum - np.repeat(cum[first], length)
    position = np.arange(len(session), dtype=np.int64) - np.repeat(first, length)
    return Sessions(session, position, starts_s[session] + offset, length)
