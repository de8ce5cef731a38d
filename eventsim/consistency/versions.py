"""Versions: which write each read returned, and the per-key order of committed writes.

The session, causal and staleness analyses rest on these rules:

- *Writes* are rows with op ``write``/``put`` and ``cas`` (it writes ``b``), status ok or
  info. Written values must be unique per key (so a read names the write it saw).
  ``append`` rows are ignored (a read of an appended string names no single write).
- *Reads* are rows with op ``read``/``get`` and status ok. A read *returned* the write whose
  value equals its output; a null (or ``""``) output that no write wrote is the initial
  version 0. Any other output is a ``garbage-read`` (no write wrote it) or an
  ``aborted-read`` (only a failed write did).
- A write is *committed* if its status is ok, or it is an info write some read returned.
  Its *commit time* ``commit_s`` is its completion, or the completion of the first read that
  returned it if that came earlier.
- The per-key *version order* is the ``version`` column when the history has one and every
  committed write of the key carries it; otherwise the order of ``commit_s`` (ties by
  ``invoke_s``, then row). Versions are numbered 1, 2, ... in that order; 0 is the initial
  value.
"""

from __future__ import annotations

import polars as pl

from eventsim.consistency.history import validate_history
from eventsim.exceptions import DataFormatError

__all__ = ["READ_OPS", "VERSIONS_SCHEMA", "WRITE_OPS", "resolve_versions"]

WRITE_OPS = ("write", "put", "cas")
READ_OPS = ("read", "get")
_NULL_KEY = "\x00<no key>"

VERSIONS_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "process": pl.Int64(),
    "key": pl.String(),
    "role": pl.String(),
    "op": pl.String(),
    "text": pl.String(),
    "version": pl.Int64(),
    "invoke_s": pl.Float64(),
    "complete_s": pl.Float64(),
    "commit_s": pl.Float64(),
    "source_row": pl.Int64(),
    "problem": pl.String(),
}
"""Columns of :func:`resolve_versions`."""


def resolve_versions(history: pl.DataFrame) -> pl.DataFrame:
    """One row per committed write and per ok read, with its version (rules above).

    Returns
    -------
    polars.DataFrame
        ``row`` (Int64, row in ``history``), ``process``, ``key``, ``role`` ("write" |
        "read"), ``op``, ``text`` (value written / output read), ``version`` (Int64: the
        version a write installed or a read returned; null for garbage reads),
        ``invoke_s``, ``complete_s``, ``commit_s`` (writes; null for reads), ``source_row``
        (reads: the write returned, null for the initial value), ``problem`` (String:
        ``garbage-read`` | ``aborted-read`` | null). Sorted by ``row``.

    Raises
    ------
    DataFormatError
        Two writes of one key wrote the same value.

    Examples
    --------
    >>> from eventsim.consistency.history import make_history
    >>> h = make_history([(0, "write", "x", "a", None, 0, 1), (1, "read", "x", None, "a", 2, 3),
    ...                   (1, "read", "x", None, None, 0, 0.5)])
    >>> resolve_versions(h).select("row", "role", "version", "commit_s", "source_row").rows()
    [(0, 'write', 1, 1.0, None), (1, 'read', 0, None, None), (2, 'read', 1, None, 0)]
    """
    frame = (
        validate_history(history)
        .with_row_index("row")
        .with_columns(pl.col("row").cast(pl.Int64), pl.col("key").fill_null(_NULL_KEY))
    )
    has_version = "version" in frame.columns
    if not has_version:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Int64).alias("version"))
    text = (
        pl.when(pl.col("op") == "cas")
        .then(pl.col("value").str.json_decode(pl.List(pl.String)).list.get(1, null_on_oob=True))
        .otherwise(pl.col("value"))
    )
    writes_all = frame.filter(pl.col("op").is_in(WRITE_OPS)).with_columns(text.alias("text"))
    writes = writes_all.filter(
        pl.col("status").is_in(["ok", "info"]) & pl.col("text").is_not_null()
    )
    dup = writes.group_by("key", "text").agg(pl.col("row")).filter(pl.col("row").list.len() > 1)
    if dup.height:
        k, v, rows = dup.sort("key", "text").row(0)
        key = None if k == _NULL_KEY else k
        msg = (
            f"writes must carry unique values per key; key {key!r} value {v!r} is written by "
            f"rows {sorted(rows)}"
        )
        raise DataFormatError(msg)
    reads = frame.filter(pl.col("op").is_in(READ_OPS) & (pl.col("status") == "ok"))
    reads = reads.join(
        writes.select("key", pl.col("text").alias("output"), pl.col("row").alias("source_row")),
        on=["key", "output"],
        how="left",
    )
    failed = (
        writes_all.filter(pl.col("status") == "fail")
        .select("key", pl.col("text").alias("output"), pl.lit(True).alias("aborted"))
        .unique()
    )
    reads = reads.join(failed, on=["key", "output"], how="left").with_columns(
        pl.when(pl.col("source_row").is_not_null() | pl.col("output").fill_null("").eq(""))
        .then(None)
        .when(pl.col("aborted").fill_null(False))
        .then(pl.lit("aborted-read"))
        .otherwise(pl.lit("garbage-read"))
        .alias("problem")
    )
    seen = reads.group_by("source_row").agg(pl.col("complete_s").min().alias("seen_s"))
    writes = (
        writes.join(seen, left_on="row", right_on="source_row", how="left")
        .filter((pl.col("status") == "ok") | pl.col("seen_s").is_not_null())
        .with_columns(pl.min_horizontal("complete_s", "seen_s").alias("commit_s"))
    )
    by_column = writes.group_by("key").agg(pl.col("version").is_not_null().all().alias("use"))
    writes = writes.join(by_column, on="key").sort(
        "key",
        pl.when(pl.col("use")).then(pl.col("version")).otherwise(None),
        "commit_s",
        "invoke_s",
        "row",
    )
    writes = writes.with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("key").alias("version")
    )
    reads = reads.join(
        writes.select(pl.col("row").alias("source_row"), pl.col("version").alias("v")),
        on="source_row",
        how="left",
    ).with_columns(
        pl.when(pl.col("problem").is_null())
        .then(pl.col("v").fill_null(0))
        .otherwise(None)
        .alias("version"),
        pl.col("output").alias("text"),
        pl.lit(None, dtype=pl.Float64).alias("commit_s"),
    )
    out = pl.concat(
        [
            writes.with_columns(
                pl.lit("write").alias("role"),
                pl.lit(None, dtype=pl.Int64).alias("source_row"),
                pl.lit(None, dtype=pl.String).alias("problem"),
            ).select(list(VERSIONS_SCHEMA)),
            reads.with_columns(pl.lit("read").alias("role")).select(list(VERSIONS_SCHEMA)),
        ]
    )
    out = out.with_columns(pl.col("key").replace(_NULL_KEY, None))
    return out.select([pl.col(c).cast(t) for c, t in VERSIONS_SCHEMA.items()]).sort("row")
