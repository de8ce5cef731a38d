"""Thresholds, point/incident metrics, PR-AUC, compare_detectors."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from eventsim.anomaly import (
    FixedThreshold,
    QuantileThreshold,
    best_threshold_in_hindsight,
    compare_detectors,
    detection_delays,
    false_alarms_per_day,
    incident_metrics,
    pointwise_metrics,
    pr_auc,
)
from eventsim.exceptions import ConfigError, DataFormatError


def test_fixed_and_quantile_thresholds():
    assert FixedThreshold(1.0).classify(1.0)
    q = QuantileThreshold(q=0.5, min_history=4)
    assert not q.classify(1e9)  # no history yet
    alarms = q.classify_learn_many([1.0, 2.0, 3.0, 4.0, 0.5, 10.0])
    assert alarms.tolist() == [False, False, False, False, False, True]
    with pytest.raises(ConfigError, match=r"q must be in \(0, 1\)"):
        QuantileThreshold(q=1.0)


def test_hindsight_threshold_is_labelled():
    r = best_threshold_in_hindsight([0.1, 0.7, 0.3, 0.9], [0, 1, 1, 1])
    assert r["threshold"] == 0.3
    assert r["recall"] == 1.0
    assert "hindsight" in r["note"]


def test_incident_metrics_exact():
    t = np.arange(10.0) * 10
    alarms = np.zeros(10, bool)
    alarms[[2, 3, 8]] = True  # 20, 30 inside incident 1; 80 is false
    m = incident_metrics(t, alarms, [15, 50], [35, 60])
    assert m == {
        "recall": 0.5,
        "precision": pytest.approx(2 / 3),
        "f1": pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5)),
        "median_delay_s": 5.0,
        "detected": 1,
        "incidents": 2,
        "alarms": 3,
    }
    d = detection_delays(t, alarms, [15, 50], [35, 60])
    assert d[0] == 5.0
    assert math.isnan(d[1])
    assert false_alarms_per_day(t, alarms, [15, 50], [35, 60], span_s=86400) == 1.0
    assert pointwise_metrics([1, 1, 0], [1, 0, 0]) == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
    }


@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), max_size=50))
@example([])
def test_pr_auc_bounds_and_perfect_ranking(pairs):
    scores = np.array([s for s, _ in pairs])
    labels = np.array([y for _, y in pairs], dtype=bool)
    auc = pr_auc(scores, labels)
    assert 0.0 <= auc <= 1.0 + 1e-12
    if labels.any():
        assert pr_auc(labels.astype(float), labels) == pytest.approx(1.0)


def _frame():
    t = np.arange(600.0) * 60
    rng = np.random.default_rng(1)
    orders = np.where((t >= 24000) & (t < 24600), 30.0, rng.normal(0, 1, t.size))
    pay = rng.normal(0, 1, t.size)
    return pl.concat(
        [
            pl.DataFrame({"window_start_s": t, "stream": "orders", "lag": orders}),
            pl.DataFrame({"window_start_s": t, "stream": "payments", "lag": pay}),
        ]
    )


INCIDENTS = pl.DataFrame(
    {
        "kind": ["consumer_lag"],
        "start_s": [24000.0],
        "end_s": [24600.0],
        "target": ["orders"],
        "affected": [[]],
    },
    schema_overrides={"affected": pl.List(pl.String)},
)


def test_compare_detectors_schema_and_recall():
    out = compare_detectors(_frame(), INCIDENTS, ["robust_z", "null"])
    assert out.schema == pl.Schema(
        {
            "detector": pl.String,
            "incidents": pl.Int64,
            "detected": pl.Int64,
            "incident_recall": pl.Float64,
            "precision": pl.Float64,
            "median_delay_s": pl.Float64,
            "false_alarms_per_day": pl.Float64,
            "alarms": pl.Int64,
        }
    )
    robust = out.row(0, named=True)
    assert robust["incidents"] == 1  # the incident targets "orders" only
    assert robust["incident_recall"] == 1.0
    assert robust["median_delay_s"] == 0.0
    null = out.row(1, named=True)
    assert (null["detected"], null["alarms"], null["median_delay_s"]) == (0, 0, None)


def test_compare_detectors_errors():
    with pytest.raises(DataFormatError, match="frame lacks column 'stream'"):
        compare_detectors(_frame().drop("stream"), INCIDENTS)
    with pytest.raises(ConfigError, match="did you mean 'robust_z'"):
        compare_detectors(_frame(), INCIDENTS, ["robust_zz"])
