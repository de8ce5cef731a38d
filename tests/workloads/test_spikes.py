"""The spike parameter of each business workload: "auto", a time, or None for no spike."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from eventsim.cli import parse_overrides
from eventsim.exceptions import ScenarioError
from eventsim.sim.rng import RngStreams
from eventsim.workloads import get_workload

DURATION_S = 1200.0
# workload: (small params, spike start parameter, its peak multiplier parameter or None)
SPIKES = {
    "netflix": ({"session_rate_per_s": 2.0, "n_members": 20_000}, "release_at_s",
                "release_peak_multiplier"),
    "uber": ({"n_drivers": 50, "trip_rate_per_s": 2.0}, "spike_at_s", "spike_peak_multiplier"),
    "linkedin": ({"n_members": 5_000, "post_rate_per_s": 0.5}, "viral_at_s", None),
    "amazon": ({"n_skus": 500, "order_rate_per_s": 2.0}, "prime_day_at_s",
               "prime_day_peak_multiplier"),
}  # fmt: skip


def events(name, params):
    return get_workload(name)(params).generate(DURATION_S, RngStreams(3)).events


@pytest.mark.parametrize("name", sorted(SPIKES))
def test_none_disables_the_spike(name):
    params, at, peak = SPIKES[name]
    spiky = events(name, params | {at: 300.0})
    none = events(name, params | {at: None})
    assert none.height < spiky.height
    if peak is not None:
        # a spike of multiplier 1 adds nothing: None draws exactly the same events
        assert_frame_equal(none, events(name, params | {at: 300.0, peak: 1.0}))
    else:  # linkedin: neither the seed post nor its cascade of shares
        shares = pl.col("event_type") == "post_shared"
        extra = spiky.filter(shares).height - none.filter(shares).height
        assert extra >= params.get("viral_seed_shares", 20)


@pytest.mark.parametrize("name", sorted(SPIKES))
def test_cli_none_string_and_auto(name):
    params, at, _ = SPIKES[name]
    value = parse_overrides([f"params.{at}=none"])[f"params.{at}"]
    assert value == "none"
    assert_frame_equal(events(name, params | {at: value}), events(name, params | {at: None}))
    assert_frame_equal(events(name, params), events(name, params | {at: "auto"}))
    assert not events(name, params).equals(events(name, params | {at: None}))


def test_netflix_auto_is_halfway():
    params, at, _ = SPIKES["netflix"]
    assert_frame_equal(events("netflix", params), events("netflix", params | {at: 600.0}))
    ev = events("netflix", params | {at: None})
    assert ev.filter(pl.col("title") == get_workload("netflix").Params().n_titles).is_empty()


@pytest.mark.parametrize("name", sorted(SPIKES))
def test_bad_spike_value_is_one_line(name):
    _, at, _ = SPIKES[name]
    with pytest.raises(ScenarioError, match=f"{at} must be a time in seconds") as info:
        get_workload(name)({at: "noon"})
    assert "\n" not in str(info.value)
