"""check_sequential on hand-written histories (whole results), against brute force on random
small histories, and on store runs with their witnesses."""

from __future__ import annotations

import itertools

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from eventsim.consistency import make_history, simulate_history
from eventsim.consistency.stores import SEQUENTIAL_SCHEMA, StoreConfig, check_sequential, run_store
from eventsim.exceptions import DataFormatError


def _rows(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SEQUENTIAL_SCHEMA, orient="row")


STALE_BUT_SEQUENTIAL = make_history(
    [
        (0, "write", "x", "a", None, 0, 1),
        (0, "write", "x", "b", None, 2, 3),
        (1, "read", "x", None, "a", 4, 5),  # stale in real time ...
        (1, "read", "x", None, "b", 6, 7),  # ... but never goes back
    ]
)
GOES_BACK = make_history(
    [
        (0, "write", "x", "a", None, 0, 1),
        (0, "write", "x", "b", None, 2, 3),
        (1, "read", "x", None, "b", 4, 5),
        (1, "read", "x", None, "a", 6, 7),
    ]
)


def test_witness_passes_whole_result() -> None:
    r = check_sequential(STALE_BUT_SEQUENTIAL, witness=[1, 2, 1, 2])
    assert r.valid is True
    assert r.info == {"n_ops": 4, "method": "witness"}
    assert_frame_equal(r.anomalies, _rows([]))


def test_search_finds_the_order_without_a_witness() -> None:
    r = check_sequential(STALE_BUT_SEQUENTIAL)
    assert (r.valid, r.info["method"]) == (True, "search")


def test_not_sequential_whole_result() -> None:
    r = check_sequential(GOES_BACK)
    assert r.valid is False
    assert r.info["method"] == "search"
    assert_frame_equal(r.anomalies, _rows([("not-sequential", 3, 1, "read", "x", "a", None, None)]))


def test_failing_witness_names_its_faults_when_the_search_fails_too() -> None:
    r = check_sequential(GOES_BACK, witness=[1, 2, 2, 2])
    assert r.valid is False
    expected = [("read-not-explained", 3, 1, "read", "x", "a", "b", 2)]
    assert_frame_equal(r.anomalies, _rows(expected))
    back = check_sequential(GOES_BACK, witness=[1, 2, 2, 1])
    assert back.anomalies["anomaly"].to_list() == ["session-order"]
    assert back.anomalies["row"].to_list() == [3]


def test_a_wrong_witness_of_a_sequential_history_falls_back_to_search() -> None:
    r = check_sequential(STALE_BUT_SEQUENTIAL, witness=[1, 2, 2, 2])
    assert (r.valid, r.info["method"]) == (True, "search")


def test_unknown_writes_may_or_may_not_take_effect() -> None:
    h = make_history(
        [
            (0, "write", "x", "a", None, 0, None, "info"),
            (1, "read", "x", None, None, 1, 2),
            (1, "read", "x", None, "a", 3, 4),
            (2, "write", "y", "b", None, 0, None, "info"),
            (2, "read", "y", None, None, 5, 6),  # its own write never landed: allowed
        ]
    )
    assert check_sequential(h).valid is True
    # rows by invoke time: w x, w y, r x -> nil, r x -> a, r y -> nil; w y never landed
    r = check_sequential(h, witness=[1, None, 0, 1, 0])
    assert (r.valid, r.info["method"]) == (True, "witness")


def test_budget_and_errors() -> None:
    h = simulate_history(300, n_keys=1, n_processes=8, ops=("read", "write"), p_stale=0.3, seed=1)
    assert check_sequential(h, time_budget_s=1e-9).valid in (None, False)
    with pytest.raises(DataFormatError, match="handles read/write"):
        check_sequential(simulate_history(5, seed=1))
    with pytest.raises(DataFormatError, match="witness has 2 entries for 4 rows"):
        check_sequential(GOES_BACK, witness=[1, 2])


def _brute_sequential(history: pl.DataFrame) -> bool:
    """Every interleaving of the processes' operations (info writes in or out)."""
    ops = history.with_row_index("row").sort("process", "invoke_s")
    procs = [part.rows(named=True) for _, part in ops.group_by("process", maintain_order=True)]
    optional = [i for i, r in enumerate(ops.rows(named=True)) if r["status"] == "info"]
    rows = ops.rows(named=True)
    for skip in itertools.chain.from_iterable(
        itertools.combinations(optional, k) for k in range(len(optional) + 1)
    ):
        dropped = {rows[i]["row"] for i in skip}
        lanes = [[r for r in p if r["row"] not in dropped] for p in procs]
        labels = [i for i, lane in enumerate(lanes) for _ in lane]
        for order in set(itertools.permutations(labels)):
            pos = [0] * len(lanes)
            state: dict[str, str | None] = {}
            good = True
            for p in order:
                op = lanes[p][pos[p]]
                pos[p] += 1
                if op["op"] == "write":
                    state[op["key"]] = op["value"]
                elif op["status"] == "ok" and state.get(op["key"]) != op["output"]:
                    good = False
                    break
            if good:
                return True
    return False


@st.composite
def small_histories(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(0, 6))
    rows = []
    written: list[str] = []
    for i in range(n):
        process = draw(st.integers(0, 2))
        key = draw(st.sampled_from(["x", "y"]))
        if draw(st.booleans()) or not written:
            status = draw(st.sampled_from(["ok", "ok", "info"]))
            value = f"v{i}"
            written.append(value)
            rows.append((process, "write", key, value, None, float(i), None, status))
        else:
            out = draw(st.sampled_from([None, *written]))
            rows.append((process, "read", key, None, out, float(i), float(i) + 0.5, "ok"))
    return make_history(rows) if rows else make_history([])


@settings(max_examples=150)
@given(small_histories())
@example(make_history([]))
@example(GOES_BACK)
def test_search_agrees_with_brute_force(history: pl.DataFrame) -> None:
    assert check_sequential(history).valid is _brute_sequential(history)


@pytest.mark.parametrize("model", ["sequential", "linearizable"])
def test_leader_stores_emit_a_passing_witness(model: str) -> None:
    res = run_store(StoreConfig(model=model, duration_s=10, seed=7))
    r = check_sequential(res.history, witness=res.trace["position"])
    assert (r.valid, r.info["method"]) == (True, "witness")
