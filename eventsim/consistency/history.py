"""The history frame: one row per operation of a concurrent history, invoke and completion paired.

This is the table every checker in :mod:`eventsim.consistency` reads, whatever recorded it
(the simulator's ``RunResult.history``, a Jepsen log, a hand-written test).

Schema (:data:`HISTORY_SCHEMA`)
-------------------------------
=============  =========  ==================================================================
column         dtype      meaning
=============  =========  ==================================================================
process        Int64      the client (session) that issued the operation
op             String     read | write | cas (register), get | put | append (kv), ...
key            String     the object operated on; null for a single-register history
value          String     the argument: the written value, ``[a, b]`` (JSON) for cas; null
                          for reads
output         String     the value returned on completion (a read's result; null when the
                          operation returned nothing or never completed)
invoke_s       Float64    time of the invocation (seconds; for logs without clocks, the
                          position of the line among the operation events)
complete_s     Float64    time of the completion; ``inf`` when the outcome is unknown
                          (``info``: timed out, crashed or never completed)
status         String     ok (took effect) | fail (definitely did not take effect) | info
                          (unknown: may or may not have taken effect, at any time after
                          ``invoke_s``)
version        Int64      optional: the version a write installed, when the store knows it
                          (used by the session, causal and staleness analyses)
=============  =========  ==================================================================

Rows are ordered by ``invoke_s``. Values are strings so that registers, key-value maps and
logs share one schema; ``nil`` becomes null.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import polars as pl

from eventsim.exceptions import DataFormatError

__all__ = ["HISTORY_SCHEMA", "STATUSES", "make_history", "validate_history"]

HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "process": pl.Int64(),
    "op": pl.String(),
    "key": pl.String(),
    "value": pl.String(),
    "output": pl.String(),
    "invoke_s": pl.Float64(),
    "complete_s": pl.Float64(),
    "status": pl.String(),
}
"""Column name → dtype of a history frame (``version`` Int64 may follow, optionally)."""

STATUSES = ("ok", "fail", "info")
"""The allowed values of the ``status`` column."""


def _text(value: Any) -> str | None:
    """Turn a Python value into the frame's string form (None stays null)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        import json

        return json.dumps(list(value))
    return str(value)


def make_history(
    ops: Sequence[Sequence[Any]] | None = None,
    *,
    process: Sequence[int] | None = None,
    op: Sequence[str] | None = None,
    key: Sequence[str | None] | None = None,
    value: Sequence[Any] | None = None,
    output: Sequence[Any] | None = None,
    invoke_s: Sequence[float] | None = None,
    complete_s: Sequence[float | None] | None = None,
    status: Sequence[str] | None = None,
    version: Sequence[int | None] | None = None,
) -> pl.DataFrame:
    """Build a history frame from Python lists.

    Either pass ``ops``, a list of rows ``(process, op, key, value, output, invoke_s,
    complete_s, status)`` (``status`` may be left off: ``"ok"``), or the columns by name.
    Values that are not strings are turned into strings (``[a, b]`` into JSON); a null
    ``complete_s`` becomes ``inf``.

    Parameters
    ----------
    ops
        Rows, as above.
    process, op, key, value, output, invoke_s, complete_s, status, version
        Columns (``key``, ``value``, ``output`` default to null, ``status`` to ok).

    Returns
    -------
    polars.DataFrame
        The history, in :data:`HISTORY_SCHEMA` (plus ``version`` if given), sorted by
        ``invoke_s``.

    Raises
    ------
    DataFormatError
        When a row is malformed (see :func:`validate_history`).

    Examples
    --------
    >>> h = make_history(
    ...     [(0, "write", None, 1, None, 0.0, 1.0), (1, "read", None, None, 1, 0.5, 2.0)]
    ... )
    >>> h.select("process", "op", "value", "output", "complete_s", "status").rows()
    [(0, 'write', '1', None, 1.0, 'ok'), (1, 'read', None, '1', 2.0, 'ok')]
    """
    if ops is not None:
        rows = [tuple(r) + ("ok",) * (8 - len(r)) if len(r) == 7 else tuple(r) for r in ops]
        bad = [i for i, r in enumerate(rows) if len(r) != 8]
        if bad:
            msg = f"make_history: row {bad[0]} must have 7 or 8 fields; got {len(rows[bad[0]])}"
            raise DataFormatError(msg)
        cols = list(zip(*rows)) if rows else [()] * 8
        process, op, key, value, output, invoke_s, complete_s, status = cols
    n = len(process or [])
    data: dict[str, Any] = {
        "process": list(process or []),
        "op": list(op or []),
        "key": list(key) if key is not None else [None] * n,
        "value": [_text(v) for v in value] if value is not None else [None] * n,
        "output": [_text(v) for v in output] if output is not None else [None] * n,
        "invoke_s": [float(t) for t in (invoke_s or [])],
        "complete_s": [math.inf if t is None else float(t) for t in (complete_s or [])],
        "status": list(status) if status is not None else ["ok"] * n,
    }
    schema = dict(HISTORY_SCHEMA)
    if version is not None:
        data["version"] = list(version)
        schema["version"] = pl.Int64()
    lengths = {name: len(col) for name, col in data.items()}
    if len(set(lengths.values())) > 1:
        msg = f"make_history: columns must have equal lengths; got {lengths}"
        raise DataFormatError(msg)
    frame = pl.DataFrame(data, schema=schema)
    return validate_history(frame.sort("invoke_s", maintain_order=True))


def validate_history(frame: pl.DataFrame, *, source: str = "history") -> pl.DataFrame:
    """Check that ``frame`` is a history frame; return it (cast to the schema's dtypes).

    Parameters
    ----------
    frame
        A frame with the columns of :data:`HISTORY_SCHEMA` (and optionally ``version``).
    source
        Named in error messages (a file name, ``"history"``).

    Returns
    -------
    polars.DataFrame
        ``frame`` with its columns in schema order and dtypes.

    Raises
    ------
    DataFormatError
        A column is missing or has the wrong type, a status is not ok|fail|info, a time is
        null or a completion precedes its invocation.

    Examples
    --------
    >>> validate_history(pl.DataFrame({"process": [0]}))
    Traceback (most recent call last):
    ...
    eventsim.exceptions.DataFormatError: history: missing column(s) ['op', 'key', ...
    """
    missing = [c for c in HISTORY_SCHEMA if c not in frame.columns]
    if missing:
        msg = f"{source}: missing column(s) {missing}; a history has {list(HISTORY_SCHEMA)}"
        raise DataFormatError(msg)
    schema = dict(HISTORY_SCHEMA)
    if "version" in frame.columns:
        schema["version"] = pl.Int64()
    try:
        out = frame.select([pl.col(c).cast(t) for c, t in schema.items()])
    except pl.exceptions.PolarsError as err:
        msg = f"{source}: a column cannot be cast to the history schema {schema}: {err}"
        raise DataFormatError(msg.splitlines()[0]) from None
    bad_status = out.filter(~pl.col("status").is_in(STATUSES) | pl.col("status").is_null())
    if bad_status.height:
        row = bad_status.row(0, named=True)
        msg = f"{source}: status must be one of {list(STATUSES)}; got {row['status']!r}"
        raise DataFormatError(msg)
    nulls = out.select(pl.col("process", "op", "invoke_s", "complete_s").null_count()).row(
        0, named=True
    )
    if any(nulls.values()):
        col = next(c for c, v in nulls.items() if v)
        msg = f"{source}: column {col!r} must not be null ({nulls[col]} null value(s))"
        raise DataFormatError(msg)
    early = out.filter(pl.col("complete_s") < pl.col("invoke_s"))
    if early.height:
        r = early.row(0, named=True)
        msg = (
            f"{source}: complete_s must be >= invoke_s; got {r['complete_s']} < "
            f"{r['invoke_s']} for process {r['process']} op {r['op']!r}"
        )
        raise DataFormatError(msg)
    return out
