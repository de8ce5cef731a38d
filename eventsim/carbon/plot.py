"""Plot helpers for the carbon notebook; each takes ``ax=None`` and returns the Axes.

matplotlib is imported inside each function, so importing ``eventsim.carbon`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_intensity_shape", "plot_job_shift", "plot_savings", "plot_tradeoff"]


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(7, 3.5))[1]


def plot_intensity_shape(
    traces: dict[str, pl.DataFrame], *, by: str = "hour", ax: Axes | None = None
) -> Axes:
    """Mean intensity per hour of day (``by="hour"``) or per hour of week (``"week"``), UTC.

    Examples
    --------
    >>> from datetime import datetime
    >>> from eventsim.carbon.trace import make_trace
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> t = make_trace(datetime(2021, 1, 4), np.arange(48.0), 3600)
    >>> plot_intensity_shape({"x": t}).get_xlabel()
    'hour of day (UTC)'
    """
    ax = _axes(ax)
    for name, trace in traces.items():
        ts = pl.col("timestamp")
        hour = ts.dt.hour().cast(pl.Int32)  # Int8 would overflow past hour 127 of the week
        key = hour if by == "hour" else (ts.dt.weekday().cast(pl.Int32) - 1) * 24 + hour
        shape = trace.group_by(key.alias("k")).agg(pl.col("intensity_g_per_kwh").mean()).sort("k")
        ax.plot(shape["k"].to_numpy(), shape["intensity_g_per_kwh"].to_numpy(), label=name)
    ax.set_xlabel("hour of day (UTC)" if by == "hour" else "hour of week (UTC, Mon 0h = 0)")
    ax.set_ylabel("gCO2eq/kWh")
    ax.legend()
    return ax


def plot_tradeoff(table: pl.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Emissions vs SLO violations, one labelled point per policy (a ``compare_placement`` table).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> t = pl.DataFrame({"policy": ["a"], "emissions_g": [1.0], "slo_violations": [0.0],
    ...                   "n_events": [10.0]})
    >>> plot_tradeoff(t).get_ylabel()
    'emissions (kgCO2eq)'
    """
    ax = _axes(ax)
    share = 100 * table["slo_violations"] / table["n_events"].replace(0, None)
    x = share.fill_null(0.0).to_numpy()
    y = table["emissions_g"].to_numpy() / 1000
    ax.scatter(x, y)
    for name, xi, yi in zip(table["policy"].to_list(), x, y):
        ax.annotate(name, (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel("events over the latency SLO (%)")
    ax.set_ylabel("emissions (kgCO2eq)")
    return ax


def plot_savings(table: pl.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Bars of ``savings_pct``: per policy, or per region and strategy (Scenario II table).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> t = pl.DataFrame({"region": ["de", "de"], "strategy": ["a", "b"],
    ...                   "savings_pct": [1.0, 2.0]})
    >>> len(plot_savings(t).patches)
    2
    """
    ax = _axes(ax)
    if "region" in table.columns:
        groups = table["region"].unique(maintain_order=True).to_list()
        series = table["strategy"].unique(maintain_order=True).to_list()
        width = 0.8 / len(series)
        for i, s in enumerate(series):
            part = table.filter(pl.col("strategy") == s)
            pos = [groups.index(g) + i * width for g in part["region"].to_list()]
            ax.bar(pos, part["savings_pct"].to_numpy(), width, label=s)
        ax.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))], groups)
        ax.legend()
    else:
        ax.bar(table["policy"].to_list(), table["savings_pct"].to_numpy())
        ax.tick_params(axis="x", rotation=30)
    ax.set_ylabel("emission savings (%)")
    return ax


def plot_job_shift(
    intensity: np.ndarray,
    submit: int,
    deadline: int,
    run_slots: np.ndarray,
    *,
    slot_h: float = 0.5,
    ax: Axes | None = None,
) -> Axes:
    """One job's shift: the intensity, its window ``[submit, deadline)`` and the slots it ran.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_job_shift(np.array([3.0, 1.0, 2.0, 4.0]), 0, 3, np.array([1]))
    >>> ax.get_xlabel()
    'hours'
    """
    ax = _axes(ax)
    hours = np.arange(len(intensity)) * slot_h
    ax.step(hours, intensity, where="post", color="grey", label="intensity")
    ax.axvspan(submit * slot_h, deadline * slot_h, alpha=0.15, label="window")
    for i, s in enumerate(np.asarray(run_slots)):
        ax.axvspan(
            s * slot_h, (s + 1) * slot_h, color="green", alpha=0.4, label="runs" if i == 0 else None
        )
    ax.set_xlabel("hours")
    ax.set_ylabel("gCO2eq/kWh")
    ax.legend()
    return ax
