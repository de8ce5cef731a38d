"""Enum and Categorical string columns: the log stores and returns exactly what it would for
the same columns as pl.String (codes, partitions, frames), without per-row strings."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from eventsim import ConsumerGroupConfig, LogConfig, Scenario, run
from eventsim.log import EventLog
from eventsim.log.dictionary import Dictionary
from eventsim.workloads.base import WorkloadOutput
from eventsim.workloads.synthetic import Synthetic

TEXT = ("topic", "key", "event_type", "region")


def _frame(n: int = 400, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    keys = [f"k{i}" for i in rng.integers(0, 37, n)]
    keys = [None if i % 11 == 0 else k for i, k in enumerate(keys)]
    regions = ["eu", "us", None, "apac"]
    return pl.DataFrame(
        {
            "timestamp_s": np.sort(rng.uniform(0, 10, n)),
            "topic": [("orders", "clicks")[i] for i in rng.integers(0, 2, n)],
            "key": keys,
            "event_type": [("view", "buy")[i] for i in rng.integers(0, 2, n)],
            "payload_bytes": rng.integers(10, 500, n).astype(np.int32),
            "region": [regions[i] for i in rng.integers(0, 4, n)],
            "amount": rng.uniform(0, 9, n),
        }
    )


def _as(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    if kind == "enum":
        # categories in another order than first appearance, with unused ones
        return frame.with_columns(
            pl.col(c).cast(pl.Enum(["zz-unused", *sorted(frame[c].drop_nulls().unique())]))
            for c in TEXT
        )
    return frame.with_columns(pl.col(c).cast(pl.Categorical) for c in TEXT)


@pytest.mark.parametrize("kind", ["enum", "categorical"])
def test_dictionary_codes_match_strings(kind: str) -> None:
    frame = _frame()
    plain, coded = Dictionary(), Dictionary()
    for d in (plain, coded):
        d.encode_many(["view", "k5", "other"])  # codes already taken
    for c in TEXT:
        want = plain.encode_series(frame[c])
        got = coded.encode_series(_as(frame, kind)[c])
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.int32
    assert coded.values == plain.values


@pytest.mark.parametrize("kind", ["enum", "categorical"])
def test_append_frame_identical_log(kind: str) -> None:
    frame = _frame()
    logs = []
    for f in (frame, _as(frame, kind)):
        log = EventLog(partitions=3)
        for topic in ("orders", "clicks"):
            rows = f.filter(pl.col("topic").cast(pl.String) == topic)
            log.append_frame(topic, rows, append_s=11.0)
        logs.append(log)
    out = [log.to_polars() for log in logs]
    assert_frame_equal(out[0], out[1])
    assert out[1].schema["key"] == pl.String
    assert out[1].schema["region"] == pl.String
    assert out[1]["region"].null_count() > 0


def test_empty_and_all_null_categorical() -> None:
    d = Dictionary()
    empty = pl.Series([], dtype=pl.Enum(["a"]))
    assert d.encode_series(empty).tolist() == []
    nulls = pl.Series([None, None], dtype=pl.Categorical)
    assert d.encode_series(nulls).tolist() == [-1, -1]
    assert len(d) == 0


@pytest.mark.parametrize("kind", ["enum", "categorical"])
def test_run_identical_with_categorical_workload(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    sc = Scenario(
        workload="synthetic",
        duration="20s",
        seed=4,
        params={"rate_per_s": 300, "n_keys": 50, "topics": ("a", "b"), "topic_mix": (0.3, 0.7)},
        log=LogConfig(partitions=4),
        consumers=(ConsumerGroupConfig(members=3),),
        drain="5s",
    )
    plain = run(sc, progress=False)
    generate = Synthetic.generate

    def coded(self: Synthetic, duration_s: float, rngs: object) -> WorkloadOutput:
        out = generate(self, duration_s, rngs)
        cols = [c for c in ("topic", "key", "event_type") if c in out.events.columns]
        events = out.events
        if kind == "enum":
            events = events.with_columns(
                pl.col(c).cast(pl.Enum(sorted(events[c].drop_nulls().unique()))) for c in cols
            )
        else:
            events = events.with_columns(pl.col(c).cast(pl.Categorical) for c in cols)
        return WorkloadOutput(events, out.incidents)

    monkeypatch.setattr(Synthetic, "generate", coded)
    other = run(sc, progress=False)
    assert other.events.height > 1000
    for name in ("events", "deliveries", "sends", "metrics"):
        assert_frame_equal(getattr(plain, name), getattr(other, name))
