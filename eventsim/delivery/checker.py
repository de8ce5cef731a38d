"""The delivery checker: did every business event take effect exactly once, and was the log
read as Kafka promises?

Pure analysis over a run's frames (``sends``, ``events``, ``deliveries``; schemas in
:mod:`eventsim.delivery._frames`), no simulation. The joins are array lookups on integer
codes (an event-id index, one Int64 per topic/partition/offset, per-partition offset tables)
and the group-bys are ``np.bincount``; polars normalises the frames and builds the anomaly
rows and their evidence. About 2-3 million events per second here (``bench_checker.py``).

Two levels of verdict:

*Business level* (:func:`classify_events`): each produced event, per consumer group, was
``delivered_once``, ``lost`` or ``duplicated`` by the number of *applied* deliveries (a
delivery an idempotent sink recognised as a duplicate is delivered but not applied), and may
be ``reordered`` or ``late``.

*Log level*: the named anomalies of Jepsen's Kafka checker (``jepsen.tests.kafka``; Maelstrom's
``kafka`` workload), adapted to a simulator that knows the final log. See :data:`ANOMALIES`.

Records of aborted transactions never count as delivered: read-committed consumers never see
them, and a consumer that processed one shows an ``aborted-read``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from eventsim.delivery import _anomalies as find
from eventsim.delivery._frames import ANOMALY_SCHEMA, LOG_SCHEMA, empty_anomalies
from eventsim.delivery._outcomes import Outcomes, outcomes
from eventsim.delivery._prepare import Prepared, prepare
from eventsim.delivery._recount import recount_from_parquet
from eventsim.exceptions import ConfigError, closest
from eventsim.verdict import CheckResult

__all__ = [
    "ANOMALIES",
    "ANOMALY_SCHEMA",
    "DEFAULT_ALLOWED",
    "OUTCOMES",
    "check",
    "classify_events",
    "recount_from_parquet",
]

#: The anomalies the checker names, with their definitions (the catalogue docs are built from).
ANOMALIES: dict[str, str] = {
    "lost-write": "an acked send that never reached the log: no visible record of it in the "
    "log after the run, and no group ever had it delivered",
    "duplicate": "one event at more than one offset of the log (visible records); one row per "
    "copy beyond the first",
    "poll-skip": "within one group member and generation, two consecutive deliveries from a "
    "partition jump over offsets that hold visible records of the log",
    "nonmonotonic-poll": "within one group member and generation, a delivery from a partition "
    "at an offset at or below the one delivered before it",
    "inconsistent-offsets": "two different events observed at one topic/partition/offset, "
    "across the deliveries and the log",
    "aborted-read": "a delivery of a record of an aborted transaction (Jepsen's G1a)",
    "unseen": "an event with a visible record in the log, in a topic the group subscribes to, "
    "that was never delivered to the group",
    "lost": "a produced event the group never applied",
    "duplicated": "a produced event the group applied more than once",
    "reordered": "a produced event the group first applied before an earlier-created event of "
    "the same key and topic",
    "late": "a produced event first applied more than late_after_s after its creation",
}

#: Anomalies reported but not invalidating a run unless asked (``allow=()``).
DEFAULT_ALLOWED: tuple[str, ...] = ("reordered", "late")

OUTCOMES = ("delivered_once", "lost", "duplicated")

_FRAMES = ("sends", "events", "deliveries")


# -- classification ------------------------------------------------------------------------------
def classify_events(
    sends: pl.DataFrame,
    deliveries: pl.DataFrame,
    *,
    events: pl.DataFrame | None = None,
    group: str | None = None,
    subscriptions: Mapping[str, Sequence[str]] | None = None,
    late_after_s: float | None = None,
) -> pl.DataFrame:
    """The outcome of each produced business event, per consumer group.

    Parameters
    ----------
    sends
        One row per business event the producer was asked to send (``RunResult.sends``).
    deliveries
        One row per record a consumer processed (``RunResult.deliveries``).
    events
        The log after the run; when given, deliveries of records of aborted transactions are
        not counted.
    group
        Only this group (default: every group in ``deliveries`` and ``subscriptions``; a
        single null group, for which every event is lost, when there is none).
    subscriptions
        Group → topics it subscribes to (empty: every topic in ``sends``). A group accounts
        only for the events of its topics. Default: every group, every topic.
    late_after_s
        An event is ``late`` when its first application came more than this after its
        creation; None (default) marks none late.

    Returns
    -------
    pl.DataFrame
        One row per group and produced event, sorted by group and event id:
        ``event_id`` Int64, ``group`` String, ``topic`` String, ``partition`` Int32, ``key``
        String, ``created_s`` Float64, ``status`` String, ``attempts`` Int32, ``acked_s`` Float64,
        ``n_delivered`` Int64 (all deliveries, suppressed ones included), ``n_applied`` Int64
        (deliveries whose effect the sink applied), ``outcome`` String (``lost`` when
        ``n_applied`` is 0, ``delivered_once`` when 1, ``duplicated`` above), ``reordered``
        Boolean, ``late`` Boolean, ``first_applied_s`` Float64 and ``first_latency_s`` Float64
        (time and latency of the first applied delivery; null when lost).

        ``reordered``: order the group's events of one (topic, key) by creation
        (``created_s``, then ``event_id``); an event is reordered when some event before it
        in that order was first applied strictly later than it was. Each overtaking event
        counts once, however many it overtook; lost events and events with a null key are
        never reordered (null keys carry no order guarantee).

    Raises
    ------
    DataFormatError
        A frame lacks a column, ``status`` has a value other than acked / failed / unacked,
        or ``sends.event_id`` repeats.
    ConfigError
        ``group`` is not a known group, or ``late_after_s`` is negative.

    Examples
    --------
    >>> sends = pl.DataFrame(
    ...     {
    ...         "event_id": [1, 2, 3],
    ...         "topic": "t",
    ...         "key": "k",
    ...         "partition": 0,
    ...         "created_s": [0.0, 1.0, 2.0],
    ...         "attempts": 1,
    ...         "status": "acked",
    ...         "acked_s": [0.1, 1.1, 2.1],
    ...     }
    ... )
    >>> deliveries = pl.DataFrame(
    ...     {
    ...         "group": "g",
    ...         "member": "m0",
    ...         "topic": "t",
    ...         "partition": 0,
    ...         "offset": [0, 1, 1],
    ...         "event_id": [1, 2, 2],
    ...         "delivered_s": [0.5, 1.5, 1.6],
    ...         "latency_s": [0.5, 0.5, 0.6],
    ...     }
    ... )
    >>> classify_events(sends, deliveries).select("event_id", "n_applied", "outcome").rows()
    [(1, 1, 'delivered_once'), (2, 2, 'duplicated'), (3, 0, 'lost')]
    """
    _check_late(late_after_s)
    log = pl.DataFrame(schema=LOG_SCHEMA) if events is None else events
    prep = prepare(sends, log, deliveries, subscriptions=subscriptions, group=group)
    return _classified(prep, outcomes(prep, late_after_s))


def _check_late(late_after_s: float | None) -> None:
    if late_after_s is not None and not late_after_s >= 0:
        msg = f"late_after_s must be >= 0 or None; got {late_after_s!r}"
        raise ConfigError(msg)


def _classified(prep: Prepared, outs: list[Outcomes]) -> pl.DataFrame:
    """The frame of :func:`classify_events` from the outcome arrays."""
    base = prep.sends.select(
        "event_id", "topic", "partition", "key", "created_s", "status", "attempts", "acked_s"
    )
    frames = []
    n = pl.col("n_applied")
    outcome = (
        pl.when(n == 0)
        .then(pl.lit("lost"))
        .when(n == 1)
        .then(pl.lit("delivered_once"))
        .otherwise(pl.lit("duplicated"))
    )
    for out in outs:
        frame = (
            base.with_columns(
                group=pl.lit(out.group, pl.String),
                n_delivered=pl.Series(out.n_delivered, dtype=pl.Int64),
                n_applied=pl.Series(out.n_applied, dtype=pl.Int64),
                reordered=pl.Series(out.reordered),
                late=pl.Series(out.late),
                first_applied_s=pl.Series(out.first_applied_s).fill_nan(None),
                first_latency_s=pl.Series(out.first_latency_s).fill_nan(None),
            )
            .filter(pl.Series(out.scope))
            .with_columns(outcome=outcome)
        )
        frames.append(frame if frame["event_id"].is_sorted() else frame.sort("event_id"))
    columns = ["event_id", "group", *base.columns[1:]]
    columns += ["n_delivered", "n_applied", "outcome", "reordered", "late"]
    columns += ["first_applied_s", "first_latency_s"]
    return pl.concat(frames).select(columns)


# -- the checker -------------------------------------------------------------------------------
def check(
    result: Any,
    *,
    group: str | None = None,
    late_after_s: float | None = None,
    allow: Iterable[str] = DEFAULT_ALLOWED,
) -> CheckResult:
    """Check a run's delivery semantics: business outcomes plus Jepsen's Kafka anomalies.

    Parameters
    ----------
    result
        A ``RunResult``-like object with attributes ``sends``, ``events`` and
        ``deliveries`` (its ``scenario.consumers`` give the groups and their topics, when
        present), or a mapping with those three keys.
    group
        Check only this consumer group (log-level anomalies are reported all the same).
    late_after_s
        Mark events first applied more than this after creation as ``late``.
    allow
        Anomalies reported without invalidating the run (default ``reordered`` and
        ``late``, which are about timing, not about delivery).

    Returns
    -------
    CheckResult
        ``valid`` is None when a frame is missing or ``sends`` is empty, else True when no
        anomaly outside ``allow`` was found. ``anomalies`` has one row per offending record,
        sorted by anomaly, group, event id, topic, partition, offset: ``anomaly`` String,
        ``event_id`` Int64, ``topic`` String, ``partition`` Int32, ``offset`` Int64 (null for
        the business-level anomalies and ``lost-write``), ``group`` String (null for
        ``lost-write``, ``duplicate`` and log-internal ``inconsistent-offsets``),
        ``evidence`` String (short, human-readable). Names and definitions: :data:`ANOMALIES`.
        ``info`` holds ``produced`` (events sent), ``groups``, ``delivered_once``, ``lost``,
        ``duplicated``, ``reordered``, ``late`` (counted over groups × events), ``outcomes``
        (outcome → count), ``exactly_once`` (no event lost or duplicated: the business-level
        verdict, True under effectively-once even when the log holds duplicates),
        ``anomalies`` (every name → rows), ``by_group`` (group → the same outcome counts)
        and ``allowed``.

    Raises
    ------
    ConfigError
        Unknown name in ``allow``, unknown ``group``, negative ``late_after_s``.
    DataFormatError
        A frame lacks a column or holds a value not allowed (see :func:`classify_events`).

    Examples
    --------
    >>> sends = pl.DataFrame(
    ...     {
    ...         "event_id": [1, 2],
    ...         "topic": "t",
    ...         "key": "k",
    ...         "partition": 0,
    ...         "created_s": [0.0, 1.0],
    ...         "attempts": 1,
    ...         "status": "acked",
    ...         "acked_s": [0.1, 1.1],
    ...     }
    ... )
    >>> events = pl.DataFrame(
    ...     {"topic": "t", "partition": 0, "offset": [0, 1, 2], "event_id": [1, 2, 2]}
    ... )
    >>> deliveries = pl.DataFrame(
    ...     {
    ...         "group": "g",
    ...         "member": "m0",
    ...         "topic": "t",
    ...         "partition": 0,
    ...         "offset": [0, 1, 2],
    ...         "event_id": [1, 2, 2],
    ...         "delivered_s": [0.5, 1.5, 1.6],
    ...         "latency_s": [0.5, 0.5, 0.6],
    ...     }
    ... )
    >>> r = check({"sends": sends, "events": events, "deliveries": deliveries})
    >>> r.valid, r.counts()
    (False, {'duplicate': 1, 'duplicated': 1})
    >>> r.anomalies.select("anomaly", "event_id", "offset", "evidence").rows()
    [('duplicate', 2, 2, 'event at 2 offsets: t/0@1, t/0@2'),
     ('duplicated', 2, None, 'applied 2 times by g (2 deliveries)')]
    """
    allowed = _allowed(allow)
    _check_late(late_after_s)
    frames, subscriptions = _unpack(result)
    missing = [name for name in _FRAMES if frames.get(name) is None]
    if missing or frames["sends"].is_empty():
        reason = f"missing frame(s): {', '.join(missing)}" if missing else "no sends"
        return CheckResult(None, empty_anomalies(), {"reason": reason, "allowed": allowed})
    prep = prepare(
        frames["sends"],
        frames["events"],
        frames["deliveries"],
        subscriptions=subscriptions,
        group=group,
    )
    outs = outcomes(prep, late_after_s)
    parts = [frame for out in outs for frame in find.business(prep, out, late_after_s)]
    parts += [
        find.lost_writes(prep),
        find.log_duplicates(prep),
        find.aborted_reads(prep),
        find.inconsistent_offsets(prep),
        *find.poll_gaps(prep),
        find.unseen(prep, outs),
    ]
    anomalies = pl.concat(parts).sort(
        "anomaly", "group", "event_id", "topic", "partition", "offset", nulls_last=True
    )
    info = _info(prep, outs, anomalies, allowed)
    invalid = anomalies.filter(~pl.col("anomaly").is_in(allowed)).height > 0
    return CheckResult(not invalid, anomalies, info)


def _allowed(allow: Iterable[str]) -> list[str]:
    names = [allow] if isinstance(allow, str) else list(allow)
    for name in names:
        if name not in ANOMALIES:
            msg = (
                f"allow must name anomalies among {', '.join(ANOMALIES)}; got {name!r}"
                f"{closest(name, ANOMALIES)}"
            )
            raise ConfigError(msg)
    return names


def _unpack(result: Any) -> tuple[dict[str, Any], dict[str, tuple[str, ...]] | None]:
    """The three frames and the groups' subscriptions (from ``result.scenario``, if any)."""
    if isinstance(result, Mapping):
        frames = {name: result.get(name) for name in _FRAMES}
        scenario = result.get("scenario")
    else:
        frames = {name: getattr(result, name, None) for name in _FRAMES}
        scenario = getattr(result, "scenario", None)
    consumers = getattr(scenario, "consumers", None)
    subs = None
    if consumers:
        subs = {c.name: tuple(getattr(c, "topics", ())) for c in consumers}
    return frames, subs


def _info(
    prep: Prepared, outs: list[Outcomes], anomalies: pl.DataFrame, allowed: list[str]
) -> dict[str, Any]:
    counts = dict.fromkeys(ANOMALIES, 0)
    for name, n in anomalies.group_by("anomaly").len().iter_rows():
        counts[name] = int(n)
    by_group = {out.group: out.counts() for out in outs}
    total = {k: sum(g[k] for g in by_group.values()) for k in next(iter(by_group.values()))}
    return {
        "produced": prep.n,
        "groups": list(prep.groups),
        **total,
        "outcomes": {o: total[o] for o in OUTCOMES},
        "exactly_once": total["lost"] == 0 and total["duplicated"] == 0,
        "anomalies": counts,
        "by_group": by_group,
        "allowed": allowed,
    }
