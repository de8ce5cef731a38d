"""Workshop checks: did the learner get it right? One function per exercise, one friendly line.

Each check looks at what a learner built — a scenario (run here), a table, a history or an
answer — and returns :class:`Feedback`: ``ok`` and a one-line ``message`` saying what is still
missing, e.g. ``not yet: 54 records lost — 11 acknowledged, then truncated on the leader
failover: try producer.acks='all' ...``. The line is also printed (``quiet=True`` keeps it
silent), so an exercise notebook runs top to bottom with its tasks undone and shows what to do
next, and a solution notebook ``assert``\\ s ``.ok``. Checks never give the answer away.

=============================  ======  ==========================================================
check                          module  passes when
=============================  ======  ==========================================================
check_idle_members             1       ``answer`` = members of the group that got no record
check_keeps_up                 1       the group's p99 latency stays under the limit
check_no_loss                  2       no record is lost although a broker crashes
check_exactly_once             2       every event takes effect once, the log holds no duplicate
check_linearizable_answer      3       ``answer`` agrees with the linearizability checker
check_history_example          3       a hand-built history has the asked-for properties
check_features_show_incidents  4       every incident stands out in some feature column
check_detection                4       a detector catches every incident with few false alarms
check_placement_choice         5       a placement policy saves carbon within SLO and capacity
check_sweep_answer             5       ``answer`` = the smallest parameter value meeting a limit
=============================  ======  ==========================================================

:data:`CHECKS` maps these names to the functions. A learner may change only what a task
allows: give the task's starting scenario as ``reference`` and the check names any other field
that changed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from eventsim.scenario import Scenario
from eventsim.sim.result import RunResult

__all__ = [
    "CHECKS",
    "Feedback",
    "check_detection",
    "check_exactly_once",
    "check_features_show_incidents",
    "check_history_example",
    "check_idle_members",
    "check_keeps_up",
    "check_linearizable_answer",
    "check_no_loss",
    "check_placement_choice",
    "check_sweep_answer",
]

_OK, _NOT_YET = "✓ ", "not yet: "


@dataclass(frozen=True)
class Feedback:
    """The verdict of a workshop check.

    Parameters
    ----------
    ok
        True when the task is done.
    message
        One line for the learner: ``"✓ ..."`` when done, ``"not yet: ..."`` with what is
        missing otherwise.
    details
        Figures the verdict rests on (counts, the computed value, ...).

    Examples
    --------
    >>> fb = Feedback(False, "not yet: set answer")
    >>> fb.ok, str(fb)
    (False, 'not yet: set answer')
    """

    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def _say(ok: bool, text: str, details: Mapping[str, Any] | None = None, *, quiet: bool) -> Feedback:
    feedback = Feedback(ok, (_OK if ok else _NOT_YET) + text, dict(details or {}))
    if not quiet:
        print(feedback.message)
    return feedback


# -- scenarios ------------------------------------------------------------------------------------
def _flat(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, Mapping):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out or {prefix[:-1]: {}}
    if isinstance(node, list) and node and all(isinstance(v, Mapping) for v in node):
        out = {}
        for i, value in enumerate(node):
            out.update(_flat(value, f"{prefix}{i}."))
        return out
    return {prefix[:-1]: node}


def _changed(scenario: Scenario, reference: Scenario) -> list[str]:
    """Dotted paths whose values differ between the two scenarios."""
    a, b = _flat(scenario.to_dict()), _flat(reference.to_dict())
    return sorted(p for p in a.keys() | b.keys() if a.get(p) != b.get(p))


def _forbidden_changes(
    scenario: Scenario, reference: Scenario | None, allowed: Sequence[str]
) -> str | None:
    """None, or the not-yet text naming fields changed outside ``allowed`` (glob patterns)."""
    if reference is None:
        return None
    bad = [
        p
        for p in _changed(scenario, reference)
        if not any(fnmatch.fnmatchcase(p, pat) for pat in allowed)
    ]
    if not bad:
        return None
    shown = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
    return f"the task lets you change only {', '.join(allowed)}; you changed {shown}"


def _run(obj: Any, what: str) -> tuple[RunResult | None, str | None]:
    """A run result from a Scenario (run here) or a RunResult, or the not-yet text."""
    if isinstance(obj, RunResult):
        return obj, None
    if isinstance(obj, Scenario):
        from eventsim.sim.engine import run

        return run(obj, progress=False), None
    if obj is None:
        return None, f"build the {what} first (it is still None)"
    return None, f"expected a Scenario or a RunResult for the {what}; got {type(obj).__name__}"


# -- module 1: logs, partitions, consumer groups --------------------------------------------------
def check_idle_members(
    result: RunResult, answer: int | None, *, group: str | None = None, quiet: bool = False
) -> Feedback:
    """Is ``answer`` the number of members of ``group`` that were given no record?

    Parameters
    ----------
    result
        The run the learner looked at.
    answer
        The learner's count (None: not answered yet).
    group
        Consumer group name (default: the scenario's first group).
    quiet
        Do not print the message.

    Examples
    --------
    >>> import eventsim as es
    >>> sc = es.Scenario(duration="5s", params={"rate_per_s": 20}, log=es.LogConfig(partitions=2),
    ...                  consumers=(es.ConsumerGroupConfig(members=3),))
    >>> res = es.run(sc, progress=False)
    >>> check_idle_members(res, 0).ok
    not yet: 0 is not it — compare the group's 3 members with the members that appear in
    result.deliveries (a partition is read by one member of a group at a time)
    False
    >>> check_idle_members(res, 1).ok
    ✓ right: 1 of the 3 members of 'sink' got no record — 2 partitions, so 2 members at most
    True
    """
    groups = {g.name: g for g in result.scenario.consumers}
    name = group if group is not None else next(iter(groups), None)
    if name not in groups:
        return _say(
            False, f"group {name!r} is not in the run; it has {sorted(groups)}", quiet=quiet
        )
    members = groups[name].members
    busy = result.deliveries.filter(pl.col("group") == name).get_column("member").n_unique()
    idle = members - busy
    details = {"members": members, "busy": busy, "idle": idle}
    if answer is None:
        return _say(False, "set answer to the number of idle members", details, quiet=quiet)
    if answer != idle:
        text = (
            f"{answer} is not it — compare the group's {members} members with the members that"
            " appear in result.deliveries (a partition is read by one member of a group at a time)"
        )
        return _say(False, text, details, quiet=quiet)
    partitions = result.scenario.log.partitions
    text = (
        f"right: {idle} of the {members} members of {name!r} got no record — {partitions}"
        f" partition{'s' if partitions != 1 else ''}, so {partitions} member"
        f"{'s' if partitions != 1 else ''} at most"
    )
    return _say(True, text, details, quiet=quiet)


def check_keeps_up(
    scenario: Scenario | RunResult | None,
    *,
    max_latency_p99_ms: float = 500.0,
    reference: Scenario | None = None,
    allowed: Sequence[str] = ("log.partitions", "consumers.*.members", "consumers.*.assignor"),
    quiet: bool = False,
) -> Feedback:
    """Does the consumer group keep up: every event delivered, p99 latency under the limit?

    Parameters
    ----------
    scenario
        The learner's scenario (run here) or its result.
    max_latency_p99_ms
        The limit on the 99th percentile of delivery latency.
    reference
        The task's starting scenario; fields outside ``allowed`` must not change.
    allowed
        Glob patterns of the dotted fields the task lets the learner change.
    quiet
        Do not print the message.

    Examples
    --------
    >>> import eventsim as es
    >>> slow = es.ConsumerGroupConfig(members=1, processing_time_s=0.01)
    >>> sc = es.Scenario(duration="5s", params={"rate_per_s": 200}, consumers=(slow,))
    >>> check_keeps_up(sc).ok
    not yet: the group falls behind: p99 latency ... ms > 500 ms — each member processes one
    record at a time; add members (consumers.0.members), and partitions for them to read
    False
    >>> check_keeps_up(sc.replace(**{"consumers.0.members": 4})).ok
    ✓ the group keeps up: p99 latency ... ms ≤ 500 ms with 12 partitions and 4 members
    True
    """
    result, problem = _run(scenario, "scenario")
    if result is None:
        return _say(False, str(problem), quiet=quiet)
    problem = _forbidden_changes(result.scenario, reference, allowed)
    if problem is not None:
        return _say(False, problem, quiet=quiet)
    group = result.scenario.consumers[0]
    s = result.summary()
    p99 = s["latency_p99_ms"]
    busy = result.deliveries.filter(pl.col("group") == group.name)["member"].n_unique()
    details = {
        "latency_p99_ms": p99,
        "undelivered_events": s["undelivered_events"],
        "members": group.members,
        "busy_members": busy,
        "partitions": result.scenario.log.partitions,
    }
    if p99 is not None and p99 <= max_latency_p99_ms and not s["undelivered_events"]:
        text = (
            f"the group keeps up: p99 latency {p99:.0f} ms ≤ {max_latency_p99_ms:g} ms with"
            f" {result.scenario.log.partitions} partitions and {group.members} members"
        )
        return _say(True, text, details, quiet=quiet)
    lag = (
        f"p99 latency {p99:.0f} ms > {max_latency_p99_ms:g} ms"
        if p99 is not None
        else "nothing was delivered"
    )
    if s["undelivered_events"]:
        lag += f", {s['undelivered_events']} events never delivered"
    per_partition = result.events.group_by("topic", "partition").len().get_column("len")
    hottest = (per_partition.max() or 0) / result.scenario.duration
    capacity = 1.0 / group.processing_time_s if group.processing_time_s > 0 else float("inf")
    details["hottest_partition_per_s"] = hottest
    if busy < group.members:
        hint = (
            f"{group.members - busy} of {group.members} members are idle: a partition goes to"
            " one member, so add partitions (log.partitions)"
        )
    elif hottest > capacity:
        hint = (
            f"the busiest partition receives {hottest:.0f} events/s, more than one member can"
            f" process ({capacity:.0f}/s): spread the keys over more partitions (log.partitions)"
        )
    else:
        hint = (
            "each member processes one record at a time; add members (consumers.0.members),"
            " and partitions for them to read"
        )
    return _say(False, f"the group falls behind: {lag} — {hint}", details, quiet=quiet)


# -- module 2: delivery semantics under faults ----------------------------------------------------
_SETTINGS = ("log.*", "producer.*", "consumers.*")


def _faults_of(result: RunResult, kind: str) -> list[str]:
    return result.faults.filter(pl.col("kind") == kind).get_column("target").to_list()


def _run_under_fault(
    scenario: Any,
    reference: Any,
    allowed: Any,
    kind: str,
    name: str,
    hint: str,
    quiet: bool,
) -> tuple[Any, list[str], Feedback | None]:
    """Run a learner's scenario for a fault task: the run, the faulted targets, or the
    feedback that refuses it (it does not run, changes what the task fixes, or drops the
    fault)."""
    result, problem = _run(scenario, "scenario")
    if result is None:
        return None, [], _say(False, str(problem), quiet=quiet)
    problem = _forbidden_changes(result.scenario, reference, allowed)
    if problem is not None:
        return None, [], _say(False, problem, quiet=quiet)
    crashed = _faults_of(result, kind)
    if not crashed:
        text = f"the run has no {name} — the task is to survive one: {hint}"
        return None, [], _say(False, text, quiet=quiet)
    return result, crashed, None


def check_no_loss(
    scenario: Scenario | RunResult | None,
    *,
    reference: Scenario | None = None,
    allowed: Sequence[str] = _SETTINGS,
    quiet: bool = False,
) -> Feedback:
    """Is every produced record applied at least once, although a broker crashes?

    Runs the scenario and reads the delivery checker (:func:`eventsim.delivery.check`); the
    hint names the stage where records were lost: acknowledged then truncated on the leader
    failover (``acks``, ``min_insync_replicas``), given up by the producer (``retries``) or
    stored but never processed (the consumers' ``commit``).

    Parameters
    ----------
    scenario
        The learner's scenario (run here) or its result; it must crash a broker.
    reference
        The task's starting scenario; fields outside ``allowed`` must not change.
    allowed
        Glob patterns of the fields the task lets the learner change (default: the log,
        producer and consumer settings — not the workload or the faults).
    quiet
        Do not print the message.

    Examples
    --------
    >>> import eventsim as es
    >>> from eventsim.faults import FaultsConfig, FaultSpec
    >>> crash = FaultsConfig(scheduled=(FaultSpec("broker_crash", "broker-1", 2.0, 2.0),))
    >>> sc = es.Scenario(duration="6s", params={"rate_per_s": 50}, faults=crash,
    ...                  log=es.LogConfig(partitions=3, replication_factor=3,
    ...                                   replication_lag_s=0.2),
    ...                  producer=es.ProducerConfig(acks="1", retries=0))
    >>> check_no_loss(sc).ok
    not yet: ... records lost — ... acknowledged, then truncated on the leader failover: try
    producer.acks='all' (with log.min_insync_replicas=2); ... never stored: the producer gave up
    while the partition had no leader — try producer.retries
    False
    >>> check_no_loss(sc.replace(**{"producer.acks": "all", "producer.retries": 10})).ok
    ✓ no record lost: all ... records were applied although broker-1 crashed
    True
    """
    from eventsim.delivery import check

    result, crashed, refusal = _run_under_fault(
        scenario, reference, allowed, "broker_crash", "broker crash", "keep the fault", quiet
    )
    if refusal is not None:
        return refusal
    verdict = check(result)
    info = verdict.info
    anomalies = verdict.anomalies
    lost_ids = anomalies.filter(pl.col("anomaly") == "lost").get_column("event_id").unique()
    truncated = anomalies.filter(
        (pl.col("anomaly") == "lost-write") & pl.col("event_id").is_in(lost_ids.implode())
    ).height
    gave_up = result.sends.filter(
        pl.col("event_id").is_in(lost_ids.implode()) & (pl.col("status") != "acked")
    ).height
    lost = int(info.get("lost", 0))
    unprocessed = max(lost - truncated - gave_up, 0)
    details = {
        "produced": int(info.get("produced", 0)),
        "lost": lost,
        "truncated": truncated,
        "gave_up": gave_up,
        "unprocessed": unprocessed,
    }
    if lost == 0:
        text = (
            f"no record lost: all {details['produced']} records were applied although"
            f" {', '.join(sorted(set(crashed)))} crashed"
        )
        return _say(True, text, details, quiet=quiet)
    parts = []
    if truncated:
        parts.append(
            f"{truncated} acknowledged, then truncated on the leader failover: try"
            " producer.acks='all' (with log.min_insync_replicas=2)"
        )
    if gave_up:
        parts.append(
            f"{gave_up} never stored: the producer gave up while the partition had no leader"
            " — try producer.retries"
        )
    if unprocessed:
        parts.append(
            f"{unprocessed} stored but never processed: a consumer committed them before"
            " processing — try consumers.0.commit='after-process'"
        )
    return _say(False, f"{lost} records lost — " + "; ".join(parts), details, quiet=quiet)


def check_exactly_once(
    scenario: Scenario | RunResult | None,
    *,
    reference: Scenario | None = None,
    allowed: Sequence[str] = _SETTINGS,
    quiet: bool = False,
) -> Feedback:
    """Does every event take effect exactly once — and does the log hold no duplicate — although
    consumers crash?

    An idempotent sink alone ("effectively once") passes the business count but leaves
    duplicate records in the log, which the check reports as *almost*.

    Parameters
    ----------
    scenario
        The learner's scenario (run here) or its result; it must crash a consumer.
    reference
        The task's starting scenario; fields outside ``allowed`` must not change.
    allowed
        Glob patterns of the fields the task lets the learner change.
    quiet
        Do not print the message.

    Examples
    --------
    >>> import eventsim as es
    >>> from eventsim.delivery import apply_preset
    >>> from eventsim.faults import FaultsConfig, FaultSpec
    >>> crash = FaultsConfig(scheduled=(FaultSpec("consumer_crash", "sink-1", 2.0, 2.0),))
    >>> sc = es.Scenario(duration="6s", params={"rate_per_s": 50}, faults=crash,
    ...                  consumers=(es.ConsumerGroupConfig(commit="after-process",
    ...                                                    session_timeout_s=1.0),))
    >>> check_exactly_once(sc).ok
    not yet: ... events applied more than once: a member crashed after processing, before
    committing — commit the offsets in the same transaction as the writes ...
    False
    >>> check_exactly_once(apply_preset(sc, "exactly-once")).ok
    ✓ exactly once: each of the ... events took effect once and the log holds no duplicate,
    although sink-1 crashed
    True
    """
    from eventsim.delivery import check

    result, crashed, refusal = _run_under_fault(
        scenario, reference, allowed, "consumer_crash", "consumer crash", "keep the faults", quiet
    )
    if refusal is not None:
        return refusal
    verdict = check(result)
    info = verdict.info
    counts = verdict.counts()
    lost, duplicated = int(info.get("lost", 0)), int(info.get("duplicated", 0))
    log_dups = counts.get("duplicate", 0)
    details = {
        "produced": int(info.get("produced", 0)),
        "lost": lost,
        "duplicated": duplicated,
        "log_duplicates": log_dups,
        "anomalies": counts,
    }
    if verdict.valid:
        text = (
            f"exactly once: each of the {details['produced']} events took effect once and the"
            f" log holds no duplicate, although {', '.join(sorted(set(crashed)))} crashed"
        )
        return _say(True, text, details, quiet=quiet)
    parts = []
    if lost:
        parts.append(
            f"{lost} events never took effect: a member committed a batch before processing it"
            " — commit after processing, or in a transaction"
        )
    if duplicated:
        parts.append(
            f"{duplicated} events applied more than once: a member crashed after processing,"
            " before committing — commit the offsets in the same transaction as the writes"
            " (consumers.0.commit='transactional', isolation='read_committed', a transactional"
            " producer)"
        )
    if parts:
        return _say(False, "; ".join(parts), details, quiet=quiet)
    if log_dups:
        text = (
            f"almost: every event took effect once, but the log holds {log_dups} duplicate"
            " records (the producer resent them) that only the sink's memory hides — make the"
            " producer idempotent (producer.idempotent=True)"
        )
        return _say(False, text, details, quiet=quiet)
    other = ", ".join(f"{k} ({v})" for k, v in counts.items())
    return _say(False, f"the delivery checker still finds {other}", details, quiet=quiet)


# -- module 3: consistency -------------------------------------------------------------------------
def check_linearizable_answer(
    history: pl.DataFrame,
    answer: bool | None,
    *,
    model: str = "register",
    quiet: bool = False,
) -> Feedback:
    """Does ``answer`` (is ``history`` linearizable?) agree with the checker?

    Parameters
    ----------
    history
        A history frame (:func:`eventsim.consistency.make_history`).
    answer
        True (linearizable), False, or None (not answered yet).
    model
        The model the history is checked against (``"register"``, ``"kv"``).
    quiet
        Do not print the message.

    Examples
    --------
    >>> from eventsim.consistency import make_history
    >>> h = make_history([(0, "write", None, 1, None, 0, 1), (1, "read", None, None, None, 2, 3)])
    >>> check_linearizable_answer(h, True).ok
    not yet: the checker disagrees — try to give every operation one instant between its invoke
    and its completion, so that each read returns the latest write before it
    False
    >>> check_linearizable_answer(h, False).ok
    ✓ right: not linearizable — row 1 (read → None) cannot follow the operations in rows [0]
    True
    """
    from eventsim.consistency import check_linearizable

    verdict = check_linearizable(history, model=model)
    details = {"valid": verdict.valid, "longest_prefix": verdict.info.get("longest_prefix")}
    if answer is None:
        return _say(False, "set answer = True (linearizable) or False", details, quiet=quiet)
    if verdict.valid is None:
        return _say(False, "the checker ran out of time on this history", details, quiet=quiet)
    if bool(answer) != verdict.valid:
        text = (
            "the checker disagrees — try to give every operation one instant between its invoke"
            " and its completion, so that each read returns the latest write before it"
        )
        return _say(False, text, details, quiet=quiet)
    if verdict.valid:
        return _say(True, "right: linearizable — there is such an order", details, quiet=quiet)
    blocking = verdict.anomalies.filter(pl.col("blocking")).row(0, named=True)
    text = (
        f"right: not linearizable — row {blocking['row']} ({blocking['op']} →"
        f" {blocking['output'] if blocking['op'] in ('read', 'get') else blocking['value']})"
        f" cannot follow the operations in rows {details['longest_prefix']}"
    )
    return _say(True, text, details, quiet=quiet)


def check_history_example(
    history: pl.DataFrame | None,
    *,
    linearizable: bool = False,
    session: bool = True,
    model: str = "register",
    quiet: bool = False,
) -> Feedback:
    """Does a hand-built history have the asked-for properties?

    The default asks for a history that keeps every session guarantee (read-your-writes,
    monotonic reads, monotonic writes, writes-follow-reads) yet is not linearizable.

    Parameters
    ----------
    history
        The learner's history frame (None: not built yet).
    linearizable, session
        The verdicts the history must get from :func:`~eventsim.consistency.check_linearizable`
        and :func:`~eventsim.consistency.check_session`.
    model
        Model for the linearizability check.
    quiet
        Do not print the message.

    Examples
    --------
    >>> from eventsim.consistency import make_history
    >>> write = (0, "write", "x", "a", None, 0, 1)
    >>> fresh = make_history([write, (1, "read", "x", None, "a", 2, 3)])
    >>> check_history_example(fresh).ok
    not yet: your history is linearizable — let a read return an older value after a newer write
    has completed
    False
    >>> stale = make_history([write, (1, "read", "x", None, None, 2, 3)])
    >>> check_history_example(stale).ok
    ✓ your history keeps every session guarantee and is not linearizable
    True
    """
    if history is None:
        text = "build a history first: make_history([(process, op, key, value, output, invoke_s,"
        return _say(False, text + " complete_s), ...])", quiet=quiet)
    from eventsim.consistency import check_linearizable, check_session

    lin = check_linearizable(history, model=model)
    ses = check_session(history)
    details = {"linearizable": lin.valid, "session": ses.valid, "session_anomalies": ses.counts()}
    problems = []
    if lin.valid is not linearizable:
        problems.append(
            "your history is linearizable — let a read return an older value after a newer"
            " write has completed"
            if lin.valid
            else "your history is not linearizable — make every read return the latest write"
            " completed before it"
        )
    if ses.valid is not session:
        broken = ", ".join(sorted(ses.counts())) or "none"
        problems.append(
            f"your history breaks {broken} — within one process, never read older than what"
            " that process wrote or read before; let another process see the old value"
            if session
            else "your history keeps every session guarantee — let a process read an older"
            " value than one it wrote or read before"
        )
    if problems:
        return _say(False, "; ".join(problems), details, quiet=quiet)
    text = (
        f"your history {'keeps every' if session else 'breaks a'} session guarantee and is"
        f" {'' if linearizable else 'not '}linearizable"
    )
    return _say(True, text, details, quiet=quiet)


# -- module 4: anomaly detection ------------------------------------------------------------------
_FEATURE_HINTS = {
    "error_burst": "which event type marks an error? FeatureSpec(error_types=(...))",
    "latency_regression": "which payload column carries latency? FeatureSpec(latency=...)",
    "hot_key": "one key floods the topic: FeatureSpec(entity='key') gives top_entity_rate_per_s",
    "outage": "count the events per window, in windows shorter than the outage",
}
_NOT_FEATURES = ("window_start_s", "window_end_s")


def _robust_shift(inside: np.ndarray, outside: np.ndarray) -> float:
    """|median(inside) − median(outside)| in robust standard deviations of ``outside``
    (1.4826 × MAD; the standard deviation when the MAD is 0)."""
    if inside.size == 0 or outside.size == 0:
        return 0.0
    med = float(np.median(outside))
    spread = 1.4826 * float(np.median(np.abs(outside - med))) or float(np.std(outside))
    shift = abs(float(np.median(inside)) - med)
    if spread == 0.0:
        return float("inf") if shift > 0 else 0.0
    return shift / spread


def check_features_show_incidents(
    frame: pl.DataFrame,
    incidents: pl.DataFrame,
    *,
    min_shift: float = 3.0,
    quiet: bool = False,
) -> Feedback:
    """Does every incident stand out in at least one feature column of ``frame``?

    A feature *shows* an incident when, on the incident's streams, its median over the windows
    overlapping the incident is at least ``min_shift`` robust standard deviations (1.4826 ×
    MAD, or the standard deviation when the MAD is 0) away from its median over the windows
    that overlap no incident.

    Parameters
    ----------
    frame
        Metric streams (``window_start_s``, ``window_end_s``, ``stream``, numeric features),
        as :func:`eventsim.anomaly.features.window_features` builds them.
    incidents
        ``RunResult.incidents`` (``kind``, ``start_s``, ``end_s``, ``target``, ``affected``).
    min_shift
        How far (robust standard deviations) the medians must be apart.
    quiet
        Do not print the message.

    Examples
    --------
    >>> frame = pl.DataFrame({"window_start_s": [0.0, 10.0, 20.0, 30.0, 40.0],
    ...                       "window_end_s": [10.0, 20.0, 30.0, 40.0, 50.0], "stream": "events",
    ...                       "events": [50, 52, 49, 51, 50],
    ...                       "error_ratio": [0.0, 0.0, 0.0, 0.5, 0.0]})
    >>> inc = pl.DataFrame({"kind": ["error_burst"], "start_s": [30.0], "end_s": [40.0],
    ...                     "target": ["events"], "affected": [[]]},
    ...                    schema_overrides={"affected": pl.List(pl.String)})
    >>> check_features_show_incidents(frame.drop("error_ratio"), inc).ok
    not yet: no feature shows the error_burst at 30–40 s (features: events) — which event type
    marks an error? FeatureSpec(error_types=(...))
    False
    >>> check_features_show_incidents(frame, inc).ok
    ✓ every incident shows: error_burst at 30–40 s in error_ratio
    True
    """
    features = [
        c
        for c, t in frame.schema.items()
        if (t.is_numeric() or t == pl.Boolean) and c not in _NOT_FEATURES
    ]
    if incidents.is_empty():
        return _say(False, "there is no incident to show: add one to the scenario", quiet=quiet)
    streams = frame.get_column("stream").unique().to_list()
    start, end = pl.col("window_start_s"), pl.col("window_end_s")
    quiet_windows = pl.lit(True)
    for row in incidents.iter_rows(named=True):
        quiet_windows = quiet_windows & ~((start < row["end_s"]) & (end > row["start_s"]))
    shown: dict[str, list[str]] = {}
    missing = []
    for row in incidents.iter_rows(named=True):
        named = [s for s in [row["target"], *(row["affected"] or [])] if s in streams]
        mine = frame.filter(pl.col("stream").is_in(named or streams))
        inside = mine.filter((start < row["end_s"]) & (end > row["start_s"]))
        outside = mine.filter(quiet_windows)
        label = f"{row['kind']} at {row['start_s']:g}–{row['end_s']:g} s"
        hits = [
            f
            for f in features
            if _robust_shift(
                inside.get_column(f).cast(pl.Float64).drop_nulls().to_numpy(),
                outside.get_column(f).cast(pl.Float64).drop_nulls().to_numpy(),
            )
            >= min_shift
        ]
        shown[label] = hits
        if not hits:
            missing.append((label, row["kind"]))
    details = {"shown": shown}
    if missing:
        label, kind = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        hint = _FEATURE_HINTS.get(kind, "which column would change during it?")
        text = f"no feature shows the {label}{more} (features: {', '.join(features)}) — {hint}"
        return _say(False, text, details, quiet=quiet)
    listed = "; ".join(f"{label} in {', '.join(hits)}" for label, hits in shown.items())
    return _say(True, f"every incident shows: {listed}", details, quiet=quiet)


def check_detection(
    table: pl.DataFrame,
    detector: str | None,
    *,
    min_recall: float = 1.0,
    min_precision: float = 0.75,
    quiet: bool = False,
) -> Feedback:
    """Does ``detector`` (a row of a :func:`~eventsim.anomaly.compare_detectors` table) catch
    enough incidents with few enough false alarms?

    Parameters
    ----------
    table
        The learner's comparison table.
    detector
        The detector the learner picks (None: not chosen yet).
    min_recall
        Share of incidents it must catch.
    min_precision
        Share of its alarms that must fall inside an incident.
    quiet
        Do not print the message.

    Examples
    --------
    >>> table = pl.DataFrame({"detector": ["a", "b"], "incidents": [2, 2], "detected": [1, 2],
    ...                       "incident_recall": [0.5, 1.0], "precision": [1.0, 0.8],
    ...                       "median_delay_s": [5.0, 0.0], "alarms": [3, 10]})
    >>> check_detection(table, "a").ok
    not yet: a caught 1 of 2 incidents — lower the alarm quantile, or try another detector or
    other features
    False
    >>> check_detection(table, "b").ok
    ✓ b caught 2 of 2 incidents and 80% of its 10 alarms were real (median delay 0 s)
    True
    """
    names = table.get_column("detector").to_list()
    if detector is None:
        return _say(False, f"choose a detector from your table: {', '.join(names)}", quiet=quiet)
    if detector not in names:
        text = f"{detector!r} is not in your table; it has {', '.join(names)}"
        return _say(False, text, quiet=quiet)
    row = table.filter(pl.col("detector") == detector).row(0, named=True)
    details = {k: row[k] for k in ("incidents", "detected", "incident_recall", "precision")}
    if row["incident_recall"] < min_recall and not row["alarms"]:
        text = (
            f"{detector} raised no alarm at all — an alarm threshold needs history first (100"
            " scores by default): use shorter windows, or a lower alarm quantile"
        )
        return _say(False, text, details, quiet=quiet)
    if row["incident_recall"] < min_recall:
        text = (
            f"{detector} caught {row['detected']} of {row['incidents']} incidents — lower the alarm"
            " quantile, or try another detector or other features"
        )
        return _say(False, text, details, quiet=quiet)
    if row["precision"] < min_precision:
        text = (
            f"{detector} caught {row['detected']} of {row['incidents']} incidents but only"
            f" {row['precision']:.0%} of its {row['alarms']} alarms were real (the target is"
            f" {min_precision:.0%}) — raise the alarm quantile, or try another detector"
        )
        return _say(False, text, details, quiet=quiet)
    delay = row.get("median_delay_s")
    text = (
        f"{detector} caught {row['detected']} of {row['incidents']} incidents and"
        f" {row['precision']:.0%} of its {row['alarms']} alarms were real"
        + (f" (median delay {delay:g} s)" if delay is not None else "")
    )
    return _say(True, text, details, quiet=quiet)


# -- module 5: carbon-aware placement, sweeps -----------------------------------------------------
def check_placement_choice(
    table: pl.DataFrame,
    policy: str | None,
    *,
    min_savings_pct: float = 50.0,
    quiet: bool = False,
) -> Feedback:
    """Does ``policy`` (a row of a :func:`~eventsim.carbon.compare_placement` table) save at
    least ``min_savings_pct`` of the baseline's emissions with no SLO violation, no event
    beyond a region's capacity and no missed deadline?

    Parameters
    ----------
    table
        The learner's comparison table.
    policy
        The policy the learner picks (None: not chosen yet). The offline optimum, which knows
        the future, does not count.
    min_savings_pct
        Required savings against the baseline, in percent.
    quiet
        Do not print the message.

    Examples
    --------
    >>> table = pl.DataFrame({"policy": ["latency-first", "greedy", "careful"],
    ...     "savings_pct": [0.0, 70.0, 65.0], "slo_violations": [0.0, 120.0, 0.0],
    ...     "overflow_events": [0.0, 0.0, 0.0], "deadline_misses": [0.0, 0.0, 0.0]})
    >>> check_placement_choice(table, "greedy").ok
    not yet: greedy saves 70% but breaks the latency SLO 120 times — a policy must keep every
    promise
    False
    >>> check_placement_choice(table, "careful").ok
    ✓ careful saves 65% of the emissions within the SLO, the capacities and the deadlines
    True
    """
    names = table.get_column("policy").to_list()
    if policy is None:
        return _say(False, f"choose a policy from your table: {', '.join(names)}", quiet=quiet)
    if policy == "offline-optimum":
        text = "the offline optimum knows the future — pick a policy that could run for real"
        return _say(False, text, quiet=quiet)
    if policy not in names:
        return _say(
            False, f"{policy!r} is not in your table; it has {', '.join(names)}", quiet=quiet
        )
    row = table.filter(pl.col("policy") == policy).row(0, named=True)
    details = {
        k: row.get(k)
        for k in ("savings_pct", "slo_violations", "overflow_events", "deadline_misses")
    }
    saving = f"{policy} saves {row['savings_pct']:.0f}%"
    broken = [
        (row.get("slo_violations") or 0, "breaks the latency SLO {:,.0f} times"),
        (row.get("overflow_events") or 0, "sends {:,.0f} events beyond a region's capacity"),
        (row.get("deadline_misses") or 0, "misses {:,.0f} job deadlines"),
    ]
    faults = [template.format(n) for n, template in broken if n > 0]
    if faults:
        text = f"{saving} but {' and '.join(faults)} — a policy must keep every promise"
        return _say(False, text, details, quiet=quiet)
    if row["savings_pct"] < min_savings_pct:
        text = f"{saving}; the target is {min_savings_pct:g}% — which policies move work in space?"
        return _say(False, text, details, quiet=quiet)
    text = f"{saving} of the emissions within the SLO, the capacities and the deadlines"
    return _say(True, text, details, quiet=quiet)


def check_sweep_answer(
    table: pl.DataFrame,
    answer: Any,
    *,
    param: str,
    metric: str,
    below: float,
    min_seeds: int = 3,
    quiet: bool = False,
) -> Feedback:
    """Is ``answer`` the smallest value of ``param`` whose mean ``metric`` across seeds is below
    ``below``?

    Parameters
    ----------
    table
        A sweep table (:func:`eventsim.sweep.sweep`) with ``param`` among its columns.
    answer
        The learner's value (None: not answered yet).
    param, metric
        The parameter column and the metric column.
    below
        The limit the mean of ``metric`` must stay under.
    min_seeds
        Seeds each point needs for its mean to be trusted.
    quiet
        Do not print the message.

    Examples
    --------
    >>> t = pl.DataFrame({"log.partitions": [2, 2, 2, 4, 4, 4, 8, 8, 8], "seed": [0, 1, 2] * 3,
    ...                   "scenario_key": list("abcdefghi"),
    ...                   "latency_p99_ms": [900.0, 950, 990, 450, 480, 430, 300, 310, 290],
    ...                   "run_s": [0.1] * 9, "status": ["ok"] * 9})
    >>> check_sweep_answer(t, 8, param="log.partitions", metric="latency_p99_ms", below=500).ok
    not yet: 8 works, but a smaller log.partitions does too
    False
    >>> check_sweep_answer(t, 4, param="log.partitions", metric="latency_p99_ms", below=500).ok
    ✓ right: log.partitions = 4 is the smallest with mean latency_p99_ms below 500 (453.3)
    True
    """
    from eventsim.sweep import aggregate

    for column in (param, metric):
        if column not in table.columns:
            return _say(False, f"your table has no column {column!r}", quiet=quiet)
    agg = aggregate(table, by=[param], metrics=[metric]).sort(param)
    few = agg.filter(pl.col("n") < min_seeds)
    if few.height:
        text = (
            f"run at least {min_seeds} seeds per point (Grid(..., seeds=range({min_seeds})));"
            f" {few.height} point(s) have fewer"
        )
        return _say(False, text, quiet=quiet)
    means = dict(zip(agg.get_column(param).to_list(), agg.get_column("mean").to_list()))
    passing = [v for v, m in means.items() if m is not None and m < below]
    best = passing[0] if passing else None
    details = {"means": means, "smallest": best}
    if answer is None:
        return _say(False, f"set answer to a value of {param}", details, quiet=quiet)
    if answer not in means:
        text = f"{answer!r} is not a value of {param} in your sweep ({', '.join(map(str, means))})"
        return _say(False, text, details, quiet=quiet)
    if means[answer] is None or means[answer] >= below:
        text = (
            f"at {param} = {answer} the mean {metric} is {means[answer]:.4g}, not below {below:g}"
        )
        return _say(False, text, details, quiet=quiet)
    if answer != best:
        return _say(False, f"{answer} works, but a smaller {param} does too", details, quiet=quiet)
    text = (
        f"right: {param} = {answer} is the smallest with mean {metric} below {below:g}"
        f" ({means[answer]:.4g})"
    )
    return _say(True, text, details, quiet=quiet)


#: Check name → function (the table in the module docstring).
CHECKS: dict[str, Callable[..., Feedback]] = {
    f.__name__: f
    for f in (
        check_idle_members,
        check_keeps_up,
        check_no_loss,
        check_exactly_once,
        check_linearizable_answer,
        check_history_example,
        check_features_show_incidents,
        check_detection,
        check_placement_choice,
        check_sweep_answer,
    )
}
