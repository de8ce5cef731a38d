"""load_nab: frames, windows, and errors that name the file and line."""

from __future__ import annotations

import json

import polars as pl
import pytest

from eventsim.anomaly import load_nab
from eventsim.anomaly.nab_data import read_nab_results
from eventsim.exceptions import DataFormatError


def test_sample_layout(shared_data):
    corpus = load_nab(shared_data / "nab-sample")
    assert len(corpus) == 6
    taxi = corpus["realKnownCause/nyc_taxi.csv"]
    assert taxi.schema == pl.Schema(
        {
            "timestamp": pl.Datetime("us"),
            "value": pl.Float64,
            "label": pl.Boolean,
            "window": pl.Int32,
        }
    )
    assert taxi.height == 10320
    machine = corpus["realKnownCause/machine_temperature_system_failure.csv"]
    assert machine.height == 22695  # duplicated timestamps kept, file order kept
    assert not machine["timestamp"].is_sorted()
    assert [
        b - a + 1
        for a, b in corpus.window_rows["realKnownCause/machine_temperature_system_failure.csv"]
    ] == [567] * 4
    assert corpus.n_windows() == 15
    assert int(taxi["label"].sum()) == 1035
    assert corpus.window_rows["artificialNoAnomaly/art_daily_small_noise.csv"] == []


def _make(tmp_path, rows, windows):
    (tmp_path / "data" / "g").mkdir(parents=True)
    (tmp_path / "labels").mkdir()
    (tmp_path / "data/g/s.csv").write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    (tmp_path / "labels/combined_windows.json").write_text(json.dumps(windows, indent=4))
    return tmp_path


ROWS = [f"2020-01-01 00:0{m}:00,{m}" for m in range(6)]


def test_missing_labels_file(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(DataFormatError, match=r"combined_windows\.json: not found"):
        load_nab(tmp_path)


def test_bad_timestamp_names_file_and_line(tmp_path):
    rows = [*ROWS[:3], "2020-01-01 0x:03:00,3", *ROWS[4:]]
    root = _make(tmp_path, rows, {"g/s.csv": []})
    with pytest.raises(DataFormatError, match=r"s\.csv, line 5: timestamp '2020-01-01 0x"):
        load_nab(root)


def test_bad_value_names_line(tmp_path):
    root = _make(tmp_path, [*ROWS[:2], "2020-01-01 00:02:00,abc"], {"g/s.csv": []})
    with pytest.raises(DataFormatError, match=r"line 4: value 'abc' is not a number"):
        load_nab(root)


def test_windows_naming_unknown_series(tmp_path):
    root = _make(tmp_path, ROWS, {"g/s.csv": [], "g/other.csv": []})
    with pytest.raises(DataFormatError, match=r"line 3: windows name unknown series 'g/other"):
        load_nab(root)


def test_window_timestamp_absent(tmp_path):
    w = {"g/s.csv": [["2020-01-01 00:02:30.000000", "2020-01-01 00:03:00.000000"]]}
    root = _make(tmp_path, ROWS, w)
    with pytest.raises(DataFormatError, match="00:02:30 is not a timestamp of the series"):
        load_nab(root)


def test_series_without_windows_entry(tmp_path):
    root = _make(tmp_path, ROWS, {})
    with pytest.raises(DataFormatError, match="has no windows entry"):
        load_nab(root)


def test_results_row_count_checked(tmp_path):
    root = _make(tmp_path, ROWS, {"g/s.csv": []})
    corpus = load_nab(root)
    (root / "results/det/g").mkdir(parents=True)
    (root / "results/det/g/det_s.csv").write_text("timestamp,anomaly_score\nx,0.5\n")
    with pytest.raises(DataFormatError, match=r"1 rows but series 'g/s\.csv' has 6"):
        read_nab_results(root / "results", "det", corpus)
