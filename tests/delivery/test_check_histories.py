"""The delivery checker on tiny hand-written histories, each asserting the whole verdict."""

from __future__ import annotations

from types import SimpleNamespace

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from eventsim.delivery.checker import (
    ANOMALIES,
    ANOMALY_SCHEMA,
    check,
    classify_events,
    recount_from_parquet,
)
from eventsim.exceptions import ConfigError, DataFormatError


# -- builders -------------------------------------------------------------------------------------
def sends(*rows: tuple) -> pl.DataFrame:
    """(event_id, key, created_s[, status[, attempts]]) on topic t, partition 0."""
    full = [(*r, "acked", 1)[:5] if len(r) < 5 else r for r in rows]
    full = [r if len(r) == 5 else (*r, 1) for r in full]
    return pl.DataFrame(
        {
            "event_id": [r[0] for r in full],
            "topic": "t",
            "key": [r[1] for r in full],
            "partition": 0,
            "created_s": [float(r[2]) for r in full],
            "attempts": [r[4] for r in full],
            "status": [r[3] for r in full],
            "acked_s": [r[2] + 0.1 if r[3] == "acked" else None for r in full],
        },
        schema_overrides={"partition": pl.Int32, "attempts": pl.Int32},
    )


def log(*rows: tuple) -> pl.DataFrame:
    """(offset, event_id[, txn_state]) on topic t, partition 0."""
    return pl.DataFrame(
        {
            "topic": "t",
            "partition": 0,
            "offset": [r[0] for r in rows],
            "event_id": [r[1] for r in rows],
            "txn_state": [r[2] if len(r) > 2 else None for r in rows],
        },
        schema_overrides={"partition": pl.Int32, "txn_state": pl.String},
    )


def deliveries(*rows: tuple, group: str = "g") -> pl.DataFrame:
    """(member, generation, poll, offset, event_id, delivered_s[, applied]) on t/0.

    Latency is ``delivered_s - event_id`` (events are created at their id, in seconds).
    """
    return pl.DataFrame(
        {
            "group": group,
            "member": [r[0] for r in rows],
            "generation": [r[1] for r in rows],
            "poll": [r[2] for r in rows],
            "topic": "t",
            "partition": 0,
            "offset": [r[3] for r in rows],
            "event_id": [r[4] for r in rows],
            "delivered_s": [float(r[5]) for r in rows],
            "latency_s": [float(r[5] - r[4]) for r in rows],
            "applied": [r[6] if len(r) > 6 else True for r in rows],
        },
        schema_overrides={"partition": pl.Int32, "generation": pl.Int32},
    )


def expected(*rows: tuple) -> pl.DataFrame:
    """(anomaly, event_id, offset, group, evidence) on t/0, in the checker's order."""
    return pl.DataFrame(
        [(a, e, "t", 0, o, g, ev) for a, e, o, g, ev in rows],
        schema=ANOMALY_SCHEMA,
        orient="row",
    )


def run(s: pl.DataFrame, lg: pl.DataFrame, d: pl.DataFrame, **kw: object):
    return check({"sends": s, "events": lg, "deliveries": d}, **kw)


THREE = sends((1, "k", 1), (2, "k", 2), (3, "k", 3))
THREE_LOG = log((0, 1), (1, 2), (2, 3))
# event 2 on its own key: its transactional retry lands after event 3 without reordering
NEVER = "never applied by g (0 deliveries)"
LOST = "acked send after 1 attempt(s); " + NEVER
RETRIED = sends((1, "k", 1), (2, "j", 2), (3, "k", 3))


# -- valid histories ---------------------------------------------------------------------------
def test_valid_history_is_valid() -> None:
    d = deliveries(("m0", 1, 0, 0, 1, 1.5), ("m0", 1, 0, 1, 2, 2.5), ("m0", 1, 1, 2, 3, 3.5))
    r = run(THREE, THREE_LOG, d)
    assert r.valid is True
    assert_frame_equal(r.anomalies, expected())
    assert r.info["produced"] == 3
    assert r.info["outcomes"] == {"delivered_once": 3, "lost": 0, "duplicated": 0}
    assert r.info["by_group"] == {
        "g": {"delivered_once": 3, "lost": 0, "duplicated": 0, "reordered": 0, "late": 0}
    }
    assert r.info["anomalies"] == dict.fromkeys(ANOMALIES, 0)
    assert r.info["groups"] == ["g"]


def test_gap_over_aborted_record_is_no_skip() -> None:
    # event 2's first transaction aborted (offset 1); its retry committed at offset 3
    lg = log((0, 1, "committed"), (1, 2, "aborted"), (2, 3, "committed"), (3, 2, "committed"))
    d = deliveries(("m0", 1, 0, 0, 1, 1.5), ("m0", 1, 0, 2, 3, 3.5), ("m0", 1, 1, 3, 2, 3.6))
    r = run(RETRIED, lg, d)
    assert r.valid is True
    assert_frame_equal(r.anomalies, expected())


def test_idempotent_sink_suppressing_a_redelivery_is_once() -> None:
    # after a rebalance (generation 2) offset 1 comes again; the sink skips its effect
    d = deliveries(
        ("m0", 1, 0, 0, 1, 1.5),
        ("m0", 1, 0, 1, 2, 2.5),
        ("m1", 2, 1, 1, 2, 3.0, False),
        ("m1", 2, 1, 2, 3, 3.5),
    )
    r = run(THREE, THREE_LOG, d)
    assert r.valid is True
    c = classify_events(THREE, d)
    assert c.select("event_id", "n_delivered", "n_applied", "outcome").rows() == [
        (1, 1, 1, "delivered_once"),
        (2, 2, 1, "delivered_once"),
        (3, 1, 1, "delivered_once"),
    ]


# -- each named anomaly ------------------------------------------------------------------------
def test_lost_write() -> None:
    lg = log((0, 1), (1, 3))
    d = deliveries(("m0", 1, 0, 0, 1, 1.5), ("m0", 1, 0, 1, 3, 3.5))
    r = run(THREE, lg, d)
    assert r.valid is False
    assert_frame_equal(
        r.anomalies,
        expected(
            (
                "lost",
                2,
                None,
                "g",
                "acked send after 1 attempt(s); never applied by g (0 deliveries)",
            ),
            (
                "lost-write",
                2,
                None,
                None,
                "acked at 2.1 s after 1 attempt(s); absent from the log and never delivered",
            ),
        ),
    )


def test_failed_send_is_lost_but_no_lost_write() -> None:
    s = sends((1, "k", 1), (2, "k", 2, "failed", 3), (3, "k", 3))
    lg = log((0, 1), (1, 3))
    d = deliveries(("m0", 1, 0, 0, 1, 1.5), ("m0", 1, 0, 1, 3, 3.5))
    r = run(s, lg, d)
    assert_frame_equal(
        r.anomalies,
        expected(
            (
                "lost",
                2,
                None,
                "g",
                "failed send after 3 attempt(s); never applied by g (0 deliveries)",
            )
        ),
    )
    assert r.info["lost"] == 1


def test_duplicate_in_log_deduplicated_by_the_sink() -> None:
    lg = log((0, 1), (1, 2), (2, 2), (3, 3))
    d = deliveries(
        ("m0", 1, 0, 0, 1, 1.5),
        ("m0", 1, 0, 1, 2, 2.5),
        ("m0", 1, 0, 2, 2, 2.6, False),
        ("m0", 1, 0, 3, 3, 3.5),
    )
    r = run(THREE, lg, d)
    assert r.valid is False
    assert_frame_equal(
        r.anomalies,
        expected(("duplicate", 2, 2, None, "event at 2 offsets: t/0@1, t/0@2")),
    )
    assert r.info["outcomes"] == {"delivered_once": 3, "lost": 0, "duplicated": 0}
    assert run(THREE, lg, d, allow=["duplicate"]).valid is True


def test_duplicated_business_event() -> None:
    lg = log((0, 1), (1, 2), (2, 2), (3, 3))
    d = deliveries(
        ("m0", 1, 0, 0, 1, 1.5),
        ("m0", 1, 0, 1, 2, 2.5),
        ("m0", 1, 0, 2, 2, 2.6),
        ("m0", 1, 0, 3, 3, 3.5),
    )
    r = run(THREE, lg, d)
    assert_frame_equal(
        r.anomalies,
        expected(
            ("duplicate", 2, 2, None, "event at 2 offsets: t/0@1, t/0@2"),
            ("duplicated", 2, None, "g", "applied 2 times by g (2 deliveries)"),
        ),
    )


def test_poll_skip() -> None:
    d = deliveries(("m0", 1, 0, 0, 1, 1.5), ("m0", 1, 1, 2, 3, 3.5))
    r = run(THREE, THREE_LOG, d)
    assert_frame_equal(
        r.anomalies,
        expected(
            (
                "lost",
                2,
                None,
                "g",
                "acked send after 1 attempt(s); never applied by g (0 deliveries)",
            ),
            (
                "poll-skip",
                3,
                2,
                "g",
                "g/m0 gen 1: offset 2 after offset 0, skipping 1 record(s) of the log",
            ),
            ("unseen", 2, 1, "g", "in the log at t/0@1; never delivered to g"),
        ),
    )


def test_skip_across_a_rebalance_is_no_poll_skip() -> None:
    # generation 1 reads offset 0, generation 2 starts at offset 2: a commit policy loss
    d = deliveries(("m0", 1, 0, 0, 1, 1.5), ("m0", 2, 1, 2, 3, 3.5))
    r = run(THREE, THREE_LOG, d)
    assert r.counts() == {"lost": 1, "unseen": 1}


def test_nonmonotonic_poll() -> None:
    d = deliveries(
        ("m0", 1, 0, 0, 1, 1.5),
        ("m0", 1, 0, 1, 2, 2.5),
        ("m0", 1, 1, 0, 1, 2.7),
        ("m0", 1, 1, 1, 2, 2.8),
        ("m0", 1, 1, 2, 3, 3.5),
    )
    r = run(THREE, THREE_LOG, d)
    assert_frame_equal(
        r.anomalies,
        expected(
            ("duplicated", 1, None, "g", "applied 2 times by g (2 deliveries)"),
            ("duplicated", 2, None, "g", "applied 2 times by g (2 deliveries)"),
            ("nonmonotonic-poll", 1, 0, "g", "g/m0 gen 1: offset 0 after offset 1"),
        ),
    )


def test_huge_generation_and_partition_numbers() -> None:
    # segment codes would overflow Int64: the checker falls back to exact dense codes
    top, bottom, far = 2**31 - 1, -(2**31), 2**31 - 2
    d = deliveries(
        ("m0", top, 0, 0, 1, 1.5),
        ("m0", top, 0, 1, 2, 2.5),
        ("m0", bottom, 1, 0, 1, 2.6),
        ("m0", top, 2, 0, 1, 2.7),
    ).with_columns(partition=pl.lit(far, pl.Int32))
    lg = THREE_LOG.with_columns(partition=pl.lit(far, pl.Int32))
    assert run(THREE, lg, d).counts() == {
        "duplicated": 1,
        "lost": 1,
        "nonmonotonic-poll": 1,
        "unseen": 1,
    }


def test_rewind_in_a_new_generation_is_monotonic() -> None:
    d = deliveries(
        ("m0", 1, 0, 0, 1, 1.5),
        ("m0", 1, 0, 1, 2, 2.5),
        ("m0", 2, 1, 0, 1, 2.7),
        ("m0", 2, 1, 1, 2, 2.8),
        ("m0", 2, 1, 2, 3, 3.5),
    )
    assert run(THREE, THREE_LOG, d).counts() == {"duplicated": 2}


def test_inconsistent_offsets_after_a_failover() -> None:
    # event 5 was read at offset 1, then lost in a failover; offset 1 now holds event 2
    s = sends((1, "k", 1), (2, "k", 2), (5, "j", 1.2))
    d = deliveries(("m0", 1, 0, 0, 1, 1.5), ("m0", 1, 0, 1, 5, 1.6))
    r = run(s, log((0, 1), (1, 2)), d)
    assert_frame_equal(
        r.anomalies,
        expected(
            (
                "inconsistent-offsets",
                5,
                1,
                "g",
                "the log has event 2 there; g/m0 gen 1 got event 5",
            ),
            (
                "lost",
                2,
                None,
                "g",
                "acked send after 1 attempt(s); never applied by g (0 deliveries)",
            ),
            ("unseen", 2, 1, "g", "in the log at t/0@1; never delivered to g"),
        ),
    )


def test_inconsistent_offsets_between_deliveries_and_in_the_log() -> None:
    s = sends((1, "k", 1), (2, "k", 2), (3, "k", 3))
    # offset 5 is absent from the log: two groups saw different events there
    d = pl.concat(
        [
            deliveries(("a0", 1, 0, 5, 2, 2.5), group="a"),
            deliveries(("b0", 1, 0, 5, 3, 3.5), group="b"),
        ]
    )
    lg = log((0, 1), (0, 9))  # two records at offset 0
    r = run(s, lg, d)
    incons = r.anomalies.filter(pl.col("anomaly") == "inconsistent-offsets")
    assert_frame_equal(
        incons,
        expected(
            (
                "inconsistent-offsets",
                3,
                5,
                "b",
                "not in the log; first delivered as event 2, yet b/b0 gen 1 got event 3",
            ),
            (
                "inconsistent-offsets",
                9,
                0,
                None,
                "two log records at one offset; the first holds event 1",
            ),
        ),
    )


def test_unseen() -> None:
    d = deliveries(("m0", 1, 0, 0, 1, 1.5), ("m0", 1, 0, 1, 2, 2.5))
    r = run(THREE, THREE_LOG, d)
    assert_frame_equal(
        r.anomalies,
        expected(
            (
                "lost",
                3,
                None,
                "g",
                "acked send after 1 attempt(s); never applied by g (0 deliveries)",
            ),
            ("unseen", 3, 2, "g", "in the log at t/0@2; never delivered to g"),
        ),
    )


def test_aborted_read_does_not_count_as_delivered() -> None:
    # a read_uncommitted consumer processed the aborted copy of event 2, then the committed one
    lg = log((0, 1, "committed"), (1, 2, "aborted"), (2, 3, "committed"), (3, 2, "committed"))
    d = deliveries(
        ("m0", 1, 0, 0, 1, 1.5),
        ("m0", 1, 0, 1, 2, 2.5),
        ("m0", 1, 0, 2, 3, 3.5),
        ("m0", 1, 0, 3, 2, 3.6),
    )
    r = run(RETRIED, lg, d)
    assert_frame_equal(
        r.anomalies,
        expected(
            ("aborted-read", 2, 1, "g", "g/m0 gen 1 processed a record of an aborted transaction")
        ),
    )
    assert r.info["outcomes"] == {"delivered_once": 3, "lost": 0, "duplicated": 0}
    c = classify_events(RETRIED, d, events=lg)
    assert c.get_column("n_delivered").to_list() == [1, 1, 1]
    assert classify_events(RETRIED, d).get_column("n_delivered").to_list() == [1, 2, 1]


def test_reordered_is_reported_but_allowed() -> None:
    # a producer retry put event 2 before event 1 in the log: same key, applied out of order
    s = sends((1, "k", 1), (2, "k", 2), (3, "j", 0.5))
    lg = log((0, 2), (1, 1), (2, 3))
    d = deliveries(("m0", 1, 0, 0, 2, 2.5), ("m0", 1, 0, 1, 1, 2.6), ("m0", 1, 0, 2, 3, 2.7))
    r = run(s, lg, d)
    assert r.valid is True
    assert_frame_equal(
        r.anomalies,
        expected(
            (
                "reordered",
                2,
                None,
                "g",
                "key k: applied by g at 2.5 s, before an earlier-created event applied at 2.6 s",
            )
        ),
    )
    assert r.info["reordered"] == 1
    assert run(s, lg, d, allow=()).valid is False


def test_reordering_ignores_lost_events_null_keys_and_other_keys() -> None:
    s = sends((1, "k", 1), (2, "k", 2), (3, None, 0.1), (4, None, 0.2), (5, "j", 0.3))
    d = deliveries(
        ("m0", 1, 0, 1, 2, 2.5),  # event 1 (created before 2) is never applied
        ("m0", 1, 0, 2, 4, 2.6),  # null keys: 4 before 3 is no reordering
        ("m0", 1, 0, 3, 3, 2.7),
        ("m0", 1, 0, 4, 5, 2.8),  # key j applied after k's events: other key
    )
    c = classify_events(s, d)
    assert c.get_column("reordered").to_list() == [False] * 5
    assert c.get_column("outcome").to_list()[0] == "lost"


def test_late() -> None:
    d = deliveries(("m0", 1, 0, 0, 1, 1.5), ("m0", 1, 0, 1, 2, 4.0), ("m0", 1, 0, 2, 3, 4.1))
    r = run(THREE, THREE_LOG, d, late_after_s=1.0)
    assert r.valid is True
    assert_frame_equal(
        r.anomalies,
        expected(
            ("late", 2, None, "g", "first applied by g 2.0 s after creation (limit 1.0 s)"),
            ("late", 3, None, "g", "first applied by g 1.1 s after creation (limit 1.0 s)"),
        ),
    )
    assert run(THREE, THREE_LOG, d).info["late"] == 0


# -- classify_events ---------------------------------------------------------------------------
def test_classify_events_frame() -> None:
    d = deliveries(("m0", 1, 0, 0, 1, 1.5), ("m0", 1, 0, 0, 1, 1.7), ("m0", 1, 0, 2, 3, 3.25))
    got = classify_events(THREE, d, late_after_s=0.3)
    want = THREE.select(
        "event_id",
        group=pl.lit("g"),
        topic="topic",
        partition="partition",
        key="key",
        created_s="created_s",
        status="status",
        attempts="attempts",
        acked_s="acked_s",
        n_delivered=pl.Series([2, 0, 1], dtype=pl.Int64),
        n_applied=pl.Series([2, 0, 1], dtype=pl.Int64),
        outcome=pl.Series(["duplicated", "lost", "delivered_once"]),
        reordered=pl.Series([False, False, False]),
        late=pl.Series([True, False, False]),
        first_applied_s=pl.Series([1.5, None, 3.25]),
        first_latency_s=pl.Series([0.5, None, 0.25]),
    )
    assert_frame_equal(got, want)


def test_classify_events_per_group_and_subscriptions() -> None:
    s = pl.concat([THREE, sends((4, "x", 4)).with_columns(topic=pl.lit("u"))])
    d = pl.concat(
        [
            deliveries(("a0", 1, 0, 0, 1, 1.5), group="a"),
            deliveries(("b0", 1, 0, 1, 2, 2.5), group="b"),
        ]
    )
    both = classify_events(s, d)
    assert both.select("group", "event_id", "outcome").rows() == [
        ("a", 1, "delivered_once"),
        ("a", 2, "lost"),
        ("a", 3, "lost"),
        ("a", 4, "lost"),
        ("b", 1, "lost"),
        ("b", 2, "delivered_once"),
        ("b", 3, "lost"),
        ("b", 4, "lost"),
    ]
    only_b = classify_events(s, d, group="b", subscriptions={"b": ["u"]})
    assert only_b.select("group", "event_id", "outcome").rows() == [("b", 4, "lost")]


def test_check_reads_groups_and_topics_from_the_scenario() -> None:
    s = pl.concat([THREE, sends((4, "x", 4)).with_columns(topic=pl.lit("u"))])
    lg = pl.concat([THREE_LOG, log((0, 4)).with_columns(topic=pl.lit("u"))])
    d = deliveries(("m0", 1, 0, 0, 1, 1.5), ("m0", 1, 0, 1, 2, 2.5), ("m0", 1, 0, 2, 3, 3.5))
    scenario = SimpleNamespace(consumers=[SimpleNamespace(name="g", topics=("t",))])
    result = SimpleNamespace(sends=s, events=lg, deliveries=d, scenario=scenario)
    r = check(result)
    assert r.valid is True
    assert r.info["produced"] == 4
    assert r.info["outcomes"] == {"delivered_once": 3, "lost": 0, "duplicated": 0}
    # without the scenario, topic u counts for g too
    assert check({"sends": s, "events": lg, "deliveries": d}).counts() == {"lost": 1, "unseen": 1}


def test_group_filter_and_no_consumer_at_all() -> None:
    d = pl.concat(
        [
            deliveries(("a0", 1, 0, 0, 1, 1.5), group="a"),
            deliveries(("b0", 1, 0, 0, 1, 1.5), ("b0", 1, 0, 1, 2, 2.5), group="b"),
        ]
    )
    assert run(THREE, THREE_LOG, d, group="b").info["by_group"]["b"]["lost"] == 1
    nobody = run(THREE, THREE_LOG, d.clear())
    assert nobody.info["groups"] == [None]
    assert nobody.counts() == {"lost": 3, "unseen": 3}
    assert nobody.anomalies["evidence"][0].endswith("never applied by any group (0 deliveries)")


# -- unknown and errors ------------------------------------------------------------------------
def test_missing_frames_or_no_sends_are_unknown() -> None:
    d = deliveries(("m0", 1, 0, 0, 1, 1.5))
    r = check({"sends": THREE, "deliveries": d})
    assert r.valid is None
    assert r.info["reason"] == "missing frame(s): events"
    assert_frame_equal(r.anomalies, expected())
    assert run(THREE.clear(), THREE_LOG, d).valid is None
    assert check(SimpleNamespace(events=THREE_LOG, deliveries=d)).valid is None


def test_deliveries_without_optional_columns() -> None:
    d = deliveries(("m0", 1, 0, 0, 1, 1.5), ("m0", 1, 0, 1, 2, 2.5), ("m0", 1, 0, 2, 3, 3.5))
    r = run(THREE, THREE_LOG, d.drop("generation", "poll", "applied"))
    assert r.valid is True


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"group": "gg"}, ConfigError, "group must be one of g; got 'gg'; did you mean 'g'"),
        ({"allow": ["lost_write"]}, ConfigError, "did you mean 'lost-write'"),
        ({"late_after_s": -1.0}, ConfigError, "late_after_s must be >= 0"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type, match: str) -> None:
    d = deliveries(("m0", 1, 0, 0, 1, 1.5))
    with pytest.raises(error, match=match):
        run(THREE, THREE_LOG, d, **kwargs)


def test_bad_frames() -> None:
    d = deliveries(("m0", 1, 0, 0, 1, 1.5))
    with pytest.raises(DataFormatError, match=r"sends frame lacks column\(s\) \['status'\]"):
        run(THREE.drop("status"), THREE_LOG, d)
    with pytest.raises(DataFormatError, match=r"sends\.status must be one of acked, failed"):
        run(THREE.with_columns(status=pl.lit("sent")), THREE_LOG, d)
    with pytest.raises(DataFormatError, match=r"sends.event_id must be unique; 1 repeat\(s\)"):
        run(pl.concat([THREE, THREE.head(1)]), THREE_LOG, d)
    with pytest.raises(DataFormatError, match="offset must be >= 0"):
        run(THREE, log((-1, 1)), d)
    with pytest.raises(DataFormatError, match=r"deliveries\.event_id must not be null; 1 null"):
        run(THREE, THREE_LOG, d.with_columns(event_id=pl.lit(None, pl.Int64)))
    with pytest.raises(DataFormatError, match="does not exist"):
        recount_from_parquet("/nonexistent/run.parquet")


def test_evidence_from_deliveries_in_several_chunks() -> None:
    # pl.format panicked on filtered string columns of several chunks (polars 2.1)
    lg = log((0, 1, "aborted"), (1, 1, "committed"), (2, 2), (3, 3))
    first = deliveries(("m0", 1, 0, 0, 1, 1.5), ("m0", 1, 0, 1, 1, 1.6))
    second = deliveries(("m1", 1, 1, 0, 1, 1.7), ("m1", 1, 1, 2, 2, 2.5), ("m1", 1, 1, 3, 3, 3.5))
    d = pl.concat([first, second], rechunk=False)
    r = run(THREE, lg, d)
    assert r.anomalies.filter(pl.col("anomaly") == "aborted-read")["evidence"].to_list() == [
        "g/m0 gen 1 processed a record of an aborted transaction",
        "g/m1 gen 1 processed a record of an aborted transaction",
    ]
