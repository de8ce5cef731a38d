"""The vectorised CRC-32 equals zlib's, so partitions do not depend on how keys were hashed."""

from __future__ import annotations

import zlib

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from eventsim.log import EventLog
from eventsim.log.crc32 import crc32_many
from eventsim.log.event_log import partition_for_key as partition_for


@given(st.lists(st.one_of(st.none(), st.text(max_size=40)), max_size=60), st.integers(0, 5))
def test_crc32_many_equals_zlib_on_any_text_and_slice(values, skip):
    series = pl.Series(values, dtype=pl.String).slice(min(skip, len(values)))
    expected = [zlib.crc32((v or "").encode("utf-8")) for v in series.to_list()]
    assert crc32_many(series).tolist() == expected


def test_bulk_and_single_appends_partition_keys_alike():
    log = EventLog(partitions=7)
    keys = [f"member-{i}" for i in range(500)] + ["ü-ß", ""]
    codes = log.strings.encode_series(pl.Series(keys))
    topic = log.create_topic("t")
    parts = log.partitions_for_codes(codes, topic)  # > 64 new keys: the vectorised path
    assert parts.tolist() == [partition_for(k, 7) for k in keys]
    single = EventLog(partitions=7)
    offsets = [single.append("t", k, {"x": 1}) for k in keys]  # one key at a time: zlib
    assert [o.partition for o in offsets] == parts.tolist()


def test_unkeyed_records_round_robin_and_keyed_ones_hash():
    log = EventLog(partitions=3)
    codes = log.strings.encode_series(pl.Series(["a", None, "b", None, None]))
    parts = log.partitions_for_codes(codes, log.create_topic("t"))
    assert parts[[0, 2]].tolist() == [partition_for("a", 3), partition_for("b", 3)]
    assert sorted(parts[[1, 3, 4]].tolist()) == [0, 1, 2]
    assert np.issubdtype(parts.dtype, np.integer)
