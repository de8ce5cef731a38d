"""Feature windows on tiny hand-made logs: every metric, the watermark policy, validation.

Each case builds an :class:`EventLog` by hand, computes features both ways (polars over the
frame in append order, incremental by polling the log at each record's append time) and
checks the exact rows.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from eventsim.anomaly import FeatureSpec, IncrementalFeatures, feature_columns, window_features
from eventsim.exceptions import ConfigError, DataFormatError
from eventsim.log import ConsumerGroup, EventLog


def make_log(rows, partitions=1):
    """rows: (topic, key, event_type, timestamp_s, append_s, payload dict)."""
    log = EventLog(partitions=partitions)
    for topic, key, etype, ts, app, value in rows:
        log.append(topic, key=key, value=value, timestamp_s=ts, append_s=app, event_type=etype)
    return log


def incremental(log, spec):
    """Poll the log at every distinct append time (one member), as a consumer keeping up."""
    group = ConsumerGroup(log, "f", sorted(log.topics))
    group.join("m")
    feats = IncrementalFeatures(spec, log)
    times = sorted({float(t) for p in log for t in p.values("append_s")})
    for now in times:
        feats.update([(b, None) for b in group.poll("m", 10_000, until_s=now)], now)
    feats.tick(times[-1])
    feats.flush()
    return feats.frame(), times[-1]


def both(log, spec):
    inc, until = incremental(log, spec)
    pol = window_features(log.to_polars(), spec, until_s=until)
    assert_frame_equal(inc, pol)
    return pol


def test_tumbling_window_metrics():
    rows = [
        ("pay", "o1", "placed", 1.0, 1.0, {}),
        ("pay", "o2", "declined", 2.0, 2.0, {}),
        ("pay", "o1", "completed", 3.0, 3.0, {}),
        ("pay", "o3", "failed", 4.0, 4.0, {}),
        ("pay", "o3", "placed", 61.0, 61.0, {}),
    ]
    spec = FeatureSpec(
        window_s=60,
        error_types=("declined",),
        success_types=("completed",),
        failure_types=("failed",),
        max_delay_s=None,
    )
    out = both(make_log(rows), spec)
    assert out.select(
        "window_start_s", "events", "event_rate_per_s", "error_ratio", "completion_ratio",
        "distinct_keys",
    ).rows() == [(0.0, 4, 4 / 60, 0.25, 0.5, 3), (60.0, 1, 1 / 60, 0.0, 1.0, 1)]  # fmt: skip
    assert feature_columns(out) == [
        "event_rate_per_s", "error_ratio", "completion_ratio", "distinct_keys",
    ]  # fmt: skip


def test_an_outage_is_a_row_of_zeros_not_a_missing_row():
    rows = [("t", "k", "x", float(t), float(t), {}) for t in (5, 10, 200, 210)]
    out = both(make_log(rows), FeatureSpec(window_s=60, max_delay_s=None))
    assert out.select("window_start_s", "events").rows() == [
        (0.0, 2), (60.0, 0), (120.0, 0), (180.0, 2),
    ]  # fmt: skip


def test_event_time_late_record_is_dropped_and_counted_in_the_open_window():
    # the record stamped 5 s arrives after one stamped 130 s: 125 s behind, allowance 10 s
    rows = [
        ("t", "a", "x", 1.0, 1.0, {}),
        ("t", "b", "x", 130.0, 130.0, {}),
        ("t", "c", "x", 5.0, 131.0, {}),
        ("t", "d", "x", 122.0, 132.0, {}),  # 8 s behind: on time
    ]
    out = both(make_log(rows), FeatureSpec(window_s=60, allowed_lateness_s=10, max_delay_s=None))
    # watermark at arrival: 130 - 10 = 120 -> the window [120, 180) holds the late count
    assert out.select("window_start_s", "events", "late_records", "distinct_keys").rows() == [
        (0.0, 1, 0, 1), (60.0, 0, 0, 0), (120.0, 2, 1, 2),
    ]  # fmt: skip


def test_processing_time_bound_closes_windows_and_marks_slow_records_late():
    # no record between 10 s and 300 s: the clock still closes windows; one record created at
    # 250 s but appended at 290 s (40 s > max_delay 30 s) is late
    rows = [
        ("t", "a", "x", 10.0, 10.0, {}),
        ("t", "b", "x", 250.0, 290.0, {}),
        ("t", "c", "x", 300.0, 300.0, {}),
    ]
    spec = FeatureSpec(window_s=60, allowed_lateness_s=100, max_delay_s=30)
    log = make_log(rows)
    group = ConsumerGroup(log, "f", ["t"])
    group.join("m")
    feats = IncrementalFeatures(spec, log)
    closed_at = {}
    for now in np.arange(1.0, 301.0, 1.0):
        got = feats.update([(b, None) for b in group.poll("m", 100, until_s=now)], float(now))
        if got is not None:
            for start in got["window_start_s"].to_list():
                closed_at[start] = float(now)
    # window [60, 120) closes at 120 + 30 s although nothing arrives from 10 s to 290 s
    assert closed_at[0.0] == 90.0
    assert closed_at[60.0] == 150.0
    feats.flush()
    pol = window_features(log.to_polars(), spec, until_s=300.0)
    assert_frame_equal(feats.frame(), pol)
    # W at 290 s = max(10 - 100, 290 - 30) = 260 -> late, counted in window [240, 300)
    assert pol.select("window_start_s", "events", "late_records").rows()[-3:] == [
        (180.0, 0, 0), (240.0, 0, 1), (300.0, 1, 0),
    ]  # fmt: skip


def test_sliding_windows_hold_each_record_in_every_window_covering_it():
    rows = [("t", "k", "x", 25.0, 25.0, {}), ("t", "k", "x", 65.0, 65.0, {})]
    out = both(make_log(rows), FeatureSpec(window_s=60, step_s=20, max_delay_s=None))
    assert out.select("window_start_s", "window_end_s", "events").rows() == [
        (0.0, 60.0, 1), (20.0, 80.0, 2), (40.0, 100.0, 1), (60.0, 120.0, 1),
    ]  # fmt: skip


def test_latency_quantiles_are_lower_quantiles_of_the_window_values():
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    rows = [("t", "k", "x", 1.0 + i, 1.0 + i, {"lat": v}) for i, v in enumerate(values)]
    rows.append(("t", "k", "x", 9.0, 9.0, {}))  # null latency: ignored
    spec = FeatureSpec(latency="lat", quantiles=(0.5, 0.9, 0.99), max_delay_s=None)
    out = both(make_log(rows), spec)
    # sorted 1..5, index floor((n - 1) q): 2 -> 3.0, 3 -> 4.0, 3 -> 4.0
    assert out.select("latency_p50", "latency_p90", "latency_p99").row(0) == (3.0, 4.0, 4.0)


def test_latency_values_are_the_values_behind_the_quantiles():
    from eventsim.anomaly import workload_scenario
    from eventsim.anomaly.features import latency_values
    from eventsim.sim.engine import run

    events = run(workload_scenario("uber", "20m", seed=3), progress=False).events
    spec = FeatureSpec(latency="key_gap", max_delay_s=None)
    values = latency_values(events, spec)
    windows = window_features(events, spec)
    per_window = values.group_by(
        "stream", (pl.col("timestamp_s") // 60 * 60).alias("window_start_s")
    ).agg(pl.len().alias("n"))
    joined = windows.join(per_window, on=["stream", "window_start_s"], how="left")
    assert values.height > 1000
    assert (joined["latency_samples"] == joined["n"].fill_null(0)).all()
    assert (values["latency"] > 0).all()


def test_key_gap_speed_and_top_entity():
    rows = [
        ("pings", "d1", "ping", 0.0, 0.0, {"driver": "d1", "x": 0.0, "y": 0.0}),
        ("pings", "d2", "ping", 1.0, 1.0, {"driver": "d2", "x": 0.0, "y": 0.0}),
        ("pings", "d1", "ping", 4.0, 4.0, {"driver": "d1", "x": 30.0, "y": 40.0}),
        ("pings", "d1", "ping", 8.0, 8.0, {"driver": "d1", "x": 30.0, "y": 44.0}),
        ("trips", "t1", "req", 9.0, 9.0, {"driver": "d1"}),  # no position: no speed
    ]
    spec = FeatureSpec(
        window_s=60, latency="key_gap", entity="driver", position=("x", "y"), max_delay_s=None
    )
    out = both(make_log(rows), spec)
    pings = out.filter(pl.col("stream") == "pings")
    # d1: 50 m in 4 s then 4 m in 4 s -> max 12.5 m/s; key gaps 4 s and 4 s
    assert pings.select("max_speed_mps", "latency_p50", "top_entity_rate_per_s").row(0) == (
        12.5, 4.0, 3 / 60,
    )  # fmt: skip
    trips = out.filter(pl.col("stream") == "trips")
    assert trips.select("max_speed_mps", "latency_p50", "top_entity_rate_per_s").row(0) == (
        0.0, 0.0, 1 / 60,
    )  # fmt: skip


def test_streams_by_a_payload_column_skip_null_values():
    rows = [
        ("o", "a", "x", 1.0, 1.0, {"region": "eu"}),
        ("o", "b", "x", 2.0, 2.0, {"region": "us"}),
        ("o", "c", "x", 3.0, 3.0, {}),  # no region: no stream
        ("p", "d", "x", 4.0, 4.0, {"region": "eu"}),
    ]
    out = both(make_log(rows), FeatureSpec(by=("region",), max_delay_s=None))
    assert out.select("stream", "events").rows() == [("eu", 2), ("us", 1)]
    out = both(make_log(rows), FeatureSpec(by=("topic", "region"), max_delay_s=None))
    assert out["stream"].to_list() == ["o/eu", "o/us", "p/eu"]


def test_redelivered_records_count_once():
    log = make_log([("t", f"k{i}", "x", float(i), float(i), {}) for i in range(10)])
    group = ConsumerGroup(log, "f", ["t"])
    group.join("m")
    feats = IncrementalFeatures(FeatureSpec(max_delay_s=None), log)
    feats.update([(b, None) for b in group.poll("m", 6)])
    group.seek(group.assignment["m"][0], 2)  # a rewind, as after a crash
    feats.update([(b, None) for b in group.poll("m", 100)])
    feats.flush()
    assert feats.frame()["events"].to_list() == [10]
    assert feats.records == 10


def test_alerts_topic_is_never_read():
    rows = [("t", "k", "x", 1.0, 1.0, {}), ("alerts", "t", "anomaly_alert", 2.0, 2.0, {})]
    assert both(make_log(rows), FeatureSpec(max_delay_s=None))["stream"].to_list() == ["t"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"window_s": 60, "step_s": 25}, "step_s must divide window_s"),
        ({"window_s": 0}, "window_s must be"),
        ({"allowed_lateness_s": -1}, "allowed_lateness_s must be >= 0"),
        ({"max_delay_s": -1}, "max_delay_s must be >= 0"),
        ({"by": ("region", "cell")}, "at most one payload column"),
        ({"quantiles": (1.5,)}, "quantiles must lie in"),
        ({"position": ("x", "y")}, "needs two columns and an entity"),
    ],
)
def test_bad_specs_are_rejected(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        FeatureSpec(**kwargs)


def test_missing_core_column_is_a_data_format_error():
    frame = pl.DataFrame({"topic": ["t"], "partition": [0], "offset": [0], "append_s": [1.0]})
    with pytest.raises(DataFormatError, match="timestamp_s"):
        window_features(frame, FeatureSpec())


def test_several_consumer_groups_need_a_group_name():
    d = pl.DataFrame({"group": ["a", "b"], "topic": "t", "partition": 0, "offset": 0,
                      "delivered_s": 1.0})  # fmt: skip
    ev = make_log([("t", "k", "x", 1.0, 1.0, {})]).to_polars()
    with pytest.raises(DataFormatError, match="pass group"):
        window_features(ev, FeatureSpec(), deliveries=d)


def test_one_column_can_be_stream_entity_and_latency_at_once():
    rows = [
        ("t", "a", "x", 1.0, 1.0, {"who": "u1", "lat": 2.0}),
        ("t", "b", "x", 2.0, 2.0, {"who": "u1", "lat": 4.0}),
        ("t", "c", "x", 3.0, 3.0, {"who": "u2", "lat": 6.0}),
    ]
    spec = FeatureSpec(by=("who",), entity="who", latency="lat", max_delay_s=None)
    out = both(make_log(rows), spec)
    assert out.select("stream", "events", "top_entity_rate_per_s", "latency_p50").rows() == [
        ("u1", 2, 2 / 60, 2.0), ("u2", 1, 1 / 60, 6.0),
    ]  # fmt: skip
