"""Loaders and trace cleaning: round trips, time zones, gaps, duplicates, real exports."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from eventsim.carbon import (
    clean_trace,
    load_csv,
    load_electricitymaps_csv,
    load_uk_carbon_intensity_json,
    load_watttime_csv,
    make_trace,
    resample_trace,
    to_grid,
    write_csv,
)
from eventsim.exceptions import DataFormatError


def test_csv_round_trip(tmp_path):
    trace = make_trace(datetime(2020, 3, 28), np.linspace(50, 400, 100), 900)
    write_csv(trace, tmp_path / "t.csv")
    assert_frame_equal(load_csv(tmp_path / "t.csv"), trace)


def test_naive_local_times_convert_to_utc(tmp_path):
    path = tmp_path / "local.csv"
    path.write_text("time,v\n2021-07-01 12:00,1\n2021-07-01 13:00,2\n")
    trace = load_csv(path, tz="Europe/Berlin")
    assert trace["timestamp"][0] == datetime.fromisoformat("2021-07-01T10:00:00+00:00")


def test_offsets_in_text_are_honoured(tmp_path):
    path = tmp_path / "off.csv"
    path.write_text("time,v\n2021-01-01T01:00:00+01:00,1\n2021-01-01T02:00:00+01:00,2\n")
    assert load_csv(path)["timestamp"][0] == datetime.fromisoformat("2021-01-01T00:00:00+00:00")


def test_dst_ambiguous_local_time_raises_then_resolves(tmp_path):
    path = tmp_path / "dst.csv"
    path.write_text("time,v\n2021-10-31 01:30,1\n2021-10-31 02:30,2\n2021-10-31 03:30,3\n")
    with pytest.raises(DataFormatError, match="ambiguous"):
        load_csv(path, tz="Europe/Berlin")
    trace = load_csv(path, tz="Europe/Berlin", ambiguous="earliest", gaps="keep")
    assert trace.height == 3


def test_duplicates_error_or_documented_fill():
    t = make_trace(datetime(2021, 1, 1), [10.0, 20.0], 3600)
    dup = pl.concat([t, t.head(1).with_columns(pl.lit(30.0).alias("intensity_g_per_kwh"))])
    with pytest.raises(DataFormatError, match="1 duplicate timestamps"):
        clean_trace(dup)
    assert clean_trace(dup, duplicates="mean")["intensity_g_per_kwh"].to_list() == [20.0, 20.0]
    assert clean_trace(dup, duplicates="last")["intensity_g_per_kwh"].to_list() == [30.0, 20.0]


def test_gaps_error_or_fill():
    t = make_trace(datetime(2021, 1, 1), [10.0, 20.0, 30.0, 60.0], 3600)
    holed = t.filter(pl.col("intensity_g_per_kwh").is_in([20.0, 30.0]).not_())
    with pytest.raises(DataFormatError, match="1 irregular steps"):
        clean_trace(holed, step_s=3600)
    assert clean_trace(holed, gaps="ffill", step_s=3600)["intensity_g_per_kwh"].to_list() == [
        10.0,
        10.0,
        10.0,
        60.0,
    ]
    filled = clean_trace(holed, gaps="interpolate", step_s=3600)
    assert filled["intensity_g_per_kwh"].to_list() == [
        10.0,
        26.666666666666668,
        43.333333333333336,
        60.0,
    ]


def test_resample_preserves_the_mean():
    rng = np.random.default_rng(0)
    t = make_trace(datetime(2021, 1, 1), rng.uniform(50, 300, 96), 900)
    hourly = resample_trace(t, 3600)
    assert hourly.height == 24
    assert hourly["intensity_g_per_kwh"].mean() == pytest.approx(t["intensity_g_per_kwh"].mean())


def test_grid_outside_trace_raises():
    t = make_trace(datetime(2021, 1, 1), [1.0, 2.0], 3600)
    with pytest.raises(DataFormatError, match="trace covers"):
        to_grid(t, datetime(2021, 1, 1), 3, 3600)


def test_electricitymaps_zones(tmp_path):
    path = tmp_path / "em.csv"
    path.write_text(
        "Datetime (UTC),Zone Id,Carbon Intensity gCO₂eq/kWh (direct),"
        "Carbon Intensity gCO₂eq/kWh (LCA)\n"
        "2021-01-01 00:00:00,DE,300,350\n2021-01-01 00:00:00,FR,30,50\n"
    )
    with pytest.raises(DataFormatError, match="pick one with zone="):
        load_electricitymaps_csv(path)
    assert (
        load_electricitymaps_csv(path, zone="FR", kind="direct")["intensity_g_per_kwh"].item()
        == 30.0
    )


def test_watttime_v3_units_and_region(tmp_path):
    path = tmp_path / "wt.csv"
    path.write_text(
        "point_time,value,region\n2023-01-01T00:00:00Z,1000,CAISO_NORTH\n"
        "2023-01-01T00:05:00Z,500,CAISO_NORTH\n2023-01-01T00:00:00Z,1,PJM\n"
    )
    trace = load_watttime_csv(path, region="CAISO_NORTH")
    assert trace["intensity_g_per_kwh"].to_list() == pytest.approx([453.59237, 226.796185])


def test_uk_regional_json(tmp_path):
    rows = [
        {"from": f"2021-01-01T0{h}:00Z", "to": "x", "intensity": {"forecast": 100 + h}}
        for h in range(3)
    ]
    doc = {"data": [{"regionid": 1, "shortname": "North Scotland", "data": rows}]}
    path = tmp_path / "uk.json"
    path.write_text(json.dumps(doc))
    trace = load_uk_carbon_intensity_json(path, field="forecast")
    assert trace["intensity_g_per_kwh"].to_list() == [100.0, 101.0, 102.0]


def test_shared_lwa_means_match_the_paper(shared_data):
    # Table A of the carbon README (2020, :00 and :30 rows)
    expected = {"ger_ci.csv": 313.396, "gb_ci.csv": 212.942, "fr_ci.csv": 56.337}
    for name, mean in expected.items():
        trace = load_csv(shared_data / "carbon" / "lets-wait-awhile" / name, gaps="keep")
        year = trace.filter(
            pl.col("timestamp").is_between(
                pl.datetime(2020, 1, 1, time_zone="UTC"), pl.datetime(2021, 1, 1, time_zone="UTC")
            ),
            pl.col("timestamp").dt.minute() % 30 == 0,
        )
        assert year.height == 17569
        assert year["intensity_g_per_kwh"].mean() == pytest.approx(mean, abs=5e-4)


def test_shared_ciso_empty_rows(shared_data):
    path = shared_data / "carbon" / "sustaindc" / "CISO_2022_hourly_avgCI.csv"
    with pytest.raises(DataFormatError, match="3 null values"):
        load_csv(path, value_column="avg_CI")
    trace = load_csv(path, value_column="avg_CI", gaps="interpolate")
    assert trace.height == 8760
    assert trace["intensity_g_per_kwh"].null_count() == 0


def test_shared_watttime_example_by_position(shared_data):
    trace = load_watttime_csv(
        shared_data / "carbon" / "vessim" / "watttime_example.csv", units="g_per_kwh"
    )
    assert trace.height == 8928
    assert trace["intensity_g_per_kwh"].mean() == pytest.approx(355.33, abs=0.01)
