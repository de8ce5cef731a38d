"""Grid: products, explicit lists, samples, seeds, combinations and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from eventsim.sweep import Grid, SweepError
from eventsim.sweep.sample import Range, sample_points


def test_product_order_is_last_axis_fastest_then_seeds():
    g = Grid({"a": [1, 2], "b": ["x", "y", "z"]}, seeds=[7, 3])
    runs = list(g)
    assert len(g) == len(runs) == 12
    assert runs[:4] == [({"a": 1, "b": "x"}, 7), ({"a": 1, "b": "x"}, 3),
                        ({"a": 1, "b": "y"}, 7), ({"a": 1, "b": "y"}, 3)]  # fmt: skip
    assert runs[-1] == ({"a": 2, "b": "z"}, 3)
    assert g.params == ("a", "b")
    assert g.seeds == (7, 3)


def test_no_seeds_means_one_run_per_point_with_base_seed():
    g = Grid({"a": [1, 2]})
    assert g.seeds is None
    assert list(g) == [({"a": 1}, None), ({"a": 2}, None)]


def test_seeds_only_grid():
    g = Grid(seeds=range(3))
    assert list(g) == [({}, 0), ({}, 1), ({}, 2)]
    assert g.params == ()


def test_numpy_values_become_python_scalars():
    g = Grid({"a": np.array([1, 2])}, seeds=np.arange(2))
    assert type(g.points[0]["a"]) is int
    assert type(g.seeds[0]) is int


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Grid({}), "grid is empty"),
        (lambda: Grid(), "grid is empty"),
        (lambda: Grid({"a": []}), "grid axis 'a' is empty"),
        (lambda: Grid({"a": 4}), "grid axis 'a' must be a list"),
        (lambda: Grid({"a": "abc"}), "grid axis 'a' must be a list"),
        (lambda: Grid.from_list([]), "grid is empty"),
        (lambda: Grid.from_list([4]), "grid point 0 must be a mapping"),
        (lambda: Grid({"a": [1]}, seeds=[]), "seeds is empty"),
        (lambda: Grid({"a": [1]}, seeds=5), r"seeds must be a list of integers such as range\(5\)"),
        (lambda: Grid({"a": [1]}, seeds=[1, -1]), "seeds must be integers >= 0; got -1"),
        (lambda: Grid({"a": [1]}, seeds=[1, 1.5]), "seeds must be integers >= 0; got 1.5"),
        (lambda: Grid({"a": [1]}, seeds=[1, 2, 1]), r"seeds must be distinct; \[1\] repeat"),
        (lambda: Grid({"seed": [1, 2]}, seeds=[0]), "both a 'seed' axis and seeds="),
    ],
)
def test_bad_grids_are_rejected_with_one_line(make, match):
    with pytest.raises(SweepError, match=match) as info:
        make()
    assert "\n" not in str(info.value)


def test_from_list_keeps_order_and_union_of_keys():
    g = Grid.from_list([{"b": 1}, {"a": 2, "b": 3}, {"c": 4}], seeds=[0])
    assert g.params == ("b", "a", "c")
    assert [p for p, _ in g] == [{"b": 1}, {"a": 2, "b": 3}, {"c": 4}]


def test_combining_grids():
    g = Grid({"a": [1, 2]}) * Grid({"b": [3, 4]}, seeds=[0, 1])
    assert g.points == ({"a": 1, "b": 3}, {"a": 1, "b": 4}, {"a": 2, "b": 3}, {"a": 2, "b": 4})
    assert g.seeds == (0, 1)
    assert g == Grid({"a": [1, 2], "b": [3, 4]}, seeds=[0, 1])
    chained = Grid({"a": [1]}) + Grid({"b": [2]})
    assert chained.points == ({"a": 1}, {"b": 2})
    with pytest.raises(SweepError, match="different seeds"):
        Grid({"a": [1]}, seeds=[0]) * Grid({"b": [1]}, seeds=[1])


@pytest.mark.parametrize("method", ["random", "lhs"])
def test_samples_are_seeded_and_within_ranges(method):
    ranges = {
        "log.partitions": (1, 48),
        "params.rate_per_s": (10.0, 100.0),
        "log.retention_s": {"low": 60.0, "high": 3600.0, "log": True},
        "consumers.0.commit": {"choices": ["auto", "after-process"]},
    }
    a = Grid.sample(ranges, 30, method=method, sample_seed=5)
    assert a == Grid.sample(ranges, 30, method=method, sample_seed=5)
    assert a != Grid.sample(ranges, 30, method=method, sample_seed=6)
    parts = [p["log.partitions"] for p in a.points]
    assert all(isinstance(v, int) and 1 <= v <= 48 for v in parts)
    rates = [p["params.rate_per_s"] for p in a.points]
    assert all(isinstance(v, float) and 10.0 <= v < 100.0 for v in rates)
    assert all(60.0 <= p["log.retention_s"] <= 3600.0 for p in a.points)
    assert {p["consumers.0.commit"] for p in a.points} == {"auto", "after-process"}


@given(n=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
@example(n=1, seed=0)
def test_lhs_puts_exactly_one_point_in_each_stratum(n, seed):
    pts = sample_points({"x": (0.0, 1.0), "y": (0.0, 1.0)}, n, method="lhs", seed=seed)
    for key in ("x", "y"):
        strata = sorted(int(p[key] * n) for p in pts)
        assert strata == list(range(n))


def test_integer_range_hits_both_bounds_evenly():
    values = Range.parse("k", (0, 3)).values(np.linspace(0, 0.999, 400))
    assert np.bincount(values).tolist() == [100, 100, 100, 100]


@pytest.mark.parametrize(
    ("ranges", "kw", "match"),
    [
        ({"a": (5, 1)}, {}, "must have numbers low < high"),
        ({"a": (1,)}, {}, r"must be \[low, high\]"),
        (
            {"a": {"low": 0.0, "high": 1.0, "log": True}},
            {},
            "log sample range of 'a' must have low > 0",
        ),
        ({"a": {"choices": []}}, {}, "non-empty list"),
        ({"a": {"low": 1.0, "hgh": 2.0}}, {}, "unknown key 'hgh'; did you mean 'high'"),
        ({"a": (1, 2)}, {"method": "sobolx"}, "sample method must be one of random, lhs"),
        ({"a": (1, 2)}, {"n": 0}, "n must be an integer >= 1"),
        ({}, {}, "sample ranges are empty"),
    ],
)
def test_bad_ranges(ranges, kw, match):
    kw = {"n": 3, **kw}
    with pytest.raises(SweepError, match=match):
        Grid.sample(ranges, **kw)
