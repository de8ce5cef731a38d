"""Columnar storage: the ``to_polars()`` schema, exact Parquet round trips, atomic writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from eventsim.exceptions import DataFormatError
from eventsim.log import EventLog
from eventsim.log.dictionary import Dictionary
from eventsim.sim.rng import RngStreams
from eventsim.workloads.synthetic import Synthetic

CORE_SCHEMA = {
    "topic": pl.String,
    "partition": pl.Int32,
    "offset": pl.Int64,
    "event_id": pl.Int64,
    "timestamp_s": pl.Float64,
    "append_s": pl.Float64,
    "key": pl.String,
    "event_type": pl.String,
    "payload_bytes": pl.Int32,
    "tombstone": pl.Boolean,
}


def _synthetic_log(seconds: float = 5.0, partitions: int = 4) -> EventLog:
    params = {"rate_per_s": 200, "topics": ("a", "b"), "topic_mix": (0.7, 0.3)}
    events = Synthetic(params).generate(seconds, RngStreams(3)).events
    log = EventLog(partitions=partitions)
    for name in ("a", "b"):
        frame = events.filter(pl.col("topic") == name)
        frame = frame.with_columns(event_id=pl.int_range(pl.len(), dtype=pl.Int64))
        log.append_frame(name, frame, append_s=seconds)
    return log


def _mixed_log() -> EventLog:
    """Payload columns that come and go: nullable ints, floats, bools and strings."""
    log = EventLog(partitions=2)
    log.append("orders", "u1", {"total": 9.5, "currency": "EUR", "items": 2}, timestamp_s=0.0)
    log.append("orders", "u2", {"total": 3.0, "paid": True}, timestamp_s=1.0)
    log.append("orders", None, {"items": 1, "currency": "USD"}, timestamp_s=2.0)
    log.append("orders", "u1", None, timestamp_s=3.0)
    log.append("users", "u1", {"name": "Ada", "age": 36}, timestamp_s=4.0, event_type="signup")
    log.append("users", "u3", {"age": 41}, timestamp_s=5.0, event_type="signup", event_id=7)
    log.append("users", "u3", {"name": "Lin"}, timestamp_s=6.0, event_type="rename")
    return log


def _offsets(log: EventLog) -> dict[tuple[str, int], tuple[int, int]]:
    return {(p.topic, p.index): (p.start_offset, p.end_offset) for p in log}


def _round_trip(log: EventLog, path: Path) -> EventLog:
    log.write_parquet(path)
    back = EventLog.read_parquet(path)
    assert_frame_equal(back.to_polars(), log.to_polars())
    assert _offsets(back) == _offsets(log)
    return back


# -- schema ---------------------------------------------------------------------------------------
def test_to_polars_schema_is_the_documented_one() -> None:
    frame = _synthetic_log().to_polars()
    assert frame.schema == pl.Schema({**CORE_SCHEMA, "latency_ms": pl.Float32})


def test_to_polars_of_an_empty_log_has_the_core_schema() -> None:
    assert EventLog().to_polars().schema == pl.Schema(CORE_SCHEMA)


def test_to_polars_rows_are_ordered_by_topic_partition_offset() -> None:
    frame = _synthetic_log().to_polars()
    assert_frame_equal(frame, frame.sort("topic", "partition", "offset"))
    assert frame.height == len(_synthetic_log())
    assert frame.select(pl.col("offset").min().over("topic", "partition") == 0).to_series().all()


def test_to_polars_values_of_the_mixed_log() -> None:
    frame = _mixed_log().to_polars()
    assert frame.columns == [*CORE_SCHEMA, "total", "currency", "items", "paid", "name", "age"]
    assert frame.schema["currency"] == pl.String
    assert frame.schema["paid"] == pl.Boolean
    rows = frame.sort("timestamp_s").select(
        "key", "event_type", "tombstone", "total", "currency", "items", "paid", "name", "age"
    )
    assert rows.rows() == [
        ("u1", None, False, 9.5, "EUR", 2, None, None, None),
        ("u2", None, False, 3.0, None, None, True, None, None),
        (None, None, False, None, "USD", 1, None, None, None),
        ("u1", None, True, None, None, None, None, None, None),
        ("u1", "signup", False, None, None, None, None, "Ada", 36),
        ("u3", "signup", False, None, None, None, None, None, 41),
        ("u3", "rename", False, None, None, None, None, "Lin", None),
    ]
    assert frame.filter(pl.col("event_id") == 7)["key"].to_list() == ["u3"]


def test_one_topic_frame() -> None:
    log = _mixed_log()
    frame = log.to_polars("users")
    assert frame["topic"].unique().to_list() == ["users"]
    assert frame.height == 3


def test_dictionary_round_trips_strings_and_nulls() -> None:
    d = Dictionary()
    s = pl.Series(["x", None, "y", "x", None], dtype=pl.String)
    codes = d.encode_series(s)
    assert codes.tolist() == [0, -1, 1, 0, -1]
    assert_frame_equal(d.decode(codes).to_frame("v"), s.to_frame("v"))
    assert d.encode_series(pl.Series([None, None], dtype=pl.String)).tolist() == [-1, -1]
    assert d.decode(np.array([], dtype=np.int32)).to_list() == []


# -- Parquet round trips ---------------------------------------------------------------------------
def test_parquet_round_trip_synthetic(tmp_path: Path) -> None:
    _round_trip(_synthetic_log(), tmp_path / "log.parquet")


def test_parquet_round_trip_with_nullable_payload_columns(tmp_path: Path) -> None:
    _round_trip(_mixed_log(), tmp_path / "log.parquet")


def test_parquet_round_trip_after_compaction(tmp_path: Path) -> None:
    log = _mixed_log()
    assert log.compact(100.0, delete_retention_s=10.0) > 0
    back = _round_trip(log, tmp_path / "log.parquet")
    offsets = back.to_polars().filter(pl.col("topic") == "users")["offset"].to_list()
    assert offsets == log.to_polars().filter(pl.col("topic") == "users")["offset"].to_list()


def test_parquet_round_trip_after_retention(tmp_path: Path) -> None:
    log = _synthetic_log()
    removed = log.enforce_retention(0.0, retention_records=50)
    assert removed > 0
    back = _round_trip(log, tmp_path / "log.parquet")
    assert sum(p.start_offset for p in back) == removed


def test_parquet_round_trip_when_retention_emptied_the_log(tmp_path: Path) -> None:
    log = _synthetic_log()
    log.enforce_retention(1000.0, retention_s=1.0)
    assert len(log) == 0
    _round_trip(log, tmp_path / "log.parquet")


def test_parquet_round_trip_of_an_empty_log(tmp_path: Path) -> None:
    _round_trip(EventLog(partitions=3), tmp_path / "log.parquet")


def test_read_log_keeps_appending_at_the_end(tmp_path: Path) -> None:
    log = _mixed_log()
    back = _round_trip(log, tmp_path / "log.parquet")
    assert back.append("users", "u3", {"age": 42}) == log.append("users", "u3", {"age": 42})
    assert_frame_equal(back.to_polars(), log.to_polars())


def test_reading_a_missing_or_foreign_file_is_a_data_format_error(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="does not exist"):
        EventLog.read_parquet(tmp_path / "none.parquet")
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    with pytest.raises(DataFormatError, match="not a readable Parquet file"):
        EventLog.read_parquet(junk)
    empty = tmp_path / "empty.parquet"
    empty.touch()
    with pytest.raises(DataFormatError, match="is empty"):
        EventLog.read_parquet(empty)
    plain = tmp_path / "plain.parquet"
    pl.DataFrame({"x": [1]}).write_parquet(plain)
    with pytest.raises(DataFormatError, match="not an eventsim event log"):
        EventLog.read_parquet(plain)


# -- atomic writes ---------------------------------------------------------------------------------
class _Boom(RuntimeError):
    pass


def _failing_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make pyarrow write half a file, then fail."""
    import pyarrow.parquet as pq

    def write_table(table: object, where: object, **kwargs: object) -> None:
        Path(str(where)).write_bytes(b"PAR1 half a file")
        raise _Boom("disk full")

    monkeypatch.setattr(pq, "write_table", write_table)


def test_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_writer(monkeypatch)
    with pytest.raises(_Boom):
        _mixed_log().write_parquet(tmp_path / "log.parquet")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "log.parquet"
    _mixed_log().write_parquet(path)
    before = path.read_bytes()
    _failing_writer(monkeypatch)
    with pytest.raises(_Boom):
        _synthetic_log().write_parquet(path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]
    monkeypatch.undo()
    assert_frame_equal(EventLog.read_parquet(path).to_polars(), _mixed_log().to_polars())
