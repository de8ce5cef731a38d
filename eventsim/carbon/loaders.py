"""Loaders of carbon-intensity traces: generic CSV, Electricity Maps, WattTime, UK National Grid.

Each loader returns a trace frame (``timestamp`` Datetime("us", "UTC"),
``intensity_g_per_kwh`` Float64; see :mod:`eventsim.carbon.trace`) after
:func:`~eventsim.carbon.trace.clean_trace`, whose ``duplicates=`` and ``gaps=`` options every
loader passes through (default: raise on either).

Time zones: timestamps with an offset are converted to UTC. Naive timestamps are read in the
zone ``tz`` (default ``"UTC"``); for a local zone, times repeated at the autumn DST change are
resolved by ``ambiguous=`` (``"raise"``, ``"earliest"``, ``"latest"``) and times skipped in
spring raise.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from eventsim.carbon.trace import clean_trace
from eventsim.exceptions import DataFormatError

__all__ = [
    "LBS_PER_MWH_TO_G_PER_KWH",
    "load_csv",
    "load_electricitymaps_csv",
    "load_uk_carbon_intensity_json",
    "load_watttime_csv",
    "write_csv",
]

LBS_PER_MWH_TO_G_PER_KWH = 0.45359237
"""1 lb/MWh = 453.59237 g / 1000 kWh (WattTime reports MOER in lbs CO2/MWh)."""

_EM_TIME = ("Datetime (UTC)", "datetime")
_EM_VALUE = {
    "lca": (
        "Carbon Intensity gCO₂eq/kWh (LCA)",
        "Carbon Intensity gCO2eq/kWh (LCA)",
        "carbon_intensity_avg",
    ),
    "direct": (
        "Carbon Intensity gCO₂eq/kWh (direct)",
        "Carbon Intensity gCO2eq/kWh (direct)",
        "carbon_intensity_direct_avg",
    ),
}


def _parse_time(col: pl.Series, tz: str, ambiguous: str, fmt: str | None = None) -> pl.Series:
    """Strings or datetimes → Datetime("us", "UTC")."""
    if col.dtype == pl.String:
        try:
            parsed = col.str.to_datetime(format=fmt, time_unit="us", strict=True)
        except pl.exceptions.PolarsError as exc:
            msg = f"cannot parse timestamps of column {col.name!r} (first value {col[0]!r}): {exc}"
            raise DataFormatError(msg.splitlines()[0]) from None
    elif isinstance(col.dtype, pl.Datetime):
        parsed = col
    else:
        msg = f"timestamp column {col.name!r} must hold text or datetimes; got {col.dtype}"
        raise DataFormatError(msg)
    if parsed.dtype.time_zone is None:  # type: ignore[union-attr]
        try:
            parsed = parsed.dt.replace_time_zone(tz, ambiguous=ambiguous, non_existent="raise")
        except pl.exceptions.PolarsError as exc:
            msg = f"timestamps in {tz!r} are ambiguous or non-existent (DST): {exc}; set ambiguous="
            raise DataFormatError(msg.splitlines()[0]) from None
    return parsed.dt.convert_time_zone("UTC").dt.cast_time_unit("us").alias("timestamp")


def _frame(times: pl.Series, values: pl.Series, scale: float = 1.0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "timestamp": times,
            "intensity_g_per_kwh": values.cast(pl.Float64, strict=False) * scale,
        }
    )


def load_csv(
    path: str | Path,
    *,
    time_column: str | int = 0,
    value_column: str | int = 1,
    tz: str = "UTC",
    ambiguous: str = "raise",
    time_format: str | None = None,
    duplicates: str = "error",
    gaps: str = "error",
) -> pl.DataFrame:
    """Load a generic ``timestamp,value`` CSV (value in gCO2eq/kWh).

    Columns may be named or given by position (the default: first and second).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ci.csv"
    >>> _ = p.write_text("time,ci\\n2020-03-29 00:00,100\\n2020-03-29 01:00,90\\n")
    >>> load_csv(p)["intensity_g_per_kwh"].to_list()
    [100.0, 90.0]
    """
    raw = _read_csv(path)
    times = _column(raw, time_column, path)
    values = _column(raw, value_column, path)
    frame = _frame(_parse_time(times, tz, ambiguous, time_format), values)
    return clean_trace(frame, duplicates=duplicates, gaps=gaps)


def write_csv(trace: pl.DataFrame, path: str | Path) -> None:
    """Write a trace as ``timestamp,intensity_g_per_kwh``, ISO UTC times (``load_csv`` reads it).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from datetime import datetime
    >>> from eventsim.carbon.trace import make_trace
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> t = make_trace(datetime(2020, 1, 1), [1.5, 2.5], 1800)
    >>> write_csv(t, p)
    >>> load_csv(p).equals(t)
    True
    """
    trace.with_columns(pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%S%.f%:z")).write_csv(path)


def _read_csv(path: str | Path) -> pl.DataFrame:
    try:
        return pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        msg = f"cannot read CSV {str(path)!r}: {exc}"
        raise DataFormatError(msg.splitlines()[0]) from None


def _column(raw: pl.DataFrame, which: str | int, path: str | Path) -> pl.Series:
    if isinstance(which, int):
        if which >= raw.width:
            msg = f"column position {which} is out of range in {str(path)!r} ({raw.width} columns)"
            raise DataFormatError(msg)
        return raw.to_series(which)
    if which not in raw.columns:
        msg = f"column {which!r} not in {str(path)!r}; columns are {raw.columns}"
        raise DataFormatError(msg)
    return raw[which]


def _first_present(raw: pl.DataFrame, names: tuple[str, ...], what: str, path: str | Path) -> str:
    for name in names:
        if name in raw.columns:
            return name
    msg = f"no {what} column in {str(path)!r}; expected one of {list(names)}, got {raw.columns}"
    raise DataFormatError(msg)


def load_electricitymaps_csv(
    path: str | Path,
    *,
    kind: str = "lca",
    zone: str | None = None,
    duplicates: str = "error",
    gaps: str = "error",
) -> pl.DataFrame:
    """Load an Electricity Maps export (``Datetime (UTC)``, ``Zone Id``, ``Carbon Intensity ...``).

    Parameters
    ----------
    kind
        ``"lca"`` (life-cycle, the default) or ``"direct"`` (operational) intensity.
    zone
        Keep one ``Zone Id`` when the file holds several.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "em.csv"
    >>> head = "Datetime (UTC),Zone Id,Carbon Intensity gCO₂eq/kWh (direct),"
    >>> head += "Carbon Intensity gCO₂eq/kWh (LCA)"
    >>> rows = "\\n2021-01-01 00:00:00,DE,300,350\\n2021-01-01 01:00:00,DE,310,360\\n"
    >>> _ = p.write_text(head + rows)
    >>> load_electricitymaps_csv(p)["intensity_g_per_kwh"].to_list()
    [350.0, 360.0]
    """
    if kind not in _EM_VALUE:
        msg = f"kind must be one of 'lca', 'direct'; got {kind!r}"
        raise DataFormatError(msg)
    raw = _read_csv(path)
    zone_col = next((c for c in ("Zone Id", "zone_name") if c in raw.columns), None)
    if zone is not None:
        if zone_col is None:
            msg = f"zone={zone!r} given but {str(path)!r} has no 'Zone Id' column"
            raise DataFormatError(msg)
        raw = raw.filter(pl.col(zone_col) == zone)
    elif zone_col is not None and raw[zone_col].n_unique() > 1:
        zones = sorted(raw[zone_col].unique().to_list())
        msg = f"{str(path)!r} holds zones {zones}; pick one with zone="
        raise DataFormatError(msg)
    time_col = _first_present(raw, _EM_TIME, "datetime", path)
    value_col = _first_present(raw, _EM_VALUE[kind], f"{kind} intensity", path)
    frame = _frame(_parse_time(raw[time_col], "UTC", "raise"), raw[value_col])
    return clean_trace(frame, duplicates=duplicates, gaps=gaps)


def load_watttime_csv(
    path: str | Path,
    *,
    units: str = "lbs_per_mwh",
    region: str | None = None,
    duplicates: str = "error",
    gaps: str = "error",
) -> pl.DataFrame:
    """Load a WattTime-style CSV: ``point_time,value[,region,...]`` (v3) or ``timestamp,MOER``.

    Falls back to the first two columns (as in Vessim's ``watttime_example.csv``).

    Parameters
    ----------
    units
        ``"lbs_per_mwh"`` (WattTime's unit for MOER; converted) or ``"g_per_kwh"``.
    region
        Keep one ``region`` when the file holds several.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "wt.csv"
    >>> _ = p.write_text("point_time,value\\n2023-06-08T00:00:00+00:00,1000\\n"
    ...                  "2023-06-08T00:05:00+00:00,900\\n")
    >>> load_watttime_csv(p)["intensity_g_per_kwh"].round(2).to_list()
    [453.59, 408.23]
    """
    scales = {"lbs_per_mwh": LBS_PER_MWH_TO_G_PER_KWH, "g_per_kwh": 1.0}
    if units not in scales:
        msg = f"units must be one of 'lbs_per_mwh', 'g_per_kwh'; got {units!r}"
        raise DataFormatError(msg)
    raw = _read_csv(path)
    if region is not None:
        if "region" not in raw.columns:
            msg = f"region={region!r} given but {str(path)!r} has no 'region' column"
            raise DataFormatError(msg)
        raw = raw.filter(pl.col("region") == region)
    time_col = next((c for c in ("point_time", "timestamp") if c in raw.columns), raw.columns[0])
    value_col = next((c for c in ("value", "MOER") if c in raw.columns), raw.columns[1])
    frame = _frame(_parse_time(raw[time_col], "UTC", "raise"), raw[value_col], scales[units])
    return clean_trace(frame, duplicates=duplicates, gaps=gaps)


def load_uk_carbon_intensity_json(
    path: str | Path,
    *,
    field: str = "actual",
    fill_from_forecast: bool = True,
    duplicates: str = "error",
    gaps: str = "error",
) -> pl.DataFrame:
    """Load a response of the UK National Grid carbon-intensity API (api.carbonintensity.org.uk).

    Reads both the national shape ``{"data": [{"from", "to", "intensity": {"forecast",
    "actual", "index"}}]}`` and the regional shape ``{"data": [{"regionid", ..., "data": [...]}]}``
    (regional entries carry only ``forecast``). ``from`` is the timestamp (UTC, ``...Z``).

    Parameters
    ----------
    field
        ``"actual"`` or ``"forecast"``.
    fill_from_forecast
        Where ``actual`` is null, use ``forecast`` (documented fill); otherwise the null is a gap.

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "uk.json"
    >>> rows = [{"from": "2020-01-01T00:00Z", "to": "2020-01-01T00:30Z",
    ...          "intensity": {"forecast": 200, "actual": 190, "index": "moderate"}},
    ...         {"from": "2020-01-01T00:30Z", "to": "2020-01-01T01:00Z",
    ...          "intensity": {"forecast": 210, "actual": None, "index": "moderate"}}]
    >>> _ = p.write_text(json.dumps({"data": rows}))
    >>> load_uk_carbon_intensity_json(p)["intensity_g_per_kwh"].to_list()
    [190.0, 210.0]
    """
    if field not in ("actual", "forecast"):
        msg = f"field must be one of 'actual', 'forecast'; got {field!r}"
        raise DataFormatError(msg)
    try:
        doc = json.loads(Path(path).read_text())
        data = doc["data"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        msg = f"cannot read UK carbon-intensity JSON {str(path)!r}: {exc!r}"
        raise DataFormatError(msg) from None
    if isinstance(data, dict):
        data = [data]
    if data and "regionid" in data[0]:
        data = [row for region in data for row in region.get("data", [])]
    try:
        starts = [row["from"] for row in data]
        inner = [row["intensity"] for row in data]
    except (KeyError, TypeError) as exc:
        msg = f"UK carbon-intensity JSON {str(path)!r}: entry without {exc}"
        raise DataFormatError(msg) from None
    primary = [entry.get(field) for entry in inner]
    if field == "actual" and fill_from_forecast:
        primary = [a if a is not None else e.get("forecast") for a, e in zip(primary, inner)]
    times = _parse_time(
        pl.Series("from", starts, dtype=pl.String), "UTC", "raise", "%Y-%m-%dT%H:%MZ"
    )
    frame = _frame(times, pl.Series(primary, dtype=pl.Float64))
    return clean_trace(frame, duplicates=duplicates, gaps=gaps)
