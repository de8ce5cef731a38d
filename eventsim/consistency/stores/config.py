"""StoreConfig: one replicated-store scenario — model, replicas and regions, clients and their
workload, protocol knobs, faults and seed — frozen, validated, hashable.

``run_store(config)`` is a pure function of it: same config, same tables.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eventsim.exceptions import ConfigError, closest
from eventsim.faults import FaultSpec
from eventsim.scenario import FrozenParams

__all__ = ["DEFAULT_LATENCY_MS", "ROUTINGS", "STORE_FAULTS", "StoreConfig"]

ROUTINGS = ("random", "sticky")
"""How a client picks a replica: ``random`` (any replica it can reach, per operation, as a
health-checked load balancer does) or ``sticky`` (always its home replica, in its region)."""

STORE_FAULTS = ("network_partition", "clock_skew")
"""The fault kinds a store simulation understands."""

CLOCKS = ("lamport", "hlc", "wall")

DEFAULT_LATENCY_MS: dict[tuple[str, str], float] = {
    ("us-east", "us-east"): 1.0,
    ("us-west", "us-west"): 1.0,
    ("eu-west", "eu-west"): 1.0,
    ("us-east", "us-west"): 35.0,
    ("us-east", "eu-west"): 40.0,
    ("us-west", "eu-west"): 70.0,
}
"""One-way latency (ms) between the default regions (symmetric); other region pairs default
to 1 ms within a region and 50 ms between regions."""


def _require(ok: bool, name: str, value: Any, rule: str) -> None:
    if not ok:
        msg = f"store.{name} must be {rule}; got {value!r}"
        raise ConfigError(msg)


@dataclass(frozen=True)
class StoreConfig:
    """A replicated key-value store, its clients and its faults.

    Parameters
    ----------
    model
        Consistency model: a name in :data:`~eventsim.consistency.stores.STORES`.
    n_replicas
        Replicas, named ``replica-<i>`` and placed round-robin over ``regions``.
    regions
        Region names; clients (``client-<j>``) are placed round-robin over them too.
    latency_ms
        One-way latency matrix between regions (ms), ``regions`` × ``regions``; None uses
        :data:`DEFAULT_LATENCY_MS`.
    jitter
        Each message's delay is ``base × (1 + jitter × E)``, E ~ Exp(1).
    n_clients
        Client sessions (history processes). Workload actors map onto them by a stable hash.
    workload
        Where operations come from: ``uniform`` (Poisson arrivals, uniform keys) or a
        workload mapping (``amazon`` carts, ``linkedin`` profiles, ``uber`` driver state,
        ``synthetic``); see :data:`~eventsim.consistency.stores.OP_STREAMS`.
    workload_params
        Parameters of the underlying eventsim workload (override the mapping's defaults).
    duration_s
        Operations arrive during ``[0, duration_s)``.
    drain_s
        Quiet time after that: clients finish, replication and gossip catch up.
    rate_per_s, n_keys, read_fraction
        The ``uniform`` workload: arrival rate, number of keys, share of reads.
    routing
        ``random`` or ``sticky`` (see :data:`ROUTINGS`).
    timeout_s
        A client gives up on an operation after this long: a read then fails, a write is
        ``info`` (it may still take effect).
    r, w
        Quorum sizes of the ``quorum`` model (None: a majority).
    max_staleness_s, max_staleness_versions
        Bounds of the ``bounded`` model (Δ seconds, k versions); at least one is needed there.
    heartbeat_interval_s
        Leader heartbeats and retransmissions (leader-based models).
    gossip_interval_s
        Anti-entropy rounds (eventual, session, causal, crdt models).
    clock
        Timestamps of the ``eventual`` model's last-writer-wins: ``lamport``, ``hlc``
        (hybrid logical clocks) or ``wall`` (each replica's physical clock, skew included).
    crdt
        Data type of the ``crdt`` model: a name in
        :data:`~eventsim.consistency.crdt.CRDTS`.
    leader
        Index of the leader replica (leader-based models).
    faults
        :class:`~eventsim.faults.FaultSpec` of kinds ``network_partition`` (target
        ``"a,b|c"`` over ``replica-<i>``, ``client-<j>`` and region names) and
        ``clock_skew`` (target a replica or client).
    seed
        Seed of every random stream.

    Examples
    --------
    >>> cfg = StoreConfig(model="quorum", n_replicas=5, seed=1)
    >>> same = StoreConfig(model="quorum", n_replicas=5, seed=1)
    >>> cfg.replace(r=2, w=4).r, cfg.key() == same.key(), hash(cfg) == hash(same)
    (2, True, True)
    >>> StoreConfig(n_replicas=0)
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ConfigError: store.n_replicas must be >= 1; got 0
    """

    model: str = "eventual"
    n_replicas: int = 3
    regions: tuple[str, ...] = ("us-east", "us-west", "eu-west")
    latency_ms: tuple[tuple[float, ...], ...] | None = None
    jitter: float = 0.1
    n_clients: int = 6
    workload: str = "uniform"
    workload_params: Mapping[str, Any] = field(default_factory=dict)
    duration_s: float = 20.0
    drain_s: float = 5.0
    rate_per_s: float = 20.0
    n_keys: int = 8
    read_fraction: float = 0.5
    routing: str = "random"
    timeout_s: float = 0.5
    r: int | None = None
    w: int | None = None
    max_staleness_s: float | None = None
    max_staleness_versions: int | None = None
    heartbeat_interval_s: float = 0.05
    gossip_interval_s: float = 0.5
    clock: str = "lamport"
    crdt: str = "orset"
    leader: int = 0
    faults: tuple[FaultSpec, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        from eventsim.consistency.crdt import CRDTS
        from eventsim.consistency.stores.operations import OP_STREAMS
        from eventsim.consistency.stores.registry import STORES

        if self.model not in STORES:
            msg = f"store.model {self.model!r} is unknown; known: {', '.join(STORES)}"
            raise ConfigError(msg + closest(str(self.model), STORES))
        if self.workload not in OP_STREAMS:
            msg = f"store.workload {self.workload!r} is unknown; known: {', '.join(OP_STREAMS)}"
            raise ConfigError(msg + closest(str(self.workload), OP_STREAMS))
        for name, allowed in (("routing", ROUTINGS), ("clock", CLOCKS), ("crdt", tuple(CRDTS))):
            value = getattr(self, name)
            if value not in allowed:
                msg = f"store.{name} must be one of {', '.join(allowed)}; got {value!r}"
                raise ConfigError(msg + closest(str(value), allowed))
        object.__setattr__(self, "regions", tuple(str(r) for r in self.regions))
        object.__setattr__(self, "faults", tuple(self.faults))
        object.__setattr__(self, "workload_params", FrozenParams(self.workload_params))
        _require(self.n_replicas >= 1, "n_replicas", self.n_replicas, ">= 1")
        _require(self.n_clients >= 1, "n_clients", self.n_clients, ">= 1")
        _require(len(self.regions) >= 1, "regions", self.regions, "at least one region")
        _require(
            len(set(self.regions)) == len(self.regions), "regions", self.regions, "unique names"
        )
        if self.latency_ms is not None:
            matrix = tuple(tuple(float(x) for x in row) for row in self.latency_ms)
            k = len(self.regions)
            _require(
                len(matrix) == k and all(len(row) == k for row in matrix),
                "latency_ms",
                self.latency_ms,
                f"a {k} x {k} matrix (one row per region)",
            )
            _require(all(x >= 0 for row in matrix for x in row), "latency_ms", matrix, "all >= 0")
            object.__setattr__(self, "latency_ms", matrix)
        _require(self.jitter >= 0, "jitter", self.jitter, ">= 0")
        _require(self.duration_s > 0, "duration_s", self.duration_s, "> 0")
        _require(self.drain_s >= 0, "drain_s", self.drain_s, ">= 0")
        _require(self.rate_per_s > 0, "rate_per_s", self.rate_per_s, "> 0")
        _require(self.n_keys >= 1, "n_keys", self.n_keys, ">= 1")
        _require(0 <= self.read_fraction <= 1, "read_fraction", self.read_fraction, "in [0, 1]")
        _require(self.timeout_s > 0, "timeout_s", self.timeout_s, "> 0")
        for name in ("r", "w"):
            v = getattr(self, name)
            if v is not None:
                _require(
                    1 <= v <= self.n_replicas,
                    name,
                    v,
                    f"between 1 and n_replicas ({self.n_replicas})",
                )
        if self.max_staleness_s is not None:
            _require(self.max_staleness_s > 0, "max_staleness_s", self.max_staleness_s, "> 0")
        if self.max_staleness_versions is not None:
            _require(
                self.max_staleness_versions >= 1,
                "max_staleness_versions",
                self.max_staleness_versions,
                ">= 1",
            )
        if self.model == "bounded" and not self.bounds_set:
            msg = (
                "store.model 'bounded' needs max_staleness_s and/or max_staleness_versions; "
                "got neither"
            )
            raise ConfigError(msg)
        for name in ("heartbeat_interval_s", "gossip_interval_s"):
            _require(getattr(self, name) > 0, name, getattr(self, name), "> 0")
        _require(
            0 <= self.leader < self.n_replicas,
            "leader",
            self.leader,
            f"a replica index in [0, {self.n_replicas - 1}]",
        )
        _require(
            isinstance(self.seed, int) and not isinstance(self.seed, bool) and self.seed >= 0,
            "seed",
            self.seed,
            "an integer >= 0",
        )
        for i, f in enumerate(self.faults):
            if not isinstance(f, FaultSpec):
                msg = f"store.faults[{i}] must be a FaultSpec; got {type(f).__name__}"
                raise ConfigError(msg)
            if f.kind not in STORE_FAULTS:
                msg = (
                    f"store.faults[{i}].kind {f.kind!r} does not apply to a store; "
                    f"allowed: {', '.join(STORE_FAULTS)}"
                )
                raise ConfigError(msg)
        from eventsim.consistency.stores.network import check_targets

        check_targets(self)

    @property
    def bounds_set(self) -> bool:
        """True when a staleness bound (Δ or k) is given."""
        return self.max_staleness_s is not None or self.max_staleness_versions is not None

    @property
    def end_s(self) -> float:
        """When the simulation stops: ``duration_s + drain_s``."""
        return self.duration_s + self.drain_s

    @property
    def replica_names(self) -> list[str]:
        """``replica-0`` ... ``replica-<n-1>``."""
        return [f"replica-{i}" for i in range(self.n_replicas)]

    @property
    def client_names(self) -> list[str]:
        """``client-0`` ... ``client-<n-1>``."""
        return [f"client-{j}" for j in range(self.n_clients)]

    def heal_s(self) -> float:
        """End of the last network partition (0.0 without partitions)."""
        ends = [f.end_s for f in self.faults if f.kind == "network_partition"]
        return max(ends, default=0.0)

    def replace(self, **changes: Any) -> StoreConfig:
        """A copy with fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON-ready)."""
        return dataclasses.asdict(self)

    def key(self) -> str:
        """A stable 16-hex-digit hash: the same config gives the same key in every process."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
