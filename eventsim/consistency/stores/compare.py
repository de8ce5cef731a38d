"""Compare consistency models: the same workload, replicas and faults under each model, with
latency, availability, staleness, anomalies and verdicts side by side."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import polars as pl

from eventsim.consistency.stores.config import StoreConfig
from eventsim.consistency.stores.registry import STORES
from eventsim.consistency.stores.result import StoreResult
from eventsim.consistency.stores.run import run_store
from eventsim.sim.result import RunResult

__all__ = ["ANOMALY_COLUMNS", "COMPARE_SCHEMA", "compare_consistency", "measure"]

ANOMALY_COLUMNS = {
    "read-your-writes": "read_your_writes",
    "monotonic-reads": "monotonic_reads",
    "monotonic-writes": "monotonic_writes",
    "writes-follow-reads": "writes_follow_reads",
    "causal-read": "causal_read",
}
"""Anomaly name (of :func:`~eventsim.consistency.check_session` and
:func:`~eventsim.consistency.check_causal`) → its count column."""

COMPARE_SCHEMA: dict[str, pl.DataType] = {
    "model": pl.String(),
    "settings": pl.String(),
    "ops": pl.Int64(),
    "availability": pl.Float64(),
    "read_availability": pl.Float64(),
    "write_availability": pl.Float64(),
    "read_p50_ms": pl.Float64(),
    "read_p99_ms": pl.Float64(),
    "write_p50_ms": pl.Float64(),
    "write_p99_ms": pl.Float64(),
    "stale_read_rate": pl.Float64(),
    "max_versions_behind": pl.Int64(),
    "max_stale_for_s": pl.Float64(),
    **{col: pl.Int64() for col in ANOMALY_COLUMNS.values()},
    "linearizable": pl.Boolean(),
    "own_check": pl.Boolean(),
    "convergence_s": pl.Float64(),
    "messages": pl.Int64(),
}
"""Columns of :func:`compare_consistency`: one row per model. Latencies of ok operations
(ms); availability = ok / all operations; ``stale_read_rate`` = ok reads that missed a
committed write / ok reads; ``max_versions_behind`` and ``max_stale_for_s`` (how long the
value returned had been overwritten) of the stalest read; anomaly counts; ``linearizable``
the verdict of :func:`~eventsim.consistency.check_linearizable` (null: budget ran out, or not
a register history); ``own_check`` the model's own guarantee (:meth:`StoreResult.check`);
``convergence_s`` seconds from the heal (or the end of the workload) until replicas agree.
Register-only figures are null for CRDT counters and sets."""


def _settings(config: StoreConfig) -> str:
    m = config.model
    if m == "quorum":
        majority = config.n_replicas // 2 + 1
        return f"R={config.r or majority} W={config.w or majority} N={config.n_replicas}"
    if m == "bounded":
        parts = []
        if config.max_staleness_s is not None:
            parts.append(f"Δ={config.max_staleness_s:g}s")
        if config.max_staleness_versions is not None:
            parts.append(f"k={config.max_staleness_versions}")
        return " ".join(parts)
    if m == "eventual":
        return f"clock={config.clock}"
    if m == "crdt":
        return f"crdt={config.crdt}"
    if m in ("linearizable", "sequential"):
        return f"leader=replica-{config.leader}"
    return ""


def _ms(series: pl.Series, q: float) -> float | None:
    if series.is_empty():
        return None
    return float(series.quantile(q, interpolation="linear") or 0.0)


def measure(result: StoreResult, *, time_budget_s: float = 5.0) -> dict[str, Any]:
    """One row of :func:`compare_consistency` for a finished run.

    Examples
    --------
    >>> from eventsim.consistency.stores import run_store
    >>> row = measure(run_store(model="eventual", duration_s=5, seed=1))
    >>> row["model"], row["availability"], row["own_check"]
    ('eventual', 1.0, True)
    """
    from eventsim.consistency.causal import check_causal
    from eventsim.consistency.linearizable import check_linearizable
    from eventsim.consistency.session import check_session
    from eventsim.consistency.staleness import convergence_time, staleness

    cfg = result.config
    h = result.history
    reads = pl.col("op").is_in(["read", "get"])
    ok = pl.col("status") == "ok"
    ms = (pl.col("complete_s") - pl.col("invoke_s")) * 1000.0
    r_ms = h.filter(reads & ok).select(ms.alias("ms"))["ms"]
    w_ms = h.filter(~reads & ok).select(ms.alias("ms"))["ms"]
    n_r = h.filter(reads).height
    n_w = h.height - n_r
    row: dict[str, Any] = dict.fromkeys(COMPARE_SCHEMA)
    row.update(
        model=cfg.model,
        settings=_settings(cfg),
        ops=h.height,
        availability=h.filter(ok).height / h.height if h.height else 1.0,
        read_availability=h.filter(reads & ok).height / n_r if n_r else 1.0,
        write_availability=h.filter(~reads & ok).height / n_w if n_w else 1.0,
        read_p50_ms=_ms(r_ms, 0.5),
        read_p99_ms=_ms(r_ms, 0.99),
        write_p50_ms=_ms(w_ms, 0.5),
        write_p99_ms=_ms(w_ms, 0.99),
        messages=result.messages,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # polars join_asof sortedness notes
        row["convergence_s"] = convergence_time(result.replica_states, result.heal_s)
        if cfg.model != "crdt" or cfg.crdt == "lww_register":
            st = staleness(h)
            stale = st.filter(pl.col("versions_behind") > 0).height
            row["stale_read_rate"] = stale / st.height if st.height else 0.0
            row["max_versions_behind"] = int(st["versions_behind"].max() or 0)
            row["max_stale_for_s"] = float(st["stale_for_s"].max() or 0.0)
            counts = {
                **check_session(h).info["counts"],
                **check_causal(h).info["counts"],
            }
            for name, col in ANOMALY_COLUMNS.items():
                row[col] = int(counts.get(name, 0))
            row["linearizable"] = check_linearizable(h, "register", time_budget_s).valid
        row["own_check"] = result.check().valid
    return row


def compare_consistency(
    config: StoreConfig | None = None,
    models: Sequence[str | StoreConfig] | None = None,
    *,
    time_budget_s: float = 5.0,
    log: RunResult | None = None,
) -> pl.DataFrame:
    """Run ``config`` under each model and measure the runs side by side.

    Parameters
    ----------
    config
        Workload, replicas, faults and seed shared by every run (default
        ``StoreConfig()``).
    models
        Model names (``config`` with ``model`` replaced) or whole configs; default every
        model of :data:`~eventsim.consistency.stores.STORES`. ``bounded`` without a bound in
        ``config`` runs with ``max_staleness_s=1.0``.
    time_budget_s
        Budget of each linearizability check (its verdict is null when it runs out).
    log
        Optional: a run whose event log drives every store (see
        :func:`~eventsim.consistency.stores.run_store`).

    Returns
    -------
    polars.DataFrame
        One row per model, columns :data:`COMPARE_SCHEMA`.

    Examples
    --------
    >>> from eventsim.faults import FaultSpec
    >>> cfg = StoreConfig(duration_s=10, seed=1,
    ...     faults=(FaultSpec("network_partition", "replica-0|replica-1,replica-2", 3.0, 4.0),))
    >>> t = compare_consistency(cfg, ["linearizable", "causal", "eventual"])
    >>> t.select("model", "linearizable", "own_check").rows()
    [('linearizable', True, True), ('causal', False, True), ('eventual', False, True)]
    >>> t["availability"].to_list()[0] < 1.0 == t["availability"].to_list()[2]
    True
    """
    base = config if config is not None else StoreConfig()
    rows = []
    for m in models if models is not None else list(STORES):
        if isinstance(m, StoreConfig):
            cfg = m
        elif m == "bounded" and not base.bounds_set:
            cfg = base.replace(model=m, max_staleness_s=1.0)
        else:
            cfg = base.replace(model=m)
        rows.append(measure(run_store(cfg, log=log), time_budget_s=time_budget_s))
    return (
        pl.DataFrame(rows, schema=COMPARE_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=COMPARE_SCHEMA)
    )
