"""Private: one-line validation of workload parameters, naming the field and what is allowed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventsim.exceptions import ScenarioError

__all__ = ["check_params"]


def _fail(field: str, value: Any, allowed: str) -> None:
    msg = f"workload.params.{field} must be {allowed}; got {value!r}"
    raise ScenarioError(msg)


def check_params(
    params: Any,
    *,
    positive: Iterable[str] = (),
    non_negative: Iterable[str] = (),
    probability: Iterable[str] = (),
    at_least_one: Iterable[str] = (),
) -> None:
    """Check fields of a Params dataclass: > 0, >= 0, in [0, 1] or >= 1.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> check_params(SimpleNamespace(rate_per_s=-1.0), positive=["rate_per_s"])
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ScenarioError: workload.params.rate_per_s must be > 0; got -1.0
    """
    for name in positive:
        value = getattr(params, name)
        if not value > 0:
            _fail(name, value, "> 0")
    for name in non_negative:
        value = getattr(params, name)
        if not value >= 0:
            _fail(name, value, ">= 0")
    for name in probability:
        value = getattr(params, name)
        if not 0.0 <= value <= 1.0:
            _fail(name, value, "a probability in [0, 1]")
    for name in at_least_one:
        value = getattr(params, name)
        if not value >= 1:
            _fail(name, value, ">= 1")
