"""Plot helpers shared by the notebooks: they take frames, accept ``ax=None``, return the Axes
and never call ``plt.show()``. matplotlib is imported only when a helper is called."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["event_rates", "plot_event_rates", "plot_lag"]


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(8, 3.5))
    return ax


def event_rates(
    events: pl.DataFrame, *, bin_s: float | None = None, by: str = "topic"
) -> pl.DataFrame:
    """Events per second in time bins, per ``by`` value.

    Returns
    -------
    polars.DataFrame
        ``bin_start_s`` Float64, ``<by>`` String, ``events_per_s`` Float64.

    Examples
    --------
    >>> ev = pl.DataFrame({"timestamp_s": [0.1, 0.2, 1.5], "topic": ["a", "a", "a"]})
    >>> event_rates(ev, bin_s=1.0).rows()
    [(0.0, 'a', 2.0), (1.0, 'a', 1.0)]
    """
    if bin_s is None:
        span = float(events.get_column("timestamp_s").max() or 1.0)
        span = math.ceil(span / 60.0) * 60.0  # whole minutes, so the last bin is not a sliver
        bin_s = max(1.0, span / 200.0)
    return (
        events.group_by(((pl.col("timestamp_s") // bin_s) * bin_s).alias("bin_start_s"), pl.col(by))
        .agg((pl.len() / bin_s).alias("events_per_s"))
        .sort("bin_start_s", by)
    )


def plot_event_rates(
    events: pl.DataFrame, *, ax: Axes | None = None, bin_s: float | None = None, by: str = "topic"
) -> Axes:
    """Line plot of events per second over simulated time, one line per ``by`` value."""
    ax = _axes(ax)
    rates = event_rates(events, bin_s=bin_s, by=by)
    for (name,), part in rates.group_by(by, maintain_order=True):
        ax.plot(part["bin_start_s"] / 60.0, part["events_per_s"], label=str(name), lw=1.2)
    ax.set_xlabel("simulated time (min)")
    ax.set_ylabel("events / s")
    ax.legend(loc="upper right", fontsize="small", ncols=2)
    return ax


def plot_lag(metrics: pl.DataFrame, *, ax: Axes | None = None, group: str | None = None) -> Axes:
    """Consumer lag (records) over simulated time, summed over partitions, per group."""
    ax = _axes(ax)
    lag = metrics.filter(pl.col("metric") == "lag")
    if group is not None:
        lag = lag.filter(pl.col("group") == group)
    total = lag.group_by("time_s", "group").agg(pl.col("value").sum()).sort("time_s")
    for (name,), part in total.group_by("group", maintain_order=True):
        ax.plot(part["time_s"] / 60.0, part["value"], label=str(name), lw=1.2)
    ax.set_xlabel("simulated time (min)")
    ax.set_ylabel("lag (records)")
    ax.legend(loc="upper right", fontsize="small")
    return ax
