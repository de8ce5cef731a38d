"""to_polars builds a topic's frame at once; it must equal its partitions' frames stacked."""

from __future__ import annotations

import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

from eventsim.log import EventLog


def test_topic_frame_equals_partition_frames_stacked() -> None:
    rng = np.random.default_rng(5)
    n = 600
    frame = pl.DataFrame(
        {
            "timestamp_s": np.sort(rng.uniform(0, 5, n)),
            "key": [None if i % 7 == 0 else f"k{i % 23}" for i in range(n)],
            "event_type": [("a", "b", None)[i % 3] for i in range(n)],
            "region": [("eu", None, "us", "apac")[i % 4] for i in range(n)],
            "amount": [None if i % 5 == 0 else float(i) for i in range(n)],
        }
    )
    log = EventLog(partitions=4)
    log.append_frame("t", frame.head(300), append_s=6.0)
    log.append_frame("t", frame.tail(300), append_s=7.0)
    log.append("u", key="x", value={"other": 1})  # another topic, another layout
    got = log.to_polars()
    stacked = pl.concat([log.partition_frame(p) for p in log], how="diagonal_relaxed")
    assert_frame_equal(got, stacked)
    assert got.filter(pl.col("topic") == "t").height == n
    assert got["region"].null_count() == n // 4 + 1  # and the "u" row lacks it
    assert got["amount"].null_count() == n // 5 + 1  # and the "u" row lacks it


def test_partitions_with_different_columns_fall_back() -> None:
    log = EventLog(partitions=2)
    log.append("t", key="a", value={"x": 1.0})
    log.append("t", key="d", value={"y": "s"})  # "a" and "d" land in different partitions
    p0, p1 = log.topics["t"].partitions
    assert len(p0) == len(p1) == 1
    assert p0.columns != p1.columns
    got = log.to_polars()
    stacked = pl.concat([log.partition_frame(p) for p in log], how="diagonal_relaxed")
    assert_frame_equal(got, stacked)
    assert got.height == 2
