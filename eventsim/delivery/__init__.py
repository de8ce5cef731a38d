"""Delivery semantics: producer fates, presets, the checker and the comparison.

``compare_delivery(scenario, semantics=[...])`` runs one scenario and fault schedule under each
preset (:data:`PRESETS`: at-most-once, at-least-once, exactly-once, effectively-once) and
counts every event; ``check(result)`` gives the verdict of one run. Names load lazily (the
engine imports :mod:`eventsim.delivery.send`, and :func:`compare_delivery` imports the engine).
"""

from __future__ import annotations

import importlib
from typing import Any

# ``check`` is both a submodule and the function; importing the function here binds the name
# to the function for good (the engine-free modules load eagerly, ``compare`` lazily).
from eventsim.delivery.check import ANOMALIES, check, classify_events, recount_from_parquet
from eventsim.delivery.presets import PRESETS, apply_preset
from eventsim.delivery.send import SENDS_SCHEMA, SendOutcome, send_records
from eventsim.delivery.timeline import FATES, REASONS, TIMELINE_SCHEMA, crash_timeline
from eventsim.verdict import CheckResult

__all__ = [
    "ANOMALIES",
    "COMPARE_SCHEMA",
    "FATES",
    "PRESETS",
    "REASONS",
    "SENDS_SCHEMA",
    "TIMELINE_SCHEMA",
    "CheckResult",
    "SendOutcome",
    "apply_preset",
    "check",
    "classify_events",
    "compare_delivery",
    "crash_lanes",
    "crash_timeline",
    "plot_cost",
    "plot_crash_timeline",
    "plot_outcomes",
    "recount_from_parquet",
    "send_records",
    "summary",
]

_WHERE = {
    "COMPARE_SCHEMA": "compare",
    "compare_delivery": "compare",
    "summary": "compare",
    "crash_lanes": "plot",
    "plot_cost": "plot",
    "plot_crash_timeline": "plot",
    "plot_outcomes": "plot",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        msg = f"module 'eventsim.delivery' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(f"eventsim.delivery.{module}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
