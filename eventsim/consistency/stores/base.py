"""The interface of a simulated replicated store (one consistency model per implementation).

A :class:`Store` lives inside one SimPy environment. Each client session is a long-lived
process that walks its operations in order and, for each, runs the store's
:meth:`Store.execute` generator: the generator sends messages through the
:class:`~eventsim.consistency.stores.network.Network` (one timeout per hop the client waits
for), applies the model's protocol at the replicas and returns a :class:`Reply`. Work no
client waits for (replication pushes, retransmissions, commit times) is computed when it is
sent and applied lazily, so one SimPy event moves one client hop, not one message.

Everything a run records goes through :class:`StoreContext`: writes (key, value, the stamp
that orders them) and replica changes ("from ``t`` on, replica ``r`` holds write ``w`` of
``key``"), from which :func:`~eventsim.consistency.stores.run_store` builds its frames.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import simpy

if TYPE_CHECKING:
    import numpy as np

    from eventsim.consistency.stores.config import StoreConfig
    from eventsim.consistency.stores.network import Network
    from eventsim.consistency.stores.result import StoreResult
    from eventsim.sim.rng import RngStreams
    from eventsim.verdict import CheckResult

__all__ = ["POLL_S", "Op", "Reply", "Store", "StoreContext"]

POLL_S = 0.01
"""How often a replica that makes a client wait re-checks its condition (seconds)."""

Steps = Generator[simpy.Event, Any, Any]


@dataclass
class Op:
    """One client operation in flight.

    ``kind`` is ``read`` or ``write``; ``value`` the unique value a write carries
    (``"<process>:<n>"``); ``client`` the client's node id.
    """

    index: int
    process: int
    client: int
    kind: str
    key: str
    value: str | None
    invoke_s: float
    deadline_s: float


@dataclass
class Reply:
    """What a client got back.

    ``status`` ok | fail | info; ``output`` a read's value; ``replica`` and ``served_s``
    where and when the operation was served; ``write`` the id of the write it installed;
    ``position`` its place in a leader's log (a sequential witness); ``op``/``value``
    override the history's op name and argument (CRDT operations).
    """

    status: str
    output: str | None = None
    replica: int | None = None
    served_s: float | None = None
    write: int | None = None
    position: int | None = None
    op: str | None = None
    value: str | None = None


class StoreContext:
    """Shared state of one run: environment, network, random streams, writes and changes.

    Examples
    --------
    >>> import simpy, numpy as np
    >>> from eventsim.consistency.stores import StoreConfig
    >>> from eventsim.consistency.stores.network import Network
    >>> from eventsim.sim.rng import RngStreams
    >>> cfg = StoreConfig()
    >>> ctx = StoreContext(cfg, simpy.Environment(), Network(cfg, np.random.default_rng(0)),
    ...                    RngStreams(0))
    >>> w = ctx.new_write("x", "0:1", (1, 0), 0)
    >>> ctx.record(0.5, 1, "x", w, "0:1"); ctx.changes
    [(0.5, 1, 'x', 0, '0:1')]
    """

    def __init__(
        self, config: StoreConfig, env: simpy.Environment, net: Network, rngs: RngStreams
    ) -> None:
        self.config = config
        self.env = env
        self.net = net
        self.rngs = rngs
        self.n = config.n_replicas
        self.write_key: list[str] = []
        self.write_value: list[str | None] = []
        self.write_stamp: list[Any] = []
        self.write_process: list[int] = []
        self.changes: list[tuple[float, int, str, int, str | None]] = []
        self._seq = 0
        self._uniform: list[float] = []
        self._upos = 0
        self._rng = rngs("store.routing")

    def new_write(self, key: str, value: str | None, stamp: Any, process: int) -> int:
        """Register a write that reached a replica; returns its id."""
        self.write_key.append(key)
        self.write_value.append(value)
        self.write_stamp.append(stamp)
        self.write_process.append(process)
        return len(self.write_key) - 1

    def record(self, t: float, replica: int, key: str, version: int, text: str | None) -> None:
        """From ``t`` on, ``replica`` holds ``version`` (a write id, or a CRDT state id)."""
        self.changes.append((t, replica, key, version, text))

    def seq(self) -> int:
        """A fresh tie-breaker (deterministic order of simultaneous pending messages)."""
        self._seq += 1
        return self._seq

    def uniform(self) -> float:
        """One draw of U(0, 1) from the routing stream."""
        if self._upos >= len(self._uniform):
            self._uniform = self._rng.uniform(0.0, 1.0, 4096).tolist()
            self._upos = 0
        u = self._uniform[self._upos]
        self._upos += 1
        return u

    def rng(self, name: str) -> np.random.Generator:
        """The run's stream named ``store.<name>``."""
        return self.rngs(f"store.{name}")


class Store(ABC):
    """A replicated register store under one consistency model.

    Subclasses set ``name``, ``summary`` and ``history_model`` (the sequential model of
    :func:`~eventsim.consistency.check_linearizable` its history fits, or None) and implement
    :meth:`execute` and :meth:`check`; :meth:`start` and :meth:`finish` are optional hooks.

    Examples
    --------
    >>> from eventsim.consistency.stores import get_store
    >>> issubclass(get_store("eventual"), Store), get_store("crdt").history_model
    (True, None)
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    history_model: ClassVar[str | None] = "register"
    versions_are_writes: ClassVar[bool] = True

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx
        self.env = ctx.env
        self.net = ctx.net
        self.config = ctx.config
        self.n = ctx.n
        self.home = [self._home(c) for c in range(self.n, len(ctx.net.names))]

    # -- hooks -----------------------------------------------------------------------------
    def start(self) -> None:  # noqa: B027 (an optional hook)
        """Start background processes (gossip, heartbeats)."""

    def finish(self, end_s: float) -> None:  # noqa: B027 (an optional hook)
        """Bring lazily-applied state up to ``end_s``."""

    @abstractmethod
    def execute(self, op: Op) -> Steps:
        """Run ``op`` (a generator of SimPy events); return its :class:`Reply`."""

    @classmethod
    @abstractmethod
    def check(cls, result: StoreResult) -> CheckResult:
        """The model's own guarantee, checked on a run of it."""

    # -- helpers -----------------------------------------------------------------------------
    def _home(self, client: int) -> int:
        region = self.net.region[client]
        same = [r for r in range(self.n) if self.net.region[r] == region]
        if same:
            return same[0]
        return min(range(self.n), key=lambda r: (self.net.base_s[client, r], r))

    def route(self, op: Op) -> int:
        """The replica that serves ``op`` (``routing``: sticky home or random reachable)."""
        home = self.home[op.client - self.n]
        if self.config.routing == "sticky":
            return home
        net, t = self.net, op.invoke_s
        reach = [r for r in range(self.n) if net.reachable(op.client, r, t)]
        if not reach:
            return home
        return reach[int(self.ctx.uniform() * len(reach))]

    def until(self, t: float) -> Steps:
        """Wait until time ``t`` (no event when it is now)."""
        if t > self.env.now:
            yield self.env.timeout(t - self.env.now)

    def give_up(self, op: Op, replica: int | None = None) -> Steps:
        """Wait for the deadline; a read then failed, a write's outcome is unknown."""
        yield from self.until(op.deadline_s)
        return Reply("fail" if op.kind == "read" else "info", replica=replica)

    def respond(self, op: Op, replica: int, reply: Reply) -> Steps:
        """Send ``reply`` from ``replica`` back to the client (or time out: the read fails,
        the write's outcome is unknown, but what the replica did is kept)."""
        back = self.net.send(replica, op.client, self.env.now)
        if back is None or back > op.deadline_s:
            yield from self.until(op.deadline_s)
            reply.status = "fail" if op.kind == "read" else "info"
            reply.output = None
            return reply
        yield from self.until(back)
        return reply

    def start_gossip(self, exchange: Any) -> None:
        """Every ``gossip_interval_s``, each replica calls ``exchange(i, j, t)`` with a random
        peer ``j`` it can reach (push-pull anti-entropy)."""
        if self.n < 2:
            return

        def loop() -> Steps:
            rng = self.ctx.rng("gossip")
            interval = self.config.gossip_interval_s
            while True:
                yield self.env.timeout(interval)
                t = self.env.now
                peers = rng.integers(0, self.n - 1, self.n).tolist()
                for i, p in enumerate(peers):
                    j = p + (p >= i)
                    if self.net.reachable(i, j, t):
                        exchange(i, j, t)

        self.env.process(loop())

    def wait_for(self, op: Op, ready: Any, next_change: Any) -> Steps:
        """Wait until ``ready()`` (polling every :data:`POLL_S` or at ``next_change()``);
        return False when the deadline passes first."""
        while not ready():
            t = min(next_change(), self.env.now + POLL_S)
            if t > op.deadline_s:
                yield from self.until(op.deadline_s)
                return False
            yield from self.until(max(t, self.env.now + 1e-9))
        return True
