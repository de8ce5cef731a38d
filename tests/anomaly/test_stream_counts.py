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
from eventsim.anomaly.stream_detector import betabinom_z


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


def test_conformal_knn_delay_and_discard():
    det = ConformalKNN(min_history=5, delay=3, per_feature=True, scales=(1,), refractory=0)
    for v in range(10):
        det.learn_one({"v": float(v % 3)})
    held = len(det._scales[0].calibration)
    assert held == 10 - 3
    det.discard_pending()
    det.learn_one({"v": 1.0})
    assert len(det._scales[0].calibration) == held  # the new row waits its turn
