"""Regions and the energy model: PUE, capacity, handler energy per event, network energy.

Energy figures (all documented assumptions; change them per scenario)
--------------------------------------------------------------------
Handler energy per event is derived from a server power model and a throughput per core:

* server: a 2-socket, 64-core machine drawing about 100 W idle and 400 W at full load, the
  range of 2-socket results published under SPECpower_ssj2008 (spec.org/power_ssj2008);
  that is ~4.7 W per busy core above idle and ~1.6 W idle per core.
* throughput per core, order of magnitude: a plain Kafka consumer reads ~0.9 M small records/s
  on one machine (J. Kreps, "Benchmarking Apache Kafka: 2 Million Writes Per Second (On Three
  Cheap Machines)", LinkedIn Engineering, 2014); with parsing and business logic a stateless
  handler is taken at 20 000 events/s/core, a stateful windowed aggregation (state store
  writes) at 5 000, a database sink at 2 000 and CPU inference of a small model at 200.
* idle power is amortised over the events at a target utilisation (an autoscaled fleet), so
  energy per event = ``active_j_per_event + idle_w_per_core / (events_per_s_per_core *
  target_utilisation)``; this keeps the model linear (exact optimum, conserved accounting).

Network: 0.06 kWh/GB moved between regions, the 2015 figure of J. Aslan, K. Mayers, J. Koomey,
C. France, "Electricity Intensity of Internet Data Transmission", J. Industrial Ecology 22(4),
2018 (they report it halving about every two years, so this is an upper bound today).

PUE: 1.2 by default, between Google's fleet-wide trailing-twelve-month PUE of about 1.10
(google.com/about/datacenters/efficiency) and the Uptime Institute 2023 survey average of 1.58.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventsim.exceptions import ConfigError, closest

__all__ = ["HANDLERS", "NETWORK_KWH_PER_GB", "HandlerEnergy", "Region", "handler_energy"]

NETWORK_KWH_PER_GB = 0.06
"""Network energy per GB moved between regions (Aslan et al. 2018, 2015 value)."""


@dataclass(frozen=True)
class HandlerEnergy:
    """Energy model of one handler type.

    Parameters
    ----------
    active_j_per_event
        Dynamic energy per event (J), above idle.
    idle_w_per_core
        Idle power per provisioned core (W).
    events_per_s_per_core
        Sustained throughput of one core.
    target_utilisation
        Utilisation the fleet is autoscaled to, in (0, 1].

    Examples
    --------
    >>> HandlerEnergy(2.35e-4, 1.6, 20_000.0, 0.5).j_per_event
    0.000395
    """

    active_j_per_event: float
    idle_w_per_core: float
    events_per_s_per_core: float
    target_utilisation: float = 0.5

    def __post_init__(self) -> None:
        for name in ("active_j_per_event", "idle_w_per_core"):
            if getattr(self, name) < 0:
                msg = f"HandlerEnergy.{name} must be >= 0; got {getattr(self, name)!r}"
                raise ConfigError(msg)
        if self.events_per_s_per_core <= 0:
            value = self.events_per_s_per_core
            msg = f"HandlerEnergy.events_per_s_per_core must be > 0; got {value!r}"
            raise ConfigError(msg)
        if not 0 < self.target_utilisation <= 1:
            value = self.target_utilisation
            msg = f"HandlerEnergy.target_utilisation must be in (0, 1]; got {value!r}"
            raise ConfigError(msg)

    @property
    def j_per_event(self) -> float:
        """Total IT energy per event (J): active plus amortised idle."""
        idle = self.idle_w_per_core / (self.events_per_s_per_core * self.target_utilisation)
        return self.active_j_per_event + idle


_BUSY_W_PER_CORE = (400.0 - 100.0) / 64  # SPECpower-like 2-socket server, see module docstring
_IDLE_W_PER_CORE = 100.0 / 64

HANDLERS: dict[str, HandlerEnergy] = {
    "stateless": HandlerEnergy(_BUSY_W_PER_CORE / 20_000, _IDLE_W_PER_CORE, 20_000.0),
    "stateful": HandlerEnergy(_BUSY_W_PER_CORE / 5_000, _IDLE_W_PER_CORE, 5_000.0),
    "sink": HandlerEnergy(_BUSY_W_PER_CORE / 2_000, _IDLE_W_PER_CORE, 2_000.0),
    "inference": HandlerEnergy(_BUSY_W_PER_CORE / 200, _IDLE_W_PER_CORE, 200.0),
}
"""Handler type → energy model (see the module docstring for the derivation)."""


def handler_energy(name: str) -> HandlerEnergy:
    """The energy model of handler type ``name``.

    Examples
    --------
    >>> round(handler_energy("stateful").j_per_event, 6)
    0.001562
    """
    try:
        return HANDLERS[name]
    except KeyError:
        allowed = ", ".join(sorted(HANDLERS))
        msg = f"handler {name!r} is unknown; allowed: {allowed}{closest(name, HANDLERS)}"
        raise ConfigError(msg) from None


@dataclass(frozen=True)
class Region:
    """A data-centre region.

    Parameters
    ----------
    name
        Region name; also the key of its carbon trace and of the latency matrix.
    pue
        Power usage effectiveness (facility energy / IT energy), >= 1.
    capacity_events_per_s
        Stream events the region can handle per second; None = unlimited.
    capacity_kw
        IT power available to deferrable jobs; None = unlimited.

    Examples
    --------
    >>> Region("de", pue=1.1)
    Region(name='de', pue=1.1, capacity_events_per_s=None, capacity_kw=None)
    >>> Region("de", pue=0.9)
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ConfigError: Region.pue must be >= 1; got 0.9
    """

    name: str
    pue: float = 1.2
    capacity_events_per_s: float | None = None
    capacity_kw: float | None = None

    def __post_init__(self) -> None:
        if not self.name:
            msg = "Region.name must be a non-empty string; got ''"
            raise ConfigError(msg)
        if not self.pue >= 1:
            msg = f"Region.pue must be >= 1; got {self.pue!r}"
            raise ConfigError(msg)
        for field in ("capacity_events_per_s", "capacity_kw"):
            value = getattr(self, field)
            if value is not None and not value > 0:
                msg = f"Region.{field} must be > 0 or None (unlimited); got {value!r}"
                raise ConfigError(msg)
