"""Shared shapes of traffic: rate curves, flash crowds, heavy tails and sessions.

Every workload builds on these pieces, all vectorised with numpy and seeded by the caller's
:class:`numpy.random.Generator`. They live in one module per concept and are re-exported
here:

- :mod:`~eventsim.workloads.rates` — :func:`diurnal_factor`, :func:`weekly_factor`,
  :class:`Region`, :class:`RateCurve` (regions × daily × weekly curves × spikes) and
  :func:`poisson_arrivals` (non-homogeneous Poisson arrivals by inverting the integrated rate);
- :mod:`~eventsim.workloads.spikes` — :class:`Spike` (a flash crowd: linear ramp to a peak
  multiplier, optional hold, exponential decay back to 1) and :func:`spike_start` (the
  ``"auto"`` / seconds / None convention of the workloads' spike parameters);
- :mod:`~eventsim.workloads.popularity` — :class:`Zipf`, :func:`fit_zipf_exponent`,
  :func:`lognormal_sizes`, :func:`pareto_sizes`;
- :mod:`~eventsim.workloads.sessions` — :func:`draw_sessions` (a user's session as a
  sequence of events with think times) and :func:`segment_starts`.
"""

from __future__ import annotations

from eventsim.workloads.popularity import Zipf, fit_zipf_exponent, lognormal_sizes, pareto_sizes
from eventsim.workloads.rates import (
    DAY_S,
    WEEK_S,
    RateCurve,
    Region,
    diurnal_factor,
    poisson_arrivals,
    weekly_factor,
)
from eventsim.workloads.sessions import Sessions, draw_sessions, segment_starts
from eventsim.workloads.spikes import Spike, spike_start

__all__ = [
    "DAY_S",
    "WEEK_S",
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
    "spike_start",
    "weekly_factor",
]
