"""The sink gathers delivery columns lazily; storage moved by retention must not corrupt them."""

from __future__ import annotations

import polars as pl

import eventsim as es


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
