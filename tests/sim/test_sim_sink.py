"""The sink copies delivery columns lazily; storage moved by retention or compaction must not
corrupt them."""

from __future__ import annotations

import numpy as np
import polars as pl

import eventsim as es
from eventsim.log.partition import Partition
from eventsim.sim.consumer import Sink


def test_deliveries_survive_retention_moving_storage() -> None:
    sc = es.Scenario(
        workload="synthetic",
        duration="60s",
        seed=4,
        params={"rate_per_s": 200},
        log=es.LogConfig(partitions=3, retention_records=500),
        consumers=(es.ConsumerGroupConfig(name="g", members=2),),
    )
    res = es.run(sc, progress=False)
    # retention deleted most of the log, but every event was consumed before its deletion
    assert res.events.height < res.sends.height
    assert res.deliveries.height == res.sends.height
    joined = res.deliveries.join(res.sends, on="event_id", how="left", suffix="_sent")
    assert (joined["partition"] == joined["partition_sent"]).all()
    # per partition, offsets follow event creation order exactly
    check = (
        joined.sort("partition", "offset")
        .group_by("partition", maintain_order=True)
        .agg(
            (pl.col("created_s").diff().drop_nulls() >= 0).all().alias("ordered"),
            (pl.col("offset").diff().drop_nulls() == 1).all().alias("dense"),
        )
    )
    assert check["ordered"].all()
    assert check["dense"].all()
    assert (res.deliveries["latency_s"] >= 0).all()


def test_sink_copies_noted_rows_even_after_compaction_rewrites_storage() -> None:
    p = Partition("t", 0)
    keys = np.array([1, 2, 1, 3, 2, 1], dtype=np.int32)
    p.append(
        {"timestamp_s": np.arange(6.0), "key": keys, "event_id": np.arange(6) + 10},
        append_s=7.0,
    )
    sink = Sink("g", n_events=0)
    first = p.read(0, 4)
    h1 = sink.note("m", 1, [(first, None)])
    mask = np.array([True, False])
    h2 = sink.note("m", 1, [(p.read(4, 2), mask)])
    p.keep(np.array([3, 4, 5]))  # compaction: new arrays holding the latest per key
    p.append({"timestamp_s": np.array([9.0])}, append_s=9.5)
    h3 = sink.note("m", 2, [(p.read(6, 5), None)])
    for h in (h1, h2, h3):
        sink.complete(h, 20.0, 0.5, None)
    f = sink.frame()
    assert f["offset"].to_list() == [0, 1, 2, 3, 4, 6]
    assert f["event_id"].to_list() == [10, 11, 12, 13, 14, -1]
    assert f["latency_s"].to_list() == [20.5, 20.0, 19.5, 19.0, 16.5, 11.5]
    assert f["poll"].to_list() == [0, 0, 0, 0, 0, 0]
    assert len(sink) == 6
