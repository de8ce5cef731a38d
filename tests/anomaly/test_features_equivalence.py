"""The polars feature path and the incremental one agree exactly, on every workload.

The incremental features run as the batch handler of a one-member consumer group inside the
simulation (its clock ticking every poll); the polars path reads the finished run's events
in that group's delivery order. Hypothesis draws seeds, durations and window settings.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from eventsim import ConsumerGroupConfig, IncidentSpec, Scenario
from eventsim.anomaly import IncrementalFeatures, features_for, window_features
from eventsim.sim.engine import Simulation

#: Small, fast parameters per workload (a few hundred records a minute).
TINY = {
    "synthetic": {"rate_per_s": 30.0},
    "uber": {"n_drivers": 40, "trip_rate_per_s": 0.5},
    "amazon": {"order_rate_per_s": 1.0},
    "netflix": {"rate_multiplier": 0.005, "uploads_per_h": 2000.0},
    "linkedin": {"rate_multiplier": 0.01},
}
GROUP = "features"


def _run(workload, seed, duration_s, spec, poll_s, **extra):
    sc = Scenario(
        workload=workload,
        duration=duration_s,
        seed=seed,
        params=TINY[workload],
        consumers=(
            ConsumerGroupConfig(
                name=GROUP,
                members=1,
                poll_interval_s=poll_s,
                max_poll_records=5000,
                processing_time_s=0.0,
            ),
        ),
        incidents=(IncidentSpec("outage", duration_s / 3, duration_s / 4, 1.0),),
        **extra,
    )
    sim = Simulation(sc)
    feats = IncrementalFeatures(spec, sim.log)
    sim.handlers[GROUP].append(feats)

    def clock(env):
        while True:
            yield env.timeout(poll_s)
            feats.tick(env.now)

    sim.env.process(clock(sim.env))
    result = sim.run(progress=False)
    until = sim.env.now
    feats.tick(until)
    feats.flush()
    return result, feats.frame(), until


windows = st.sampled_from([(60.0, None), (30.0, 10.0), (20.0, 20.0), (45.0, 15.0)])


@pytest.mark.parametrize("workload", sorted(TINY))
@settings(max_examples=5, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    seed=st.integers(0, 2**16),
    minutes=st.integers(3, 8),
    window=windows,
    lateness=st.sampled_from([0.0, 0.2, 10.0]),
    max_delay=st.sampled_from([None, 1.0, 30.0]),
    poll_s=st.sampled_from([0.5, 2.0]),
)
@example(seed=0, minutes=3, window=(60.0, None), lateness=10.0, max_delay=30.0, poll_s=0.5)
def test_polars_and_incremental_features_are_equal(
    workload, seed, minutes, window, lateness, max_delay, poll_s
):
    spec = features_for(workload).replace(
        window_s=window[0], step_s=window[1], allowed_lateness_s=lateness, max_delay_s=max_delay
    )
    result, incremental, until = _run(workload, seed, minutes * 60.0, spec, poll_s)
    offline = window_features(
        result.events, spec, deliveries=result.deliveries, group=GROUP, until_s=until
    )
    assert incremental.height > 0
    assert_frame_equal(incremental, offline)


@pytest.mark.parametrize(
    ("workload", "by"),
    [("uber", ("cell",)), ("amazon", ("region", "topic")), ("synthetic", ("topic", "partition"))],
)
def test_equal_when_streams_are_regions_cells_or_key_groups(workload, by):
    spec = features_for(workload).replace(by=by, window_s=30.0, allowed_lateness_s=0.5)
    result, incremental, until = _run(workload, 7, 240.0, spec, 1.0)
    offline = window_features(
        result.events, spec, deliveries=result.deliveries, group=GROUP, until_s=until
    )
    assert incremental["stream"].n_unique() > 2
    assert_frame_equal(incremental, offline)


@pytest.mark.parametrize("workload", ["synthetic", "uber"])
def test_equal_under_crashes_redeliveries_and_duplicates(workload):
    from eventsim import ProducerConfig
    from eventsim.faults import FaultsConfig, FaultSpec

    faults = FaultsConfig(
        scheduled=(
            FaultSpec("consumer_crash", f"{GROUP}-0", 60.0, 20.0, point="after-process"),
            FaultSpec("broker_crash", "broker-1", 100.0, 30.0),
            FaultSpec("link_duplicate", "producer", 150.0, 60.0, probability=0.3),
        )
    )
    spec = features_for(workload).replace(window_s=20.0, allowed_lateness_s=1.0)
    result, incremental, until = _run(
        workload, 3, 300.0, spec, 0.5, faults=faults, producer=ProducerConfig(acks="1")
    )
    offline = window_features(
        result.events, spec, deliveries=result.deliveries, group=GROUP, until_s=until
    )
    keys = ["topic", "partition", "offset"]
    assert result.deliveries.height > result.deliveries.select(keys).n_unique()  # redelivered
    assert incremental["late_records"].sum() > 0
    assert_frame_equal(incremental, offline)
