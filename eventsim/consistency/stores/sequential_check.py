"""Sequential consistency of register histories (Lamport, 1979): is there one total order of
the operations that respects every process's order and in which each read returns the
latest write of its key?

Two ways to decide it:

*witness*
    The store says where each operation took effect (a leader's log position: a write's
    index + 1, a read's prefix). The order ``(position, writes before reads)`` is checked
    in one pass: every read must return the last write of its key at or before its
    position, and each process's operations must come in its own order. A witness that
    passes proves the history sequential.
*search*
    Without a witness (or when it fails), a depth-first search over the processes' next
    operations, with memoisation of ``(progress, state)``: enabled reads are taken at once
    (they change nothing), writes are branched on, writes with unknown outcome may be
    skipped. Exponential in the worst case; bounded by ``time_budget_s``.

Anomalies: ``read-not-explained`` and ``session-order`` (the witness fails there) and
``not-sequential`` (the search found no order: the blocked operations of its deepest
configuration).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import polars as pl

from eventsim.consistency.history import validate_history
from eventsim.exceptions import DataFormatError
from eventsim.verdict import CheckResult

__all__ = ["SEQUENTIAL_SCHEMA", "check_sequential"]

SEQUENTIAL_SCHEMA: dict[str, pl.DataType] = {
    "anomaly": pl.String(),
    "row": pl.Int64(),
    "process": pl.Int64(),
    "op": pl.String(),
    "key": pl.String(),
    "output": pl.String(),
    "expected": pl.String(),
    "position": pl.Int64(),
}
"""Evidence: the operation (history ``row``), what it returned and what the order implies
(``expected``; null for the initial value), its witness ``position``."""

_READS = ("read", "get")
_WRITES = ("write", "put")


def _ops(history: pl.DataFrame) -> pl.DataFrame:
    frame = (
        validate_history(history).with_row_index("row").with_columns(pl.col("row").cast(pl.Int64))
    )
    other = frame.filter(~pl.col("op").is_in([*_READS, *_WRITES]))
    if other.height:
        msg = (
            f"check_sequential handles read/write (get/put) registers; row {other['row'][0]} "
            f"is {other['op'][0]!r}"
        )
        raise DataFormatError(msg)
    reads = pl.col("op").is_in(_READS) & (pl.col("status") == "ok")
    writes = pl.col("op").is_in(_WRITES) & pl.col("status").is_in(["ok", "info"])
    return frame.filter(reads | writes).with_columns(
        pl.col("op").is_in(_READS).alias("is_read"),
        pl.col("key").fill_null(""),
        pl.when(pl.col("output") == "").then(None).otherwise(pl.col("output")).alias("output"),
    )


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SEQUENTIAL_SCHEMA)


def _witness(ops: pl.DataFrame, position: pl.Series) -> pl.DataFrame:
    """Anomalies of the order given by ``position`` (empty when it is a witness)."""
    ops = ops.join(
        pl.DataFrame({"row": pl.int_range(position.len(), eager=True), "position": position}).cast(
            {"row": pl.Int64, "position": pl.Int64}
        ),
        on="row",
        how="left",
    )
    # info writes without a position never took effect; ok ones must have one
    ops = ops.filter(pl.col("position").is_not_null() | (pl.col("status") == "ok"))
    missing = ops.filter(pl.col("position").is_null())
    if missing.height:
        return missing.with_columns(
            pl.lit("session-order").alias("anomaly"), pl.lit(None, pl.String).alias("expected")
        ).select(list(SEQUENTIAL_SCHEMA))
    writes = ops.filter(~pl.col("is_read")).select(
        "key", "position", pl.col("value").alias("expected")
    )
    reads = ops.filter(pl.col("is_read")).sort("position")
    explained = reads.join_asof(
        writes.sort("position"),
        on="position",
        by="key",
        strategy="backward",
        check_sortedness=False,
    )
    wrong = explained.filter(pl.col("output").ne_missing(pl.col("expected"))).with_columns(
        pl.lit("read-not-explained").alias("anomaly")
    )
    order = (pl.col("position") * 2 + pl.col("is_read").cast(pl.Int64)).alias("order")
    seq = ops.sort("process", "invoke_s", "row").with_columns(order)
    back = seq.with_columns(
        pl.col("order").cum_max().shift(1).over("process").alias("before")
    ).filter(pl.col("order") < pl.col("before"))
    back = back.with_columns(
        pl.lit("session-order").alias("anomaly"), pl.lit(None, pl.String).alias("expected")
    )
    cols = list(SEQUENTIAL_SCHEMA)
    return pl.concat([wrong.select(cols), back.select(cols)]).sort("row", "anomaly")


def _search(ops: pl.DataFrame, budget_s: float) -> tuple[bool | None, list[int], int]:
    """DFS for a sequential order; (verdict, blocked rows at the deepest point, steps)."""
    ops = ops.sort("process", "invoke_s", "row")
    keys = {k: i for i, k in enumerate(ops["key"].unique(maintain_order=True).to_list())}
    procs: list[list[tuple[bool, int, Any, bool, int, float]]] = []
    for _, part in ops.group_by("process", maintain_order=True):
        procs.append(
            [
                (r, keys[k], out if r else val, st == "info", row, t)
                for r, k, out, val, st, row, t in part.select(
                    "is_read", "key", "output", "value", "status", "row", "invoke_s"
                ).iter_rows()
            ]
        )
    ends = tuple(len(p) for p in procs)
    deadline = time.perf_counter() + budget_s if budget_s > 0 else float("inf")

    def close(pos: list[int], vals: tuple[Any, ...]) -> None:
        moved = True
        while moved:
            moved = False
            for p, ops_p in enumerate(procs):
                while pos[p] < ends[p]:
                    is_read, k, v = ops_p[pos[p]][:3]
                    if not is_read or vals[k] != v:
                        break
                    pos[p] += 1
                    moved = True

    start = [0] * len(procs)
    vals0: tuple[Any, ...] = (None,) * len(keys)
    close(start, vals0)
    stack = [(tuple(start), vals0)]
    seen = {stack[0]}
    best = (sum(start), stack[0][0])
    steps = 0
    while stack:
        steps += 1
        if not steps & 1023 and time.perf_counter() > deadline:
            return None, [], steps
        pos, vals = stack.pop()
        if pos == ends:
            return True, [], steps
        if sum(pos) > best[0]:
            best = (sum(pos), pos)
        # push the latest-invoked write first, so the earliest is tried first (real time
        # is usually a good guess)
        nexts = [(procs[p][pos[p]][5], p) for p in range(len(procs)) if pos[p] < ends[p]]
        for _, p in sorted(nexts, reverse=True):
            is_read, k, v, unknown = procs[p][pos[p]][:4]
            if is_read:
                continue
            options = [(*vals[:k], v, *vals[k + 1 :])]
            if unknown:
                options.append(vals)
            for new in options:
                nxt = list(pos)
                nxt[p] += 1
                close(nxt, new)
                state = (tuple(nxt), new)
                if state not in seen:
                    seen.add(state)
                    stack.append(state)
    pos = best[1]
    blocked = [procs[p][pos[p]][4] for p in range(len(procs)) if pos[p] < ends[p]]
    return False, blocked, steps


def check_sequential(
    history: pl.DataFrame,
    *,
    witness: Sequence[int | None] | pl.Series | None = None,
    time_budget_s: float = 5.0,
) -> CheckResult:
    """Check that a read/write register history is sequentially consistent.

    Parameters
    ----------
    history
        A history frame with ``read``/``write`` (or ``get``/``put``) operations; written
        values unique per key; a null (or empty) read output is the initial value.
    witness
        Optional, one entry per history row: where the operation took effect (e.g.
        ``StoreResult.trace["position"]``); null for operations that took no effect.
    time_budget_s
        Budget of the search (0 or less: none); the verdict is None when it runs out.

    Returns
    -------
    CheckResult
        ``valid`` True (a witness passed, or the search found an order), False, or None;
        ``anomalies`` in :data:`SEQUENTIAL_SCHEMA`; ``info`` holds ``method``
        (``witness`` | ``search``), ``n_ops`` and, after a search, ``steps``.

    Raises
    ------
    DataFormatError
        Malformed history, an operation other than read/write/get/put, or a witness of
        the wrong length.

    Examples
    --------
    >>> from eventsim.consistency.history import make_history

    Process 1 reads ``b`` and then ``a``: any order keeping process 0's ``a`` before ``b``
    puts both reads after ``b``. Not sequential:

    >>> h = make_history([(0, "write", "x", "a", None, 0, 1), (0, "write", "x", "b", None, 2, 3),
    ...                   (1, "read", "x", None, "b", 4, 5), (1, "read", "x", None, "a", 6, 7)])
    >>> check_sequential(h).valid
    False

    A reader that lags behind but never goes back is sequential:

    >>> h2 = make_history([(0, "write", "x", "a", None, 0, 1), (0, "write", "x", "b", None, 2, 3),
    ...                    (1, "read", "x", None, "a", 4, 5), (1, "read", "x", None, "b", 6, 7)])
    >>> r = check_sequential(h2, witness=[1, 2, 1, 2])
    >>> r.valid, r.info["method"]
    (True, 'witness')
    """
    ops = _ops(history)
    info: dict[str, Any] = {"n_ops": ops.height}
    failed = None
    if witness is not None:
        position = pl.Series(
            "position",
            list(witness) if not isinstance(witness, pl.Series) else witness,
            dtype=pl.Int64,
        )
        if position.len() != history.height:
            msg = (
                f"check_sequential: witness has {position.len()} entries for {history.height} rows"
            )
            raise DataFormatError(msg)
        failed = _witness(ops, position)
        if failed.is_empty():
            return CheckResult(True, _empty(), {**info, "method": "witness"})
    verdict, blocked, steps = _search(ops, time_budget_s)
    info.update(method="search", steps=steps)
    if verdict is not False:
        return CheckResult(verdict, _empty(), info)
    if failed is None or failed.is_empty():
        failed = (
            ops.filter(pl.col("row").is_in(blocked))
            .with_columns(
                pl.lit("not-sequential").alias("anomaly"),
                pl.lit(None, pl.String).alias("expected"),
                pl.lit(None, pl.Int64).alias("position"),
            )
            .select(list(SEQUENTIAL_SCHEMA))
        )
    return CheckResult(
        False, failed.select([pl.col(c).cast(t) for c, t in SEQUENTIAL_SCHEMA.items()]), info
    )
