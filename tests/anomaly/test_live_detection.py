"""Detectors inside the simulation: alerts are log records, live == offline, delays bounded."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from eventsim import IncidentSpec, Scenario
from eventsim.anomaly import (
    ALERTS_SCHEMA,
    closing_time,
    features_for,
    incident_outcomes,
    incident_streams,
    run_with_detector,
    score_streams,
    window_features,
)
from eventsim.exceptions import ConfigError

OUTAGE_AT = 2 * 3600.0


@pytest.fixture(scope="module")
def live_run():
    sc = Scenario(
        workload="synthetic",
        duration="150m",
        seed=4,
        params={"rate_per_s": 10.0},
        consumers=(),
        incidents=(IncidentSpec("outage", OUTAGE_AT, 600.0, 1.0),),
    )
    return run_with_detector(sc, "tail", features=features_for("synthetic"))


def test_alerts_are_records_of_the_alerts_topic(live_run):
    result, alerts = live_run
    assert alerts.schema == pl.Schema(ALERTS_SCHEMA)
    assert alerts.height > 0
    logged = result.events.filter(pl.col("topic") == "alerts").sort("partition", "offset")
    assert logged.height == alerts.height
    assert logged["event_type"].unique().to_list() == ["anomaly_alert"]
    assert sorted(logged["key"].to_list()) == sorted(alerts["stream"].to_list())
    assert logged["timestamp_s"].sort().to_list() == alerts["alert_s"].sort().to_list()
    assert set(zip(logged["partition"], logged["offset"])) == set(
        zip(alerts["partition"], alerts["offset"])
    )


def test_live_features_and_scores_equal_the_offline_path(live_run):
    result, _ = live_run
    spec = features_for("synthetic")
    offline = window_features(
        result.events,
        spec,
        deliveries=result.deliveries,
        group="anomaly",
        until_s=closing_time(result),
    )
    assert_frame_equal(result.extra["features"], offline)
    assert_frame_equal(result.extra["scores"], score_streams(offline, "tail", spec=spec))


def test_total_outage_is_detected_within_window_plus_max_delay(live_run):
    result, alerts = live_run
    spec = features_for("synthetic")
    incidents = incident_streams(result.incidents, "synthetic", ["events"])
    outcome = incident_outcomes(alerts, incidents, time_col="alert_s")
    assert outcome["detected"].to_list() == [True]
    # the first outage window closes at most window + max_delay + one poll after it starts
    assert 0 < outcome["delay_s"][0] <= spec.window_s + spec.max_delay_s + 1.0
    # every alert comes after its window's end (no peeking)
    assert (alerts["alert_s"] >= alerts["window_end_s"]).all()


def test_same_seed_same_alerts():
    sc = Scenario(
        workload="synthetic",
        duration="40m",
        seed=1,
        params={"rate_per_s": 5.0},
        consumers=(),
        incidents=(IncidentSpec("error_burst", 1800.0, 300.0, 1.0),),
    )
    a = run_with_detector(sc, "robust_z", threshold=6.0)[1]
    b = run_with_detector(sc, "robust_z", threshold=6.0)[1]
    assert_frame_equal(a, b)


def test_group_name_must_be_free():
    sc = Scenario(workload="synthetic", duration="1m", params={"rate_per_s": 1.0})
    with pytest.raises(ConfigError, match="already a consumer group"):
        run_with_detector(sc, "null", group="sink")


def test_unknown_detector_names_the_known_ones():
    sc = Scenario(workload="synthetic", duration="1m", params={"rate_per_s": 1.0}, consumers=())
    with pytest.raises(ConfigError, match="did you mean 'tail'"):
        run_with_detector(sc, "tial")
