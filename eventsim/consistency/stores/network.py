"""The network of a replicated store: nodes placed in regions, one-way delays from a latency
matrix plus jitter, links cut by partitions, and each node's (possibly skewed) clock.

Nodes are ``replica-<i>`` and ``client-<j>``; a partition target ``"a,b|c"`` may also name a
region, standing for every node placed there. A message sent at ``t`` over a link that is cut
at ``t`` or at its arrival is lost; :meth:`Network.send_reliable` models a sender that
retransmits until the link heals (leader replication), :meth:`Network.send` one that does
not (direct pushes, whose losses anti-entropy gossip repairs).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from eventsim.exceptions import ConfigError, closest

if TYPE_CHECKING:
    from eventsim.consistency.stores.config import StoreConfig

__all__ = ["Network", "check_targets", "node_regions"]

_CHUNK = 8192


def node_regions(config: StoreConfig) -> dict[str, str]:
    """Every node of the store and its region (replicas, then clients, round-robin).

    Examples
    --------
    >>> from eventsim.consistency.stores import StoreConfig
    >>> node_regions(StoreConfig(n_replicas=2, n_clients=1, regions=("a", "b")))
    {'replica-0': 'a', 'replica-1': 'b', 'client-0': 'a'}
    """
    k = len(config.regions)
    out = {name: config.regions[i % k] for i, name in enumerate(config.replica_names)}
    out.update({name: config.regions[j % k] for j, name in enumerate(config.client_names)})
    return out


def _expand(side: str, regions: dict[str, str], field: str) -> set[str]:
    out: set[str] = set()
    for item in (s.strip() for s in side.split(",")):
        if not item:
            continue
        if item in regions:
            out.add(item)
        elif item in regions.values():
            out.update(n for n, r in regions.items() if r == item)
        else:
            known = [*regions, *dict.fromkeys(regions.values())]
            msg = (
                f"{field} names {item!r}, which is neither a node nor a region of this store"
                f"{closest(item, known)}; known: {', '.join(known)}"
            )
            raise ConfigError(msg)
    return out


def check_targets(config: StoreConfig) -> None:
    """Raise :class:`~eventsim.exceptions.ConfigError` when a fault names an unknown node.

    Examples
    --------
    >>> from eventsim.consistency.stores import StoreConfig
    >>> from eventsim.faults import FaultSpec
    >>> StoreConfig(faults=(FaultSpec("network_partition", "eu-west|replica-9"),))
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ConfigError: store.faults[0].target names 'replica-9', ...
    """
    regions = node_regions(config)
    for i, f in enumerate(config.faults):
        field = f"store.faults[{i}].target"
        if f.kind == "network_partition":
            left, sep, right = f.target.partition("|")
            a, b = _expand(left, regions, field), _expand(right, regions, field)
            if not sep or not a or not b:
                msg = f"{field} must look like 'a,b|c' (nodes or regions); got {f.target!r}"
                raise ConfigError(msg)
            if a & b:
                msg = f"{field} puts {sorted(a & b)} on both sides; got {f.target!r}"
                raise ConfigError(msg)
        elif f.target not in regions:
            msg = (
                f"{field} {f.target!r} is not a node of this store{closest(f.target, regions)};"
                f" known: {', '.join(regions)}"
            )
            raise ConfigError(msg)


class Network:
    """Delays, cuts and clocks between the nodes of one store run.

    Nodes are integers: replicas ``0 .. n_replicas-1``, then clients.

    Parameters
    ----------
    config
        The store configuration (regions, latency matrix, jitter, faults).
    rng
        Generator of the jitter.

    Examples
    --------
    >>> from eventsim.consistency.stores import StoreConfig
    >>> from eventsim.faults import FaultSpec
    >>> cfg = StoreConfig(n_replicas=2, n_clients=1, regions=("a", "b"), jitter=0.0,
    ...                   latency_ms=((1, 30), (30, 1)),
    ...                   faults=(FaultSpec("network_partition", "a|b", 1.0, 2.0),))
    >>> net = Network(cfg, np.random.default_rng(0))
    >>> net.send(0, 1, 0.5), net.send(0, 1, 1.5), net.send_reliable(0, 1, 1.5, 0.1)
    (0.53, None, 3.13)
    """

    def __init__(self, config: StoreConfig, rng: np.random.Generator) -> None:
        regions = node_regions(config)
        self.names = list(regions)
        self.index = {n: i for i, n in enumerate(self.names)}
        self.n_replicas = config.n_replicas
        ridx = {r: i for i, r in enumerate(config.regions)}
        self.region = [ridx[regions[n]] for n in self.names]
        lat = _latency_matrix(config)
        reg = np.asarray(self.region)
        self.base_s = lat[np.ix_(reg, reg)] / 1000.0
        self._base = self.base_s.tolist()
        self.jitter = float(config.jitter)
        self._rng = rng
        self._draws: list[float] = []
        self._pos = 0
        self.cuts: dict[tuple[int, int], list[tuple[float, float]]] = {}
        self.skews: dict[int, list[tuple[float, float, float, float]]] = {}
        for f in config.faults:
            if f.kind == "network_partition":
                left, _, right = f.target.partition("|")
                a = _expand(left, regions, "target")
                b = _expand(right, regions, "target")
                for x in a:
                    for y in b:
                        i, j = sorted((self.index[x], self.index[y]))
                        self.cuts.setdefault((i, j), []).append((f.start_s, f.end_s))
            elif f.kind == "clock_skew":
                self.skews.setdefault(self.index[f.target], []).append(
                    (f.start_s, f.end_s, f.delay_s, f.drift_ppm)
                )
        self.n_messages = 0

    # -- delays ------------------------------------------------------------------------------
    def delay(self, a: int, b: int) -> float:
        """One draw of the one-way delay from ``a`` to ``b`` (seconds)."""
        base: float = self._base[a][b]
        if not self.jitter:
            return base
        if self._pos >= len(self._draws):
            self._draws = self._rng.exponential(1.0, _CHUNK).tolist()
            self._pos = 0
        e = self._draws[self._pos]
        self._pos += 1
        return base * (1.0 + self.jitter * e)

    # -- cuts ----------------------------------------------------------------------------------
    def is_cut(self, a: int, b: int, t: float) -> bool:
        """True when the link ``a``–``b`` is cut at time ``t``."""
        if not self.cuts:
            return False
        windows = self.cuts.get((a, b) if a < b else (b, a))
        if not windows:
            return False
        return any(s <= t < e for s, e in windows)

    def heals_at(self, a: int, b: int, t: float) -> float:
        """The first time ``>= t`` at which the link ``a``–``b`` is not cut."""
        windows = self.cuts.get((a, b) if a < b else (b, a), ())
        moved = True
        while moved:
            moved = False
            for s, e in windows:
                if s <= t < e:
                    t, moved = e, True
        return t

    def reachable(self, a: int, b: int, t: float) -> bool:
        """True when ``a`` and ``b`` can talk at ``t`` (same node, or the link is up)."""
        return a == b or not self.is_cut(a, b, t)

    def send(self, a: int, b: int, t: float) -> float | None:
        """Arrival time of a message sent at ``t``; None when a cut loses it."""
        if a == b:
            return t
        self.n_messages += 1
        arrive = t + self.delay(a, b)
        if self.cuts and (self.is_cut(a, b, t) or self.is_cut(a, b, arrive)):
            return None
        return arrive

    def send_reliable(self, a: int, b: int, t: float, retry_s: float) -> float:
        """Arrival time when the sender retransmits every ``retry_s`` until it gets through."""
        if a == b:
            return t
        while True:
            arrive = self.send(a, b, t)
            if arrive is not None:
                return arrive
            healed = self.heals_at(a, b, t)
            t = t + retry_s if healed <= t else _next_tick(healed, retry_s)

    # -- clocks --------------------------------------------------------------------------------
    def clock(self, node: int, t: float) -> float:
        """What ``node``'s physical clock reads at true time ``t`` (skew windows applied)."""
        for s, e, offset, drift_ppm in self.skews.get(node, ()):
            if s <= t < e:
                return t + offset + drift_ppm * 1e-6 * (t - s)
        return t

    def is_replica(self, node: int) -> bool:
        """True for replica nodes."""
        return node < self.n_replicas


def _latency_matrix(config: StoreConfig) -> np.ndarray:
    from eventsim.consistency.stores.config import DEFAULT_LATENCY_MS

    if config.latency_ms is not None:
        return np.asarray(config.latency_ms, dtype=np.float64)
    k = len(config.regions)
    out = np.empty((k, k))
    for i, a in enumerate(config.regions):
        for j, b in enumerate(config.regions):
            v = DEFAULT_LATENCY_MS.get((a, b), DEFAULT_LATENCY_MS.get((b, a)))
            out[i, j] = v if v is not None else (1.0 if i == j else 50.0)
    return out


def _next_tick(t: float, period: float) -> float:
    """The first multiple of ``period`` strictly after ``t``."""
    return (math.floor(t / period) + 1) * period
