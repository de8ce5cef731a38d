"""The registry of consistency models: name → store class (a new model is one file plus one
entry here)."""

from __future__ import annotations

import importlib

from eventsim.consistency.stores.base import Store
from eventsim.exceptions import ConfigError, closest

__all__ = ["STORES", "get_store"]

STORES: dict[str, str] = {
    "linearizable": "eventsim.consistency.stores.linearizable:LinearizableStore",
    "quorum": "eventsim.consistency.stores.quorum:QuorumStore",
    "sequential": "eventsim.consistency.stores.sequential:SequentialStore",
    "causal": "eventsim.consistency.stores.causal:CausalStore",
    "session": "eventsim.consistency.stores.session:SessionStore",
    "bounded": "eventsim.consistency.stores.bounded:BoundedStalenessStore",
    "eventual": "eventsim.consistency.stores.eventual:EventualStore",
    "crdt": "eventsim.consistency.stores.crdt:CRDTStore",
}
"""Model name → ``"module:Class"`` of its :class:`~eventsim.consistency.stores.base.Store`,
strongest first; modules load on first use."""


def get_store(name: str) -> type[Store]:
    """The store class of model ``name``.

    Raises
    ------
    ConfigError
        Unknown name (the message lists the known ones).

    Examples
    --------
    >>> get_store("causal").name
    'causal'
    >>> get_store("casual")
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ConfigError: consistency model 'casual' is unknown; ... 'causal'?
    """
    target = STORES.get(name)
    if target is None:
        msg = f"consistency model {name!r} is unknown; known: {', '.join(STORES)}"
        raise ConfigError(msg + closest(str(name), STORES))
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]
