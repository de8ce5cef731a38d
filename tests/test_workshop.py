"""Workshop checks: each fails with a line saying what is missing, and passes when done."""

from __future__ import annotations

import polars as pl
import pytest

import eventsim as es
from eventsim.consistency import make_history
from eventsim.delivery import apply_preset
from eventsim.faults import FaultsConfig, FaultSpec
from eventsim.workshop import (
    CHECKS,
    Feedback,
    check_detection,
    check_exactly_once,
    check_features_show_incidents,
    check_history_example,
    check_idle_members,
    check_keeps_up,
    check_linearizable_answer,
    check_no_loss,
    check_placement_choice,
    check_sweep_answer,
)

# -- shared inputs --------------------------------------------------------------------------------
BROKER_CRASH = FaultsConfig(scheduled=(FaultSpec("broker_crash", "broker-1", 3.0, 3.0),))
LOSSY = es.Scenario(
    duration="8s",
    seed=2,
    params={"rate_per_s": 60},
    log=es.LogConfig(partitions=4, replication_factor=3, replication_lag_s=0.2),
    producer=es.ProducerConfig(acks="1", retries=0),
    consumers=(es.ConsumerGroupConfig(members=2, session_timeout_s=2.0),),
    faults=BROKER_CRASH,
    drain=5,
)
CONSUMER_CRASHES = FaultsConfig(
    scheduled=(
        FaultSpec("consumer_crash", "sink-0", 2.0, 2.0, point="after-process"),
        FaultSpec("consumer_crash", "sink-1", 5.0, 2.0, point="before-process"),
        FaultSpec("broker_pause", "broker-0", 3.0, 4.0),
    )
)
PAYMENTS = es.Scenario(
    duration="8s",
    seed=2,
    params={"rate_per_s": 60},
    log=es.LogConfig(partitions=4, replication_factor=3, min_insync_replicas=2),
    consumers=(es.ConsumerGroupConfig(members=3, session_timeout_s=1.5, commit="after-process"),),
    faults=CONSUMER_CRASHES,
    drain=5,
)
STALE = make_history(
    [(0, "write", "x", "a", None, 0.0, 1.0), (1, "read", "x", None, None, 2.0, 3.0)]
)
FRESH = make_history(
    [(0, "write", "x", "a", None, 0.0, 1.0), (1, "read", "x", None, "a", 2.0, 3.0)]
)


def _incidents(*rows: tuple[str, float, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "kind": [r[0] for r in rows],
            "start_s": [r[1] for r in rows],
            "end_s": [r[2] for r in rows],
            "target": ["events"] * len(rows),
            "affected": [[] for _ in rows],
        },
        schema_overrides={"affected": pl.List(pl.String)},
    )


def _sweep_table(values: list[int], means: list[float], seeds: int = 3) -> pl.DataFrame:
    rows = [(v, s, m + s) for v, m in zip(values, means) for s in range(seeds)]
    return pl.DataFrame(
        {
            "log.partitions": [r[0] for r in rows],
            "seed": [r[1] for r in rows],
            "scenario_key": [f"k{i}" for i in range(len(rows))],
            "latency_p99_ms": [float(r[2]) for r in rows],
            "run_s": [0.1] * len(rows),
            "status": ["ok"] * len(rows),
        }
    )


# -- Feedback and printing ------------------------------------------------------------------------
def test_checks_registry_names_every_check() -> None:
    assert set(CHECKS) == {f"check_{n}" for n in (
        "idle_members", "keeps_up", "no_loss", "exactly_once", "linearizable_answer",
        "history_example", "features_show_incidents", "detection", "placement_choice",
        "sweep_answer",
    )}  # fmt: skip
    assert all(f.__name__ == name for name, f in CHECKS.items())


def test_feedback_is_printed_once_and_quiet_stays_silent(capsys: pytest.CaptureFixture) -> None:
    fb = check_linearizable_answer(STALE, None)
    assert capsys.readouterr().out == fb.message + "\n"
    assert fb.message.startswith("not yet: set answer")
    quiet = check_linearizable_answer(STALE, False, quiet=True)
    assert capsys.readouterr().out == ""
    assert quiet.ok
    assert quiet.message.startswith("✓ right: not linearizable")
    assert str(quiet) == quiet.message
    assert isinstance(quiet, Feedback)


# -- module 1 -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def idle_run() -> es.RunResult:
    sc = es.Scenario(
        duration="4s",
        params={"rate_per_s": 30},
        log=es.LogConfig(partitions=2),
        consumers=(es.ConsumerGroupConfig(members=5),),
    )
    return es.run(sc, progress=False)


def test_idle_members(idle_run: es.RunResult) -> None:
    assert not check_idle_members(idle_run, None, quiet=True).ok
    wrong = check_idle_members(idle_run, 2, quiet=True)
    assert not wrong.ok
    assert "3" not in wrong.message.split("—")[0]  # the answer is not given away
    right = check_idle_members(idle_run, 3, quiet=True)
    assert right.ok
    assert right.details == {"members": 5, "busy": 2, "idle": 3}
    assert not check_idle_members(idle_run, 3, group="nope", quiet=True).ok


def test_keeps_up_fails_with_idle_members_hint_then_passes() -> None:
    base = es.Scenario(
        duration="6s",
        seed=1,
        params={"rate_per_s": 300},
        log=es.LogConfig(partitions=1),
        consumers=(es.ConsumerGroupConfig(members=3, processing_time_s=0.005),),
        drain=20,
    )
    slow = check_keeps_up(base, quiet=True)
    assert not slow.ok
    assert slow.details["busy_members"] == 1
    assert "2 of 3 members are idle" in slow.message
    assert "log.partitions" in slow.message
    fixed = check_keeps_up(base.replace(**{"log.partitions": 6}), reference=base, quiet=True)
    assert fixed.ok, fixed.message
    assert fixed.details["latency_p99_ms"] <= 500


def test_keeps_up_names_a_partition_hotter_than_one_member_can_process() -> None:
    # 300 events/s on one partition; a member processes at most 200/s
    base = es.Scenario(
        duration="6s",
        seed=1,
        params={"rate_per_s": 300},
        log=es.LogConfig(partitions=1),
        consumers=(es.ConsumerGroupConfig(members=1, processing_time_s=0.005),),
        drain=20,
    )
    fb = check_keeps_up(base, quiet=True)
    assert not fb.ok
    assert fb.details["hottest_partition_per_s"] == pytest.approx(300, rel=0.1)
    assert "the busiest partition receives" in fb.message
    assert "(200/s)" in fb.message


def test_keeps_up_rejects_changes_outside_the_task() -> None:
    base = es.Scenario(duration="3s", params={"rate_per_s": 50})
    cheat = base.replace(**{"params.rate_per_s": 5, "consumers.0.members": 2})
    fb = check_keeps_up(cheat, reference=base, quiet=True)
    assert not fb.ok
    assert "you changed params.rate_per_s" in fb.message
    assert "consumers.0.members" not in fb.message.split("you changed")[1]
    lucky = check_keeps_up(base.replace(seed=9), reference=base, quiet=True)
    assert lucky.message.endswith("you changed seed")


@pytest.mark.parametrize("thing", [None, 42])
def test_scenario_checks_say_what_is_missing_instead_of_raising(thing: object) -> None:
    for check in (check_keeps_up, check_no_loss, check_exactly_once):
        fb = check(thing, quiet=True)
        assert not fb.ok
        assert fb.message.startswith("not yet: ")


# -- module 2 -------------------------------------------------------------------------------------
def test_no_loss_names_each_cause_then_passes() -> None:
    fb = check_no_loss(LOSSY, reference=LOSSY, quiet=True)
    assert not fb.ok
    d = fb.details
    assert d["lost"] > 0
    assert d["lost"] == d["truncated"] + d["gave_up"] + d["unprocessed"]
    assert d["truncated"] > 0
    assert d["gave_up"] > 0
    assert fb.message.startswith(f"not yet: {d['lost']} records lost — ")
    assert "producer.acks='all'" in fb.message
    assert "producer.retries" in fb.message
    fixed = LOSSY.replace(**{"producer.acks": "all", "producer.retries": 20})
    ok = check_no_loss(fixed, reference=LOSSY, quiet=True)
    assert ok.ok, ok.message
    assert ok.details["lost"] == 0
    assert "broker-1 crashed" in ok.message


def test_no_loss_accepts_a_run_result_and_spots_consumer_side_loss() -> None:
    crashes = FaultsConfig(
        scheduled=(
            *BROKER_CRASH.scheduled,
            FaultSpec("consumer_crash", "sink-0", 1.0, 2.0, point="before-process"),
        )
    )
    sc = LOSSY.replace(
        faults=crashes,
        **{
            "producer.acks": "all",
            "producer.retries": 20,
            "consumers.0.commit": "before-process",
        },
    )
    fb = check_no_loss(es.run(sc, progress=False), quiet=True)
    assert not fb.ok
    assert fb.details["unprocessed"] == fb.details["lost"] > 0
    assert "consumers.0.commit='after-process'" in fb.message


def test_no_loss_requires_the_crash_and_only_allowed_changes() -> None:
    calm = LOSSY.replace(faults=FaultsConfig())
    assert "keep the fault" in check_no_loss(calm, quiet=True).message
    fb = check_no_loss(calm, reference=LOSSY, quiet=True)
    assert "you changed faults.scheduled" in fb.message


def test_exactly_once_duplicates_almost_and_pass() -> None:
    dup = check_exactly_once(PAYMENTS, reference=PAYMENTS, quiet=True)
    assert not dup.ok
    assert dup.details["duplicated"] > 0
    assert "applied more than once" in dup.message
    lossy = check_exactly_once(apply_preset(PAYMENTS, "at-most-once"), quiet=True)
    assert not lossy.ok
    assert lossy.details["lost"] > 0
    assert "never took effect" in lossy.message
    almost = check_exactly_once(apply_preset(PAYMENTS, "effectively-once"), quiet=True)
    assert not almost.ok
    assert almost.details["lost"] == almost.details["duplicated"] == 0
    assert almost.details["log_duplicates"] > 0
    assert almost.message.startswith("not yet: almost: ")
    done = check_exactly_once(
        apply_preset(PAYMENTS, "exactly-once"), reference=PAYMENTS, quiet=True
    )
    assert done.ok, done.message
    assert done.details["anomalies"] == {}


def test_exactly_once_requires_a_consumer_crash() -> None:
    fb = check_exactly_once(PAYMENTS.replace(faults=FaultsConfig()), quiet=True)
    assert not fb.ok
    assert "no consumer crash" in fb.message


# -- module 3 -------------------------------------------------------------------------------------
def test_linearizable_answer() -> None:
    assert not check_linearizable_answer(STALE, True, quiet=True).ok
    assert check_linearizable_answer(STALE, False, quiet=True).ok
    assert not check_linearizable_answer(FRESH, False, quiet=True).ok
    fb = check_linearizable_answer(FRESH, True, quiet=True)
    assert fb.ok
    assert fb.details["valid"] is True


def test_history_example() -> None:
    assert "build a history first" in check_history_example(None, quiet=True).message
    assert "is linearizable" in check_history_example(FRESH, quiet=True).message
    assert check_history_example(STALE, quiet=True).ok
    # the same process reading its own write back stale breaks read-your-writes
    own = make_history(
        [(0, "write", "x", "a", None, 0.0, 1.0), (0, "read", "x", None, None, 2.0, 3.0)]
    )
    fb = check_history_example(own, quiet=True)
    assert not fb.ok
    assert "read-your-writes" in fb.message
    assert check_history_example(own, session=False, quiet=True).ok
    assert check_history_example(FRESH, linearizable=True, quiet=True).ok


# -- module 4 -------------------------------------------------------------------------------------
def _frame(**features: list[float]) -> pl.DataFrame:
    n = len(next(iter(features.values())))
    starts = [10.0 * i for i in range(n)]
    return pl.DataFrame(
        {
            "window_start_s": starts,
            "window_end_s": [s + 10.0 for s in starts],
            "stream": ["events"] * n,
            **features,
        }
    )


def test_features_show_incidents() -> None:
    events = [50.0, 49, 51, 50, 2, 50, 52, 48, 50, 50]
    errors = [0.01, 0.02, 0.01, 0.02, 0.01, 0.02, 0.01, 0.6, 0.02, 0.01]
    incidents = _incidents(("outage", 40.0, 50.0), ("error_burst", 70.0, 80.0))
    partial = check_features_show_incidents(_frame(events=events), incidents, quiet=True)
    assert not partial.ok
    assert partial.details["shown"] == {
        "outage at 40–50 s": ["events"],
        "error_burst at 70–80 s": [],
    }
    assert "error_types" in partial.message
    full = check_features_show_incidents(
        _frame(events=events, error_ratio=errors), incidents, quiet=True
    )
    assert full.ok
    assert full.details["shown"]["error_burst at 70–80 s"] == ["error_ratio"]
    none = check_features_show_incidents(_frame(events=events), incidents.clear(), quiet=True)
    assert not none.ok


def test_detection() -> None:
    table = pl.DataFrame(
        {
            "detector": ["quiet", "noisy", "good", "mute"],
            "incidents": [2, 2, 2, 2],
            "detected": [1, 2, 2, 0],
            "incident_recall": [0.5, 1.0, 1.0, 0.0],
            "precision": [1.0, 0.2, 0.9, 0.0],
            "median_delay_s": [0.0, 0.0, 5.0, None],
            "alarms": [1, 40, 10, 0],
        }
    )
    assert "choose a detector" in check_detection(table, None, quiet=True).message
    assert "not in your table" in check_detection(table, "nope", quiet=True).message
    assert "lower the alarm quantile" in check_detection(table, "quiet", quiet=True).message
    assert "raise the alarm quantile" in check_detection(table, "noisy", quiet=True).message
    assert "no alarm at all" in check_detection(table, "mute", quiet=True).message
    good = check_detection(table, "good", quiet=True)
    assert good.ok
    assert good.details == {"incidents": 2, "detected": 2, "incident_recall": 1.0, "precision": 0.9}


# -- module 5 -------------------------------------------------------------------------------------
def test_placement_choice() -> None:
    table = pl.DataFrame(
        {
            "policy": ["latency-first", "greenest-now", "shift", "carbon-slo", "offline-optimum"],
            "savings_pct": [0.0, 70.0, 2.0, 69.0, 71.0],
            "slo_violations": [0.0, 5.0, 0.0, 0.0, 0.0],
            "overflow_events": [0.0, 100.0, 0.0, 0.0, 0.0],
            "deadline_misses": [0.0, 0.0, 0.0, 0.0, 0.0],
        }
    )
    assert not check_placement_choice(table, None, quiet=True).ok
    greedy = check_placement_choice(table, "greenest-now", quiet=True)
    assert "breaks the latency SLO 5 times and sends 100 events beyond" in greedy.message
    assert "the target is 50%" in check_placement_choice(table, "shift", quiet=True).message
    assert (
        "knows the future" in check_placement_choice(table, "offline-optimum", quiet=True).message
    )
    assert check_placement_choice(table, "carbon-slo", quiet=True).ok
    assert not check_placement_choice(table, "carbon-slo", min_savings_pct=80, quiet=True).ok


def test_sweep_answer() -> None:
    table = _sweep_table([2, 4, 6, 8], [900.0, 600.0, 450.0, 300.0])
    kw = {"param": "log.partitions", "metric": "latency_p99_ms", "below": 500.0}
    assert "set answer" in check_sweep_answer(table, None, **kw, quiet=True).message
    assert "not below 500" in check_sweep_answer(table, 4, **kw, quiet=True).message
    assert "a smaller" in check_sweep_answer(table, 8, **kw, quiet=True).message
    assert "not a value" in check_sweep_answer(table, 5, **kw, quiet=True).message
    fb = check_sweep_answer(table, 6, **kw, quiet=True)
    assert fb.ok
    assert fb.details["smallest"] == 6
    assert fb.details["means"][6] == pytest.approx(451.0)
    few = _sweep_table([2, 4], [900.0, 450.0], seeds=2)
    assert "at least 3 seeds" in check_sweep_answer(few, 4, **kw, quiet=True).message
    assert (
        "no column" in check_sweep_answer(table, 6, **{**kw, "metric": "lag"}, quiet=True).message
    )
