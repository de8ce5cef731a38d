"""Scenario: validation with one-line errors, replace() with dotted paths, a stable key(),
TOML round trips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from eventsim import ConsumerGroupConfig, IncidentSpec, LogConfig, ProducerConfig, Scenario
from eventsim.exceptions import ConfigError, ScenarioError
from eventsim.scenario import load_scenario


def _rich() -> Scenario:
    return Scenario(
        workload="synthetic",
        duration="2h",
        seed=11,
        params={"rate_per_s": 50, "n_keys": 300, "zipf_exponent": 1.3},
        log=LogConfig(partitions=6, brokers=3, replication_factor=3, retention_s=3600.0),
        producer=ProducerConfig(linger_s=0.02),
        consumers=(
            ConsumerGroupConfig(name="billing", members=2, commit="after-process"),
            ConsumerGroupConfig(
                name="search", members=3, assignor="roundrobin", topics=("events",)
            ),
        ),
        incidents=(
            IncidentSpec("outage", start_s=600.0, duration_s=300.0, intensity=0.5, target="events"),
            IncidentSpec("hot_key", start_s=1200.0, duration_s=60.0, intensity=2.0),
        ),
        drain="1m",
    )


# -- construction ---------------------------------------------------------------------------------
def test_durations_are_stored_as_seconds() -> None:
    sc = _rich()
    assert (sc.duration, sc.drain) == (7200.0, 60.0)
    assert Scenario(duration=90).duration == 90.0


def test_scenario_is_frozen() -> None:
    sc = Scenario()
    with pytest.raises(AttributeError):
        sc.seed = 3  # type: ignore[misc]


def test_scenario_is_hashable() -> None:
    """DESIGN.md: a scenario is 'frozen, validated, hashable'."""
    assert hash(_rich()) == hash(_rich())


# -- replace --------------------------------------------------------------------------------------
def test_replace_top_level_and_dotted_paths() -> None:
    sc = _rich()
    new = sc.replace(
        seed=12,
        duration="30m",
        **{
            "log.partitions": 24,
            "producer.linger_s": 0.05,
            "consumers.1.members": 6,
            "params.rate_per_s": 80,
            "incidents.0.intensity": 1.0,
        },
    )
    assert (new.seed, new.duration, new.log.partitions, new.producer.linger_s) == (
        12,
        1800.0,
        24,
        0.05,
    )
    assert new.consumers[1].members == 6
    assert new.consumers[0] == sc.consumers[0]
    assert new.params == {**sc.params, "rate_per_s": 80}
    assert new.incidents[0].intensity == 1.0
    assert new.log.retention_s == sc.log.retention_s
    assert sc.log.partitions == 6  # unchanged original


def test_replace_validates_again() -> None:
    with pytest.raises(ScenarioError, match=r"log\.partitions must be >= 1; got 0"):
        Scenario().replace(**{"log.partitions": 0})


def test_replace_rejects_unknown_dotted_path_with_suggestion() -> None:
    with pytest.raises(ScenarioError, match=r"log\.partitons is not a field of log; did you mean"):
        Scenario().replace(**{"log.partitons": 4})


def test_replace_rejects_bad_list_index() -> None:
    with pytest.raises(ScenarioError, match=r"consumers\.5 is not an index into a list of 1"):
        Scenario().replace(**{"consumers.5.members": 2})


def test_replace_through_a_scalar_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match="duration"):
        Scenario().replace(**{"duration.unit": "s"})


# -- key ------------------------------------------------------------------------------------------
def test_key_is_16_hex_and_ignores_spelling_of_equal_values() -> None:
    key = _rich().key()
    assert len(key) == 16
    int(key, 16)
    assert Scenario(duration="30m").key() == Scenario(duration=1800).key()
    assert Scenario(duration="30m").key() == Scenario(duration=1800.0).key()


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 12},
        {"duration": "3h"},
        {"log.partitions": 7},
        {"consumers.0.members": 5},
        {"params.rate_per_s": 51},
        {"incidents.1.duration_s": 61.0},
    ],
)
def test_key_changes_with_any_field(change: dict) -> None:
    assert _rich().replace(**change).key() != _rich().key()


_CHILD = """
import sys
from eventsim import Scenario
sys.path.insert(0, {tests!r})
from test_scenario import _rich
print(_rich().key(), Scenario().key(), hash("probe"))
"""


def test_key_is_stable_across_processes() -> None:
    code = _CHILD.format(tests=str(Path(__file__).parent))
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        outs.append(done.stdout.split())
    assert outs[0][2] != outs[1][2], "the children must hash strings differently"
    assert outs[0][:2] == outs[1][:2] == [_rich().key(), Scenario().key()]


# -- TOML -----------------------------------------------------------------------------------------
def test_toml_round_trip() -> None:
    sc = _rich()
    text = sc.to_toml()
    assert Scenario.from_dict(tomllib.loads(text)) == sc
    assert Scenario.from_dict(tomllib.loads(text)).key() == sc.key()


def test_key_equal_for_equal_scenarios_after_toml() -> None:
    sc = Scenario(incidents=(IncidentSpec("outage", start_s=60, duration_s=30),))
    back = Scenario.from_dict(tomllib.loads(sc.to_toml()))
    assert back == sc
    assert back.key() == sc.key()


def test_toml_round_trip_of_defaults() -> None:
    assert Scenario.from_dict(tomllib.loads(Scenario().to_toml())) == Scenario()


def test_toml_round_trip_with_tuple_params() -> None:
    sc = Scenario(params={"event_types": ("a", "b"), "event_mix": (0.5, 0.5)})
    assert Scenario.from_dict(tomllib.loads(sc.to_toml())) == sc


def test_write_and_load_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "sc.toml"
    _rich().write_toml(path)
    assert Scenario.from_toml(path) == _rich()
    assert load_scenario(path, {"seed": 3, "log.partitions": 2}) == _rich().replace(
        seed=3, **{"log.partitions": 2}
    )


def test_to_dict_is_json_ready() -> None:
    data = _rich().to_dict()
    assert json.loads(json.dumps(data)) == json.loads(json.dumps(data, sort_keys=True))
    assert data["log"]["partitions"] == 6
    assert "retention_records" not in data["log"]  # None values are left out


# -- errors ---------------------------------------------------------------------------------------
def _error(data: dict) -> str:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data)
    msg = str(info.value)
    assert "\n" not in msg, msg
    return msg


def test_errors_are_config_errors_and_value_errors() -> None:
    assert issubclass(ScenarioError, ConfigError)
    assert issubclass(ScenarioError, ValueError)


def test_unknown_workload_lists_known() -> None:
    msg = _error({"workload": "netflx"})
    assert msg.startswith("workload 'netflx' is unknown; known workloads:")
    for name in ("amazon", "linkedin", "netflix", "synthetic", "uber"):
        assert name in msg


@pytest.mark.parametrize(
    ("data", "start"),
    [
        ({"durration": 5}, "durration is not a field of scenario; did you mean 'duration'?"),
        (
            {"log": {"partitons": 3}},
            "log.partitons is not a field of log; did you mean 'partitions'?",
        ),
        (
            {"producer": {"linger": 0.1}},
            "producer.linger is not a field of producer; did you mean 'linger_s'?",
        ),
        (
            {"consumers": [{"membrs": 2}]},
            "consumers[0].membrs is not a field of consumers[0]; did you mean 'members'?",
        ),
        (
            {"incidents": [{"knd": "outage", "start_s": 1, "duration_s": 1}]},
            "incidents[0].knd is not a field of incidents[0]; did you mean 'kind'?",
        ),
        (
            {"params": {"rat_per_s": 5}},
            "workload.params.rat_per_s is not a parameter of workload 'synthetic';"
            " did you mean 'rate_per_s'?",
        ),
    ],
)
def test_unknown_keys_suggest_the_closest(data: dict, start: str) -> None:
    msg = _error(data)
    assert msg.startswith(start), msg
    assert "(known: " in msg


def test_unknown_key_without_a_close_match_lists_known() -> None:
    msg = _error({"log": {"zzzzzz": 1}})
    assert msg.startswith("log.zzzzzz is not a field of log (known: brokers, compaction,")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"duration": -5}, "duration must be > 0 (e.g. 90s, 30m, 2h); got -5.0"),
        ({"duration": 0}, "duration must be > 0 (e.g. 90s, 30m, 2h); got 0.0"),
        ({"duration": "0s"}, "duration must be > 0 (e.g. 90s, 30m, 2h); got '0s'"),
        ({"drain": "-5s"}, "drain must be >= 0; got '-5s'"),
        ({"seed": -1}, "seed must be an integer >= 0; got -1"),
        ({"seed": 1.5}, "seed must be an integer >= 0; got 1.5"),
        ({"log": {"partitions": 0}}, "log.partitions must be >= 1; got 0"),
        ({"log": {"brokers": 0}}, "log.brokers must be >= 1; got 0"),
        (
            {"log": {"replication_factor": 5}},
            "log.replication_factor must be between 1 and log.brokers (3); got 5",
        ),
        (
            {"log": {"brokers": 2, "replication_factor": 3}},
            "log.replication_factor must be between 1 and log.brokers (2); got 3",
        ),
        ({"log": {"retention_s": 0}}, "log.retention_s must be > 0 or unset; got 0"),
        ({"producer": {"linger_s": 0}}, "producer.linger_s must be > 0; got 0"),
        ({"consumers": [{"members": 0}]}, "consumers[sink].members must be >= 1; got 0"),
        (
            {"consumers": [{"commit": "sometimes"}]},
            "consumers[sink].commit must be one of auto, before-process, after-process",
        ),
        (
            {"consumers": [{"name": "a"}, {"name": "a"}]},
            "consumers.name must be unique; got ['a', 'a']",
        ),
        ({"params": {"rate_per_s": -1}}, "workload.params.rate_per_s must be > 0; got -1"),
        (
            {"incidents": [{"kind": "outagee", "start_s": 1, "duration_s": 5}]},
            "incidents.kind 'outagee' is not supported by workload 'synthetic'; allowed: outage,",
        ),
        (
            {"duration": 60, "incidents": [{"kind": "outage", "start_s": 50, "duration_s": 20}]},
            "incidents window [50.0, 70.0] s of kind 'outage' ends after the run (duration 60.0 s)",
        ),
        ({"log": 3}, "log must be a table; got 3"),
    ],
)
def test_bad_values_name_field_and_value(data: dict, expected: str) -> None:
    assert _error(data).startswith(expected)


@pytest.mark.parametrize("bad", ["10 parsecs", "abc", "5x", "1.2.3h"])
@pytest.mark.parametrize("name", ["duration", "drain"])
def test_bad_duration_strings(name: str, bad: str) -> None:
    msg = _error({name: bad})
    assert msg.startswith(f"{name} must be a duration like 90s, 30m or 2h")
    assert msg.endswith(f"got {bad!r}")


def test_malformed_toml_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('workload = "synthetic"\nduration = \n[log]\npartitions = 3\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert msg.startswith(f"scenario file {str(path)!r} is not valid TOML:")
    assert "line 2, column 12" in msg
    assert "\n" not in msg


def test_missing_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "none.toml"
    with pytest.raises(ScenarioError, match="cannot be read: No such file or directory"):
        load_scenario(path)


def test_unknown_key_in_a_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "sc.toml"
    path.write_text("duration = '10m'\n[log]\npartitons = 3\n")
    with pytest.raises(ScenarioError, match=r"log.partitons .* did you mean 'partitions'\?"):
        load_scenario(path)
