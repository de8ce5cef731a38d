"""Session guarantees on tiny histories, with the whole result asserted."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from eventsim.consistency import check_session, make_history, resolve_versions, simulate_history
from eventsim.consistency.session import SESSION_SCHEMA
from eventsim.exceptions import DataFormatError


def _frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SESSION_SCHEMA, orient="row")


def test_ryw_monotonic_reads_and_garbage() -> None:
    h = make_history(
        [
            (0, "write", "x", "a", None, 0, 1),
            (0, "write", "x", "b", None, 2, 3),
            (0, "read", "x", None, "a", 4, 5),  # its own b is newer
            (1, "read", "x", None, "b", 4, 5),
            (1, "read", "x", None, "a", 6, 7),  # went back from b to a
            (1, "write", "y", "y1", None, 8, 9),
            (2, "read", "x", None, "zz", 8, 9),  # nobody wrote zz
        ]
    )
    r = check_session(h)
    assert r.valid is False
    expected = [
        ("read-your-writes", 0, "x", 2, "read", 1, 1, "write", 2, 4.0, 5.0),
        ("monotonic-reads", 1, "x", 4, "read", 1, 3, "read", 2, 6.0, 7.0),
        ("garbage-read", 2, "x", 6, "read", None, None, None, None, 8.0, 9.0),
    ]
    assert_frame_equal(r.anomalies, _frame(expected))
    assert r.info == {
        "n_reads": 4,
        "n_writes": 3,
        "counts": {
            "read-your-writes": 1,
            "monotonic-reads": 1,
            "monotonic-writes": 0,
            "writes-follow-reads": 0,
            "garbage-read": 1,
        },
    }


def test_monotonic_writes_and_writes_follow_reads_with_version_column() -> None:
    h = make_history(
        process=[0, 0, 1, 1],
        op=["write", "write", "read", "write"],
        key=["x"] * 4,
        value=["a", "b", None, "c"],
        output=[None, None, "a", None],
        invoke_s=[0, 2, 4, 6],
        complete_s=[1, 3, 5, 7],
        version=[30, 10, None, 20],  # the store ordered b < c < a
    )
    r = check_session(h)
    expected = [
        ("monotonic-writes", 0, "x", 1, "write", 1, 0, "write", 3, 2.0, 3.0),
        ("writes-follow-reads", 1, "x", 3, "write", 2, 2, "read", 3, 6.0, 7.0),
    ]
    assert_frame_equal(r.anomalies, _frame(expected))
    assert resolve_versions(h)["version"].to_list() == [3, 1, 3, 2]


def test_fresh_sessions_are_valid() -> None:
    h = make_history(
        [
            (0, "write", "x", "a", None, 0, 1),
            (1, "read", "x", None, None, 0.5, 0.8),  # initial value, concurrent with a
            (1, "read", "x", None, "a", 2, 3),
            (0, "read", "x", None, "a", 2, 3),
            (1, "write", "x", "b", None, 4, 5),
        ]
    )
    r = check_session(h)
    assert (r.valid, r.n_anomalies, r.anomalies.schema) == (True, 0, pl.Schema(SESSION_SCHEMA))


def test_linearizable_store_keeps_session_guarantees() -> None:
    h = simulate_history(2000, n_keys=10, n_processes=6, ops=("read", "write"), seed=5)
    assert check_session(h).valid is True
    stale = simulate_history(
        2000, n_keys=10, n_processes=6, ops=("read", "write"), p_stale=0.2, seed=5
    )
    counts = check_session(stale).info["counts"]
    assert counts["monotonic-reads"] > 0
    assert counts["monotonic-writes"] == 0


def test_duplicate_values_are_rejected() -> None:
    h = make_history([(0, "write", "x", "a", None, 0, 1), (1, "write", "x", "a", None, 2, 3)])
    with pytest.raises(DataFormatError, match=r"key 'x' value 'a' is written by rows \[0, 1\]"):
        check_session(h)


def test_versions_rules() -> None:
    h = make_history(
        [
            (0, "write", None, "a", None, 0, 10),  # slow write, seen early by a read
            (1, "write", None, "b", None, 1, 2),
            (2, "read", None, None, "a", 3, 4),
            (3, "write", None, "c", None, 5, None, "info"),  # never seen: not committed
            (4, "cas", None, ["a", "d"], None, 6, 7, "ok"),
            (5, "write", None, "e", None, 8, 9, "fail"),
            (6, "read", None, None, "e", 10, 11),  # read a failed write
        ]
    )
    v = resolve_versions(h)
    assert v.select(
        "row", "role", "text", "version", "commit_s", "source_row", "problem"
    ).rows() == [
        (0, "write", "a", 2, 4.0, None, None),
        (1, "write", "b", 1, 2.0, None, None),
        (2, "read", "a", 2, None, 0, None),
        (4, "write", "d", 3, 7.0, None, None),
        (6, "read", "e", None, None, None, "aborted-read"),
    ]
