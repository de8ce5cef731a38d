"""Staleness per read and convergence after a heal."""

from __future__ import annotations

import math

import polars as pl
from polars.testing import assert_frame_equal

from eventsim.consistency import convergence_time, make_history, simulate_history, staleness
from eventsim.consistency.staleness import STALENESS_SCHEMA


def test_staleness_whole_frame() -> None:
    h = make_history(
        [
            (0, "write", "x", "a", None, 0, 1),
            (2, "read", "y", None, None, 0, 1),  # y never written: fresh
            (0, "write", "x", "b", None, 2, 3),
            (0, "write", "x", "c", None, 4, 5),
            (2, "read", "x", None, "b", 4.5, 5),  # c not committed yet at 4.5: fresh
            (1, "read", "x", None, "a", 6, 7),  # two behind: b (at 3) and c (at 5)
            (1, "read", "x", None, "c", 8, 9),
        ]
    )
    expected = pl.DataFrame(
        [
            (1, 2, "y", 0.0, 1.0, 0, 0, 0, 0.0, 0.0),
            (4, 2, "x", 4.5, 5.0, 2, 2, 0, 0.0, 0.0),
            (5, 1, "x", 6.0, 7.0, 1, 3, 2, 1.0, 3.0),
            (6, 1, "x", 8.0, 9.0, 3, 3, 0, 0.0, 0.0),
        ],
        schema=STALENESS_SCHEMA,
        orient="row",
    )
    assert_frame_equal(staleness(h), expected)


def test_linearizable_store_has_no_stale_reads() -> None:
    h = simulate_history(1000, n_keys=5, ops=("read", "write"), seed=2)
    s = staleness(h)
    assert s.height == h.filter(pl.col("op") == "read").height
    assert s["versions_behind"].max() == 0
    lagging = staleness(
        simulate_history(1000, n_keys=5, ops=("read", "write"), p_stale=0.3, seed=2)
    )
    assert lagging["versions_behind"].max() >= 1
    assert (lagging.filter(pl.col("versions_behind") > 0)["seconds_behind"] >= 0).all()


def test_convergence_time() -> None:
    states = pl.DataFrame(
        {
            "time_s": [0.0, 0.0, 1.0, 4.0, 6.0, 7.0, 7.0],
            "replica": ["a", "b", "a", "c", "b", "c", "c"],
            "key": ["x", "x", "x", "y", "x", "x", "y"],
            "version": [1, 1, 2, 1, 2, 2, 0],
        }
    )
    # x: a=2 from 1, b=2 from 6, c=2 from 7; y: c=1 during [4, 7), back to 0 at 7
    assert convergence_time(states, heal_s=5.0) == 2.0
    assert convergence_time(states, heal_s=8.0) == 0.0
    never = pl.DataFrame({"time_s": [0.0], "replica": ["a"], "key": ["x"], "version": [1]})
    two = pl.concat(
        [never, pl.DataFrame({"time_s": [0.0], "replica": ["b"], "key": ["x"], "version": [2]})]
    )
    assert convergence_time(two, heal_s=1.0) == math.inf
    assert convergence_time(never, heal_s=1.0) == 0.0
