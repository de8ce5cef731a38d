"""Placement policies and accounting: conservation, the optimum as a bound, exact cases."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from eventsim.carbon import (
    POLICIES,
    PlacementScenario,
    Region,
    TopicSpec,
    account,
    compare_placement,
    make_policy,
    make_trace,
    per_event_footprint,
)
from eventsim.carbon.scenarios import demo_scenario
from eventsim.exceptions import ScenarioError

START = datetime(2021, 1, 4)
NAMES = ("a", "b", "c")


def _events(n: int, hours: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "timestamp_s": np.sort(rng.uniform(0, hours * 3600, n)),
            "topic": rng.choice(["t1", "t2"], n),
            "event_type": "e",
            "key": "k",
            "payload_bytes": rng.integers(100, 2000, n).astype(np.int32),
        }
    )


def _scenario(ci: np.ndarray, *, slo=None, net=0.06, events=None, jobs=None, caps=None):
    hours = ci.shape[0]
    caps = caps or {}
    return PlacementScenario(
        regions=tuple(
            Region(n, pue=1.1 + 0.05 * i, capacity_events_per_s=caps.get(n))
            for i, n in enumerate(NAMES)
        ),
        traces={n: make_trace(START, ci[:, i], 3600) for i, n in enumerate(NAMES)},
        latency_ms={("a", "b"): 8.0, ("a", "c"): 20.0, ("b", "c"): 12.0},
        start=START,
        duration_s=hours * 3600 / 2,
        slo_ms=slo,
        topics=(
            TopicSpec("t1", "g1", "stateful", (("a", 2.0), ("b", 1.0))),
            TopicSpec("t2", "g2", "inference", (("c", 1.0), ("b", 1.0))),
        ),
        events=events if events is not None else _events(3000, hours // 2, 1),
        jobs=jobs,
        network_kwh_per_gb=net,
    )


def _jobs(rng: np.random.Generator, n: int, hours: int) -> pl.DataFrame:
    submit = rng.integers(0, hours // 2, n) * 3600.0
    dur = rng.integers(1, 5, n) * 3600.0
    slack = rng.integers(0, hours // 2 - 5, n) * 3600.0
    return pl.DataFrame(
        {
            "job_id": np.arange(n),
            "submit_s": submit,
            "duration_s": dur,
            "deadline_s": submit + dur + slack,
            "power_kw": rng.uniform(0.5, 4, n),
            "kind": "train",
            "home_region": rng.choice(list(NAMES), n),
        }
    )


def test_accounting_conserves_per_event_topic_group_region_time():
    ci = np.random.default_rng(3).uniform(20, 500, (48, 3))
    events = _events(5000, 24, 2)
    sc = _scenario(ci, slo=10.0, events=events, jobs=_jobs(np.random.default_rng(4), 10, 48))
    problem = sc.compile()
    for name in POLICIES:
        ledger = account(problem, make_policy(name).place(problem))
        totals = ledger.totals()
        streams_g = ledger.streams["emissions_g"].sum()
        per_event = per_event_footprint(events, ledger, sc.slot_s)
        assert per_event.height == events.height
        assert per_event["emissions_g"].sum() == pytest.approx(streams_g, rel=1e-9)
        assert per_event["energy_kwh"].sum() == pytest.approx(ledger.streams["energy_kwh"].sum())
        for key in ("topic", "group", "user_region"):
            assert ledger.by(key)["emissions_g"].sum() == pytest.approx(streams_g, rel=1e-9)
        for key in ("region", "slot"):
            by = ledger.by(key)
            assert by["emissions_g"].sum() == pytest.approx(totals["emissions_g"], rel=1e-9)
            assert by["energy_kwh"].sum() == pytest.approx(totals["energy_kwh"], rel=1e-9)
        assert ledger.streams["n_events"].sum() == pytest.approx(events.height)
        assert ledger.job_outcomes["emissions_g"].sum() == pytest.approx(
            ledger.jobs["emissions_g"].sum()
        )


def test_hand_computed_emissions_one_cell_two_regions():
    cells = pl.DataFrame(
        {
            "slot": [0],
            "topic": ["t1"],
            "group": ["g1"],
            "handler": ["inference"],
            "user_region": ["a"],
            "n_events": [1_000_000],
            "payload_bytes": [2_000_000_000],
        }
    )
    ci = np.array([[400.0, 100.0, 50.0]] * 2)
    sc = _scenario(ci, events=cells, net=0.05)
    problem = sc.compile()
    ledger = account(problem, make_policy("greenest-now").place(problem))
    kwh = 1e6 * (4.6875 / 200 + 1.5625 / 100) / 3.6e6  # J/event of "inference"
    # served in c (PUE 1.2, 50 g/kWh); 2 GB moved a→c at the mean of 400 and 50
    expected = kwh * 1.2 * 50 + 2 * 0.05 * (400 + 50) / 2
    assert ledger.totals()["emissions_g"] == pytest.approx(expected)
    assert ledger.streams["region"].to_list() == ["c"]


traces = st.lists(
    st.lists(st.floats(1, 800, allow_nan=False), min_size=3, max_size=3), min_size=12, max_size=30
).map(lambda rows: np.array(rows))


@given(traces, st.integers(0, 2**16), st.sampled_from([None, 10.0, 15.0]))
@example(np.full((12, 3), 100.0), 0, None)
def test_no_policy_beats_the_offline_optimum(ci, seed, slo):
    rng = np.random.default_rng(seed)
    hours = ci.shape[0] - ci.shape[0] % 2
    ci = ci[:hours]
    sc = _scenario(
        ci,
        slo=slo,
        events=_events(300, hours // 2, seed),
        jobs=_jobs(rng, 4, hours) if hours >= 12 else None,
    )
    table = compare_placement(sc, list(POLICIES))
    optimum = table.filter(pl.col("policy") == "offline-optimum")["emissions_g"][0]
    feasible = table.filter(pl.col("slo_violations") == 0, pl.col("overflow_events") == 0)
    assert (feasible["emissions_g"] >= optimum * (1 - 1e-9) - 1e-9).all()
    assert table.filter(pl.col("policy") == "offline-optimum")["slo_violations"][0] == 0 or slo


@given(traces, st.integers(0, 2**16))
@example(np.full((12, 3), 100.0), 0)
def test_greenest_now_equals_optimum_without_slo_capacity_or_deferral(ci, seed):
    hours = ci.shape[0] - ci.shape[0] % 2
    sc = _scenario(ci[:hours], slo=None, net=0.0, events=_events(200, hours // 2, seed))
    table = compare_placement(sc, ["greenest-now"])
    got = dict(zip(table["policy"].to_list(), table["emissions_g"].to_list()))
    assert got["greenest-now"] == pytest.approx(got["offline-optimum"], rel=1e-12)


def test_lp_optimum_respects_capacity_and_bounds_policies():
    ci = np.tile(np.array([[300.0, 200.0, 50.0]]), (24, 1))
    sc = _scenario(ci, slo=None, net=0.0, caps={"c": 0.05}, events=_events(2000, 12, 5))
    problem = sc.compile()
    placement = make_policy("offline-optimum").place(problem)
    assert placement.info["method"] == "lp"
    ledger = account(problem, placement)
    assert ledger.totals()["overflow_events"] == pytest.approx(0.0, abs=1e-6)
    greedy = account(problem, make_policy("greenest-now").place(problem)).totals()
    assert greedy["overflow_events"] > 0
    assert greedy["emissions_g"] < ledger.totals()["emissions_g"]  # only by breaking capacity


def test_same_seed_same_table():
    a = compare_placement(demo_scenario(days=1, rate_per_s=20, seed=3))
    b = compare_placement(demo_scenario(days=1, rate_per_s=20, seed=3))
    assert_frame_equal(a, b)
    assert a["policy"].to_list()[-1] == "offline-optimum"
    assert a.filter(pl.col("policy") == "latency-first")["savings_pct"][0] == 0.0


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"slot_s": -1.0}, "slot_s must be > 0; got -1.0"),
        ({"slo_ms": 0.0}, "slo_ms must be > 0 or None; got 0.0"),
        ({"latency_ms": {}}, "latency_ms must be a latency >= 0 for every region pair"),
        ({"forecast": "oracle"}, "forecast must be a Forecast or one of .*got 'oracle'"),
        ({"traces": {}}, "traces must be a mapping with a trace for every region"),
    ],
)
def test_validation_names_field_and_value(changes, match):
    sc = demo_scenario(days=1, rate_per_s=1)
    with pytest.raises(ValueError, match=match):
        sc.replace(**changes)


def test_jobs_that_do_not_fit_whole_slots_raise():
    ci = np.full((24, 3), 100.0)
    jobs = pl.DataFrame(
        {
            "job_id": [7],
            "submit_s": [1800.0],
            "duration_s": [3600.0],
            "deadline_s": [5400.0],
            "power_kw": [1.0],
            "kind": ["x"],
        }
    )
    with pytest.raises(ScenarioError, match="job 7"):
        _scenario(ci, jobs=jobs).compile()
