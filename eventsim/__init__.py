"""eventsim: learn and measure event-driven architecture in notebooks.

A scenario in, tables out: ``run(Scenario(...))`` simulates a workload feeding an in-process,
Kafka-like event log and returns polars frames. Every name here and every subpackage (``log``,
``workloads``, ``delivery``, ``consistency``, ``anomaly``, ``carbon``, ``sweep``) loads on
first use, so ``import eventsim`` and ``eventsim --help`` stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eventsim.scenario import ConsumerGroupConfig, LogConfig, ProducerConfig, Scenario
    from eventsim.sim.engine import run
    from eventsim.sim.result import RunResult
    from eventsim.sweep import Grid, sweep
    from eventsim.workloads.base import IncidentSpec

__version__ = "0.1.0"

__all__ = [
    "ConsumerGroupConfig",
    "Grid",
    "IncidentSpec",
    "LogConfig",
    "ProducerConfig",
    "RunResult",
    "Scenario",
    "__version__",
    "run",
    "sweep",
]

_NAMES = {
    "ConsumerGroupConfig": "eventsim.scenario",
    "LogConfig": "eventsim.scenario",
    "ProducerConfig": "eventsim.scenario",
    "Scenario": "eventsim.scenario",
    "run": "eventsim.sim.engine",
    "RunResult": "eventsim.sim.result",
    "IncidentSpec": "eventsim.workloads.base",
    "Grid": "eventsim.sweep",
}
_SUBPACKAGES = {
    "anomaly",
    "carbon",
    "consistency",
    "delivery",
    "faults",
    "log",
    "plot",
    "sim",
    "sweep",
    "workloads",
    "workshop",
}


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"eventsim.{name}")
    msg = f"module 'eventsim' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted([*__all__, *_SUBPACKAGES])
