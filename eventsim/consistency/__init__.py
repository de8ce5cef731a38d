"""Consistency: history checkers (linearizability, session guarantees, causal reads,
staleness), logical clocks and CRDTs.

Everything here works on a recorded *history frame* (:mod:`eventsim.consistency.history`),
whoever recorded it: ``read_history`` loads Jepsen/Knossos EDN, Jepsen logs or Parquet, and
``check_linearizable(read_history(path), model="kv")`` is the whole pipeline.

:mod:`eventsim.consistency.stores` simulates replicated stores under each consistency model
(``run_store``, ``compare_consistency``); its public names load from here on first use.
"""

from __future__ import annotations

from typing import Any

from eventsim.consistency.causal import check_causal
from eventsim.consistency.clocks import HybridLogicalClock, LamportClock, VectorClock
from eventsim.consistency.crdt import (
    CRDT,
    CRDTS,
    GCounter,
    LWWRegister,
    MVRegister,
    ORSet,
    PNCounter,
)
from eventsim.consistency.history import HISTORY_SCHEMA, make_history, validate_history
from eventsim.consistency.history_io import FORMATS, detect_format, read_history, write_history
from eventsim.consistency.linearizable import check_linearizable
from eventsim.consistency.models import MODELS, Model, get_model
from eventsim.consistency.session import check_session
from eventsim.consistency.simulated import simulate_history
from eventsim.consistency.staleness import convergence_time, staleness
from eventsim.consistency.versions import resolve_versions

_STORE_NAMES = (
    "run_with_store",
    "STORES",
    "StoreConfig",
    "StoreResult",
    "check_bounded_staleness",
    "check_convergence",
    "check_crdt",
    "check_sequential",
    "compare_consistency",
    "run_store",
)

__all__ = [
    "CRDT",
    "CRDTS",
    "FORMATS",
    "HISTORY_SCHEMA",
    "MODELS",
    "STORES",
    "GCounter",
    "HybridLogicalClock",
    "LWWRegister",
    "LamportClock",
    "MVRegister",
    "Model",
    "ORSet",
    "PNCounter",
    "StoreConfig",
    "StoreResult",
    "VectorClock",
    "check_bounded_staleness",
    "check_causal",
    "check_convergence",
    "check_crdt",
    "check_linearizable",
    "check_sequential",
    "check_session",
    "compare_consistency",
    "convergence_time",
    "detect_format",
    "get_model",
    "make_history",
    "read_history",
    "resolve_versions",
    "run_store",
    "run_with_store",
    "simulate_history",
    "staleness",
    "validate_history",
    "write_history",
]


def __getattr__(name: str) -> Any:
    """Load the store simulation's names on first use (it pulls in SimPy and workloads)."""
    if name in _STORE_NAMES:
        import eventsim.consistency.stores as stores

        return getattr(stores, name)
    msg = f"module 'eventsim.consistency' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_STORE_NAMES))
