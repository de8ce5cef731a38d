"""Contract checks over every registered workload (discovered from the registry)."""

from __future__ import annotations

import dataclasses
import importlib
import pickle

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from eventsim.exceptions import ScenarioError
from eventsim.sim.rng import RngStreams
from eventsim.workloads import BASE_SCHEMA, INCIDENT_SCHEMA, WORKLOADS, IncidentSpec

DURATION_S = 120.0
SMALL = {  # keep the contract runs fast
    "netflix": {"session_rate_per_s": 5.0, "n_members": 10_000},
    "uber": {"n_drivers": 200},
    "linkedin": {"n_members": 5_000, "post_rate_per_s": 1.0},
    "amazon": {"n_skus": 2_000},
}


def load(name):
    module, cls = WORKLOADS[name].split(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            pytest.skip(f"{module} is not written yet")
        raise
    return getattr(mod, cls)


def params_for(name, cls):
    fields = {f.name for f in dataclasses.fields(cls.Params)}
    return {k: v for k, v in SMALL.get(name, {}).items() if k in fields}


def incident_for(cls):
    return IncidentSpec(cls.incident_kinds[0], start_s=30.0, duration_s=20.0, intensity=0.5)


@pytest.fixture(params=sorted(WORKLOADS))
def workload(request):
    cls = load(request.param)
    return request.param, cls, params_for(request.param, cls)


def test_schema_and_sorted(workload):
    name, cls, params = workload
    out = cls(params).generate(DURATION_S, RngStreams(1))
    ev = out.events
    assert len(ev) > 0
    # string columns may come dictionary-encoded (pl.Enum / pl.Categorical)
    base = [
        (k, pl.String() if isinstance(v, (pl.Enum, pl.Categorical)) else v)
        for k, v in list(ev.schema.items())[: len(BASE_SCHEMA)]
    ]
    assert base == list(BASE_SCHEMA.items())
    schema = getattr(cls, "payload_schema", None)
    if schema is not None:
        assert dict(list(ev.schema.items())[len(BASE_SCHEMA) :]) == schema
    t = ev["timestamp_s"]
    assert t.is_sorted()
    assert t.min() >= 0
    assert t.max() < DURATION_S
    assert set(ev["topic"].unique()) <= set(cls.topics)
    for topic, types in cls.topics.items():
        seen = set(ev.filter(pl.col("topic") == topic)["event_type"].unique())
        assert seen <= set(types), (name, topic, seen - set(types))
    assert dict(out.incidents.schema) == INCIDENT_SCHEMA
    assert cls.description()
    assert "\n" not in cls.description()


def test_same_seed_same_frames(workload):
    _, cls, params = workload
    inc = (incident_for(cls),)
    a = cls(params, inc).generate(DURATION_S, RngStreams(7))
    b = cls(params, inc).generate(DURATION_S, RngStreams(7))
    assert_frame_equal(a.events, b.events)
    assert_frame_equal(a.incidents, b.incidents)
    c = cls(params, inc).generate(DURATION_S, RngStreams(8))
    assert not a.events.equals(c.events)


def test_pickle_and_replace(workload):
    _, cls, params = workload
    w = cls(params, (incident_for(cls),))
    w2 = pickle.loads(pickle.dumps(w))
    assert w2.params == w.params
    assert pickle.loads(pickle.dumps(w.params)) == w.params
    field = "rate_multiplier" if hasattr(w.params, "rate_multiplier") else None
    if field:
        changed = dataclasses.replace(w.params, rate_multiplier=2.0)
        assert changed.rate_multiplier == 2.0
        with pytest.raises(ScenarioError, match="rate_multiplier"):
            dataclasses.replace(w.params, rate_multiplier=-1.0)


def test_incidents_inside_the_run(workload):
    _, cls, params = workload
    inc = incident_for(cls)
    out = cls(params, (inc,)).generate(DURATION_S, RngStreams(3))
    row = out.incidents.row(0, named=True)
    assert row["kind"] == inc.kind
    assert (row["start_s"], row["end_s"]) == (inc.start_s, inc.end_s)
    assert 0 <= row["start_s"] < row["end_s"] <= DURATION_S
    with pytest.raises(ScenarioError, match="ends after the run"):
        cls(params, (IncidentSpec(inc.kind, 100.0, 50.0),)).generate(DURATION_S, RngStreams(3))


def test_bad_input(workload):
    _, cls, _ = workload
    with pytest.raises(ScenarioError, match="zzz_unknown is not a parameter"):
        cls({"zzz_unknown": 2.0})
    if hasattr(cls.Params, "rate_multiplier"):
        with pytest.raises(ScenarioError, match="did you mean 'rate_multiplier'"):
            cls({"rate_multiplyer": 2.0})
    with pytest.raises(ScenarioError, match="not supported"):
        cls({}, (IncidentSpec("meteor_strike", 0.0, 1.0),))


@pytest.mark.parametrize("name", ["netflix", "uber", "linkedin", "amazon"])
def test_business_workloads_enum_columns(name):
    """topic and event_type are Enums of the declared vocabulary (the same dtype whatever
    the parameters), and the engine's events read back from the log are plain Strings."""
    cls = load(name)
    ev = cls(params_for(name, cls)).generate(DURATION_S, RngStreams(1)).events
    types = list(dict.fromkeys(t for names in cls.topics.values() for t in names))
    assert ev.schema["topic"] == pl.Enum(list(cls.topics))
    assert ev.schema["event_type"] == pl.Enum(types)
    assert ev.schema["key"] == pl.String
    for col, dtype in cls.payload_schema.items():
        if isinstance(dtype, pl.Enum):
            assert set(ev[col].drop_nulls().cast(pl.String)) <= set(dtype.categories)
    from eventsim import Scenario, run

    res = run(Scenario(workload=name, duration=20.0, params=params_for(name, cls)), progress=False)
    strings = [c for c, d in res.events.schema.items() if d == pl.String]
    assert {"topic", "key", "event_type"} <= set(strings)
    assert not [c for c, d in res.events.schema.items() if isinstance(d, pl.Enum)]
