"""Workload analyses: event mix, rank/frequency and Zipf fit, saga funnels, incident impact."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from eventsim.exceptions import ConfigError, DataFormatError
from eventsim.sim.rng import RngStreams
from eventsim.workloads import WORKLOADS, IncidentSpec, empty_incidents, get_workload
from eventsim.workloads.analysis import (
    FUNNELS,
    Funnel,
    event_mix,
    incident_impact,
    rank_frequency,
    saga_funnel,
    workload_catalog,
    zipf_exponent,
)


def generate(name, params, duration_s=3600.0, seed=1, incidents=()):
    return get_workload(name)(params, incidents).generate(duration_s, RngStreams(seed))


# -- event mix ------------------------------------------------------------------------------
def test_event_mix_counts_and_shares_exactly():
    ev = pl.DataFrame({"topic": ["t", "t", "u", "t", "u"], "event_type": ["b", "a", "c", "a", "c"]})
    expected = pl.DataFrame(
        {
            "topic": ["t", "u", "t"],
            "event_type": ["a", "c", "b"],
            "n_events": [2, 2, 1],
            "share": [0.4, 0.4, 0.2],
        }
    )
    assert_frame_equal(event_mix(ev), expected)
    by_topic = event_mix(ev, by=["topic"])
    assert by_topic.select("topic", "n_events").rows() == [("t", 3), ("u", 2)]
    assert by_topic["share"].to_list() == pytest.approx([0.6, 0.4])


def test_event_mix_of_no_events_is_empty_with_schema():
    ev = pl.DataFrame(schema={"topic": pl.String, "event_type": pl.String})
    out = event_mix(ev)
    assert out.height == 0
    assert out.schema == {
        "topic": pl.String,
        "event_type": pl.String,
        "n_events": pl.Int64,
        "share": pl.Float64,
    }


def test_missing_columns_are_named():
    with pytest.raises(DataFormatError, match=r"lacks column\(s\) \['event_type'\]"):
        event_mix(pl.DataFrame({"topic": ["a"]}))


# -- rank / frequency -----------------------------------------------------------------------
def test_rank_frequency_ranks_ties_by_value_and_drops_nulls():
    ev = pl.DataFrame({"topic": ["a"] * 6 + ["b"], "key": ["y", "x", "z", "z", "z", None, "q"]})
    out = rank_frequency(ev)
    assert out.rows() == [
        ("a", 1, "z", 3, 0.6),
        ("a", 2, "x", 1, 0.2),
        ("a", 3, "y", 1, 0.2),
        ("b", 1, "q", 1, 1.0),
    ]
    assert out.schema["rank"] == pl.Int64
    whole = rank_frequency(ev, by=None)
    assert whole.columns == ["rank", "key", "n_events", "share"]
    assert whole["rank"].to_list() == [1, 2, 3, 4]


@given(
    st.lists(st.tuples(st.sampled_from("ab"), st.sampled_from("pqrstu")), max_size=60),
)
@example([])
def test_rank_frequency_and_mix_conserve_counts(pairs):
    ev = pl.DataFrame(pairs, schema={"topic": pl.String, "key": pl.String}, orient="row")
    ev = ev.with_columns(event_type=pl.col("key"))
    freq = rank_frequency(ev)
    assert freq["n_events"].sum() == ev.height
    for (topic,), part in freq.group_by("topic"):
        assert part.sort("rank")["rank"].to_list() == list(range(1, part.height + 1))
        assert part.sort("rank")["n_events"].is_sorted(descending=True)
        assert abs(part["share"].sum() - 1.0) < 1e-9
        assert part.height == ev.filter(pl.col("topic") == topic)["key"].n_unique()
    mix = event_mix(ev)
    assert mix["n_events"].sum() == ev.height


def test_zipf_exponent_exact_on_a_power_law():
    ranks = np.arange(1, 51)
    freq = pl.DataFrame(
        {"topic": "t", "rank": ranks, "n_events": np.round(1e6 * ranks**-1.5).astype(np.int64)}
    )
    out = zipf_exponent(freq)
    assert out["n_keys"].to_list() == [50]
    assert out["exponent"][0] == pytest.approx(1.5, abs=1e-3)


def test_zipf_exponent_needs_two_ranks_above_min_count():
    freq = pl.DataFrame({"topic": ["t", "t", "u"], "rank": [1, 2, 1], "n_events": [9, 1, 7]})
    assert zipf_exponent(freq).rows() == [("t", 2, 1, None), ("u", 1, 1, None)]
    flat = pl.DataFrame({"rank": [1, 2, 3], "n_events": [5, 5, 5]})
    assert zipf_exponent(flat, by=None)["exponent"].to_list() == [0.0]


def test_zipf_exponent_recovers_the_synthetic_workload_skew():
    params = {"rate_per_s": 100.0, "n_keys": 1000, "zipf_exponent": 1.1}
    ev = generate("synthetic", params, duration_s=1800.0, seed=3).events
    fitted = zipf_exponent(rank_frequency(ev), min_count=20)
    assert fitted["exponent"][0] == pytest.approx(1.1, abs=0.15)
    uniform = generate("synthetic", params | {"zipf_exponent": 0.0}, 1800.0, seed=3).events
    assert zipf_exponent(rank_frequency(uniform), min_count=20)["exponent"][0] < 0.2


# -- saga funnels ---------------------------------------------------------------------------
TRIP = Funnel(
    "trip", ("trip_id",), ("requested", "matched", "completed"), ("declined", "cancelled")
)


def test_funnel_counts_each_entity_once_per_state():
    ev = pl.DataFrame(
        {
            "trip_id": ["t1", "t1", "t1", "t1", "t2", "t2", "t3", "t4", None, "t5"],
            "event_type": [
                "requested",
                "matched",
                "matched",  # a duplicate counts once
                "completed",
                "requested",
                "declined",
                "requested",  # still open at the end
                "requested",
                "requested",  # no id: ignored
                "ping",  # not a funnel state
            ],
        }
    )
    ev = pl.concat([ev, pl.DataFrame({"trip_id": ["t4"], "event_type": ["cancelled"]})])
    expected = pl.DataFrame(
        {
            "position": [0, 1, 2, 3, 4, 5],
            "state": ["requested", "matched", "completed", "declined", "cancelled", "(open)"],
            "kind": ["step", "step", "step", "exit", "exit", "open"],
            "n_entities": [4, 1, 1, 1, 1, 1],
            "share": [1.0, 0.25, 0.25, 0.25, 0.25, 0.25],
        }
    )
    assert_frame_equal(saga_funnel(ev, TRIP), expected)


def test_funnel_of_no_events_has_zero_shares():
    ev = pl.DataFrame(schema={"trip_id": pl.String, "event_type": pl.String})
    out = saga_funnel(ev, TRIP)
    assert out["n_entities"].to_list() == [0] * 6
    assert out["share"].to_list() == [0.0] * 6


def test_connection_funnel_pairs_members_in_either_order():
    ev = pl.DataFrame(
        {
            "member": [1, 2, 3, 1],
            "key": ["m2", "m1", "m1", "m4"],
            "event_type": [
                "connection_requested",
                "connection_accepted",  # m2 accepts m1: the same pair
                "connection_requested",
                "connection_accepted",  # accepted without a request in the run
            ],
        }
    )
    out = saga_funnel(ev, "linkedin")
    assert out.select("state", "n_entities").rows() == [
        ("connection_requested", 2),
        ("connection_accepted", 2),
        ("(open)", 1),
    ]


def test_unknown_funnel_names_the_known_ones():
    with pytest.raises(ConfigError, match=r"no saga funnel; funnels exist for amazon, linkedin"):
        saga_funnel(pl.DataFrame({"key": [], "event_type": []}), "synthetic")
    with pytest.raises(ConfigError, match="did you mean 'uber'"):
        saga_funnel(pl.DataFrame({"key": [], "event_type": []}), "ubr")
    with pytest.raises(ConfigError, match="needs 1 or 2 id_columns"):
        Funnel("x", (), ("a",))


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("uber", {"trip_rate_per_s": 2.0, "n_drivers": 100, "ping_interval_s": 60.0}),
        (
            "amazon",
            {"order_rate_per_s": 2.0, "shipping_median_s": 300.0, "delivery_median_s": 600.0},
        ),
        ("netflix", {"rate_multiplier": 0.002, "uploads_per_h": 40_000.0}),
    ],
)
def test_every_started_entity_ends_exactly_once_or_stays_open(name, params):
    """Sagas end in their last step or one exit; the funnel accounts for every started one."""
    ev = generate(name, params, duration_s=7200.0, seed=5).events
    funnel = saga_funnel(ev, name)
    n = dict(zip(funnel["state"], funnel["n_entities"]))
    spec = FUNNELS[name]
    started = n[spec.steps[0]]
    assert started > 50
    ended = n[spec.steps[-1]] + sum(n[e] for e in spec.exits)
    assert started == ended + n["(open)"]
    assert n["(open)"] < started


def test_spam_bots_lower_the_connection_acceptance_share():
    params = {"rate_multiplier": 0.01, "accept_median_s": 60.0}
    clean = generate("linkedin", params, seed=2).events
    spam = generate("linkedin", params, seed=2, incidents=(IncidentSpec("spam_bots", 600, 600),))
    accepted = {
        label: saga_funnel(ev, "linkedin").filter(pl.col("state") == "connection_accepted")
        for label, ev in (("clean", clean), ("spam", spam.events))
    }
    assert accepted["clean"]["share"][0] > 0.4
    assert accepted["spam"]["share"][0] < accepted["clean"]["share"][0] / 2


# -- incidents ------------------------------------------------------------------------------
def test_incident_impact_exact_rates_and_scope():
    ev = pl.DataFrame(
        {
            "timestamp_s": [0.5, 1.5, 2.5, 3.5, 3.6, 3.7, 5.0],
            "topic": ["a", "a", "b", "a", "a", "b", "a"],
        }
    )
    inc = pl.DataFrame(
        {
            "kind": ["spam", "outage", "early"],
            "start_s": [3.0, 2.0, 0.0],
            "end_s": [4.0, 4.0, 1.0],
            "target": ["a", "cell-7", "b"],
            "affected": [["m1", "m2"], [], []],
        },
        schema_overrides={"affected": pl.List(pl.String)},
    )
    out = incident_impact(ev, inc)
    assert out.rows() == [
        ("early", "b", 0.0, 1.0, 0, "b", None, 0.0, None),
        ("outage", "cell-7", 2.0, 4.0, 0, "all", 1.0, 2.0, 2.0),
        ("spam", "a", 3.0, 4.0, 2, "a", 0.0, 2.0, None),
    ]


def test_incident_impact_of_a_real_outage_and_attack():
    params = {"order_rate_per_s": 2.0}
    incidents = (
        IncidentSpec("outage", 1800, 600, 1.0, target="orders"),
        IncidentSpec("card_testing", 3600, 900, 2.0),
    )
    out = generate("amazon", params, duration_s=7200.0, seed=4, incidents=incidents)
    impact = incident_impact(out.events, out.incidents)
    ratio = dict(zip(impact["kind"], impact["rate_ratio"]))
    assert ratio["outage"] == 0.0
    assert ratio["card_testing"] > 1.5
    assert incident_impact(out.events, empty_incidents()).height == 0


# -- catalogue ------------------------------------------------------------------------------
def test_catalog_lists_every_registered_workload():
    cat = workload_catalog()
    assert cat["workload"].to_list() == list(WORKLOADS)
    funnels = dict(zip(cat["workload"], cat["funnel"]))
    assert funnels == {
        "synthetic": None,
        "netflix": "upload",
        "uber": "trip",
        "linkedin": "connection",
        "amazon": "order",
    }
    for row in cat.iter_rows(named=True):
        cls = get_workload(row["workload"])
        assert row["topics"] == list(cls.topics)
        assert row["incident_kinds"] == list(cls.incident_kinds)
