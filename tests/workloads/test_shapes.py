"""Statistical checks of the shared shapes (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from eventsim.workloads.shapes import (
    RateCurve,
    Region,
    Spike,
    Zipf,
    diurnal_factor,
    draw_sessions,
    fit_zipf_exponent,
    lognormal_sizes,
    pareto_sizes,
    poisson_arrivals,
    segment_starts,
    weekly_factor,
)


def test_homogeneous_interarrivals_are_exponential():
    rng = np.random.default_rng(11)
    t = poisson_arrivals(rng, lambda x: np.full(len(x), 5.0), 0.0, 20_000.0)
    gaps = np.diff(t)
    assert stats.kstest(gaps, "expon", args=(0, 1 / 5.0)).pvalue > 0.01
    assert abs(len(t) - 100_000) < 5 * np.sqrt(100_000)


def test_time_rescaled_nhpp_interarrivals_are_unit_exponential():
    curve = RateCurve(20.0, peak_to_trough=4.0, spikes=(Spike(30_000.0, 600.0, 5.0, 1800.0),))
    t, _ = curve.arrivals(np.random.default_rng(3), 0.0, 86_400.0)
    grid = np.linspace(0, 86_400.0, 864_001)
    cum = np.concatenate([[0.0], np.cumsum(curve.rate(grid[:-1] + 0.05) * 0.1)])
    lam = np.interp(t, grid, cum)  # integrated rate at each arrival
    assert stats.kstest(np.diff(lam), "expon").pvalue > 0.01


@pytest.mark.parametrize("exponent", [0.8, 1.0, 1.3])
def test_zipf_mle_recovers_exponent(exponent):
    ranks = Zipf(10_000, exponent).sample(np.random.default_rng(5), 400_000) + 1
    assert abs(fit_zipf_exponent(ranks, 10_000) - exponent) <= 0.05


@pytest.mark.parametrize("ratio", [2.0, 4.0])
def test_diurnal_peak_to_trough_within_5_percent(ratio):
    curve = RateCurve(10.0, peak_to_trough=ratio, peak_hour=20.0)
    t, _ = curve.arrivals(np.random.default_rng(9), 0.0, 7 * 86_400.0)
    hours = (t / 3600.0) % 24
    counts = np.bincount(hours.astype(int), minlength=24)
    # fit mean + cosine by least squares; bias from hourly bins is < 0.3 %
    mid = np.arange(24) + 0.5
    design = np.column_stack(
        [np.ones(24), np.cos(2 * np.pi * mid / 24), np.sin(2 * np.pi * mid / 24)]
    )
    c0, a, b = np.linalg.lstsq(design, counts, rcond=None)[0]
    amp = np.hypot(a, b)
    assert abs((c0 + amp) / (c0 - amp) / ratio - 1) < 0.05
    peak = (np.degrees(np.arctan2(b, a)) / 15.0) % 24
    assert abs(peak - 20.0) < 0.5


def test_regions_peak_at_their_local_hour():
    regions = (Region("a", 0.0, 1.0), Region("b", 12.0, 1.0))
    curve = RateCurve(10.0, peak_to_trough=3.0, peak_hour=12.0, regions=regions)
    rates = curve.region_rates(np.array([12 * 3600.0, 0.0]))
    assert rates[0, 0] > rates[1, 0]
    assert rates[1, 1] > rates[0, 1]
    np.testing.assert_allclose(curve.rate(np.linspace(0, 86_400, 10_001)).mean(), 10.0, rtol=1e-3)


def test_weekly_and_diurnal_have_mean_one():
    t = np.linspace(0, 7 * 86_400, 700_001)[:-1]
    assert weekly_factor(t, weekend_factor=0.5).mean() == pytest.approx(1.0, rel=1e-3)
    assert diurnal_factor(t, peak_to_trough=5.0).mean() == pytest.approx(1.0, rel=1e-6)


def test_spike_shape():
    s = Spike(start_s=10.0, ramp_s=0.0, peak_multiplier=3.0, decay_s=0.0, hold_s=5.0)
    assert s.factor(np.array([9.0, 10.0, 14.0, 16.0])).tolist() == [1.0, 3.0, 3.0, 1.0]


def test_session_lengths_and_think_times():
    starts = np.sort(np.random.default_rng(0).random(50_000) * 1e6)
    s = draw_sessions(np.random.default_rng(1), starts, mean_events=6.0, think_mean_s=20.0)
    assert s.length.mean() == pytest.approx(6.0, rel=0.03)
    think = np.diff(s.time_s)[s.position[1:] > 0]
    assert think.mean() == pytest.approx(20.0, rel=0.03)
    assert np.all(np.diff(s.session) >= 0)
    assert np.all(s.time_s[s.position == 0] == starts)


def test_session_edge_cases():
    s = draw_sessions(np.random.default_rng(1), np.empty(0), mean_events=3.0, think_mean_s=1.0)
    assert len(s.time_s) == 0
    assert segment_starts(np.array([], dtype=int)).tolist() == []


def test_heavy_tailed_sizes():
    rng = np.random.default_rng(2)
    x = pareto_sizes(rng, 200_000, minimum=100, alpha=1.5)
    tail = np.sort(x)[-20_000:]
    alpha_hat = len(tail) / np.log(tail / tail[0]).sum()  # Hill estimator
    assert alpha_hat == pytest.approx(1.5, rel=0.1)
    y = lognormal_sizes(rng, 200_000, median=800, sigma=0.5)
    assert np.log(y).std() == pytest.approx(0.5, rel=0.03)
