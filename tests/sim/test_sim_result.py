"""RunResult files: an exact Parquet round trip, atomic writes, clear errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from eventsim import ConsumerGroupConfig, IncidentSpec, RunResult, Scenario, run
from eventsim.exceptions import DataFormatError
from eventsim.sim.result import read_run_metadata


@pytest.fixture(scope="module")
def result() -> RunResult:
    sc = Scenario(
        duration="20s",
        seed=4,
        params={"rate_per_s": 100.0, "n_keys": 30},
        consumers=(ConsumerGroupConfig(name="a"), ConsumerGroupConfig(name="b", members=2)),
        incidents=(
            IncidentSpec("hot_key", start_s=2.0, duration_s=3.0, intensity=1.0),
            IncidentSpec("outage", start_s=8.0, duration_s=2.0),
        ),
        drain="3s",
    )
    return run(sc, progress=False)


def _frames(res: RunResult) -> dict[str, pl.DataFrame]:
    return {
        f.name: getattr(res, f.name)
        for f in dataclasses.fields(res)
        if isinstance(getattr(res, f.name), pl.DataFrame)
    }


def test_round_trip_is_exact(result: RunResult, tmp_path: Path) -> None:
    path = result.write_parquet(tmp_path / "run.parquet")
    assert path == tmp_path / "run.parquet"
    back = RunResult.read_parquet(path)
    assert back.scenario == result.scenario
    assert back.scenario.key() == result.scenario.key()
    frames = _frames(result)
    assert {"events", "deliveries", "incidents", "metrics"} <= set(frames)
    for name, frame in frames.items():
        assert_frame_equal(getattr(back, name), frame)
    assert back.summary() == result.summary()


def test_files_beside_the_events_file(result: RunResult, tmp_path: Path) -> None:
    result.write_parquet(tmp_path / "run.parquet")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "run.parquet" in names
    for frame in ("deliveries", "incidents", "metrics"):
        assert f"run.{frame}.parquet" in names
    assert not [n for n in names if n.endswith(".tmp")]


def test_metadata_without_reading_data(result: RunResult, tmp_path: Path) -> None:
    result.write_parquet(tmp_path / "run.parquet")
    toml, summary, rows = read_run_metadata(tmp_path / "run.parquet")
    assert toml == result.scenario.to_toml()
    assert summary == result.summary()
    assert rows == result.events.height


def test_reading_a_foreign_file_is_a_data_format_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain.parquet"
    pl.DataFrame({"x": [1]}).write_parquet(plain)
    with pytest.raises(DataFormatError, match="not an eventsim run"):
        RunResult.read_parquet(plain)
    with pytest.raises(DataFormatError, match="not an eventsim run"):
        read_run_metadata(plain)
    with pytest.raises(DataFormatError, match="does not exist"):
        RunResult.read_parquet(tmp_path / "missing.parquet")


class _Boom(RuntimeError):
    pass


def test_failing_write_leaves_the_previous_events_file(
    result: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    path = tmp_path / "run.parquet"
    earlier = dataclasses.replace(result, deliveries=result.deliveries.head(3))  # another run
    earlier.write_parquet(path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert len(before) > 1  # the events file and its side frames
    real = pq.write_table
    calls = []

    def write_table(table: object, where: object, **kwargs: object) -> None:
        calls.append(where)
        if b"eventsim.scenario" in (table.schema.metadata or {}):  # the events file
            Path(str(where)).write_bytes(b"PAR1 half")
            raise _Boom("disk full")
        real(table, where, **kwargs)

    monkeypatch.setattr(pq, "write_table", write_table)
    with pytest.raises(_Boom):
        result.write_parquet(path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # side frames too
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()
    assert_frame_equal(RunResult.read_parquet(path).deliveries, earlier.deliveries)


def test_failing_first_write_leaves_nothing(
    result: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    def write_table(table: object, where: object, **kwargs: object) -> None:
        Path(str(where)).write_bytes(b"PAR1 half")
        raise _Boom("disk full")

    monkeypatch.setattr(pq, "write_table", write_table)
    with pytest.raises(_Boom):
        result.write_parquet(tmp_path / "run.parquet")
    assert list(tmp_path.iterdir()) == []
