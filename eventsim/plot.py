"""Plot helpers shared by the notebooks: they take frames, accept ``ax=None``, return the Axes
and never call ``plt.show()``. matplotlib is imported only when a helper is called."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "event_rates",
    "plot_bars",
    "plot_event_mix",
    "plot_event_rates",
    "plot_funnel",
    "plot_lag",
    "plot_rank_frequency",
    "set_hour_ticks",
    "shade_incidents",
]


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


def _colors(names: list[str]) -> dict[str, object]:
    """A stable colour per name from matplotlib's default cycle."""
    import matplotlib

    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    return {name: cycle[i % len(cycle)] for i, name in enumerate(names)}


def plot_event_mix(mix: pl.DataFrame, *, ax: Axes | None = None, top: int = 15) -> Axes:
    """Horizontal bars of the ``top`` most frequent event types, coloured by topic, log scale.

    Parameters
    ----------
    mix
        An :func:`~eventsim.workloads.analysis.event_mix` frame (``topic``, ``event_type``,
        ``n_events``, ``share``).
    ax
        Axes to draw on; None makes a new figure.
    top
        How many rows to show (the rest are summed into one ``other`` bar).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> mix = pl.DataFrame({"topic": ["a", "b", "b"], "event_type": ["x", "y", "z"],
    ...                     "n_events": [90, 9, 1], "share": [0.9, 0.09, 0.01]})
    >>> ax = plot_event_mix(mix, top=2, ax=Figure().subplots())
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['x', 'y', '(1 other)']
    """
    ax = _axes(ax)
    mix = mix.sort("n_events", descending=True, maintain_order=True)
    shown, rest = mix.head(top), mix.slice(top)
    labels = shown["event_type"].to_list()
    counts = shown["n_events"].to_list()
    topics = shown["topic"].to_list()
    if rest.height:
        labels.append(f"({rest.height} other)")
        counts.append(int(rest["n_events"].sum()))
        topics.append("other")
    colors = _colors(list(dict.fromkeys(t for t in topics if t != "other")))
    colors["other"] = "tab:gray"
    y = list(range(len(labels)))
    for topic in dict.fromkeys(topics):
        idx = [i for i, t in enumerate(topics) if t == topic]
        ax.barh([y[i] for i in idx], [counts[i] for i in idx], color=colors[topic], label=topic)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xscale("log")
    if counts:
        ax.set_xlim(left=min(counts) / 3)  # short bars stay visible on the log axis
    ax.set_xlabel("events (log scale)")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_rank_frequency(
    freq: pl.DataFrame, *, ax: Axes | None = None, by: str | None = "topic", max_points: int = 300
) -> Axes:
    """Events per key against the key's rank on log-log axes, one line per ``by`` group.

    A Zipf law is a straight line; its slope is ``-s``
    (:func:`~eventsim.workloads.analysis.zipf_exponent` fits it). Long curves are drawn
    through at most ``max_points`` log-spaced ranks (always the first and the last), which
    looks the same on log axes and keeps large logs fast to draw.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> freq = pl.DataFrame({"topic": ["a", "a", "b"], "rank": [1, 2, 1],
    ...                      "n_events": [4, 2, 3]})
    >>> len(plot_rank_frequency(freq, ax=Figure().subplots()).get_lines())
    2
    """
    import numpy as np

    ax = _axes(ax)
    if by is None or by not in freq.columns:
        parts = [("all", freq.sort("rank"))]
    else:
        parts = [(str(k[0]), p) for k, p in freq.sort(by, "rank").group_by(by, maintain_order=True)]
    for name, part in parts:
        if part.height > max_points:
            keep = np.unique(np.geomspace(1, part.height, max_points).round().astype(np.int64) - 1)
            part = part[keep]
        ax.plot(part["rank"], part["n_events"], marker=".", ms=3, lw=1.0, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("key rank")
    ax.set_ylabel("events per key")
    ax.legend(loc="upper right", fontsize="small")
    return ax


_KIND_COLORS = {"step": "tab:blue", "exit": "tab:red", "open": "tab:gray"}


def plot_funnel(funnel: pl.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Horizontal bars of a saga funnel: steps (blue), exits (red), still open (grey).

    Each bar is labelled with its count and its share of the entities that started.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> f = pl.DataFrame({"position": [0, 1, 2], "state": ["a", "b", "(open)"],
    ...     "kind": ["step", "exit", "open"], "n_entities": [10, 4, 6],
    ...     "share": [1.0, 0.4, 0.6]})
    >>> len(plot_funnel(f, ax=Figure().subplots()).patches)
    3
    """
    ax = _axes(ax)
    funnel = funnel.sort("position")
    y = list(range(funnel.height))
    colors = [_KIND_COLORS.get(k, "tab:gray") for k in funnel["kind"].to_list()]
    bars = ax.barh(y, funnel["n_entities"].to_list(), color=colors)
    labels = [f" {n:,} ({s:.0%})" for n, s in funnel.select("n_entities", "share").iter_rows()]
    ax.bar_label(bars, labels, fontsize="small")
    ax.set_yticks(y, funnel["state"].to_list())
    ax.invert_yaxis()
    ax.set_xlabel("entities reaching the state")
    ax.margins(x=0.25)
    return ax


def shade_incidents(ax: Axes, incidents: pl.DataFrame, *, time_unit_s: float = 60.0) -> Axes:
    """Shade each incident's window on a time axis and name it (kind and target) at the top.

    Parameters
    ----------
    ax
        Axes whose x axis is simulated time in units of ``time_unit_s`` seconds (minutes by
        default, as :func:`plot_event_rates` draws it).
    incidents
        A run's incidents frame (``kind``, ``start_s``, ``end_s``, ``target``).
    time_unit_s
        Seconds per x unit.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> inc = pl.DataFrame({"kind": ["outage"], "start_s": [60.0], "end_s": [180.0],
    ...                     "target": ["events"]})
    >>> ax = shade_incidents(Figure().subplots(), inc)
    >>> [t.get_text() for t in ax.texts]
    ['outage (events)']
    """
    kinds = incidents["kind"].unique(maintain_order=True).to_list() if incidents.height else []
    colors = dict(zip(kinds, ["tab:red", "tab:purple", "tab:orange", "tab:brown", "tab:pink"]))
    for row in incidents.sort("start_s").iter_rows(named=True):  # a handful of incidents
        start, end = row["start_s"] / time_unit_s, row["end_s"] / time_unit_s
        color = colors.get(row["kind"], "tab:red")
        ax.axvspan(start, end, color=color, alpha=0.18, lw=0)
        name = f"{row['kind']} ({row['target']})" if row.get("target") else row["kind"]
        ax.text(
            start,
            0.98,
            name,
            transform=ax.get_xaxis_transform(),
            rotation=90,
            va="top",
            ha="right",
            fontsize="x-small",
            color=color,
        )
    return ax


def set_hour_ticks(ax: Axes, *, time_unit_s: float = 60.0, every_h: float = 3.0) -> Axes:
    """Label a simulated-time x axis (in ``time_unit_s`` units) in hours, every ``every_h``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> _ = ax.plot([0, 1440], [0, 1])
    >>> ax = set_hour_ticks(ax, every_h=6)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['0 h', '6 h', '12 h', '18 h', '24 h']
    """
    import numpy as np

    lo, hi = ax.get_xlim()
    per_h = 3600.0 / time_unit_s
    hours = np.arange(np.ceil(lo / per_h / every_h) * every_h, hi / per_h + 1e-9, every_h) + 0.0
    ax.set_xticks(hours * per_h, [f"{h:g} h" for h in hours])
    ax.set_xlabel("simulated time")
    return ax


def plot_bars(
    frame: pl.DataFrame, *, x: str, y: str, hue: str | None = None, ax: Axes | None = None
) -> Axes:
    """Bars of ``y`` per ``x`` value, grouped side by side by ``hue`` (one colour per value).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> t = pl.DataFrame({"group": ["g", "g", "h"], "policy": ["a", "b", "a"],
    ...                   "emissions_g": [3.0, 1.0, 2.0]})
    >>> ax = plot_bars(t, x="group", y="emissions_g", hue="policy", ax=Figure().subplots())
    >>> len(ax.patches), [t.get_text() for t in ax.get_xticklabels()]
    (3, ['g', 'h'])
    """
    ax = _axes(ax)
    xs = frame[x].unique(maintain_order=True).to_list()
    hues = frame[hue].unique(maintain_order=True).to_list() if hue is not None else [None]
    width = 0.8 / len(hues)
    for i, h in enumerate(hues):
        part = frame if h is None else frame.filter(pl.col(hue) == h)  # type: ignore[arg-type]
        pos = [xs.index(v) - 0.4 + (i + 0.5) * width for v in part[x].to_list()]
        ax.bar(pos, part[y].to_list(), width, label=None if h is None else str(h))
    ax.set_xticks(range(len(xs)), [str(v) for v in xs])
    ax.set_ylabel(y)
    if hue is not None:
        ax.legend(fontsize="small")
    return ax
