"""Carbon-intensity traces: the trace frame, cleaning (gaps, duplicates), resampling, grids.

A trace is a polars frame with two columns, sorted by time with unique timestamps:

timestamp : Datetime("us", "UTC")
    Start of the interval the value applies to (a step function until the next row).
intensity_g_per_kwh : Float64
    Grid carbon intensity in gCO2eq/kWh.

Every loader returns this frame; :func:`clean_trace` enforces it and handles gaps and
duplicates (by raising or by a documented fill); :func:`to_grid` turns a trace into a numpy
array over a simulation's slot grid (slot mean of the step function).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from eventsim.exceptions import DataFormatError

__all__ = [
    "TRACE_SCHEMA",
    "clean_trace",
    "make_trace",
    "resample_trace",
    "to_grid",
    "trace_step_s",
]

TRACE_SCHEMA: dict[str, pl.DataType] = {
    "timestamp": pl.Datetime("us", "UTC"),
    "intensity_g_per_kwh": pl.Float64(),
}

_DUPLICATES = ("error", "mean", "first", "last")
_GAPS = ("error", "ffill", "interpolate", "keep")


def make_trace(start: datetime, values: np.ndarray | list[float], step_s: float) -> pl.DataFrame:
    """A trace from regular ``values`` starting at ``start`` (naive = UTC) every ``step_s``.

    Examples
    --------
    >>> make_trace(datetime(2020, 1, 1), [100.0, 80.0], 1800).shape
    (2, 2)
    """
    start = _as_utc(start)
    offsets_us = np.round(np.arange(len(values)) * step_s * 1e6).astype("timedelta64[us]")
    naive = np.datetime64(start.replace(tzinfo=None), "us") + offsets_us
    times = pl.Series("timestamp", naive).dt.replace_time_zone("UTC")
    frame = pl.DataFrame(
        {"timestamp": times, "intensity_g_per_kwh": np.asarray(values, dtype=np.float64)}
    )
    return frame.cast(TRACE_SCHEMA)  # type: ignore[arg-type]


def _as_utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def trace_step_s(trace: pl.DataFrame) -> float:
    """The most common spacing between rows, in seconds.

    Examples
    --------
    >>> trace_step_s(make_trace(datetime(2020, 1, 1), [1.0, 2.0, 3.0], 900))
    900.0
    """
    if trace.height < 2:
        msg = f"trace needs at least 2 rows to infer its step; got {trace.height}"
        raise DataFormatError(msg)
    diffs = trace["timestamp"].diff().drop_nulls().dt.total_microseconds()
    return float(diffs.mode().min()) / 1e6  # type: ignore[arg-type]


def clean_trace(
    trace: pl.DataFrame,
    *,
    duplicates: str = "error",
    gaps: str = "error",
    step_s: float | None = None,
) -> pl.DataFrame:
    """Sort, de-duplicate and gap-check a trace; return it in the trace schema.

    Parameters
    ----------
    trace
        Frame with ``timestamp`` (Datetime, naive = UTC) and ``intensity_g_per_kwh``.
    duplicates
        What to do with repeated timestamps: ``"error"``, ``"mean"``, ``"first"``, ``"last"``.
    gaps
        Missing steps or null values: ``"error"``; ``"ffill"`` (repeat the last value);
        ``"interpolate"`` (linear in time); ``"keep"`` (leave nulls dropped and steps missing:
        the step function then holds the last value across the gap, as ``to_grid`` reads it).
    step_s
        Expected spacing; inferred as the most common one when None.

    Returns
    -------
    polars.DataFrame
        ``timestamp`` Datetime("us", "UTC"), ``intensity_g_per_kwh`` Float64.

    Raises
    ------
    DataFormatError
        Missing columns, negative values, or duplicates/gaps under ``"error"``.

    Examples
    --------
    >>> t = make_trace(datetime(2020, 1, 1), [10.0, 20.0, 40.0], 3600)
    >>> holed = t.filter(pl.col("intensity_g_per_kwh") != 20.0)
    >>> clean_trace(holed, gaps="interpolate", step_s=3600)["intensity_g_per_kwh"].to_list()
    [10.0, 25.0, 40.0]
    >>> clean_trace(pl.concat([t, t]))
    Traceback (most recent call last):
    ...
    eventsim.exceptions.DataFormatError: trace has 3 duplicate timestamps (first 2020-01-01 ...
    """
    _check_choice("duplicates", duplicates, _DUPLICATES)
    _check_choice("gaps", gaps, _GAPS)
    missing = [c for c in TRACE_SCHEMA if c not in trace.columns]
    if missing:
        msg = f"trace is missing column(s) {missing}; columns are {trace.columns}"
        raise DataFormatError(msg)
    frame = trace.select(list(TRACE_SCHEMA))
    ts = frame["timestamp"]
    if not isinstance(ts.dtype, pl.Datetime):
        msg = f"trace column 'timestamp' must be Datetime; got {ts.dtype}"
        raise DataFormatError(msg)
    if ts.dtype.time_zone is None:  # type: ignore[union-attr]
        frame = frame.with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))
    frame = frame.with_columns(
        pl.col("timestamp").dt.convert_time_zone("UTC").dt.cast_time_unit("us"),
        pl.col("intensity_g_per_kwh").cast(pl.Float64),
    ).sort("timestamp")
    if frame["timestamp"].null_count():
        msg = f"trace has {frame['timestamp'].null_count()} null timestamps; drop them first"
        raise DataFormatError(msg)
    frame = _dedupe(frame, duplicates)
    negative = frame.filter(pl.col("intensity_g_per_kwh") < 0)
    if negative.height:
        value, when = negative.item(0, 1), negative.item(0, 0)
        msg = f"intensity_g_per_kwh must be >= 0; got {value!r} at {when}"
        raise DataFormatError(msg)
    return _fill_gaps(frame, gaps, step_s)


def _check_choice(field: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        msg = f"{field} must be one of {', '.join(map(repr, allowed))}; got {value!r}"
        raise DataFormatError(msg)


def _dedupe(frame: pl.DataFrame, duplicates: str) -> pl.DataFrame:
    n_dup = frame.height - frame["timestamp"].n_unique()
    if not n_dup:
        return frame
    if duplicates == "error":
        first = frame.filter(pl.col("timestamp").is_duplicated())["timestamp"][0]
        msg = (
            f"trace has {n_dup} duplicate timestamps (first {first}); "
            "set duplicates= to one of 'mean', 'first', 'last'"
        )
        raise DataFormatError(msg)
    agg = {
        "mean": pl.col("intensity_g_per_kwh").mean(),
        "first": pl.col("intensity_g_per_kwh").drop_nulls().first(),
        "last": pl.col("intensity_g_per_kwh").drop_nulls().last(),
    }[duplicates]
    return frame.group_by("timestamp", maintain_order=True).agg(agg).sort("timestamp")


def _fill_gaps(frame: pl.DataFrame, gaps: str, step_s: float | None) -> pl.DataFrame:
    if frame.height < 2:
        return frame.drop_nulls()
    step = step_s if step_s is not None else trace_step_s(frame.drop_nulls())
    step_us = round(step * 1e6)
    n_null = frame["intensity_g_per_kwh"].null_count()
    off_grid = frame["timestamp"].diff().drop_nulls().dt.total_microseconds() != step_us
    n_holes = int(off_grid.sum())
    if gaps == "keep":
        return frame.drop_nulls()
    if not (n_null or n_holes):
        return frame
    if gaps == "error":
        msg = (
            f"trace has {n_null} null values and {n_holes} irregular steps (expected "
            f"{step:g} s); set gaps= to one of 'ffill', 'interpolate', 'keep'"
        )
        raise DataFormatError(msg)
    grid = frame.drop_nulls().upsample("timestamp", every=f"{step_us}us")
    # upsample keeps the original off-grid rows only if aligned; rebuild on the regular grid
    col = pl.col("intensity_g_per_kwh")
    filled = grid.with_columns(
        col.forward_fill() if gaps == "ffill" else col.interpolate_by("timestamp")
    )
    return filled.select(list(TRACE_SCHEMA))


def resample_trace(trace: pl.DataFrame, step_s: float) -> pl.DataFrame:
    """Resample to ``step_s``: time-weighted slot means when coarser, step-hold when finer.

    Examples
    --------
    >>> t = make_trace(datetime(2020, 1, 1), [10.0, 20.0, 30.0, 40.0], 1800)
    >>> resample_trace(t, 3600)["intensity_g_per_kwh"].to_list()
    [15.0, 35.0]
    >>> resample_trace(t, 900)["intensity_g_per_kwh"].to_list()[:3]
    [10.0, 10.0, 20.0]
    """
    own = trace_step_s(trace)
    start = trace["timestamp"][0]
    span_s = (trace["timestamp"][-1] - start).total_seconds() + own
    n = int(span_s // step_s)
    values = to_grid(trace, start, n, step_s)
    return make_trace(start, values, step_s)


def to_grid(trace: pl.DataFrame, start: datetime, n_slots: int, slot_s: float) -> np.ndarray:
    """Mean intensity of the trace's step function over each slot ``[start + i*slot_s, +slot_s)``.

    The trace's last row is taken to last one of its own steps. Raises if the grid reaches
    outside the trace.

    Examples
    --------
    >>> t = make_trace(datetime(2020, 1, 1), [10.0, 20.0, 30.0, 40.0], 1800)
    >>> to_grid(t, datetime(2020, 1, 1, 0, 30), 2, 2700).round(2).tolist()
    [23.33, 36.67]
    """
    start = _as_utc(start)
    ts = trace["timestamp"].dt.epoch("us").to_numpy().astype(np.float64) / 1e6
    vals = trace["intensity_g_per_kwh"].to_numpy().astype(np.float64)
    own = trace_step_s(trace) if trace.height > 1 else slot_s
    t0 = start.timestamp()
    t1 = t0 + n_slots * slot_s
    if t0 < ts[0] - 1e-6 or t1 > ts[-1] + own + 1e-6:
        first = datetime.fromtimestamp(ts[0], UTC)
        last = datetime.fromtimestamp(ts[-1] + own, UTC)
        want = f"{datetime.fromtimestamp(t0, UTC)} to {datetime.fromtimestamp(t1, UTC)}"
        msg = f"trace covers {first} to {last}; the slot grid needs {want}"
        raise DataFormatError(msg)
    # integral of the step function, evaluated at the slot edges
    knots = np.append(ts, ts[-1] + own)
    cum = np.concatenate([[0.0], np.cumsum(vals * np.diff(knots))])
    edges = t0 + slot_s * np.arange(n_slots + 1)
    idx = np.clip(np.searchsorted(knots, edges, side="right") - 1, 0, len(vals) - 1)
    integral = cum[idx] + vals[idx] * (edges - knots[idx])
    return np.diff(integral) / slot_s
