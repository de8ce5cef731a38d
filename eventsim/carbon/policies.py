"""The policy registry: name → constructor. A new policy is one file plus one entry here."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from eventsim.carbon.base import Policy
from eventsim.carbon.carbon_slo import CarbonWithinSLO
from eventsim.carbon.follow_renewables import FollowTheRenewables
from eventsim.carbon.greenest_now import GreenestNow
from eventsim.carbon.latency_first import LatencyFirst
from eventsim.carbon.offline_optimum import OfflineOptimum
from eventsim.carbon.time_shifting import TimeShifting
from eventsim.exceptions import ConfigError, closest

__all__ = ["POLICIES", "make_policy"]

POLICIES: dict[str, Callable[[], Policy]] = {
    "latency-first": LatencyFirst,
    "greenest-now": GreenestNow,
    "carbon-slo": CarbonWithinSLO,
    "shift-non-interrupting": partial(TimeShifting, interrupting=False),
    "shift-interrupting": partial(TimeShifting, interrupting=True),
    "follow-renewables": FollowTheRenewables,
    "offline-optimum": OfflineOptimum,
}
"""Policy name → constructor (no arguments)."""


def make_policy(spec: str | Policy) -> Policy:
    """A policy from its registry name (or pass an instance through).

    Examples
    --------
    >>> make_policy("greenest-now").name
    'greenest-now'
    >>> make_policy("greenest")
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ConfigError: policy 'greenest' is unknown; allowed: ...
    """
    if isinstance(spec, Policy):
        return spec
    if spec not in POLICIES:
        allowed = ", ".join(POLICIES)
        msg = f"policy {spec!r} is unknown; allowed: {allowed}{closest(spec, POLICIES)}"
        raise ConfigError(msg)
    return POLICIES[spec]()
