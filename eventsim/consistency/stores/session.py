"""Session guarantees with client version tokens (Terry et al., 1994, as in Bayou).

The replicas are the eventual store's (last-writer-wins, Lamport stamps, gossip), but every
client carries a token per key: the largest stamp it has read or written. A replica serves
a read only once its value of the key is at least the token (read-your-writes, monotonic
reads), and a write only once it has caught up with the token (writes-follow-reads,
monotonic writes: the new Lamport stamp is then larger). A replica that cannot catch up
before the timeout makes the client wait and fail: sessions trade availability for their
guarantees, per key (across keys, causality is not promised). Checker:
:func:`~eventsim.consistency.check_session`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsim.consistency.stores._replica import LwwReplica
from eventsim.consistency.stores.base import Op, Steps, StoreContext
from eventsim.consistency.stores.eventual import EventualStore

if TYPE_CHECKING:
    from eventsim.consistency.stores.result import StoreResult
    from eventsim.verdict import CheckResult

__all__ = ["SessionStore"]


class SessionStore(EventualStore):
    """Eventual replicas plus per-session version tokens (see the module docstring).

    Examples
    --------
    >>> from eventsim.consistency.stores import StoreConfig, run_store
    >>> res = run_store(StoreConfig(model="session", duration_s=5, seed=1))
    >>> res.check().valid
    True
    """

    name = "session"
    summary = "eventual replicas + client version tokens: RYW, MR, MW, WFR per key"
    clock = "lamport"

    def __init__(self, ctx: StoreContext) -> None:
        super().__init__(ctx)
        self.tokens: list[dict[str, Any]] = [{} for _ in range(self.config.n_clients)]

    def before(self, op: Op, replica: LwwReplica) -> Steps:
        """Wait until the replica's value of the key is at least the session's token."""
        token = self.tokens[op.process].get(op.key, ())
        if not token:
            return True

        def ready() -> bool:
            replica.advance(self.env.now)
            return bool(replica.key_stamp(op.key) >= token)

        return (yield from self.wait_for(op, ready, replica.next_change))

    def after_read(self, op: Op, replica: LwwReplica) -> None:
        """Raise the token to the stamp read."""
        self._raise(op, replica.key_stamp(op.key))

    def write(self, op: Op, replica: LwwReplica, t: float) -> int:
        """Write, and raise the token to the new stamp."""
        w = super().write(op, replica, t)
        self._raise(op, self.ctx.write_stamp[w])
        return w

    def _raise(self, op: Op, stamp: Any) -> None:
        tokens = self.tokens[op.process]
        if stamp and stamp > tokens.get(op.key, ()):
            tokens[op.key] = stamp

    @classmethod
    def check(cls, result: StoreResult) -> CheckResult:
        """Read-your-writes, monotonic reads, monotonic writes, writes-follow-reads."""
        from eventsim.consistency.session import check_session

        return check_session(result.history)
