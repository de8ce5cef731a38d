"""eventsim: learn and measure event-driven architecture in notebooks.

A scenario in, tables out: ``run(Scenario(...))`` simulates a workload feeding an in-process,
Kafka-like event log and returns polars frames. Subpackages (``log``, ``workloads``,
``delivery``, ``consistency``, ``anomaly``, ``carbon``) load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from eventsim.scenario import ConsumerGroupConfig, LogConfig, ProducerConfig, Scenario
from eventsim.sim.engine import run
from eventsim.sim.result import RunResult
from eventsim.workloads.base import IncidentSpec

__version__ = "0.1.0"

__all__ = [
    "ConsumerGroupConfig",
    "IncidentSpec",
    "LogConfig",
    "ProducerConfig",
    "RunResult",
    "Scenario",
    "__version__",
    "run",
]

_SUBPACKAGES = {
    "anomaly",
    "carbon",
    "consistency",
    "delivery",
    "log",
    "plot",
    "sweep",
    "workloads",
    "sim",
}


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"eventsim.{name}")
    msg = f"module 'eventsim' has no attribute {name!r}"
    raise AttributeError(msg)
