"""StoreResult: the tables of one store run — history, routing trace, replica states — and
its headline figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from eventsim.consistency.stores.config import StoreConfig

if TYPE_CHECKING:
    from eventsim.verdict import CheckResult

__all__ = ["FINAL_STATE_SCHEMA", "TRACE_SCHEMA", "StoreResult"]

TRACE_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "actor": pl.String(),
    "client": pl.String(),
    "region": pl.String(),
    "replica": pl.String(),
    "served_s": pl.Float64(),
    "position": pl.Int64(),
}
"""Columns of :attr:`StoreResult.trace`, one row per history row (``row``): the workload
actor, the client node and its region, the replica that served the operation and when
(null if the request never arrived), and ``position`` (leader-log models: a write's index + 1
in the log, a read's log prefix; a sequential witness), else null."""

FINAL_STATE_SCHEMA: dict[str, pl.DataType] = {
    "replica": pl.String(),
    "key": pl.String(),
    "version": pl.Int64(),
    "value": pl.String(),
}
"""Columns of :attr:`StoreResult.final_state`: what each replica holds at the end."""


@dataclass
class StoreResult:
    """The outcome of :func:`~eventsim.consistency.stores.run_store`.

    Attributes
    ----------
    config
        The configuration that made it.
    history
        One row per client operation, in
        :data:`~eventsim.consistency.history.HISTORY_SCHEMA` plus ``version`` (Int64: for
        writes that reached a replica, their place in the key's final write order, 1, 2,
        ...; null otherwise). Sorted by ``invoke_s``.
    trace
        Where each operation was served (:data:`TRACE_SCHEMA`), row-aligned with
        ``history``.
    replica_states
        Every change of a replica's state: ``time_s`` Float64, ``replica`` String, ``key``
        String, ``version`` Int64 (as in ``history``; CRDT models: an id of the state),
        sorted by time; the input of :func:`~eventsim.consistency.convergence_time`.
    final_state
        What every replica holds at the end (:data:`FINAL_STATE_SCHEMA`).
    faults
        The faults (:data:`~eventsim.faults.FAULTS_SCHEMA`).
    messages
        Network messages sent.
    wall_s
        Wall-clock seconds the run took (not part of any table).

    Examples
    --------
    >>> from eventsim.consistency.stores import run_store
    >>> res = run_store(model="causal", duration_s=3, seed=1)
    >>> res.history.height == res.trace.height, res.check().valid
    (True, True)
    >>> res.final_state.columns
    ['replica', 'key', 'version', 'value']
    """

    config: StoreConfig
    history: pl.DataFrame
    trace: pl.DataFrame
    replica_states: pl.DataFrame
    final_state: pl.DataFrame
    faults: pl.DataFrame
    messages: int = 0
    wall_s: float = 0.0

    @property
    def heal_s(self) -> float:
        """End of the last partition, or of the workload when there is none."""
        heal = self.config.heal_s()
        return heal if heal > 0 else self.config.duration_s

    def check(self) -> CheckResult:
        """The model's own checker on this run (see each model's docstring).

        Examples
        --------
        >>> from eventsim.consistency.stores import run_store
        >>> run_store(model="sequential", duration_s=3, seed=1).check().info["method"]
        'witness'
        """
        from eventsim.consistency.stores.registry import get_store

        return get_store(self.config.model).check(self)

    def summary(self) -> dict[str, Any]:
        """Headline figures: operations, availability, latency, messages (deterministic).

        Examples
        --------
        >>> from eventsim.consistency.stores import StoreConfig, run_store
        >>> s = run_store(StoreConfig(model="eventual", duration_s=5, seed=1)).summary()
        >>> s["model"], s["ops"], s["availability"]
        ('eventual', 109, 1.0)
        """
        h = self.history
        lat = (pl.col("complete_s") - pl.col("invoke_s")) * 1000.0
        ok = h.filter(pl.col("status") == "ok")
        reads = pl.col("op").is_in(["read", "get"])
        r = ok.filter(reads).select(lat.alias("ms"))["ms"]
        w = ok.filter(~reads).select(lat.alias("ms"))["ms"]
        n_reads = h.filter(reads).height
        return {
            "model": self.config.model,
            "ops": h.height,
            "reads": n_reads,
            "writes": h.height - n_reads,
            "availability": round(ok.height / h.height, 4) if h.height else 1.0,
            "read_availability": round(ok.filter(reads).height / n_reads, 4) if n_reads else 1.0,
            "read_p50_ms": _q(r, 0.5),
            "read_p99_ms": _q(r, 0.99),
            "write_p50_ms": _q(w, 0.5),
            "write_p99_ms": _q(w, 0.99),
            "messages": self.messages,
        }


def _q(series: pl.Series, q: float) -> float | None:
    if series.is_empty():
        return None
    return round(float(series.quantile(q, interpolation="linear") or 0.0), 3)
