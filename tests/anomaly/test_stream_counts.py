"""Count-aware residuals of the stream detector: ratios weighed by their trials, quantiles by
their samples, and the delayed history of the default detector."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.special import ndtri
from scipy.stats import betabinom

from eventsim.anomaly import StreamDetector
from eventsim.anomaly.detectors import ConformalKNN
from eventsim.anomaly.stream_detector import betabinom_z, count_z


@pytest.mark.parametrize(
    ("k", "n", "a", "b"),
    [(1, 2, 3.5, 100.5), (0, 10, 3.5, 100.5), (40, 100, 3.5, 100.5), (3, 1000, 30.5, 1000.5)],
)
def test_betabinom_z_is_the_probit_of_the_mid_p_value(k, n, a, b):
    d = betabinom(n, a, b)
    half = 0.5 * d.pmf(k)
    lower, upper = d.cdf(k - 1) + half, d.sf(k) + half
    expected = ndtri(lower) if lower < upper else -ndtri(upper)
    assert betabinom_z(k, n, a, b) == pytest.approx(expected, abs=1e-3)


def test_betabinom_z_stays_finite_far_in_the_tail():
    z = betabinom_z(900, 1000, 0.5, 3000.0)
    assert np.isfinite(z)
    assert z > 20
    assert betabinom_z(0, 3000, 200.5, 3000.0) < -10


def _ratio_rows(rng, n_rows, p, trials):
    n = rng.poisson(trials, n_rows)
    k = rng.binomial(n, p)
    return [
        {"error_ratio": float(ki / ni) if ni else 0.0, "events": int(ni)}
        for ki, ni in zip(k, n, strict=True)
    ]


def test_a_single_error_on_a_sparse_stream_is_weak_evidence():
    rng = np.random.default_rng(1)
    det = StreamDetector("default")
    for x in _ratio_rows(rng, 400, 0.01, 3.0):
        det.learn_one(x)
    # one error among two events: a ratio of 0.5 against a baseline of about 0.01
    z = det.residuals({"error_ratio": 0.5, "events": 2})["error_ratio"]
    assert 0 < z < 3
    assert det.score_one({"error_ratio": 0.5, "events": 2}) == 0.0


def test_a_sustained_burst_on_a_sparse_stream_alarms():
    rng = np.random.default_rng(2)
    det = StreamDetector("default")
    for x in _ratio_rows(rng, 400, 0.03, 10.0):
        det.learn_one(x)
    scores = det.score_learn_many(pl.DataFrame(_ratio_rows(rng, 15, 0.4, 10.0)))
    assert (scores > 0).any()


def test_the_harmless_side_of_a_ratio_is_not_tested():
    rng = np.random.default_rng(3)
    det = StreamDetector("default")
    for x in _ratio_rows(rng, 300, 0.2, 50.0):
        det.learn_one(x)
    assert det.residuals({"error_ratio": 0.0, "events": 200})["error_ratio"] == 0.0
    assert det.residuals({"error_ratio": 0.6, "events": 200})["error_ratio"] > 5


def test_a_quantile_of_few_samples_is_shrunk():
    rng = np.random.default_rng(4)
    det = StreamDetector("null", threshold=1.0)
    for v in rng.normal(1.0, 0.02, 60):
        det.learn_one({"latency_p50": float(v), "latency_samples": 400})
    full = det.residuals({"latency_p50": 1.5, "latency_samples": 400})["latency_p50"]
    few = det.residuals({"latency_p50": 1.5, "latency_samples": 4})["latency_p50"]
    assert few == pytest.approx(full * 0.1)


def test_a_falling_latency_quantile_is_not_tested():
    rng = np.random.default_rng(4)
    det = StreamDetector("null", threshold=1.0)
    for v in rng.normal(1.0, 0.02, 60):
        det.learn_one({"latency_p50": float(v), "latency_samples": 400})
    assert det.residuals({"latency_p50": 0.5, "latency_samples": 400})["latency_p50"] == 0.0
    assert det.residuals({"latency_p50": 1.5, "latency_samples": 400})["latency_p50"] > 5


def test_alarmed_windows_are_observed_not_learned():
    rng = np.random.default_rng(5)
    det = StreamDetector("default")
    for v in rng.normal(1.0, 0.02, 200):
        det.learn_one({"latency_p50": float(v), "latency_samples": 400})
    inner = det.inner_
    held = [len(sc.calibration) for sc in inner._scales]
    x = {"latency_p50": 3.0, "latency_samples": 400}
    z = det.residuals(x)["latency_p50"]
    assert det.score_one(x) > 0
    det.learn_one(x)
    # the window is the newest row of the inner detector's scans, but not in its history
    assert inner._rows[-1][0] == pytest.approx(z)
    assert [len(sc.calibration) for sc in inner._scales] == held
    assert all(z > max(sc.calibration) for sc in inner._scales if sc.m == 1)


def test_conformal_knn_delay_and_discard():
    det = ConformalKNN(min_history=5, delay=3, per_feature=True, scales=(1,), refractory=0)
    for v in range(10):
        det.learn_one({"v": float(v % 3)})
    held = len(det._scales[0].calibration)
    assert held == 10 - 3
    det.discard_pending()
    det.learn_one({"v": 1.0})
    assert len(det._scales[0].calibration) == held  # the new row waits its turn


@pytest.mark.parametrize(("k", "mean", "var"), [(0, 40.0, 40.0), (55, 40.0, 40.0), (3, 10.0, 25.0)])
def test_count_z_is_the_probit_of_the_mid_p_value(k, mean, var):
    from scipy.stats import nbinom, poisson

    if var <= mean:
        d = poisson(mean)
    else:
        r = mean * mean / (var - mean)
        d = nbinom(r, r / (r + mean))
    half = 0.5 * d.pmf(k)
    lower, upper = d.cdf(k - 1) + half, d.sf(k) + half
    expected = ndtri(lower) if lower < upper else -ndtri(upper)
    got = count_z(np.array([float(k)]), np.array([mean]), np.array([var]))[0]
    assert got == pytest.approx(expected, abs=1e-6)


def test_count_z_stays_finite_far_in_the_tail():
    z = count_z(np.array([0.0, 5000.0]), np.array([2000.0, 50.0]), np.array([2000.0, 60.0]))
    assert np.isfinite(z).all()
    assert z[0] < -30
    assert z[1] > 30


def _rate_rows(counts, window_s=60.0):
    return [{"event_rate_per_s": float(c) / window_s} for c in counts]


def test_a_quiet_streams_outage_alarms_and_its_noise_does_not():
    rng = np.random.default_rng(5)
    counts = rng.poisson(3.0, 600)  # three records a minute
    counts[400:415] = 0  # a quarter of an hour without any
    det = StreamDetector("default", resolutions={"event_rate_per_s": 1 / 60})
    scores = det.score_learn_many(pl.DataFrame(_rate_rows(counts)))
    alarms = np.flatnonzero(scores > 0)
    assert alarms.size
    assert set(alarms.tolist()) <= set(range(400, 440))


def test_the_expected_count_follows_a_ramp():
    # a ramp of 1 % a window: the baseline's level, carried to now, is not a lagging mean
    counts = np.round(500.0 * 1.01 ** np.arange(120))
    det = StreamDetector("null", threshold=1.0, resolutions={"event_rate_per_s": 1 / 60})
    for x in _rate_rows(counts):
        det.learn_one(x)
    nxt = 500.0 * 1.01**120
    assert abs(det.residuals(_rate_rows([nxt])[0])["event_rate_per_s"]) < 1.0
    assert det.residuals(_rate_rows([0.6 * nxt])[0])["event_rate_per_s"] < -5


def test_a_bursty_streams_low_counts_are_judged_by_its_quiet_windows():
    # 300 records a window, and a broadcast's 3,000 in one window of ten: the bursts make
    # the counts' variance huge, but a silent window is far below every quiet one
    rng = np.random.default_rng(7)
    counts = rng.poisson(300.0, 200).astype(float)
    counts[rng.random(200) < 0.1] = 3000.0
    det = StreamDetector("null", threshold=1.0, resolutions={"event_rate_per_s": 1 / 60})
    for x in _rate_rows(counts):
        det.learn_one(x)

    def z(count):
        return det.residuals(_rate_rows([count])[0])["event_rate_per_s"]

    assert z(0.0) < -15  # under the bursts' symmetric variance: about -2
    assert z(150.0) < -5  # half the quiet level
    assert abs(z(300.0)) < 2
    assert 0 < z(3000.0) < 3  # a burst is no news


def test_silent_windows_count_in_full_in_a_pooled_sum():
    # a dip's windows count at most 3 sigmas each in the pooled sums; an empty one is an
    # outage and counts in full
    def pooled_z(fill):
        rng = np.random.default_rng(3)
        counts = np.r_[rng.poisson(40.0, 100), [fill] * 15]
        det = StreamDetector("null", threshold=1.0, resolutions={"event_rate_per_s": 1 / 60})
        for x in _rate_rows(counts):
            det.learn_one(x)
        return det.residuals(_rate_rows([fill])[0])["event_rate_per_s"]

    assert pooled_z(0.0) < -15
    assert -10 < pooled_z(1.0) < -5
