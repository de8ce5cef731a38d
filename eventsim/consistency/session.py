"""Session guarantees (Terry et al., 1994) checked per process and key on a history.

A *session* is a process. Versions follow :mod:`eventsim.consistency.versions` (a read's
version is the position, in the key's order of committed writes, of the write it returned).
For each read or write ``b`` of session ``s`` on key ``k``, and every earlier operation ``a``
of ``s`` on ``k`` (session order: invocation order within the process):

``read-your-writes``
    ``a`` a write, ``b`` a read: ``version(b) >= version(a)``.
``monotonic-reads``
    ``a`` and ``b`` reads: ``version(b) >= version(a)``.
``monotonic-writes``
    ``a`` and ``b`` writes: ``version(b) > version(a)`` (only a ``version`` column or commit
    times that disagree with session order can break it).
``writes-follow-reads``
    ``a`` a read, ``b`` a write: ``version(b) > version(a)``.

Only the earlier operation with the highest version is named as evidence. Reads that return
a value no write wrote are reported as ``garbage-read`` (or ``aborted-read``). Guarantees
across keys are what :func:`eventsim.consistency.check_causal` checks.
"""

from __future__ import annotations

import polars as pl

from eventsim.consistency.versions import resolve_versions
from eventsim.verdict import CheckResult

__all__ = ["SESSION_ANOMALIES", "SESSION_SCHEMA", "check_session"]

SESSION_ANOMALIES = (
    "read-your-writes",
    "monotonic-reads",
    "monotonic-writes",
    "writes-follow-reads",
)
"""The guarantees :func:`check_session` checks, as anomaly names."""

SESSION_SCHEMA: dict[str, pl.DataType] = {
    "anomaly": pl.String(),
    "process": pl.Int64(),
    "key": pl.String(),
    "row": pl.Int64(),
    "op": pl.String(),
    "version": pl.Int64(),
    "earlier_row": pl.Int64(),
    "earlier_op": pl.String(),
    "earlier_version": pl.Int64(),
    "invoke_s": pl.Float64(),
    "complete_s": pl.Float64(),
}
"""Evidence columns: the violating op (``row``, ``op``, ``version``) and the earlier op of the
same session it contradicts (``earlier_*``); versions as in
:mod:`eventsim.consistency.versions`. Garbage/aborted reads have null ``earlier_*``."""

# (anomaly, role of the earlier op, role of the violating op, strict)
_RULES = (
    ("read-your-writes", "write", "read", False),
    ("monotonic-reads", "read", "read", False),
    ("monotonic-writes", "write", "write", True),
    ("writes-follow-reads", "read", "write", True),
)


def check_session(history: pl.DataFrame) -> CheckResult:
    """Check read-your-writes, monotonic reads, monotonic writes and writes-follow-reads.

    Parameters
    ----------
    history
        A history frame; written values unique per key (see
        :mod:`eventsim.consistency.versions`). Uses the ``version`` column if present.

    Returns
    -------
    CheckResult
        ``valid`` False when any guarantee is broken or a read returned a value nobody
        wrote; ``anomalies`` in :data:`SESSION_SCHEMA`, sorted by ``row``; ``info`` holds
        ``n_reads``, ``n_writes`` and ``counts`` (anomaly → rows, every name present).

    Raises
    ------
    DataFormatError
        The history is malformed or two writes of one key share a value.

    Examples
    --------
    >>> from eventsim.consistency.history import make_history
    >>> h = make_history([(0, "write", "x", "a", None, 0, 1), (0, "write", "x", "b", None, 2, 3),
    ...                   (0, "read", "x", None, "a", 4, 5)])
    >>> r = check_session(h)
    >>> cols = ["anomaly", "row", "version", "earlier_row", "earlier_version"]
    >>> r.valid, r.anomalies.select(cols).rows()
    (False, [('read-your-writes', 2, 1, 1, 2)])
    """
    versions = resolve_versions(history)
    good = versions.filter(pl.col("version").is_not_null()).sort("process", "invoke_s", "row")
    n = max(int(versions["row"].max() or 0) + 1, 1)
    found = []
    for anomaly, before, after, strict in _RULES:
        # the earlier op of role `before` with the highest version, per (process, key)
        code = pl.when(pl.col("role") == before).then(pl.col("version") * n + pl.col("row"))
        prior = code.cum_max().forward_fill().shift(1).over("process", "key")
        marked = good.with_columns(prior.alias("prior")).filter(
            (pl.col("role") == after) & pl.col("prior").is_not_null()
        )
        marked = marked.with_columns(
            (pl.col("prior") // n).alias("earlier_version"),
            (pl.col("prior") % n).alias("earlier_row"),
        )
        broken = (
            pl.col("version") <= pl.col("earlier_version")
            if strict
            else pl.col("version") < pl.col("earlier_version")
        )
        found.append(marked.filter(broken).with_columns(pl.lit(anomaly).alias("anomaly")))
    problems = versions.filter(pl.col("problem").is_not_null()).with_columns(
        pl.col("problem").alias("anomaly"),
        pl.lit(None, dtype=pl.Int64).alias("earlier_version"),
        pl.lit(None, dtype=pl.Int64).alias("earlier_row"),
    )
    cols = [c for c in SESSION_SCHEMA if c != "earlier_op"]
    anomalies = pl.concat([f.select(cols) for f in [*found, problems]])
    ops = versions.select(pl.col("row").alias("earlier_row"), pl.col("op").alias("earlier_op"))
    anomalies = (
        anomalies.join(ops, on="earlier_row", how="left")
        .select([pl.col(c).cast(t) for c, t in SESSION_SCHEMA.items()])
        .sort("row", "anomaly")
    )
    counts = dict.fromkeys(SESSION_ANOMALIES, 0)
    counts.update(dict(anomalies.group_by("anomaly").len().iter_rows()))
    info = {
        "n_reads": versions.filter(pl.col("role") == "read").height,
        "n_writes": versions.filter(pl.col("role") == "write").height,
        "counts": counts,
    }
    return CheckResult(anomalies.is_empty(), anomalies, info)
