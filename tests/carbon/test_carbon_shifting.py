"""Temporal shifting: kernels vs brute force, deadlines, forecast error, Scenario II setup."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from eventsim.carbon import (
    NoisyForecast,
    PersistenceForecast,
    PlacementScenario,
    Region,
    SeasonalNaiveForecast,
    account,
    make_policy,
    make_trace,
)
from eventsim.carbon.scenarios import deadline_slots, lets_wait_awhile, sample_ml_jobs
from eventsim.carbon.schedule import best_start, greenest_slots

START = datetime(2021, 1, 4)

jobs_and_series = st.tuples(
    st.lists(st.floats(0, 500, allow_nan=False), min_size=20, max_size=60),
    st.lists(
        st.tuples(st.integers(0, 15), st.integers(1, 6), st.integers(0, 10)), min_size=1, max_size=8
    ),
)


@given(jobs_and_series)
@example(([1.0] * 20, [(0, 1, 0)]))
def test_kernels_match_brute_force(data):
    series, specs = data
    series = np.array(series)
    submit = np.array([s for s, _, _ in specs])
    length = np.array([n for _, n, _ in specs])
    window = np.array([n + k for _, n, k in specs])
    width = int(window.max())
    idx = submit[:, None] + np.arange(width)
    fc = np.where(idx < len(series), series[np.minimum(idx, len(series) - 1)], np.inf)
    starts = best_start(fc, length, window)
    chosen = greenest_slots(fc, length, window)
    for j in range(len(specs)):
        sums = [fc[j, o : o + length[j]].sum() for o in range(window[j] - length[j] + 1)]
        assert fc[j, starts[j] : starts[j] + length[j]].sum() == pytest.approx(min(sums))
        assert chosen[j].sum() == length[j]
        assert not chosen[j, window[j] :].any()
        best_k = np.sort(fc[j, : window[j]])[: length[j]].sum()
        assert fc[j, chosen[j]].sum() == pytest.approx(best_k)


def _scenario(ci, jobs, forecast, cap_kw=None):
    return PlacementScenario(
        regions=(Region("a", pue=1.0, capacity_kw=cap_kw),),
        traces={"a": make_trace(START, ci, 3600)},
        latency_ms={},
        start=START,
        duration_s=3600.0,
        jobs=jobs,
        forecast=forecast,
    )


def _jobs(rng, n, hours):
    submit = rng.integers(0, hours // 2, n) * 3600.0
    dur = rng.integers(1, 6, n) * 3600.0
    slack = rng.integers(0, hours // 2 - 6, n) * 3600.0
    return pl.DataFrame(
        {
            "job_id": np.arange(n),
            "submit_s": submit,
            "duration_s": dur,
            "deadline_s": submit + dur + slack,
            "power_kw": rng.uniform(1, 3, n),
            "kind": "batch",
        }
    )


@given(
    st.lists(st.floats(1, 800, allow_nan=False), min_size=40, max_size=80), st.integers(0, 2**16)
)
def test_shifting_never_misses_with_perfect_forecast(ci, seed):
    jobs = _jobs(np.random.default_rng(seed), 12, len(ci))
    problem = _scenario(np.array(ci), jobs, "perfect").compile()
    base = account(problem, make_policy("latency-first").place(problem)).totals()
    for name in ("shift-non-interrupting", "shift-interrupting"):
        totals = account(problem, make_policy(name).place(problem)).totals()
        assert totals["deadline_misses"] == 0
        assert totals["emissions_g"] <= base["emissions_g"] * (1 + 1e-12)


@pytest.mark.parametrize(
    "forecast", [NoisyForecast(0.3, seed=2), PersistenceForecast(), SeasonalNaiveForecast()]
)
def test_forecast_error_misses_are_counted_not_hidden(forecast):
    rng = np.random.default_rng(7)
    ci = rng.uniform(50, 400, 96)
    jobs = _jobs(rng, 40, 96)
    problem = _scenario(ci, jobs, forecast, cap_kw=6.0).compile()
    for name in ("shift-non-interrupting", "shift-interrupting"):
        ledger = account(problem, make_policy(name).place(problem))
        out = ledger.job_outcomes
        # recount: a job misses if its last slot + the backlog delay there passes its deadline
        q = ledger.queue
        last = ledger.jobs.group_by("job_id").agg(pl.col("slot").max().alias("last"))
        check = out.join(last, on="job_id").join(
            q.select(pl.col("slot").alias("last"), "job_delay_s"), on="last"
        )
        late = (check["last"] + 1) * 3600.0 + check["job_delay_s"] > check["deadline_s"] + 1e-6
        assert int(late.sum()) == int(out["missed"].sum())
        assert int(out["missed"].sum()) == ledger.totals()["deadline_misses"]
        if isinstance(forecast, NoisyForecast):  # jobs crowd the same green slots; 6 kW is tight
            assert ledger.totals()["deadline_misses"] > 0


def test_deadline_rule_next_workday():
    day = 48
    # 2020-01-01 is a Wednesday. (end slot, expected deadline slot)
    cases = [
        (0 * day + 20, 0 * day + 20),  # Wed 10:00 → itself
        (0 * day + 34, 0 * day + 34),  # Wed 17:00 → itself
        (0 * day + 35, 1 * day + 18),  # Wed 17:30 → Thu 09:00
        (1 * day + 10, 1 * day + 18),  # Thu 05:00 → Thu 09:00
        (2 * day + 40, 3 * day + 18),  # Fri 20:00 → Sat 09:00 (as the README's rule says)
        (3 * day + 2, 5 * day + 18),  # Sat 01:00 → Mon 09:00
        (4 * day + 30, 5 * day + 18),  # Sun 15:00 → Mon 09:00
    ]
    ends, expected = np.array(cases).T
    assert deadline_slots(ends).tolist() == expected.tolist()
    semi = deadline_slots(np.array([0 * day + 20, 2 * day + 20]), "semi-weekly")
    assert semi.tolist() == [1 * day + 18, 5 * day + 18]  # Wed → Thu 9:00; Fri → Mon 9:00


def test_ml_job_sample_follows_the_setup():
    arrival, length = sample_ml_jobs(3387, seed=0)
    assert len(arrival) == 3387
    day, slot = np.divmod(arrival, 48)
    assert ((day + 2) % 7 <= 4).all()  # workdays only
    assert slot.min() >= 18  # 09:00
    assert slot.max() <= 33  # 16:30
    assert length.min() >= 8  # 4 h
    assert length.max() <= 179  # 89.5 h
    assert (np.diff(arrival) >= 0).all()


def test_lets_wait_awhile_scenario_two(shared_data):
    out = lets_wait_awhile(shared_data / "carbon" / "lets-wait-awhile", n_repeats=2)
    assert out.schema == {"region": pl.String, "strategy": pl.String, "savings_pct": pl.Float64}
    assert out["region"].to_list() == ["de", "de", "gb", "gb", "fr", "fr"]
    assert out["strategy"].to_list() == ["non-interrupting", "interrupting"] * 3
    assert ((out["savings_pct"] > 0) & (out["savings_pct"] < 50)).all()
    perfect = lets_wait_awhile(shared_data / "carbon" / "lets-wait-awhile", error=0.0)
    pivot = perfect.pivot("strategy", index="region", values="savings_pct")
    assert (pivot["interrupting"] >= pivot["non-interrupting"]).all()
