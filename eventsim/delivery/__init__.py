"""Delivery semantics: producer fates, presets, the checker and the comparison.

``compare_delivery(scenario, semantics=[...])`` runs one scenario and fault schedule under each
preset (:data:`PRESETS`: at-most-once, at-least-once, exactly-once, effectively-once) and
counts every event; ``check(result)`` gives the verdict of one run (module
:mod:`eventsim.delivery.checker`). Names load lazily: the engine imports
:mod:`eventsim.delivery.send`, :func:`compare_delivery` imports the engine, and
``eventsim --help`` should not pay for polars.
"""

from __future__ import annotations

import importlib
from typing import Any

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
    "ANOMALIES": "checker",
    "check": "checker",
    "classify_events": "checker",
    "recount_from_parquet": "checker",
    "PRESETS": "presets",
    "apply_preset": "presets",
    "SENDS_SCHEMA": "send",
    "SendOutcome": "send",
    "send_records": "send",
    "FATES": "timeline",
    "REASONS": "timeline",
    "TIMELINE_SCHEMA": "timeline",
    "crash_timeline": "timeline",
    "COMPARE_SCHEMA": "compare",
    "compare_delivery": "compare",
    "summary": "compare",
    "crash_lanes": "plot",
    "plot_cost": "plot",
    "plot_crash_timeline": "plot",
    "plot_outcomes": "plot",
}


def __getattr__(name: str) -> Any:
    if name == "CheckResult":
        from eventsim.verdict import CheckResult

        return CheckResult
    module = _WHERE.get(name)
    if module is None:
        msg = f"module 'eventsim.delivery' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(f"eventsim.delivery.{module}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
