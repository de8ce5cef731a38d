"""The simulation engine: SimPy environment, seeded streams, producers, consumers, recorder.

Names load lazily so that low-level modules (``eventsim.sim.rng``) import without the engine.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "DELIVERY_SCHEMA",
    "METRICS_SCHEMA",
    "Recorder",
    "RngStreams",
    "RunResult",
    "Simulation",
    "Sink",
    "run",
    "stable_hash",
]

_WHERE = {
    "DELIVERY_SCHEMA": "consumer",
    "Sink": "consumer",
    "Simulation": "engine",
    "run": "engine",
    "METRICS_SCHEMA": "recorder",
    "Recorder": "recorder",
    "RunResult": "result",
    "RngStreams": "rng",
    "stable_hash": "rng",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        msg = f"module 'eventsim.sim' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(f"eventsim.sim.{module}"), name)
