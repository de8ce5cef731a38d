"""Causal reads: missed causal dependencies, cycles, and concurrent writes that may be seen
in any order."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from eventsim.consistency import check_causal, check_linearizable, make_history, simulate_history
from eventsim.consistency.causal import CAUSAL_SCHEMA


def _frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=CAUSAL_SCHEMA, orient="row")


def test_missed_dependency_across_keys() -> None:
    h = make_history(
        [
            (0, "write", "x", "x1", None, 0, 1),
            (0, "write", "y", "y1", None, 2, 3),  # y1 depends on x1 (session order)
            (1, "read", "y", None, "y1", 4, 5),
            (1, "read", "x", None, None, 6, 7),  # saw y1 but not x1
        ]
    )
    r = check_causal(h)
    assert r.valid is False
    expected = [("causal-read", 1, "x", 3, None, None, 0, 0, "x1", 6.0, 7.0)]
    assert_frame_equal(r.anomalies, _frame(expected))
    assert r.info == {"n_ops": 4, "counts": {"causal-read": 1, "causal-cycle": 0}}


def test_transitive_dependency_through_another_session() -> None:
    h = make_history(
        [
            (0, "write", "x", "x1", None, 0, 1),
            (0, "write", "x", "x2", None, 2, 3),
            (1, "read", "x", None, "x2", 4, 5),
            (1, "write", "y", "y1", None, 6, 7),
            (2, "read", "y", None, "y1", 8, 9),
            (2, "read", "x", None, "x1", 10, 11),  # x2 → y1 → this read, and x1 → x2
        ]
    )
    r = check_causal(h)
    expected = [("causal-read", 2, "x", 5, "x1", 0, 1, 0, "x2", 10.0, 11.0)]
    assert_frame_equal(r.anomalies, _frame(expected))


def test_concurrent_writes_seen_in_different_orders_are_causal() -> None:
    h = make_history(
        [
            (0, "write", "x", "a", None, 0, 1),
            (1, "write", "x", "b", None, 0, 1),
            (2, "read", "x", None, "a", 2, 3),
            (2, "read", "x", None, "b", 4, 5),
            (3, "read", "x", None, "b", 2, 3),
            (3, "read", "x", None, "a", 4, 5),
        ]
    )
    assert check_causal(h).valid is True
    assert check_linearizable(h).valid is False  # but not linearizable


def test_read_from_own_future_is_a_cycle() -> None:
    h = make_history(
        [
            (0, "read", "x", None, "a", 0, 1),
            (0, "write", "x", "a", None, 2, 3),
            (1, "read", "x", None, None, 4, 5),
        ]
    )
    r = check_causal(h)
    assert r.anomalies.select("anomaly", "row").rows() == [("causal-cycle", 0), ("causal-cycle", 1)]


def test_linearizable_store_is_causal() -> None:
    h = simulate_history(2000, n_keys=10, n_processes=6, ops=("read", "write"), seed=9)
    r = check_causal(h)
    assert (r.valid, r.info["n_ops"]) == (True, 2000)
