"""Bad parameters of the four business workloads: one-line ScenarioError naming the field."""

from __future__ import annotations

import pytest

from eventsim.exceptions import ScenarioError
from eventsim.sim.rng import RngStreams
from eventsim.workloads import IncidentSpec, get_workload

BAD = [
    ("netflix", {"session_rate_per_s": -1.0}, "session_rate_per_s must be > 0"),
    ("netflix", {"p_encode_failure": 1.5}, "p_encode_failure must be a probability"),
    ("uber", {"trip_rate_per_s": 0.0}, "trip_rate_per_s must be > 0"),
    ("uber", {"p_rider_cancel": -0.1}, "p_rider_cancel must be a probability"),
    ("uber", {"n_spike_cells": 10_000}, "n_spike_cells must be <= 400"),
    ("linkedin", {"p_like": 0.9, "p_comment": 0.2}, "p_profile must be <= 1"),
    ("linkedin", {"follower_alpha": -2.0}, "follower_alpha must be > 0"),
    ("amazon", {"order_rate_per_s": -5.0}, "order_rate_per_s must be > 0"),
    ("amazon", {"p_payment_decline": 2.0}, "p_payment_decline must be a probability"),
    ("amazon", {"rate_multiplier": -1.0}, "rate_multiplier must be > 0"),
]


@pytest.mark.parametrize(("name", "params", "match"), BAD)
def test_bad_params(name, params, match):
    with pytest.raises(ScenarioError, match=match) as info:
        get_workload(name)(params)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("netflix", "release_at_s"),
        ("uber", "spike_at_s"),
        ("linkedin", "viral_at_s"),
        ("amazon", "prime_day_at_s"),
    ],
)
def test_spike_outside_run(name, field):
    w = get_workload(name)({field: 500.0})
    with pytest.raises(ScenarioError, match=f"{field} must be inside the run"):
        w.generate(100.0, RngStreams(0))


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (IncidentSpec("outage", 0.0, 1.0, 1.5), "intensity of kind 'outage' must be in"),
        (IncidentSpec("error_burst", 0.0, 1.0, 0.5, "moon"), "target 'moon'"),
        (IncidentSpec("gps_spoofing", 0.0, 1.0, 1.0), "not supported by workload 'amazon'"),
    ],
)
def test_bad_incidents(spec, match):
    with pytest.raises(ScenarioError, match=match):
        get_workload("amazon")({}, (spec,))
