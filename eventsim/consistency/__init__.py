"""Consistency: history checkers (linearizability, session guarantees, causal reads,
staleness), logical clocks and CRDTs.

Everything here works on a recorded *history frame* (:mod:`eventsim.consistency.history`),
whoever recorded it: ``read_history`` loads Jepsen/Knossos EDN, Jepsen logs or Parquet, and
``check_linearizable(read_history(path), model="kv")`` is the whole pipeline.
"""

from __future__ import annotations

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

__all__ = [
    "CRDT",
    "CRDTS",
    "FORMATS",
    "HISTORY_SCHEMA",
    "MODELS",
    "GCounter",
    "HybridLogicalClock",
    "LWWRegister",
    "LamportClock",
    "MVRegister",
    "Model",
    "ORSet",
    "PNCounter",
    "VectorClock",
    "check_causal",
    "check_linearizable",
    "check_session",
    "convergence_time",
    "detect_format",
    "get_model",
    "make_history",
    "read_history",
    "resolve_versions",
    "simulate_history",
    "staleness",
    "validate_history",
    "write_history",
]
