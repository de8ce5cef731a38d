"""Workloads: named generators of business events (synthetic, netflix, uber, linkedin, amazon).

The registry maps a name to ``"module:Class"``; modules load on first use.
"""

from __future__ import annotations

import importlib

from eventsim.exceptions import ScenarioError
from eventsim.workloads.base import (
    BASE_SCHEMA,
    INCIDENT_SCHEMA,
    KEY_PREFIX,
    IncidentSpec,
    Workload,
    WorkloadOutput,
    empty_incidents,
    entity_key,
)

__all__ = [
    "BASE_SCHEMA",
    "INCIDENT_SCHEMA",
    "KEY_PREFIX",
    "WORKLOADS",
    "IncidentSpec",
    "Workload",
    "WorkloadOutput",
    "empty_incidents",
    "entity_key",
    "get_workload",
]

WORKLOADS: dict[str, str] = {
    "synthetic": "eventsim.workloads.synthetic:Synthetic",
    "netflix": "eventsim.workloads.netflix:Netflix",
    "uber": "eventsim.workloads.uber:Uber",
    "linkedin": "eventsim.workloads.linkedin:LinkedIn",
    "amazon": "eventsim.workloads.amazon:Amazon",
}


def get_workload(name: str) -> type[Workload]:
    """The workload class registered as ``name``.

    Raises
    ------
    ScenarioError
        If no workload has that name (the message lists the known ones).
    """
    target = WORKLOADS.get(name)
    if target is None:
        msg = f"workload {name!r} is unknown; known workloads: {', '.join(sorted(WORKLOADS))}"
        raise ScenarioError(msg)
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]
