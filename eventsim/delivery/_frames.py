"""The frames the delivery checker reads, normalised: required columns, dtypes and defaults.

``sends`` needs every column of :data:`SENDS_SCHEMA`. ``deliveries`` needs the columns of
:data:`DELIVERIES_SCHEMA` except ``generation`` (default 0), ``poll`` (default: row order) and
``applied`` (default True), so frames from engines without those columns still check. The log
needs the columns of :data:`LOG_SCHEMA` except ``txn_state`` (default null: nothing is
transactional). Extra columns are ignored.
"""

from __future__ import annotations

import polars as pl

from eventsim.delivery.send import SENDS_SCHEMA
from eventsim.exceptions import DataFormatError
from eventsim.sim.consumer import DELIVERY_SCHEMA

__all__ = [
    "ANOMALY_SCHEMA",
    "DELIVERIES_SCHEMA",
    "LOG_SCHEMA",
    "SENDS_SCHEMA",
    "STATUSES",
    "check_statuses",
    "deliveries_frame",
    "empty_anomalies",
    "log_frame",
    "sends_frame",
]

#: Columns of the event log the checker reads (``RunResult.events`` has more).
LOG_SCHEMA: dict[str, pl.DataType] = {
    "topic": pl.String(),
    "partition": pl.Int32(),
    "offset": pl.Int64(),
    "event_id": pl.Int64(),
    "txn_state": pl.String(),
}

#: Columns of ``RunResult.deliveries`` the checker reads: all of them.
DELIVERIES_SCHEMA: dict[str, pl.DataType] = DELIVERY_SCHEMA

#: Schema of ``CheckResult.anomalies`` of the delivery checker.
ANOMALY_SCHEMA: dict[str, pl.DataType] = {
    "anomaly": pl.String(),
    "event_id": pl.Int64(),
    "topic": pl.String(),
    "partition": pl.Int32(),
    "offset": pl.Int64(),
    "group": pl.String(),
    "evidence": pl.String(),
}

STATUSES = ("acked", "failed", "unacked")


def empty_anomalies() -> pl.DataFrame:
    """An anomalies frame with no rows."""
    return pl.DataFrame(schema=ANOMALY_SCHEMA)


def _require(frame: pl.DataFrame, name: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"{name} frame lacks column(s) {missing}; it has {frame.columns}"
        raise DataFormatError(msg)


def _no_nulls(frame: pl.DataFrame, name: str, column: str) -> None:
    if frame.get_column(column).null_count():
        msg = f"{name}.{column} must not be null; {frame[column].null_count()} null(s)"
        raise DataFormatError(msg)


def _cast(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.LazyFrame:
    return frame.lazy().select(pl.col(c).cast(t) for c, t in schema.items())


def sends_frame(frame: pl.DataFrame) -> pl.LazyFrame:
    """``sends`` with :data:`SENDS_SCHEMA`; raises on a missing column.

    (Statuses and repeated event ids are checked where they are coded, in ``_prepare``.)
    """
    _require(frame, "sends", list(SENDS_SCHEMA))
    _no_nulls(frame, "sends", "event_id")
    return _cast(frame, SENDS_SCHEMA)


def check_statuses(values: list[str | None]) -> None:
    """Raise unless every status is one of :data:`STATUSES`."""
    bad = [v for v in values if v not in STATUSES]
    if bad:
        msg = f"sends.status must be one of {', '.join(STATUSES)}; got {bad[0]!r}"
        raise DataFormatError(msg)


def log_frame(frame: pl.DataFrame) -> pl.LazyFrame:
    """The log's ``topic, partition, offset, event_id, txn_state`` (null when absent)."""
    _require(frame, "events", [c for c in LOG_SCHEMA if c != "txn_state"])
    _no_nulls(frame, "events", "event_id")
    if "txn_state" not in frame.columns:
        frame = frame.select(*list(LOG_SCHEMA)[:-1], txn_state=pl.lit(None, pl.String))
    return _cast(frame, LOG_SCHEMA)


def deliveries_frame(frame: pl.DataFrame) -> pl.LazyFrame:
    """``deliveries`` with :data:`DELIVERIES_SCHEMA` plus ``row`` (UInt32, the row order).

    ``generation`` defaults to 0, ``poll`` to the row order and ``applied`` to True.
    """
    optional = {"generation", "poll", "applied"}
    _require(frame, "deliveries", [c for c in DELIVERIES_SCHEMA if c not in optional])
    _no_nulls(frame, "deliveries", "event_id")
    lf = frame.lazy().with_row_index("row")
    defaults = {
        "generation": pl.lit(0, pl.Int32),
        "poll": pl.col("row").cast(pl.Int64),
        "applied": pl.lit(True),
    }
    lf = lf.with_columns(v.alias(k) for k, v in defaults.items() if k not in frame.columns)
    return lf.select([pl.col(c).cast(t) for c, t in DELIVERIES_SCHEMA.items()] + [pl.col("row")])
