"""crash_timeline: the fate and reason of every event around a fault, on hand-made frames
(every reason, asserted row by row) and on real runs (consistent with the checker)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import eventsim as es
from eventsim.delivery import apply_preset, check, classify_events
from eventsim.delivery.timeline import FATES, REASONS, TIMELINE_SCHEMA, crash_timeline
from eventsim.exceptions import ConfigError, DataFormatError


# -- hand-made frames ----------------------------------------------------------------------------
def _sends(rows: list[tuple[int, float, str, int]]) -> pl.DataFrame:
    """(event_id, created_s, status, partition) rows, topic t, key k."""
    ids, created, status, partition = zip(*rows, strict=True)
    return pl.DataFrame(
        {
            "event_id": list(ids),
            "topic": "t",
            "key": "k",
            "partition": list(partition),
            "created_s": list(created),
            "attempts": [2 if s == "failed" else 1 for s in status],
            "status": list(status),
            "acked_s": [None if s == "failed" else c + 0.1 for c, s in zip(created, status)],
        },
        schema_overrides={"partition": pl.Int32, "attempts": pl.Int32, "acked_s": pl.Float64},
    )


def _log(rows: list[tuple[int, int, int, str | None]]) -> pl.DataFrame:
    """(partition, offset, event_id, txn_state) rows."""
    partition, offset, eid, txn = zip(*rows, strict=True)
    return pl.DataFrame(
        {
            "topic": "t",
            "partition": list(partition),
            "offset": list(offset),
            "event_id": list(eid),
            "txn_state": list(txn),
        },
        schema_overrides={"partition": pl.Int32, "txn_state": pl.String},
    )


def _deliveries(rows: list[tuple[str, int, int, int, bool]]) -> pl.DataFrame:
    """(group, partition, offset, event_id, applied) rows, one poll each, in order."""
    group, partition, offset, eid, applied = zip(*rows, strict=True)
    return pl.DataFrame(
        {
            "group": list(group),
            "member": "m0",
            "generation": 0,
            "poll": list(range(len(rows))),
            "topic": "t",
            "partition": list(partition),
            "offset": list(offset),
            "event_id": list(eid),
            "delivered_s": [float(i) for i in range(len(rows))],
            "latency_s": 0.5,
            "applied": list(applied),
        },
        schema_overrides={"partition": pl.Int32, "generation": pl.Int32},
    )


SENDS = _sends(
    [
        (1, 1.0, "acked", 0),  # delivered once
        (2, 2.0, "acked", 0),  # acked, no copy in the log
        (3, 3.0, "failed", 0),  # never reached the log
        (4, 4.0, "acked", 0),  # two copies (offsets 0, 1), both delivered
        (5, 5.0, "acked", 0),  # offset 2 delivered twice
        (6, 6.0, "acked", 0),  # offset 3 skipped: the group went on at offset 4
        (7, 7.0, "acked", 0),  # delivered once
        (8, 8.0, "acked", 0),  # copies at 5 and 6; 5 delivered twice
        (9, 9.0, "acked", 0),  # only copy aborted
        (10, 10.0, "acked", 0),  # delivered, never applied (failed transactional commit)
        (11, 11.0, "acked", 1),  # in the log, on a partition the group never read
        (12, 12.0, "acked", 0),  # an aborted copy and a committed one
        (13, 13.0, "acked", 0),  # delivered twice, the sink dropped the repeat
    ]
)
LOG = _log(
    [
        (0, 0, 4, None),
        (0, 1, 4, None),
        (0, 2, 5, None),
        (0, 3, 6, None),
        (0, 4, 7, None),
        (0, 5, 8, None),
        (0, 6, 8, None),
        (0, 7, 9, "aborted"),
        (0, 8, 10, "committed"),
        (1, 0, 11, None),
        (0, 9, 12, "aborted"),
        (0, 10, 12, "committed"),
        (0, 11, 13, None),
        (0, 12, 1, None),
    ]
)
DELIVERIES = _deliveries(
    [
        ("g", 0, 12, 1, True),
        ("g", 0, 0, 4, True),
        ("g", 0, 1, 4, True),
        ("g", 0, 2, 5, True),
        ("g", 0, 2, 5, True),
        ("g", 0, 4, 7, True),
        ("g", 0, 5, 8, True),
        ("g", 0, 5, 8, True),
        ("g", 0, 6, 8, True),
        ("g", 0, 8, 10, False),
        ("g", 0, 10, 12, True),
        ("g", 0, 11, 13, True),
        ("g", 0, 11, 13, False),
    ]
)
FRAMES = {"sends": SENDS, "events": LOG, "deliveries": DELIVERIES}


def test_every_reason_row_by_row() -> None:
    tl = crash_timeline(FRAMES, window=(0.0, 20.0))
    got = tl.select(
        "event_id", "fate", "reason", "outcome", "n_copies", "n_aborted", "n_delivered", "n_applied"
    ).rows()
    assert got == [
        (1, "delivered_once", None, "delivered_once", 1, 0, 1, 1),
        (2, "lost", "acked-then-truncated", "lost", 0, 0, 0, 0),
        (3, "lost", "producer-gave-up", "lost", 0, 0, 0, 0),
        (4, "redelivered", "producer-resend", "duplicated", 2, 0, 2, 2),
        (5, "redelivered", "processed-not-committed", "duplicated", 1, 0, 2, 2),
        (6, "lost", "committed-before-processing", "lost", 1, 0, 0, 0),
        (7, "delivered_once", None, "delivered_once", 1, 0, 1, 1),
        (8, "redelivered", "producer-resend + processed-not-committed", "duplicated", 2, 0, 3, 3),
        (9, "lost", "transaction-aborted", "lost", 0, 1, 0, 0),
        (10, "lost", "not-applied", "lost", 1, 0, 1, 0),
        (11, "lost", "never-consumed", "lost", 1, 0, 0, 0),
        (12, "delivered_once", None, "delivered_once", 1, 1, 1, 1),
        (13, "redelivered", "processed-not-committed", "delivered_once", 1, 0, 2, 1),
    ]
    assert tl.schema == pl.Schema(TIMELINE_SCHEMA)
    assert set(tl["reason"].drop_nulls()) <= set(REASONS)
    assert set(tl["fate"]) <= set(FATES)


def test_window_is_inclusive_and_filters_by_creation() -> None:
    tl = crash_timeline(FRAMES, window=(4.0, 6.0))
    assert tl["event_id"].to_list() == [4, 5, 6]
    # the reasons do not depend on the window: offset 3 is still below the group's furthest
    assert tl["reason"].to_list() == [
        "producer-resend",
        "processed-not-committed",
        "committed-before-processing",
    ]


def test_fault_picks_the_window_with_margins() -> None:
    faults = pl.DataFrame(
        {
            "kind": ["broker_crash", "consumer_crash"],
            "target": ["broker-0", "g-0"],
            "start_s": [2.0, 9.0],
            "end_s": [3.0, 10.0],
            "detail": ["", "point=before-process"],
        }
    )
    frames = {**FRAMES, "faults": faults}
    assert crash_timeline(frames, 0, before_s=0.5, after_s=1.0)["event_id"].to_list() == [2, 3, 4]
    assert crash_timeline(frames, -1, before_s=0.0, after_s=0.0)["event_id"].to_list() == [9, 10]
    assert_frame_equal(
        crash_timeline(frames, 1, before_s=1.0, after_s=2.0),
        crash_timeline(FRAMES, window=(8.0, 12.0)),
    )


def test_one_row_per_group_and_event() -> None:
    other = _deliveries([("h", 0, 12, 1, True), ("h", 0, 0, 4, True)])
    frames = {**FRAMES, "deliveries": pl.concat([DELIVERIES, other])}
    tl = crash_timeline(frames, window=(0.0, 4.0))
    assert tl.select("group", "event_id", "fate", "reason").rows() == [
        ("g", 1, "delivered_once", None),
        ("g", 2, "lost", "acked-then-truncated"),
        ("g", 3, "lost", "producer-gave-up"),
        ("g", 4, "redelivered", "producer-resend"),
        ("h", 1, "delivered_once", None),
        ("h", 2, "lost", "acked-then-truncated"),
        ("h", 3, "lost", "producer-gave-up"),
        ("h", 4, "delivered_once", None),  # h read only the first copy
    ]
    only_h = crash_timeline(frames, window=(0.0, 4.0), group="h")
    assert_frame_equal(only_h, tl.filter(pl.col("group") == "h"))


def test_a_group_without_deliveries_in_the_window_still_counts() -> None:
    late = _deliveries([("h", 0, 11, 13, True)])
    frames = {**FRAMES, "deliveries": pl.concat([DELIVERIES, late])}
    tl = crash_timeline(frames, window=(7.0, 7.0))
    assert tl.select("group", "fate", "reason").rows() == [
        ("g", "delivered_once", None),
        ("h", "lost", "committed-before-processing"),  # h went on to offset 11
    ]


def test_empty_window_gives_an_empty_frame_with_the_schema() -> None:
    tl = crash_timeline(FRAMES, window=(100.0, 200.0))
    assert tl.height == 0
    assert tl.schema == pl.Schema(TIMELINE_SCHEMA)


def test_log_without_txn_state() -> None:
    frames = {**FRAMES, "events": LOG.drop("txn_state")}
    tl = crash_timeline(frames, window=(12.0, 12.0))
    assert tl.select("fate", "reason", "n_copies", "n_aborted").rows() == [
        ("delivered_once", None, 2, 0)  # without txn_state the "aborted" copy counts
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, ConfigError, "exactly one of fault"),
        ({"fault": 0, "window": (0.0, 1.0)}, ConfigError, "exactly one of fault"),
        ({"window": (2.0, 1.0)}, ConfigError, r"end_s >= start_s; got \(2.0, 1.0\)"),
        ({"fault": 0, "before_s": -1.0}, ConfigError, "before_s and after_s must be >= 0"),
        ({"fault": 5}, ConfigError, r"row number of result.faults \(0..0\); got 5"),
        ({"window": (0.0, 1.0), "group": "gg"}, ConfigError, "group must be one of g; got 'gg'"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type, message: str) -> None:
    faults = pl.DataFrame(
        {"kind": ["x"], "target": ["y"], "start_s": [1.0], "end_s": [2.0], "detail": [""]}
    )
    with pytest.raises(error, match=message):
        crash_timeline({**FRAMES, "faults": faults}, **kwargs)


def test_missing_frames() -> None:
    with pytest.raises(DataFormatError, match="needs the run's 'events' frame"):
        crash_timeline({"sends": SENDS, "deliveries": DELIVERIES}, window=(0.0, 1.0))
    with pytest.raises(DataFormatError, match="needs the run's 'faults' frame"):
        crash_timeline(FRAMES, 0)


# -- real runs ------------------------------------------------------------------------------------
BASE = es.Scenario(
    workload="synthetic",
    duration="12s",
    seed=3,
    drain="20s",
    params={"rate_per_s": 300, "n_keys": 50},
    log=es.LogConfig(
        partitions=6, brokers=3, replication_factor=3, min_insync_replicas=2, replication_lag_s=0.3
    ),
    consumers=(
        es.ConsumerGroupConfig(name="g", members=2, session_timeout_s=1.0, max_poll_records=50),
    ),
)


def _failover(acks: str) -> es.RunResult:
    crash = {"kind": "broker_crash", "target": "broker-0", "start_s": 4.0, "duration_s": 4.0}
    return es.run(BASE.replace(**{"producer.acks": acks, "faults.scheduled": [crash]}))


def test_acks_1_failover_loses_exactly_the_checkers_lost_writes() -> None:
    res = _failover("1")
    tl = crash_timeline(res, 0)
    truncated = tl.filter(pl.col("reason") == "acked-then-truncated")
    verdict = check(res)
    lost_writes = verdict.anomalies.filter(pl.col("anomaly") == "lost-write")
    assert truncated.height == verdict.info["anomalies"]["lost-write"] > 0
    assert sorted(truncated["event_id"]) == sorted(lost_writes["event_id"])
    # created in the replication lag before the leader died, on partitions it led (0, 3)
    assert truncated["created_s"].min() >= 4.0 - 0.3 - 0.01
    assert truncated["created_s"].max() < 4.0
    assert set(truncated["partition"]) <= {0, 3}


def test_acks_all_failover_retries_instead() -> None:
    tl = crash_timeline(_failover("all"), 0)
    assert tl.filter(pl.col("fate") == "lost").height == 0
    retried = tl.filter(pl.col("attempts") > 1)
    assert retried.height > 0
    assert (retried["fate"] == "delivered_once").all()


CRASHES = [
    {"kind": "consumer_crash", "target": "g-0", "start_s": 3.0, "duration_s": 2.0},
    {"kind": "producer_crash", "target": "producer", "start_s": 7.0, "duration_s": 1.0},
]


def _crashed(preset: str, point: str) -> es.RunResult:
    faults = [{**CRASHES[0], "point": point}, CRASHES[1]]
    return es.run(apply_preset(BASE, preset).replace(**{"faults.scheduled": faults}))


@pytest.mark.parametrize(
    ("preset", "point", "expected"),
    [
        ("at-most-once", "before-process", {"lost: committed-before-processing"}),
        ("at-least-once", "after-process", {"redelivered: processed-not-committed"}),
        ("effectively-once", "after-process", {"redelivered: processed-not-committed"}),
        ("exactly-once", "after-process", {"redelivered: processed-not-committed"}),
    ],
)
def test_consumer_crash_reasons(preset: str, point: str, expected: set[str]) -> None:
    tl = crash_timeline(_crashed(preset, point), 0, before_s=1.0, after_s=0.0)
    bad = tl.filter(pl.col("fate") != "delivered_once")
    assert set((bad["fate"] + ": " + bad["reason"]).unique()) == expected
    if preset in ("effectively-once", "exactly-once"):  # redelivered, applied once
        assert (bad["outcome"] == "delivered_once").all()


@pytest.mark.parametrize("preset", ["at-most-once", "at-least-once", "exactly-once"])
def test_whole_run_agrees_with_classify_events(preset: str) -> None:
    res = _crashed(preset, "after-process")
    tl = crash_timeline(res, window=(0.0, res.scenario.duration))
    classes = classify_events(res.sends, res.deliveries, events=res.events)
    assert_frame_equal(
        tl.select("event_id", "outcome", "n_delivered", "n_applied"),
        classes.select("event_id", "outcome", "n_delivered", "n_applied"),
    )
    assert ((tl["fate"] == "lost") == (tl["outcome"] == "lost")).all()
    assert ((tl["fate"] == "redelivered") == (tl["n_delivered"] > 1) & (tl["n_applied"] > 0)).all()
    assert (tl["reason"].is_null() == (tl["fate"] == "delivered_once")).all()
    if preset == "exactly-once":
        assert set(tl["outcome"]) == {"delivered_once"}
        assert tl["n_aborted"].sum() > 0  # the producer crash aborted a transaction


def test_fault_accepts_numpy_integers_but_not_floats() -> None:
    faults = pl.DataFrame(
        {"kind": ["x"], "target": ["y"], "start_s": [4.0], "end_s": [4.0], "detail": [""]}
    )
    frames = {**FRAMES, "faults": faults}
    tl = crash_timeline(frames, np.int64(0), before_s=0.0, after_s=1.0)
    assert tl["event_id"].to_list() == [4, 5]
    with pytest.raises(ConfigError, match=r"got 0\.0"):
        crash_timeline(frames, 0.0)  # type: ignore[arg-type]
