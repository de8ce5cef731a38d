"""The linearizability checker: tiny histories with whole results, Porcupine's verdicts,
a brute-force cross-check, budgets and errors."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from _porcupine import PORCUPINE
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from eventsim.consistency import (
    MODELS,
    check_linearizable,
    make_history,
    read_history,
    simulate_history,
)
from eventsim.consistency._brute import is_linearizable_brute
from eventsim.consistency.linearizable import ANOMALY_SCHEMA
from eventsim.exceptions import ConfigError, DataFormatError


def _info(result) -> dict:
    return {k: v for k, v in result.info.items() if k != "elapsed_s"}


def _anomalies(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ANOMALY_SCHEMA, orient="row")


@pytest.mark.parametrize(("name", "expected"), PORCUPINE.items())
def test_porcupine_verdicts(shared_data: Path, name: str, expected: bool) -> None:
    history = read_history(shared_data / "porcupine-sample" / name)
    result = check_linearizable(history, "kv" if name.startswith("kv") else "register")
    assert result.valid is expected
    assert result.info["timed_out"] is False
    assert (result.n_anomalies > 0) is not expected
    if not expected:
        assert result.anomalies["blocking"].sum() == len(result.info["failed_keys"])
        assert result.info["longest_prefix"]


def test_register_stale_read_whole_result() -> None:
    h = make_history(
        [
            (0, "write", None, 1, None, 0, 1),
            (1, "write", None, 2, None, 2, 5),
            (2, "read", None, None, 2, 3, 4),
            (3, "read", None, None, 1, 6, 7),  # 2 was read before: 1 is gone
        ]
    )
    r = check_linearizable(h)
    assert r.valid is False
    assert _info(r) == {
        "model": "register",
        "n_ops": 4,
        "n_dropped": 0,
        "n_keys": 1,
        "failed_keys": [None],
        "longest_prefix": [0, 1, 2],
        "timed_out": False,
    }
    expected = [("not-linearizable", 3, 3, "read", None, None, "1", 6.0, 7.0, "ok", True, "2")]
    assert_frame_equal(r.anomalies, _anomalies(expected))


def test_register_concurrent_reads_may_disagree() -> None:
    h = make_history(
        [
            (0, "write", None, 1, None, 0, 10),
            (1, "read", None, None, None, 1, 2),  # before the write took effect
            (2, "read", None, None, 1, 3, 4),  # after
        ]
    )
    r = check_linearizable(h)
    assert (r.valid, r.n_anomalies) == (True, 0)
    assert r.anomalies.schema == pl.Schema(ANOMALY_SCHEMA)
    assert _info(r)["longest_prefix"] == []  # only failures carry a prefix


def test_cas_semantics_and_dropped_ops() -> None:
    h = make_history(
        [
            (0, "write", None, 1, None, 0, 1),
            (1, "cas", None, [1, 2], None, 2, 3, "ok"),
            (2, "cas", None, [1, 3], None, 4, 5, "fail"),  # value was 2: compare failed
            (3, "read", None, None, None, 6, 7, "fail"),  # timed-out read: dropped
            (4, "write", None, 9, None, 6, 7, "fail"),  # failed write: dropped
            (0, "read", None, None, 2, 8, 9),
        ]
    )
    r = check_linearizable(h)
    assert r.valid is True
    assert (r.info["n_ops"], r.info["n_dropped"]) == (4, 2)
    bad = h.with_columns(
        pl.when(pl.col("op") == "cas").then(pl.lit("fail")).otherwise("status").alias("status")
    )
    assert check_linearizable(bad).valid is False  # cas [1 2] cannot fail when the value is 1


def test_info_write_may_land_late_or_never() -> None:
    base = [(0, "write", None, 1, None, 0, 1), (1, "write", None, 2, None, 2, None, "info")]
    late = make_history([*base, (2, "read", None, None, 1, 3, 4), (3, "read", None, None, 2, 5, 6)])
    assert check_linearizable(late).valid is True
    never = make_history([*base, (2, "read", None, None, 1, 30, 40)])
    assert check_linearizable(never).valid is True
    flip = make_history([*base, (2, "read", None, None, 2, 3, 4), (3, "read", None, None, 1, 5, 6)])
    assert check_linearizable(flip).valid is False


def test_kv_partitions_by_key_whole_result() -> None:
    h = make_history(
        [
            (0, "put", "a", "x", None, 0, 1),
            (1, "append", "a", "y", None, 2, 5),
            (0, "put", "b", "z", None, 2, 3),
            (2, "get", "a", None, "xy", 3, 4),
            (3, "get", "a", None, "x", 6, 7),
            (1, "get", "b", None, "", 6, 7),
        ]
    )
    r = check_linearizable(h, "kv")
    assert r.valid is False
    assert _info(r) == {
        "model": "kv",
        "n_ops": 6,
        "n_dropped": 0,
        "n_keys": 2,
        "failed_keys": ["a", "b"],
        "longest_prefix": [0, 1, 3],
        "timed_out": False,
    }
    expected = [
        ("not-linearizable", 4, 3, "get", "a", None, "x", 6.0, 7.0, "ok", True, "xy"),
        ("not-linearizable", 5, 1, "get", "b", None, "", 6.0, 7.0, "ok", True, "z"),
    ]
    assert_frame_equal(r.anomalies, _anomalies(expected))
    whole = check_linearizable(h, "kv", partition=False)
    assert whole.valid is False


def test_candidates_listed_with_blocking_op() -> None:
    h = make_history(
        [
            (0, "write", None, 1, None, 0, 1),
            (1, "read", None, None, 5, 2, 4),  # nobody wrote 5
            (2, "write", None, 2, None, 3, 6),
        ]
    )
    r = check_linearizable(h)
    # the longest prefix places both writes; the read of 5 cannot follow
    assert r.anomalies.select("row", "blocking", "state").rows() == [(1, True, "2")]
    assert r.info["longest_prefix"] == [0, 2]


def test_empty_history_and_budget() -> None:
    assert check_linearizable(make_history([])).valid is True
    h = simulate_history(50, n_keys=3, ops=("read", "write"), seed=1)
    r = check_linearizable(h, "register", time_budget_s=1e-12)
    assert (r.valid, r.info["timed_out"], r.n_anomalies) == (None, True, 0)


def test_simulated_store_is_linearizable_and_stale_reads_are_not() -> None:
    h = simulate_history(3000, n_keys=30, n_processes=8, seed=3)
    assert check_linearizable(h, "kv").valid is True
    stale = simulate_history(3000, n_keys=30, n_processes=8, p_stale=0.05, seed=3)
    r = check_linearizable(stale, "kv")
    assert r.valid is False
    assert r.anomalies.filter("blocking")["op"].unique().to_list() == ["get"]


def test_errors_name_the_choices() -> None:
    h = make_history([(0, "get", "a", None, "", 0, 1)])
    with pytest.raises(ConfigError, match=r"model 'kvv' is unknown; known models: register, kv"):
        check_linearizable(h, "kvv")
    with pytest.raises(
        DataFormatError,
        match=r"model 'register' has no operation 'get'; its operations: read, write, cas",
    ):
        check_linearizable(h, "register")
    with pytest.raises(DataFormatError, match=r"cas value must be a pair \[a, b\]; got '\[1\]'"):
        check_linearizable(make_history([(0, "cas", None, "[1]", None, 0, 1)]))
    assert sorted(MODELS) == ["kv", "register"]


_op = st.tuples(
    st.sampled_from(["read", "write", "cas", "read", "write"]),
    st.integers(0, 2),
    st.integers(0, 2),
    st.integers(0, 10),
    st.integers(0, 4),
    st.sampled_from(["ok", "ok", "ok", "info", "fail"]),
    st.sampled_from([None, "k"]),
)


@settings(max_examples=300)
@given(st.lists(_op, max_size=7))
def test_agrees_with_brute_force(ops: list[tuple]) -> None:
    rows = []
    for i, (op, a, b, t, d, status, key) in enumerate(ops):
        value = str(a) if op == "write" else f"[{a}, {b}]" if op == "cas" else None
        output = (None if a == 0 else str(a)) if op == "read" else None
        end = None if status == "info" else t + d
        rows.append((i, op, key, value, output, t, end, status))
    h = make_history(rows)
    expected = is_linearizable_brute(h)
    assert check_linearizable(h).valid is expected
    assert check_linearizable(h, partition=False).valid is expected
