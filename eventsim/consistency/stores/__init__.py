"""Simulated replicated stores, one consistency model each, and their comparison.

A key-value store is replicated over ``n_replicas`` replicas placed in regions (one-way
latencies from a matrix); clients with sessions replay a workload's reads and writes against
it; partitions and clock skew come from :class:`~eventsim.faults.FaultSpec`. Every client
operation lands in a history frame that the checkers of :mod:`eventsim.consistency` read.

Models (:data:`STORES`, strongest first): ``linearizable`` (single leader, synchronous
majority replication, read-index reads), ``quorum`` (ABD majority quorums with read
write-back, ``R + W > N``), ``sequential`` (leader-ordered log, reads from any replica's
prefix, session tokens), ``causal`` (vector clocks, causal delivery buffers, client causal
contexts), ``session`` (client version tokens), ``bounded`` (bounded staleness by Δ seconds
and/or k versions), ``eventual`` (last-writer-wins on Lamport, hybrid logical or wall
clocks, anti-entropy gossip) and ``crdt`` (G-Counter, PN-Counter, OR-Set, LWW- and
MV-Register over gossip).

>>> from eventsim.consistency.stores import StoreConfig, run_store
>>> res = run_store(StoreConfig(model="causal", duration_s=5, seed=1))
>>> res.check().valid
True
"""

from __future__ import annotations

from eventsim.consistency.stores.base import Op, Reply, Store, StoreContext
from eventsim.consistency.stores.checks import (
    STORE_ANOMALY_SCHEMA,
    check_bounded_staleness,
    check_convergence,
    check_crdt,
)
from eventsim.consistency.stores.compare import COMPARE_SCHEMA, compare_consistency, measure
from eventsim.consistency.stores.config import DEFAULT_LATENCY_MS, ROUTINGS, StoreConfig
from eventsim.consistency.stores.operations import OP_STREAMS, OPS_SCHEMA, operations
from eventsim.consistency.stores.registry import STORES, get_store
from eventsim.consistency.stores.result import FINAL_STATE_SCHEMA, TRACE_SCHEMA, StoreResult
from eventsim.consistency.stores.run import run_store, run_with_store
from eventsim.consistency.stores.sequential_check import SEQUENTIAL_SCHEMA, check_sequential

__all__ = [
    "COMPARE_SCHEMA",
    "DEFAULT_LATENCY_MS",
    "FINAL_STATE_SCHEMA",
    "OPS_SCHEMA",
    "OP_STREAMS",
    "ROUTINGS",
    "SEQUENTIAL_SCHEMA",
    "STORES",
    "STORE_ANOMALY_SCHEMA",
    "TRACE_SCHEMA",
    "Op",
    "Reply",
    "Store",
    "StoreConfig",
    "StoreContext",
    "StoreResult",
    "check_bounded_staleness",
    "check_convergence",
    "check_crdt",
    "check_sequential",
    "compare_consistency",
    "get_store",
    "measure",
    "operations",
    "run_store",
    "run_with_store",
]
