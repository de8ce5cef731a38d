"""aggregate(): means and t intervals across seeds, on hand-made sweep tables."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from scipy import stats

from eventsim.sweep import SweepError, aggregate, metric_columns, param_columns


def _table(**extra) -> pl.DataFrame:
    base = {
        "a": [1, 1, 1, 2, 2, 2],
        "b": ["x", "x", "y", "x", "x", "y"],
        "seed": [0, 1, 0, 0, 1, 0],
        "scenario_key": list("uvwxyz"),
        "lat": [1.0, 3.0, 10.0, 2.0, None, 7.0],
        "n": [5, 7, 9, 11, 13, 15],
        "workload": ["s"] * 6,
        "run_s": [0.1] * 6,
        "status": ["ok", "ok", "ok", "ok", "ok", "failed"],
        "cached": [False] * 6,
        "error": [None] * 5 + ["boom"],
    }
    base.update(extra)
    return pl.DataFrame(base)


def test_columns_are_found_by_position():
    t = _table()
    assert param_columns(t) == ["a", "b"]
    assert metric_columns(t) == ["lat", "n"]
    assert metric_columns(t, numeric=False) == ["lat", "n", "workload"]


def test_aggregate_whole_frame():
    t95 = stats.t.ppf(0.975, 1)
    out = aggregate(_table())
    expected = pl.DataFrame(
        {
            "a": [1, 1, 1, 1, 2, 2],
            "b": ["x", "x", "y", "y", "x", "x"],
            "metric": ["lat", "n", "lat", "n", "lat", "n"],
            "n": [2, 2, 1, 1, 1, 2],
            "mean": [2.0, 6.0, 10.0, 9.0, 2.0, 12.0],
            "std": [math.sqrt(2), math.sqrt(2), None, None, None, math.sqrt(2)],
            "ci_low": [2.0 - t95, 6.0 - t95, None, None, None, 12.0 - t95],
            "ci_high": [2.0 + t95, 6.0 + t95, None, None, None, 12.0 + t95],
        },
        schema_overrides={"n": pl.UInt32},
    )
    assert_frame_equal(out, expected)


def test_by_pools_the_other_parameters_and_confidence_changes_the_width():
    narrow = aggregate(_table(), by=["a"], metrics=["n"], confidence=0.5)
    wide = aggregate(_table(), by=["a"], metrics=["n"], confidence=0.99)
    assert narrow.get_column("n").to_list() == [3, 2]
    assert narrow.get_column("mean").to_list() == [7.0, 12.0]
    width = (wide["ci_high"] - wide["ci_low"]) / (narrow["ci_high"] - narrow["ci_low"])
    assert (width > 1).all()


def test_no_grouping_columns():
    out = aggregate(_table(), by=[], metrics=["n"])
    assert out.columns == ["metric", "n", "mean", "std", "ci_low", "ci_high"]
    assert out.row(0)[:3] == ("n", 5, 9.0)


def test_only_failed_rows_gives_an_empty_frame_with_the_schema():
    t = _table(status=["failed"] * 6)
    out = aggregate(t)
    assert out.height == 0
    assert out.schema["mean"] == pl.Float64
    assert out.schema["a"] == pl.Int64


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"by": ["c"]}, "by column 'c' is not a column"),
        ({"metrics": ["lt"]}, "metric 'lt' is not a column of the sweep table; did you mean 'lat'"),
        ({"confidence": 1.0}, r"confidence must be in \(0, 1\)"),
    ],
)
def test_errors(kw, match):
    with pytest.raises(SweepError, match=match):
        aggregate(_table(), **kw)


def test_not_a_sweep_table():
    with pytest.raises(SweepError, match="must be a sweep table"):
        aggregate(pl.DataFrame({"x": [1]}))


@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=30), st.floats(0.5, 0.99))
def test_interval_matches_scipy(values, confidence):
    t = pl.DataFrame(
        {
            "seed": list(range(len(values))),
            "scenario_key": ["k"] * len(values),
            "m": values,
            "run_s": [0.0] * len(values),
            "status": ["ok"] * len(values),
        }
    )
    row = aggregate(t, confidence=confidence).row(0, named=True)
    x = np.asarray(values)
    assert row["mean"] == pytest.approx(x.mean(), abs=1e-6)
    if x.std() > 0:
        low, high = stats.t.interval(confidence, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        assert row["ci_low"] == pytest.approx(low, rel=1e-9, abs=1e-6)
        assert row["ci_high"] == pytest.approx(high, rel=1e-9, abs=1e-6)
