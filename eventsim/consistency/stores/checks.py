"""The guarantees of the weaker models, checked on a store run: convergence (eventual, CRDTs),
staleness bounds (bounded staleness) and CRDT invariants.

Anomalies (column ``anomaly``):

``divergent``
    At the end of the run, replicas hold different versions of a key (one row per replica
    and key, with the version it holds).
``garbage-read`` / ``aborted-read``
    A read returned a value no (successful) write wrote.
``time-bound`` / ``version-bound``
    A read returned a value that had been overwritten for more than ``max_staleness_s``
    seconds (``stale_for_s``), or was more than ``max_staleness_versions`` versions behind
    (``versions_behind``; see :func:`~eventsim.consistency.staleness`).
``lost-update``
    A CRDT's converged value lacks acknowledged updates: a counter below the sum of its ok
    increments (minus every decrement), an OR-set without an element that was added (ok)
    and never removed.
``phantom-update``
    A CRDT's converged value holds what no update (ok or unknown) explains: a counter above
    the sum of every increment, a set element never added.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import polars as pl

from eventsim.consistency.staleness import convergence_time, staleness
from eventsim.consistency.versions import READ_OPS, resolve_versions
from eventsim.verdict import CheckResult

if TYPE_CHECKING:
    from eventsim.consistency.stores.result import StoreResult

__all__ = [
    "STORE_ANOMALY_SCHEMA",
    "check_bounded_staleness",
    "check_convergence",
    "check_crdt",
]

STORE_ANOMALY_SCHEMA: dict[str, pl.DataType] = {
    "anomaly": pl.String(),
    "key": pl.String(),
    "replica": pl.String(),
    "row": pl.Int64(),
    "version": pl.Int64(),
    "detail": pl.String(),
}
"""Evidence of these checkers: the key, the replica (divergence), the history row (reads),
the version held or returned, and a short text."""


def _frame(rows: list[tuple[object, ...]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=STORE_ANOMALY_SCHEMA, orient="row")


def _bad_reads(history: pl.DataFrame) -> list[tuple[object, ...]]:
    v = resolve_versions(history).filter(pl.col("problem").is_not_null())
    return [
        (p, k, None, r, None, f"returned {t!r}")
        for p, k, r, t in v.select("problem", "key", "row", "text").iter_rows()
    ]


def _divergence(result: StoreResult) -> list[tuple[object, ...]]:
    final = result.final_state
    replicas = result.config.replica_names
    keys = final["key"].unique().sort()
    grid = (
        pl.DataFrame({"replica": replicas})
        .join(pl.DataFrame({"key": keys}), how="cross")
        .join(final.select("replica", "key", "version"), on=["replica", "key"], how="left")
        .with_columns(pl.col("version").fill_null(0))
    )
    split = (
        grid.group_by("key").agg(pl.col("version").n_unique().alias("n")).filter(pl.col("n") > 1)
    )
    bad = grid.join(split.select("key"), on="key").sort("key", "replica")
    return [
        ("divergent", k, r, None, v, "versions differ across replicas at the end")
        for r, k, v in bad.select("replica", "key", "version").iter_rows()
    ]


def check_convergence(result: StoreResult) -> CheckResult:
    """Eventual consistency: at the end of the run every replica holds the same version of
    every key, and every read returned a written value.

    Parameters
    ----------
    result
        A store run (its ``final_state``, ``replica_states`` and ``history``).

    Returns
    -------
    CheckResult
        ``valid`` False on ``divergent`` keys or garbage reads; ``anomalies`` in
        :data:`STORE_ANOMALY_SCHEMA`; ``info`` holds ``convergence_s`` (seconds from the heal,
        or from the end of the workload without partitions, until replicas first agree on
        every key; ``inf`` if never) and ``n_keys``.

    Examples
    --------
    >>> from eventsim.consistency.stores import StoreConfig, run_store
    >>> r = check_convergence(run_store(StoreConfig(model="eventual", duration_s=5, seed=3)))
    >>> r.valid, r.info["convergence_s"] < 1.0
    (True, True)
    """
    rows = _divergence(result)
    if result.config.model != "crdt" or result.config.crdt == "lww_register":
        rows += _bad_reads(result.history)
    conv = convergence_time(result.replica_states, result.heal_s)
    info = {"convergence_s": conv, "n_keys": result.final_state["key"].n_unique()}
    return CheckResult(not rows, _frame(rows), info)


def check_bounded_staleness(
    history: pl.DataFrame,
    *,
    max_staleness_s: float | None = None,
    max_staleness_versions: int | None = None,
) -> CheckResult:
    """Bounded staleness: no read was staler than Δ seconds or k versions.

    Parameters
    ----------
    history
        A history frame (written values unique per key).
    max_staleness_s
        Δ: the value a read returns must have been the latest committed one at some moment
        within Δ seconds before the read: its ``stale_for_s`` (see
        :func:`~eventsim.consistency.staleness`) must not exceed Δ; None: no time bound.
    max_staleness_versions
        k: a read's ``versions_behind`` must not exceed it; None: no version bound.

    Returns
    -------
    CheckResult
        ``valid`` False on ``time-bound``/``version-bound`` reads or garbage reads;
        ``anomalies`` in :data:`STORE_ANOMALY_SCHEMA`; ``info`` holds ``n_reads``,
        ``n_stale``, ``max_stale_for_s``, ``max_seconds_behind`` and ``max_versions_behind``.

    Examples
    --------
    >>> from eventsim.consistency.history import make_history
    >>> h = make_history([(0, "write", "x", "a", None, 0, 1), (0, "write", "x", "b", None, 2, 3),
    ...                   (1, "read", "x", None, "a", 5, 6)])
    >>> r = check_bounded_staleness(h, max_staleness_s=1.0, max_staleness_versions=1)
    >>> r.valid, r.anomalies.select("anomaly", "row", "detail").rows()
    (False, [('time-bound', 2, 'stale for 2.000 s (bound 1.0 s)')])
    """
    st = staleness(history)
    rows = _bad_reads(history)
    if max_staleness_s is not None:
        late = st.filter(pl.col("stale_for_s") > max_staleness_s + 1e-9)
        rows += [
            ("time-bound", k, None, r, v, f"stale for {s:.3f} s (bound {max_staleness_s} s)")
            for k, r, v, s in late.select("key", "row", "version", "stale_for_s").iter_rows()
        ]
    if max_staleness_versions is not None:
        behind = st.filter(pl.col("versions_behind") > max_staleness_versions)
        rows += [
            (
                "version-bound",
                k,
                None,
                r,
                v,
                f"{b} versions behind (bound {max_staleness_versions})",
            )
            for k, r, v, b in behind.select("key", "row", "version", "versions_behind").iter_rows()
        ]
    info = {
        "n_reads": st.height,
        "n_stale": st.filter(pl.col("versions_behind") > 0).height,
        "max_stale_for_s": float(st["stale_for_s"].max() or 0.0),
        "max_seconds_behind": float(st["seconds_behind"].max() or 0.0),
        "max_versions_behind": int(st["versions_behind"].max() or 0),
    }
    return CheckResult(not rows, _frame(rows).sort("row", "anomaly"), info)


def check_crdt(result: StoreResult) -> CheckResult:
    """Strong eventual consistency of a CRDT store: replicas converge, and the converged
    value keeps every acknowledged update and invents none.

    Counters: ``sum(ok increments) - sum(all decrements) <= value <= sum(all increments) -
    sum(ok decrements)`` (unknown-outcome updates may or may not count). OR-sets: elements
    added (ok) and never removed are present; every present element was added. Registers:
    the value was written.

    Returns
    -------
    CheckResult
        ``valid`` False on ``divergent``, ``lost-update`` or ``phantom-update``;
        ``anomalies`` in :data:`STORE_ANOMALY_SCHEMA`; ``info`` as
        :func:`check_convergence`'s.

    Examples
    --------
    >>> from eventsim.consistency.stores import StoreConfig, run_store
    >>> res = run_store(StoreConfig(model="crdt", crdt="pncounter", duration_s=5, seed=1))
    >>> check_crdt(res).valid
    True
    """
    base = check_convergence(result)
    rows = list(base.anomalies.iter_rows())
    h = result.history
    final = result.final_state.group_by("key").agg(pl.col("value").first()).sort("key")
    kind = result.config.crdt
    for key, text in final.iter_rows():
        ops = h.filter((pl.col("key") == key) & ~pl.col("op").is_in(READ_OPS))
        rows += _crdt_rows(kind, key, text, ops)
    return CheckResult(not rows, _frame(rows), base.info)


def _crdt_rows(
    kind: str, key: str, text: str | None, ops: pl.DataFrame
) -> list[tuple[object, ...]]:
    if kind in ("gcounter", "pncounter"):
        n = ops.with_columns(pl.col("value").cast(pl.Int64))

        def total(op: str, statuses: tuple[str, ...]) -> int:
            sel = n.filter((pl.col("op") == op) & pl.col("status").is_in(statuses))
            return int(sel["value"].sum() or 0)

        value = int(text or 0)
        low = total("increment", ("ok",)) - total("decrement", ("ok", "info"))
        high = total("increment", ("ok", "info")) - total("decrement", ("ok",))
        if value < low:
            return [("lost-update", key, None, None, None, f"value {value} < {low}")]
        if value > high:
            return [("phantom-update", key, None, None, None, f"value {value} > {high}")]
        return []
    if kind == "orset":
        present = set(json.loads(text or "[]"))
        added = set(ops.filter(pl.col("op") == "add")["value"].to_list())
        ok_added = set(ops.filter((pl.col("op") == "add") & (pl.col("status") == "ok"))["value"])
        removed = set(ops.filter(pl.col("op") == "remove")["value"].to_list())
        lost = sorted(ok_added - removed - present)
        phantom = sorted(present - added)
        return [("lost-update", key, None, None, None, f"lost {e!r}") for e in lost] + [
            ("phantom-update", key, None, None, None, f"phantom {e!r}") for e in phantom
        ]
    values = set(json.loads(text)) if kind == "mv_register" and text else {text}
    written = set(ops["value"].to_list())
    return [
        ("phantom-update", key, None, None, None, f"phantom {v!r}")
        for v in sorted(v for v in values if v is not None and v not in written)
    ]
