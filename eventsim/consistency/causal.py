"""Causal consistency of reads: no read may miss a write in its causal past.

*Happens-before* (→) is the transitive closure of session order (earlier operation of the
same process, by invocation) and *reads-from* (a write → every read that returned its value;
versions as in :mod:`eventsim.consistency.versions`). The rule checked:

``causal-read``
    A read ``r`` of key ``k`` returned write ``w`` (or the initial value), yet some write
    ``w'`` of ``k`` has ``w' → r`` and ``w → w'`` (or ``r`` returned the initial value):
    ``r`` missed a write that it causally depends on and that causally overwrote what it
    returned. Concurrent writes may be seen in either order (no violation).
``causal-cycle``
    Happens-before has a cycle (e.g. a read returned a write its own session issued later);
    the operations on cycles are listed; reads on or after a cycle are not checked for
    ``causal-read``.

This catches read-your-writes, monotonic reads and writes-follow-reads violations across keys
(a session reads ``x`` written after ``y``, then reads an older ``y``). Garbage and aborted
reads are reported as by :func:`eventsim.consistency.check_session`.

Happens-before is computed with one vector clock per operation (a Python loop over the
operations, ``O(n · processes)``).
"""

from __future__ import annotations

import bisect
from collections import defaultdict, deque

import numpy as np
import polars as pl

from eventsim.consistency.versions import resolve_versions
from eventsim.verdict import CheckResult

__all__ = ["CAUSAL_SCHEMA", "check_causal"]

CAUSAL_SCHEMA: dict[str, pl.DataType] = {
    "anomaly": pl.String(),
    "process": pl.Int64(),
    "key": pl.String(),
    "row": pl.Int64(),
    "output": pl.String(),
    "source_row": pl.Int64(),
    "missed_row": pl.Int64(),
    "missed_process": pl.Int64(),
    "missed_value": pl.String(),
    "invoke_s": pl.Float64(),
    "complete_s": pl.Float64(),
}
"""Evidence: the read (``row``, ``output``), the write it returned (``source_row``, null for
the initial value) and the causally-earlier write it missed (``missed_*``)."""


def check_causal(history: pl.DataFrame) -> CheckResult:
    """Check that every read sees the writes in its causal past (rules above).

    Parameters
    ----------
    history
        A history frame; written values unique per key.

    Returns
    -------
    CheckResult
        ``valid`` False on any ``causal-read``, ``causal-cycle``, ``garbage-read`` or
        ``aborted-read``; ``anomalies`` in :data:`CAUSAL_SCHEMA`, sorted by ``row``;
        ``info`` holds ``n_ops`` (in the graph) and ``counts``.

    Raises
    ------
    DataFormatError
        The history is malformed or two writes of one key share a value.

    Examples
    --------
    >>> from eventsim.consistency.history import make_history
    >>> h = make_history([
    ...     (0, "write", "x", "x1", None, 0, 1), (0, "write", "y", "y1", None, 2, 3),
    ...     (1, "read", "y", None, "y1", 4, 5), (1, "read", "x", None, None, 6, 7)])
    >>> r = check_causal(h)
    >>> r.anomalies.select("anomaly", "row", "output", "missed_row", "missed_value").rows()
    [('causal-read', 3, None, 0, 'x1')]
    """
    versions = resolve_versions(history)
    problems = versions.filter(pl.col("problem").is_not_null())
    ops = versions.filter(pl.col("problem").is_null()).sort("process", "invoke_s", "row")
    rows = ops["row"].to_list()
    index = {r: i for i, r in enumerate(rows)}
    procs = ops["process"].to_list()
    roles = ops["role"].to_list()
    keys = ops["key"].to_list()
    sources = ops["source_row"].to_list()
    texts = ops["text"].to_list()
    n = len(rows)
    pid = {p: j for j, p in enumerate(dict.fromkeys(procs))}
    seq = [0] * n
    succ: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    last: dict[int, int] = {}
    for i in range(n):
        p = procs[i]
        seq[i] = seq[last[p]] + 1 if p in last else 1
        if p in last:
            succ[last[p]].append(i)
            indeg[i] += 1
        last[p] = i
        src = sources[i]
        if src is not None and src in index:
            succ[index[src]].append(i)
            indeg[i] += 1
    order, stuck = _topological(succ, indeg)
    vc = np.zeros((n, len(pid)), dtype=np.int64)
    preds: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        for j in succ[i]:
            preds[j].append(i)
    for i in order:
        for j in preds[i]:
            np.maximum(vc[i], vc[j], out=vc[i])
        vc[i, pid[procs[i]]] = seq[i]
    # per (key, process): the writes' session positions, ascending, and their op indices
    writes: dict[tuple[str | None, int], tuple[list[int], list[int]]] = defaultdict(
        lambda: ([], [])
    )
    for i in order:
        if roles[i] == "write":
            w = writes[(keys[i], pid[procs[i]])]
            w[0].append(seq[i])
            w[1].append(i)
    for w in writes.values():
        pairs = sorted(zip(w[0], w[1]))
        w[0][:] = [a for a, _ in pairs]
        w[1][:] = [b for _, b in pairs]
    by_key: dict[str | None, list[tuple[int, list[int], list[int]]]] = defaultdict(list)
    for (k, q), (s, idx) in writes.items():
        by_key[k].append((q, s, idx))
    version = ops["version"].to_list()
    found: list[tuple[int, int]] = []  # (read op index, missed write op index)
    blocked = set(stuck)
    for i in order:
        if roles[i] != "read":
            continue
        src = sources[i]
        w = index.get(src) if src is not None else None
        if w is not None and w in blocked:
            continue
        missed = -1
        for q, s, idx in by_key.get(keys[i], ()):
            pos = bisect.bisect_right(s, vc[i, q]) - 1
            if pos < 0:
                continue
            cand = idx[pos]  # the latest write of (key, q) in r's causal past
            if cand == w:
                continue
            newer = w is None or vc[cand, pid[procs[w]]] >= seq[w]
            if newer and (missed < 0 or version[cand] > version[missed]):
                missed = cand
        if missed >= 0:
            found.append((i, missed))
    reads = ops[[i for i, _ in found]].with_columns(
        pl.lit("causal-read").alias("anomaly"),
        pl.col("text").alias("output"),
        pl.Series("missed_row", [rows[m] for _, m in found], dtype=pl.Int64),
        pl.Series("missed_process", [procs[m] for _, m in found], dtype=pl.Int64),
        pl.Series("missed_value", [texts[m] for _, m in found], dtype=pl.String),
    )
    cycles = ops[sorted(stuck)].with_columns(
        pl.lit("causal-cycle").alias("anomaly"), pl.col("text").alias("output")
    )
    others = problems.with_columns(
        pl.col("problem").alias("anomaly"), pl.col("text").alias("output")
    )
    anomalies = pl.concat(
        [
            f.with_columns(
                [pl.lit(None).alias(c) for c in CAUSAL_SCHEMA if c not in f.columns]
            ).select([pl.col(c).cast(t) for c, t in CAUSAL_SCHEMA.items()])
            for f in (reads, cycles, others)
        ]
    ).sort("row", "anomaly")
    counts = {"causal-read": 0, "causal-cycle": 0}
    counts.update(dict(anomalies.group_by("anomaly").len().iter_rows()))
    return CheckResult(anomalies.is_empty(), anomalies, {"n_ops": n, "counts": counts})


def _topological(succ: list[list[int]], indeg: list[int]) -> tuple[list[int], list[int]]:
    """Kahn's order, and the nodes on or between cycles (neither source- nor sink-reachable)."""
    deg = indeg.copy()
    queue = deque(i for i, d in enumerate(deg) if d == 0)
    order: list[int] = []
    while queue:
        i = queue.popleft()
        order.append(i)
        for j in succ[i]:
            deg[j] -= 1
            if deg[j] == 0:
                queue.append(j)
    left = set(range(len(succ))).difference(order)
    if not left:
        return order, []
    # drop nodes that only lead out of the knot (no successor left): what remains is cyclic
    out = {i: sum(1 for j in succ[i] if j in left) for i in left}
    preds: dict[int, list[int]] = defaultdict(list)
    for i in left:
        for j in succ[i]:
            if j in left:
                preds[j].append(i)
    sinks = deque(i for i, d in out.items() if d == 0)
    while sinks:
        i = sinks.popleft()
        left.discard(i)
        for j in preds[i]:
            out[j] -= 1
            if out[j] == 0:
                sinks.append(j)
    return order, sorted(left)
