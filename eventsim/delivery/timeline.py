"""Crash timelines: what became of each record created around one fault, and why.

:func:`crash_timeline` takes a run's frames (``sends``, ``events``, ``deliveries`` and, to pick
a fault by number, ``faults``) and gives every business event created in a time window — by
default around one fault — its *fate* for each consumer group, with the *reason* read off
the frames (no simulation needed):

``delivered_once``
    One delivery, one effect.
``lost``
    Never applied. :data:`REASONS` says why: the producer gave up, the log lost an
    acknowledged record in a leader failover, an aborted transaction, the group committed the
    offset before processing the record, or the run ended before the group got to it.
``redelivered``
    Delivered more than once: the producer resent it (two copies in the log) or the group
    processed it and crashed or rebalanced before committing (one offset delivered twice).
    ``outcome`` (from :func:`~eventsim.delivery.checker.classify_events`) still tells whether
    the sink applied it twice (``duplicated``) or dropped the repeat (``delivered_once``).
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral
from typing import Any

import polars as pl

from eventsim.delivery.checker import classify_events
from eventsim.exceptions import ConfigError, DataFormatError

__all__ = ["FATES", "REASONS", "TIMELINE_SCHEMA", "crash_timeline"]

FATES = ("delivered_once", "lost", "redelivered")

#: Why an event was lost or redelivered (the values of ``reason``).
REASONS: dict[str, str] = {
    "acked-then-truncated": "lost: the producer had an ack, but the leader crashed before a "
    "follower copied the record and the new leader truncated it (acks=1: a lost write)",
    "producer-gave-up": "lost: the producer never got the record into the log (no retries, "
    "delivery timeout, or dropped after a producer crash)",
    "transaction-aborted": "lost: every copy in the log belongs to an aborted transaction",
    "committed-before-processing": "lost: the record is in the log, but the group committed "
    "past it and never processed it (commit before process, then a crash)",
    "not-applied": "lost: delivered, but no delivery took effect (a failed transactional "
    "commit that was never retried)",
    "never-consumed": "lost: the record is in the log beyond every offset the group processed "
    "(the run ended first)",
    "producer-resend": "redelivered: the producer sent it again (retry after a timeout, resend "
    "after a restart, a duplicated request), so the log holds two copies",
    "processed-not-committed": "redelivered: the group processed the record, then crashed or "
    "rebalanced before committing, so the same offset was delivered again",
    "producer-resend + processed-not-committed": "redelivered for both reasons",
}

#: Columns of :func:`crash_timeline`'s frame.
TIMELINE_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.Int64(),
    "group": pl.String(),
    "topic": pl.String(),
    "partition": pl.Int32(),
    "key": pl.String(),
    "created_s": pl.Float64(),
    "status": pl.String(),
    "attempts": pl.Int32(),
    "acked_s": pl.Float64(),
    "n_copies": pl.Int64(),
    "n_aborted": pl.Int64(),
    "n_delivered": pl.Int64(),
    "n_applied": pl.Int64(),
    "outcome": pl.String(),
    "fate": pl.String(),
    "reason": pl.String(),
    "first_applied_s": pl.Float64(),
}


def crash_timeline(
    result: Any,
    fault: int | None = None,
    *,
    window: tuple[float, float] | None = None,
    before_s: float = 2.0,
    after_s: float = 5.0,
    group: str | None = None,
) -> pl.DataFrame:
    """The fate of every event created around a fault, per consumer group, and why.

    Parameters
    ----------
    result
        A ``RunResult``-like object with ``sends``, ``events``, ``deliveries`` (and
        ``faults`` when ``fault`` is given; ``scenario.consumers`` give the groups' topics
        when present), or a mapping with those keys.
    fault
        Row number in ``result.faults``: the window runs from ``before_s`` before the fault
        starts to ``after_s`` after it ends. Give this or ``window``.
    window
        ``(start_s, end_s)``: events created in it, inclusive.
    before_s, after_s
        Margins around the fault (ignored with ``window``).
    group
        Only this consumer group (default: every group).

    Returns
    -------
    polars.DataFrame
        One row per group and event created in the window, sorted by group and event id,
        columns :data:`TIMELINE_SCHEMA`: ``event_id`` Int64, ``group`` String, ``topic``
        String, ``partition`` Int32, ``key`` String, ``created_s`` Float64, ``status`` String
        (the producer's: acked / failed / unacked), ``attempts`` Int32, ``acked_s`` Float64,
        ``n_copies`` Int64 (records of the event in the log, aborted ones excluded),
        ``n_aborted`` Int64 (records of aborted transactions),
        ``n_delivered`` Int64, ``n_applied`` Int64, ``outcome`` String (business:
        delivered_once / lost / duplicated), ``fate`` String (:data:`FATES`), ``reason``
        String (a key of :data:`REASONS`; null when delivered once), ``first_applied_s``
        Float64.

    Raises
    ------
    ConfigError
        Neither or both of ``fault`` and ``window``; ``fault`` out of range; a window that
        ends before it starts; negative margins.
    DataFormatError
        A frame is missing or lacks a column.

    Examples
    --------
    Event 1 was delivered once, 2 was acked but truncated, 3 resent by the producer, 4
    processed twice at one offset, 5 skipped by a commit-before-process crash:

    >>> sends = pl.DataFrame(
    ...     {
    ...         "event_id": [1, 2, 3, 4, 5],
    ...         "topic": "t",
    ...         "key": "k",
    ...         "partition": 0,
    ...         "created_s": [1.0, 2.0, 3.0, 4.0, 5.0],
    ...         "attempts": [1, 1, 2, 1, 1],
    ...         "status": "acked",
    ...         "acked_s": [1.1, 2.1, 3.1, 4.1, 5.1],
    ...     }
    ... )
    >>> events = pl.DataFrame(
    ...     {"topic": "t", "partition": 0, "offset": [0, 1, 2, 3, 4, 5],
    ...      "event_id": [1, 3, 3, 4, 5, 6]}
    ... )
    >>> deliveries = pl.DataFrame(
    ...     {
    ...         "group": "g",
    ...         "member": "m0",
    ...         "topic": "t",
    ...         "partition": 0,
    ...         "offset": [0, 1, 2, 3, 3, 5],
    ...         "event_id": [1, 3, 3, 4, 4, 6],
    ...         "delivered_s": [1.5, 3.5, 3.6, 4.5, 4.6, 6.5],
    ...         "latency_s": 0.5,
    ...     }
    ... )
    >>> frames = {"sends": sends, "events": events, "deliveries": deliveries}
    >>> crash_timeline(frames, window=(0.0, 10.0)).select("event_id", "fate", "reason").rows()
    [(1, 'delivered_once', None),
     (2, 'lost', 'acked-then-truncated'),
     (3, 'redelivered', 'producer-resend'),
     (4, 'redelivered', 'processed-not-committed'),
     (5, 'lost', 'committed-before-processing')]
    """
    sends, events, deliveries = (_frame(result, name) for name in ("sends", "events", "deliveries"))
    lo, hi = _window(result, fault, window, before_s, after_s)
    sends = sends.filter(pl.col("created_s").is_between(lo, hi))
    ids = sends.get_column("event_id").implode()
    log = events.filter(pl.col("event_id").is_in(ids))
    mine = deliveries.filter(pl.col("event_id").is_in(ids))
    if group is not None:
        mine = mine.filter(pl.col("group") == group)
    classes = classify_events(
        sends,
        mine,
        events=log,
        group=group,
        subscriptions=_subscriptions(result, deliveries, group),
    )
    return _fates(classes, log, mine, _furthest(deliveries))


def _frame(result: Any, name: str) -> pl.DataFrame:
    frame = result.get(name) if isinstance(result, Mapping) else getattr(result, name, None)
    if not isinstance(frame, pl.DataFrame):
        msg = f"crash_timeline needs the run's {name!r} frame; got {type(frame).__name__}"
        raise DataFormatError(msg)
    return frame


def _window(
    result: Any,
    fault: int | None,
    window: tuple[float, float] | None,
    before_s: float,
    after_s: float,
) -> tuple[float, float]:
    if (fault is None) == (window is None):
        msg = "crash_timeline needs exactly one of fault (a row of result.faults) and window"
        raise ConfigError(msg)
    if window is not None:
        lo, hi = float(window[0]), float(window[1])
        if hi < lo:
            msg = f"window must be (start_s, end_s) with end_s >= start_s; got {window!r}"
            raise ConfigError(msg)
        return lo, hi
    if before_s < 0 or after_s < 0:
        msg = f"before_s and after_s must be >= 0; got {before_s!r} and {after_s!r}"
        raise ConfigError(msg)
    faults = _frame(result, "faults")
    index = fault if isinstance(fault, Integral) else None
    if index is None or not -faults.height <= int(index) < faults.height:
        msg = f"fault must be a row number of result.faults (0..{faults.height - 1}); got {fault!r}"
        raise ConfigError(msg)
    row = faults.row(int(index), named=True)
    return row["start_s"] - before_s, row["end_s"] + after_s


def _subscriptions(
    result: Any, deliveries: pl.DataFrame, group: str | None
) -> dict[str, tuple[str, ...]]:
    """Every group of the run (so that one with no delivery in the window still counts)."""
    scenario = None if isinstance(result, Mapping) else getattr(result, "scenario", None)
    consumers = getattr(scenario, "consumers", None)
    if consumers:
        subs = {c.name: tuple(c.topics) for c in consumers}
    else:
        subs = {g: () for g in deliveries.get_column("group").unique().sort().to_list()}
    if group is not None and group in subs:
        return {group: subs[group]}
    return subs


def _furthest(deliveries: pl.DataFrame) -> pl.DataFrame:
    """The highest offset each group processed per topic and partition, over the whole run."""
    return deliveries.group_by("group", "topic", "partition").agg(
        pl.col("offset").max().alias("furthest")
    )


def _fates(
    classes: pl.DataFrame, log: pl.DataFrame, deliveries: pl.DataFrame, furthest: pl.DataFrame
) -> pl.DataFrame:
    aborted = pl.col("txn_state") == "aborted" if "txn_state" in log.columns else pl.lit(False)
    aborted = aborted.fill_null(value=False)
    copies = log.group_by("event_id").agg(
        (pl.len() - aborted.sum()).alias("n_copies"),
        aborted.sum().alias("n_aborted"),
        pl.col("offset").filter(~aborted).min().alias("first_offset"),
    )
    if "txn_state" in log.columns:  # deliveries of aborted records do not count
        gone = log.filter(aborted).select("topic", "partition", "offset", "event_id")
        deliveries = deliveries.join(
            gone, on=["topic", "partition", "offset", "event_id"], how="anti"
        )
    offsets = deliveries.group_by("group", "event_id").agg(
        pl.col("offset").n_unique().alias("n_offsets")
    )
    joined = (
        classes.join(copies, on="event_id", how="left")
        .join(offsets, on=["group", "event_id"], how="left")
        .join(furthest, on=["group", "topic", "partition"], how="left")
        .with_columns(
            pl.col("n_copies", "n_aborted").fill_null(0),
            pl.col("n_offsets").fill_null(0),
        )
    )
    lost = pl.col("n_applied") == 0
    redelivered = pl.col("n_delivered") > 1
    resent = pl.col("n_offsets") > 1
    again = pl.col("n_delivered") > pl.col("n_offsets")
    fate = pl.when(lost).then(pl.lit("lost"))
    fate = fate.when(redelivered).then(pl.lit("redelivered")).otherwise(pl.lit("delivered_once"))
    skipped = pl.col("first_offset") < pl.col("furthest")
    lost_reason = (
        pl.when(pl.col("n_delivered") > 0)
        .then(pl.lit("not-applied"))
        .when((pl.col("n_copies") == 0) & (pl.col("n_aborted") > 0))
        .then(pl.lit("transaction-aborted"))
        .when((pl.col("n_copies") == 0) & (pl.col("status") == "acked"))
        .then(pl.lit("acked-then-truncated"))
        .when(pl.col("n_copies") == 0)
        .then(pl.lit("producer-gave-up"))
        .when(skipped.fill_null(value=False))
        .then(pl.lit("committed-before-processing"))
        .otherwise(pl.lit("never-consumed"))
    )
    redelivered_reason = (
        pl.when(resent & again)
        .then(pl.lit("producer-resend + processed-not-committed"))
        .when(resent)
        .then(pl.lit("producer-resend"))
        .otherwise(pl.lit("processed-not-committed"))
    )
    reason = pl.when(lost).then(lost_reason).when(redelivered).then(redelivered_reason)
    return (
        joined.with_columns(fate=fate, reason=reason)
        .select(pl.col(name).cast(dtype) for name, dtype in TIMELINE_SCHEMA.items())
        .sort("group", "event_id")
    )
