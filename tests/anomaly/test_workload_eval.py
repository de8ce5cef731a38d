"""Workload-level evaluation: incident schedules, stream mapping, outcomes, the table, and the
stream detector's gating rules on hand-made streams."""

from __future__ import annotations

import pickle

import numpy as np
import polars as pl
import pytest

from eventsim.anomaly import (
    FeatureSpec,
    StreamDetector,
    TailDetector,
    compare_detectors,
    compare_on_workload,
    default_incidents,
    detection_table,
    feature_resolutions,
    incident_outcomes,
    incident_streams,
    make_threshold,
    score_streams,
    workload_scenario,
)
from eventsim.anomaly.thresholds import FixedThreshold, QuantileThreshold
from eventsim.exceptions import ConfigError
from eventsim.workloads import INCIDENT_SCHEMA


def incidents(*rows):
    return pl.DataFrame(list(rows), schema=INCIDENT_SCHEMA, orient="row")


def stream_frame(values, stream="a", step=60.0):
    t = np.arange(len(values)) * step
    return pl.DataFrame(
        {
            "window_start_s": t,
            "window_end_s": t + step,
            "stream": stream,
            "events": 1,
            "late_records": 0,
            "event_rate_per_s": np.asarray(values, dtype=np.float64),
        }
    )


def noisy(n, seed=0, level=10.0):
    rng = np.random.default_rng(seed)
    return level + np.sin(np.arange(n) / 60.0) + rng.normal(0, 0.3, n)


# -- schedules and mapping ---------------------------------------------------------------------
def test_default_incidents_take_turns_after_the_warmup():
    specs = default_incidents("uber", 86400.0)
    assert [s.kind for s in specs[:4]] == [
        "outage", "latency_regression", "error_burst", "gps_spoofing",
    ]  # fmt: skip
    assert len(specs) == 8
    assert specs[0].start_s == 3 * 3600.0
    assert max(s.end_s for s in specs) <= 86400.0 - 3600.0
    assert {s.kind: s.intensity for s in specs}["latency_regression"] == 3.0
    with pytest.raises(ConfigError, match="too short"):
        default_incidents("uber", 4 * 3600.0)


def test_workload_scenario_reads_the_log_only():
    sc = workload_scenario("amazon", "8h", seed=3)
    assert sc.consumers == ()
    assert sc.params["prime_day_peak_multiplier"] == 1.0
    assert len(sc.incidents) == 4


def test_incident_streams_maps_topics_stages_kinds_and_regions():
    inc = incidents(
        ("outage", 0.0, 1.0, "payments", []),
        ("latency_regression", 0.0, 1.0, "shipping", []),
        ("card_testing", 0.0, 1.0, "payments", ["c1"]),
        ("outage", 0.0, 1.0, "eu", []),
    )
    mapped = incident_streams(inc, "amazon", ["inventory", "orders", "payments"])
    assert mapped["affected"].to_list() == [
        ["payments"],
        ["inventory", "orders", "payments"],
        ["payments", "orders"],
        ["inventory", "orders", "payments"],
    ]


# -- outcomes on hand-made alarms ------------------------------------------------------------
def test_incident_outcomes_need_an_alarm_on_a_touched_stream():
    scores = pl.DataFrame(
        {
            "window_start_s": [0.0, 60.0, 120.0, 600.0],
            "window_end_s": [60.0, 120.0, 180.0, 660.0],
            "stream": ["b", "a", "a", "a"],
            "alarm": [True, False, True, True],
        }
    )
    inc = incidents(("outage", 30.0, 100.0, "a", ["a"]), ("outage", 5000.0, 5100.0, "a", ["a"]))
    out = incident_outcomes(scores, inc, grace_s=60.0)
    # stream b alarmed first but does not count; a's window [120, 180) overlaps [30, 160]
    assert out.select("detected", "delay_s", "first_stream").rows() == [
        (True, 150.0, "a"), (False, None, None),
    ]  # fmt: skip


# -- the stream detector's rules ------------------------------------------------------------
def test_a_second_identical_incident_is_still_detected():
    values = noisy(600)
    values[200:215] = 0.0
    values[400:415] = 0.0
    scores = score_streams(stream_frame(values), "tail")
    alarms = scores.filter(pl.col("alarm"))["window_start_s"].to_numpy() / 60
    assert {200, 400} <= set(alarms.astype(int).tolist())
    assert not ((alarms < 195) | ((alarms > 235) & (alarms < 395)) | (alarms > 435)).any()


def test_a_persistent_new_level_becomes_normal():
    values = noisy(500)
    values[250:] += 5.0
    scores = score_streams(stream_frame(values), "tail")
    alarms = scores.filter(pl.col("alarm"))["window_start_s"].to_numpy() / 60
    assert alarms.min() == 250
    assert alarms.max() < 250 + 2 * 15  # accepted after `persist` alarmed windows


def test_a_recurring_pattern_stops_alarming():
    values = noisy(900)
    values[150::60] += 30.0  # an hourly restock
    scores = score_streams(stream_frame(values), "tail")
    hits = scores.filter(pl.col("alarm"))["window_start_s"].to_numpy() / 60
    assert 150 in hits.astype(int)
    assert hits.max() < 600  # learned after it recurred in `recur` other episodes


def test_scores_are_sparse_and_alarms_match_the_threshold():
    det = StreamDetector("tail", threshold=4.0)
    values = noisy(300)
    values[250] = 100.0
    out = det.score_learn_many(pl.DataFrame({"event_rate_per_s": values}))
    assert ((out == 0) | (out >= 4.0)).all()
    assert out[250] >= 4.0


def test_make_threshold_defaults():
    assert repr(make_threshold("tail")) == "FixedThreshold(4.0)"
    assert isinstance(make_threshold("half_space_trees"), QuantileThreshold)
    assert make_threshold("robust_z", FixedThreshold(3.0)).value == 3.0


def test_stream_and_tail_detectors_pickle_and_replay():
    det = StreamDetector("tail", seed=3)
    rows = pl.DataFrame({"event_rate_per_s": noisy(200), "error_ratio": noisy(200, 1, 0.1)})
    det.learn_many(rows)
    clone = pickle.loads(pickle.dumps(det))
    x = {"event_rate_per_s": 30.0, "error_ratio": 0.1}
    assert clone.score_one(x) == det.score_one(x) > 0
    tail = TailDetector(min_history=10)
    for v in range(50):
        tail.learn_one({"z": float(v % 7)})
    assert pickle.loads(pickle.dumps(tail)).score_one({"z": 40.0}) == tail.score_one({"z": 40.0})


def test_stream_detector_rejects_bad_parameters():
    with pytest.raises(ConfigError, match="baseline >= 3"):
        StreamDetector("tail", baseline=1)
    with pytest.raises(ConfigError, match="TailDetector needs"):
        TailDetector(tail_fraction=2.0)


# -- the table ---------------------------------------------------------------------------------
def test_detection_table_agrees_with_compare_detectors_per_stream():
    a, b = noisy(400, 1), noisy(400, 2, 20.0)
    a[300:310] = 0.0
    frame = pl.concat([stream_frame(a, "a"), stream_frame(b, "b")])
    inc = incidents(("outage", 18000.0, 18600.0, "a", ["a"]))
    table = detection_table(frame, inc, ["tail", "null"], grace_s=300.0)
    assert table["detector"].to_list() == ["tail", "null"]
    tail = table.row(0, named=True)
    assert (tail["incidents"], tail["detected"], tail["incident_recall"]) == (1, 1, 1.0)
    assert tail["pair_recall"] == 1.0
    assert tail["median_delay_s"] == 60.0  # the first outage window, complete at its end
    assert table.row(1, named=True)["alarms"] == 0
    # the pair-level numbers are compare_detectors' own, on the same alarms
    res = feature_resolutions(FeatureSpec())

    def make(seed):
        return StreamDetector("tail", resolutions=res, seed=seed)

    direct = compare_detectors(
        frame, inc, [("tail", make)], features=["event_rate_per_s"], quantile=0.5, grace_s=300.0
    )
    assert direct["alarms"][0] == tail["alarms"]
    # an incident touching both streams, seen on one: half its pairs, as compare_detectors
    both = incidents(("outage", 18000.0, 18600.0, "a", ["a", "b"]))
    pair = detection_table(frame, both, ["tail"], grace_s=300.0)["pair_recall"][0]
    direct = compare_detectors(
        frame, both, [("tail", make)], features=["event_rate_per_s"], quantile=0.5, grace_s=300.0
    )
    assert pair == direct["incident_recall"][0] == 0.5


def test_region_streams_carry_rates_and_ratios_only_and_are_scored_without_the_rest():
    from eventsim.anomaly import features_for, run_workload

    _, feats, _ = run_workload("linkedin", "2h", seed=0)
    region = feats.filter(pl.col("stream").str.starts_with("region:"))
    assert region["stream"].n_unique() == 3
    for column in ("latency_p50", "distinct_keys", "top_entity_rate_per_s"):
        assert region[column].null_count() == region.height, column
    assert region["event_rate_per_s"].null_count() == 0
    assert region["error_ratio"].null_count() == 0
    topics = feats.filter(~pl.col("stream").str.starts_with("region:"))
    for column in ("latency_p50", "distinct_keys", "top_entity_rate_per_s"):
        assert topics[column].null_count() == 0, column
    scores = score_streams(feats, "tail", spec=features_for("linkedin"))
    assert scores.height == feats.height
    assert scores["score"].is_finite().all()


def test_compare_on_workload_gives_one_row_per_detector():
    table = compare_on_workload(
        "synthetic", ["tail", "null"], duration="3h", params={"rate_per_s": 5.0}, pairs=False
    )
    assert table.columns[:3] == ["workload", "detector", "threshold"]
    assert table["incidents"].to_list() == [4, 4]
    assert table.row(1, named=True)["alarms"] == 0
    assert 0.0 <= table.row(0, named=True)["incident_recall"] <= 1.0


def test_observability_flags_a_regression_the_log_cannot_show():
    from eventsim.anomaly import run_workload
    from eventsim.workloads import IncidentSpec

    incidents = (
        IncidentSpec("latency_regression", 3600.0, 900.0, 3.0, target="delivery"),
        IncidentSpec("latency_regression", 6600.0, 900.0, 1.1, target="reservation"),
        IncidentSpec("latency_regression", 10800.0, 900.0, 3.0, target="reservation"),
    )
    _, _, inc = run_workload("amazon", "4h", seed=0, incidents=incidents, observability=True)
    rows = inc.select("target", "changed_events", "observable").rows()
    # delivery takes ~36 h: nothing it slows ends within the scoring window
    assert rows[0] == ("delivery", 0, False)
    # reservation takes seconds: thousands of records move, by 10 % of a few seconds (lost
    # in the payments' key gaps) or by twice their reservation (far out)
    assert [r[0] for r in rows[1:]] == ["reservation", "reservation"]
    assert min(r[1] for r in rows[1:]) > 1000
    assert [r[2] for r in rows[1:]] == [False, True]


def test_observability_flags_an_error_burst_that_failed_nothing():
    from eventsim.anomaly import run_workload
    from eventsim.workloads import IncidentSpec

    incidents = (
        IncidentSpec("error_burst", 1800.0, 600.0, 0.0, target="events"),  # fails nothing
        IncidentSpec("error_burst", 4800.0, 600.0, 0.3, target="events"),
    )
    params = {"rate_per_s": 5.0}
    _, _, inc = run_workload(
        "synthetic", "2h", seed=0, incidents=incidents, params=params, observability=True
    )
    rows = inc.select("kind", "changed_events", "observable").rows()
    assert rows[0] == ("error_burst", 0, False)
    # ~30 % of 3,000 records turn into errors against the counterfactual's ~none
    assert rows[1][1] > 500
    assert rows[1][2]


def test_recall_counts_observable_incidents_only():
    t = np.arange(300.0) * 60
    f = pl.DataFrame(
        {
            "window_start_s": t,
            "window_end_s": t + 60,
            "stream": "a",
            "events": 1,
            "late_records": 0,
            "event_rate_per_s": np.where((t >= 12000) & (t < 12600), 0.0, 9.0) + np.sin(t / 900),
        }
    )
    inc = pl.DataFrame(
        [
            ("outage", 12000.0, 12600.0, "a", ["a"]),
            ("latency_regression", 15000.0, 15600.0, "a", ["a"]),
        ],
        schema=INCIDENT_SCHEMA,
        orient="row",
    )
    everything = detection_table(f, inc, ["tail"], pairs=False).row(0, named=True)
    assert (everything["incident_recall"], everything["unobservable"]) == (0.5, 0)
    flagged = inc.with_columns(observable=pl.Series([True, False]))
    table = detection_table(f, flagged, ["tail"], pairs=False).row(0, named=True)
    assert (table["incidents"], table["detected"], table["unobservable"]) == (2, 1, 1)
    assert table["incident_recall"] == 1.0


def test_a_latency_quantile_climbing_over_a_quarter_hour_is_measured_from_before_it():
    """A regression's quantile climbs as the slowed work ends; the quantile baseline lags
    max(count_scales) windows, so the climb is not absorbed step by step."""
    rng = np.random.default_rng(3)
    steady = 100.0 + rng.normal(0.0, 5.0, 60)
    ramp = 100.0 + 15.0 * np.arange(1, 16)

    def last_z(**kwargs):
        det = StreamDetector("null", threshold=1.0, **kwargs)
        for v in [*steady, *ramp[:-1]]:
            det.learn_one({"latency_p50": float(v), "latency_samples": 50.0})
        return det.residuals({"latency_p50": float(ramp[-1]), "latency_samples": 50.0})[
            "latency_p50"
        ]

    assert last_z() > 20.0  # 325 against the level of 16 windows ago (~100, scale ~5)
    assert last_z(quantile_lag=0) < 5.0  # the baseline took in half the climb
    with pytest.raises(ConfigError, match="quantile_lag"):
        StreamDetector("null", quantile_lag=-1)


def test_uber_stage_streams_carry_each_stage_s_key_gaps():
    from eventsim.anomaly import run_workload
    from eventsim.anomaly.workload_eval import STAGE_EVENTS
    from eventsim.workloads import IncidentSpec

    spec = (IncidentSpec("latency_regression", 3600.0, 600.0, 3.0, target="pickup"),)
    _, feats, inc = run_workload("uber", "2h", seed=0, incidents=spec)
    names = {f"{t}/{e}" for t, e in STAGE_EVENTS["uber"]}
    staged = feats.filter(pl.col("stream").is_in(list(names)))
    assert set(staged["stream"].unique()) == names
    assert staged["latency_p50"].null_count() == 0
    assert staged["error_ratio"].null_count() == staged.height  # latency only
    topics = feats.filter(pl.col("stream") == "trips")
    assert topics["latency_p50"].null_count() == topics.height  # mixed stages: none
    assert topics["error_ratio"].null_count() == 0
    # the median pickup is minutes, the median match seconds
    med = staged.group_by("stream").agg(pl.col("latency_p50").median()).rows()
    med = dict(med)
    assert med["trips/picked_up"] > 10 * med["trips/trip_matched"]
    # a stage's incident touches its topics and their stage streams
    assert set(inc["affected"][0]) == {"payments", "trips", *names}
