"""Injected incidents really affect the events in their window, and the labels match."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from eventsim.sim.rng import RngStreams
from eventsim.workloads import IncidentSpec
from eventsim.workloads.amazon import Amazon
from eventsim.workloads.linkedin import LinkedIn
from eventsim.workloads.netflix import Netflix
from eventsim.workloads.shapes import fit_zipf_exponent
from eventsim.workloads.uber import Uber


def in_window(ev, lo, hi):
    return ev.filter((pl.col("timestamp_s") >= lo) & (pl.col("timestamp_s") < hi))


@pytest.mark.parametrize(
    ("cls", "params", "target"),
    [
        (Netflix, {"session_rate_per_s": 5.0}, "emea"),
        (Uber, {"n_drivers": 300}, "driver_locations"),
        (LinkedIn, {"n_members": 5000}, "feed"),
        (Amazon, {"n_skus": 500}, "payments"),
    ],
)
def test_outage_drops_target_events_in_window(cls, params, target):
    spec = IncidentSpec("outage", 200.0, 100.0, 1.0, target)
    base = cls(params).generate(400.0, RngStreams(4)).events
    out = cls(params, (spec,)).generate(400.0, RngStreams(4))
    col = "region" if target == "emea" else "topic"
    hit = in_window(out.events, 200.0, 300.0).filter(pl.col(col) == target)
    assert len(hit) == 0
    assert len(in_window(base, 200.0, 300.0).filter(pl.col(col) == target)) > 0
    outside = out.events.filter(pl.col("timestamp_s") < 200.0)
    assert outside.equals(base.filter(pl.col("timestamp_s") < 200.0))
    assert out.incidents.row(0) == ("outage", 200.0, 300.0, target, [])


def test_partial_outage_drops_about_intensity():
    spec = IncidentSpec("outage", 100.0, 200.0, 0.3, "driver_locations")
    base = Uber({"n_drivers": 500}).generate(400.0, RngStreams(2)).events
    out = Uber({"n_drivers": 500}, (spec,)).generate(400.0, RngStreams(2)).events
    before = len(in_window(base, 100.0, 300.0).filter(pl.col("topic") == "driver_locations"))
    after = len(in_window(out, 100.0, 300.0).filter(pl.col("topic") == "driver_locations"))
    assert 1 - after / before == pytest.approx(0.3, abs=0.02)


def test_amazon_error_burst_labels_exactly_the_declines_in_window():
    spec = IncidentSpec("error_burst", 300.0, 200.0, 0.6)
    out = Amazon({"order_rate_per_s": 5.0, "n_skus": 500}, (spec,)).generate(900.0, RngStreams(1))
    declined = in_window(out.events, 300.0, 500.0).filter(
        pl.col("event_type") == "payment_declined"
    )
    assert sorted(declined["key"].to_list()) == out.incidents["affected"][0].sort().to_list()
    assert declined.select((pl.col("key") == pl.format("o{}", "order_id")).all()).item()
    paid = in_window(out.events, 300.0, 500.0).filter(
        pl.col("event_type").is_in(["payment_declined", "payment_authorized"])
    )
    assert len(declined) / len(paid) == pytest.approx(0.6, abs=0.05)


def test_amazon_latency_regression_slows_payment():
    spec = IncidentSpec("latency_regression", 300.0, 300.0, 10.0, "payment")
    ev = Amazon({"order_rate_per_s": 5.0, "n_skus": 500}, (spec,)).generate(900.0, RngStreams(1))
    steps = ev.events.filter(
        pl.col("event_type").is_in(["inventory_reserved", "payment_authorized"])
    )
    lag = steps.pivot("event_type", index="order_id", values="timestamp_s").drop_nulls()
    lag = lag.with_columns(d=pl.col("payment_authorized") - pl.col("inventory_reserved"))
    inside = lag.filter(pl.col("inventory_reserved").is_between(310.0, 590.0))["d"].median()
    outside = lag.filter(pl.col("inventory_reserved") < 290.0)["d"].median()
    assert inside / outside == pytest.approx(10.0, rel=0.2)


def test_amazon_card_testing():
    spec = IncidentSpec("card_testing", 200.0, 100.0, 2.0)
    out = Amazon({"n_skus": 500}, (spec,)).generate(600.0, RngStreams(5))
    bots = out.incidents["affected"][0].to_list()
    assert len(bots) == 6
    theirs = out.events.filter(pl.format("c{}", "customer").is_in(bots))
    placed = theirs.filter(pl.col("event_type") == "order_placed")
    assert placed["timestamp_s"].min() >= 200.0
    assert placed["timestamp_s"].max() < 300.0
    assert len(placed) == pytest.approx(200, rel=0.2)
    declines = (theirs["event_type"] == "payment_declined").sum()
    assert declines / len(placed) > 0.7
    assert (theirs.filter(pl.col("amount_usd").is_not_null())["amount_usd"] <= 5.0).all()


def test_uber_gps_spoofing_teleports_only_inside_window():
    spec = IncidentSpec("gps_spoofing", 200.0, 100.0, 1.0)
    out = Uber({"n_drivers": 100}, (spec,)).generate(500.0, RngStreams(3))
    drivers = out.incidents["affected"][0].to_list()
    assert len(drivers) == 3
    pings = out.events.filter(pl.col("event_type") == "location_ping").with_columns(
        jump=((pl.col("x_m").diff() ** 2 + pl.col("y_m").diff() ** 2).sqrt()).over("key")
    )
    fast = pings.filter(pl.col("jump") > 2_000.0)  # 8 m/s for 4 s is ~45 m per ping
    assert set(fast["key"]) == set(drivers)
    assert fast["timestamp_s"].min() >= 200.0
    assert fast["timestamp_s"].max() < 300.0 + 4.0


def test_netflix_account_takeover():
    spec = IncidentSpec("account_takeover", 100.0, 200.0, 1.0)
    out = Netflix({"session_rate_per_s": 2.0}, (spec,)).generate(400.0, RngStreams(2))
    victims = out.incidents["affected"][0].to_list()
    assert len(victims) == 5
    fails = out.events.filter(pl.col("event_type") == "login_failed")
    assert set(fails["key"]) == set(victims)
    changes = out.events.filter(pl.col("event_type") == "password_changed")
    assert set(changes["key"]) == set(victims)
    assert changes["timestamp_s"].is_between(100.0, 300.0, closed="left").all()


def test_netflix_encode_error_burst_and_title_popularity():
    spec = IncidentSpec("error_burst", 0.0, 3600.0, 0.9)
    params = {"session_rate_per_s": 10.0, "uploads_per_h": 60.0, "release_peak_multiplier": 1.0}
    out = Netflix(params, (spec,)).generate(3600.0, RngStreams(1))
    failed = out.events.filter(pl.col("event_type") == "encode_failed")
    affected = set(out.incidents["affected"][0])
    assert affected
    assert set(failed["key"]) <= affected
    starts = out.events.filter(pl.col("event_type") == "play_start")
    ranks = starts["title"].cast(pl.Int64).to_numpy() + 1
    assert fit_zipf_exponent(ranks, 5000) == pytest.approx(1.0, abs=0.05)


def test_netflix_watch_time_and_release_crowd():
    params = {"session_rate_per_s": 20.0, "mean_watch_s": 60.0, "release_at_s": 3600.0}
    ev = Netflix(params | {"heartbeat_interval_s": 10.0}).generate(7200.0, RngStreams(6)).events
    stops = ev.filter(pl.col("event_type") == "play_stop")
    assert stops["position_s"].mean() == pytest.approx(60.0, rel=0.05)
    starts = ev.filter(pl.col("event_type") == "play_start")
    new = starts.filter(pl.col("title") == 5000)["timestamp_s"]
    assert new.min() >= 3600.0
    share = len(new) / len(starts.filter(pl.col("timestamp_s") >= 5400.0))
    assert share > 0.2


def test_linkedin_spam_bots_fanout_cap_and_error_burst():
    specs = (
        IncidentSpec("spam_bots", 100.0, 100.0, 0.5),
        IncidentSpec("error_burst", 300.0, 100.0, 0.5),
    )
    params = {"n_members": 20_000, "fanout_cap": 300, "post_rate_per_s": 2.0}
    out = LinkedIn(params, specs).generate(600.0, RngStreams(8))
    ev = out.events
    bots = out.incidents["affected"][0].to_list()
    assert len(bots) == 5
    theirs = ev.filter(pl.format("m{}", "member").is_in(bots))
    assert theirs["timestamp_s"].is_between(100.0, 200.0, closed="left").all()
    assert set(theirs["event_type"]) == {"connection_requested", "message_sent", "post_created"}
    feed = ev.filter(pl.col("event_type") == "feed_item_added")
    per_broadcast = feed.group_by("member", "post_id").len()
    assert per_broadcast["len"].max() <= 300 * 3  # one author may broadcast a post a few times
    failed = ev.filter(pl.col("event_type") == "feed_delivery_failed")
    assert set(failed.select(pl.format("p{}", "post_id")).to_series()) == set(
        out.incidents["affected"][1]
    )
    assert len(failed) / len(in_window(feed, 300.0, 400.0)) == pytest.approx(1.0, rel=0.2)


def test_linkedin_viral_cascade_shares_beget_shares():
    params = {
        "n_members": 20_000,
        "viral_at_s": 100.0,
        "post_rate_per_s": 0.2,
        "session_rate_per_s": 1.0,
    }
    ev = LinkedIn(params).generate(2400.0, RngStreams(4)).events
    shares = ev.filter(pl.col("event_type") == "post_shared")
    seed = shares["post_id"].mode()[0]
    viral = shares.filter(pl.col("post_id") == seed)
    assert len(viral) > 500
    counts = np.histogram(viral["timestamp_s"], bins=[100, 600, 1100, 1600])[0]
    assert counts[1] > counts[0]  # the cascade grows before it is capped


def test_uber_pings_follow_rate_multiplier():
    """The fleet scales with rate_multiplier like trips do: twice the multiplier, twice the
    drivers and (within Poisson noise) twice the pings and requests."""

    def counts(multiplier):
        w = Uber({"n_drivers": 400, "rate_multiplier": multiplier})
        ev = w.generate(600.0, RngStreams(5)).events
        pings = ev.filter(pl.col("event_type") == "location_ping")
        requests = ev.filter(pl.col("event_type") == "trip_requested").height
        return w.fleet_size, pings.height, pings["key"].n_unique(), requests

    fleet1, pings1, drivers1, req1 = counts(1.0)
    fleet2, pings2, drivers2, req2 = counts(2.0)
    assert (fleet1, fleet2) == (400, 800)
    assert drivers1 <= 400 < drivers2 <= 800
    assert pings2 / pings1 == pytest.approx(2.0, rel=0.1)
    assert req2 / req1 == pytest.approx(2.0, rel=0.15)
    assert Uber({"n_drivers": 10, "rate_multiplier": 0.001}).fleet_size == 1
