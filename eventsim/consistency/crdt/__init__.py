"""State-based CRDTs: counters, an observed-remove set and two registers, by name in
:data:`CRDTS`."""

from __future__ import annotations

from eventsim.consistency.crdt.base import CRDT
from eventsim.consistency.crdt.gcounter import GCounter
from eventsim.consistency.crdt.lww_register import LWWRegister
from eventsim.consistency.crdt.mv_register import MVRegister
from eventsim.consistency.crdt.orset import ORSet
from eventsim.consistency.crdt.pncounter import PNCounter

__all__ = ["CRDT", "CRDTS", "GCounter", "LWWRegister", "MVRegister", "ORSet", "PNCounter"]

CRDTS: dict[str, type[CRDT]] = {
    "gcounter": GCounter,
    "pncounter": PNCounter,
    "orset": ORSet,
    "lww_register": LWWRegister,
    "mv_register": MVRegister,
}
"""CRDT name → class."""
