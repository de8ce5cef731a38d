"""Plots of delivery semantics: outcomes per preset, one crash's timeline, the price of a
guarantee. Each helper takes a frame, accepts ``ax=None``, returns the Axes and never calls
``plt.show()``; matplotlib is imported only when a helper is called."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from eventsim.exceptions import DataFormatError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["crash_lanes", "plot_cost", "plot_crash_timeline", "plot_outcomes"]

_COLOURS = {"lost": "tab:red", "duplicated": "tab:orange", "reordered": "tab:purple"}
_FATE_COLOURS = {
    "delivered_once": "0.65",
    "retried": "tab:blue",
    "redelivered": "tab:orange",
    "lost": "tab:red",
}


def _axes(ax: Axes | None, figsize: tuple[float, float] = (8.0, 3.5)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def _require(frame: pl.DataFrame, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"{name} needs column(s) {missing}; the frame has {frame.columns}"
        raise DataFormatError(msg)


def plot_outcomes(
    table: pl.DataFrame,
    *,
    columns: Sequence[str] = ("lost", "duplicated"),
    ax: Axes | None = None,
) -> Axes:
    """Grouped bars of event counts per delivery semantics, each bar labelled with its count.

    Parameters
    ----------
    table
        A :func:`~eventsim.delivery.compare_delivery` frame (``semantics`` plus ``columns``).
    columns
        The counts to draw side by side (default lost and duplicated events).
    ax
        Where to draw (default: a new figure).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> table = pl.DataFrame(
    ...     {"semantics": ["at-most-once", "at-least-once"], "lost": [7, 0], "duplicated": [0, 3]}
    ... )
    >>> ax = plot_outcomes(table)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['at-most-once', 'at-least-once']
    >>> plt.close(ax.figure)
    """
    _require(table, "plot_outcomes", ["semantics", *columns])
    ax = _axes(ax)
    x = np.arange(table.height)
    width = 0.8 / max(len(columns), 1)
    for i, name in enumerate(columns):
        values = table.get_column(name).fill_null(0).to_numpy()
        bars = ax.bar(
            x + (i - (len(columns) - 1) / 2) * width,
            values,
            width,
            label=name,
            color=_COLOURS.get(name),
        )
        ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize="small", padding=2)
    ax.set_xticks(x, table.get_column("semantics").to_list())
    ax.set_ylabel("events")
    ax.margins(y=0.15)
    ax.legend(loc="upper right", fontsize="small")
    return ax


def crash_lanes(timeline: pl.DataFrame) -> pl.DataFrame:
    """One lane per fate and reason of a :func:`~eventsim.delivery.timeline.crash_timeline`.

    Delivered-once events whose producer needed more than one attempt get their own lane
    (``delivered once, after a retry``): that is where ``acks=all`` puts the records that
    ``acks=1`` loses.

    Returns
    -------
    polars.DataFrame
        The timeline plus ``lane`` String and ``kind`` String (``delivered_once``,
        ``retried``, ``redelivered`` or ``lost``).

    Examples
    --------
    >>> tl = pl.DataFrame(
    ...     {
    ...         "event_id": [1, 2, 3],
    ...         "attempts": [1, 2, 1],
    ...         "fate": ["delivered_once", "delivered_once", "lost"],
    ...         "reason": [None, None, "producer-gave-up"],
    ...     }
    ... )
    >>> crash_lanes(tl)["lane"].to_list()
    ['delivered once', 'delivered once, after a retry', 'lost: producer-gave-up']
    """
    _require(timeline, "crash_lanes", ["attempts", "fate", "reason"])
    once = pl.col("fate") == "delivered_once"
    retried = once & (pl.col("attempts") > 1)
    kind = pl.when(retried).then(pl.lit("retried")).otherwise(pl.col("fate"))
    lane = (
        pl.when(retried)
        .then(pl.lit("delivered once, after a retry"))
        .when(once)
        .then(pl.lit("delivered once"))
        .otherwise(pl.concat_str(pl.col("fate"), pl.lit(": "), pl.col("reason")))
    )
    return timeline.with_columns(lane=lane, kind=kind)


def plot_crash_timeline(
    timeline: pl.DataFrame,
    faults: pl.DataFrame | None = None,
    *,
    ax: Axes | None = None,
) -> Axes:
    """Each event of a crash timeline as a tick at its creation time, in the lane of its fate.

    Parameters
    ----------
    timeline
        A :func:`~eventsim.delivery.timeline.crash_timeline` frame (one group; with several,
        their events share the lanes).
    faults
        ``RunResult.faults``: the windows that overlap the timeline are shaded and named.
    ax
        Where to draw (default: a new figure).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> tl = pl.DataFrame(
    ...     {
    ...         "event_id": [1, 2, 3],
    ...         "created_s": [1.0, 2.0, 3.0],
    ...         "attempts": [1, 1, 1],
    ...         "fate": ["delivered_once", "lost", "redelivered"],
    ...         "reason": [None, "acked-then-truncated", "producer-resend"],
    ...     }
    ... )
    >>> ax = plot_crash_timeline(tl)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['delivered once', 'redelivered: producer-resend', 'lost: acked-then-truncated']
    >>> plt.close(ax.figure)
    """
    _require(timeline, "plot_crash_timeline", ["event_id", "created_s", "attempts", "fate"])
    lanes = crash_lanes(timeline)
    order = list(_FATE_COLOURS)
    names = (
        lanes.group_by("lane", "kind")
        .agg(pl.len())
        .with_columns(rank=pl.col("kind").replace_strict(order, range(len(order))))
        .sort("rank", "lane")
    )
    ax = _axes(ax, (9.0, 1.2 + 0.45 * max(names.height, 2)))
    for y, (lane, kind, n, _) in enumerate(names.iter_rows()):
        part = lanes.filter(pl.col("lane") == lane)
        jitter = (part.get_column("event_id").to_numpy() % 9 - 4) * 0.06
        ax.scatter(
            part.get_column("created_s").to_numpy(),
            y + jitter,
            s=14 if kind == "delivered_once" else 22,
            marker="|",
            color=_FATE_COLOURS[kind],
            linewidths=1.0,
            label=f"{lane} ({n:,})",
        )
    ax.set_yticks(range(names.height), names.get_column("lane").to_list())
    ax.set_ylim(-0.6, names.height - 0.4)
    ax.invert_yaxis()
    if faults is not None and timeline.height:
        _shade(ax, faults, timeline.get_column("created_s"))
    ax.set_xlabel("event created at (simulated s)")
    return ax


def _shade(ax: Axes, faults: pl.DataFrame, created: pl.Series) -> None:
    values = created.to_numpy()
    lo, hi = float(values.min()), float(values.max())
    shown = faults.filter((pl.col("start_s") <= hi) & (pl.col("end_s") >= lo))
    rows = shown.select("kind", "target", "start_s", "end_s").iter_rows()
    for i, (kind, target, start, end) in enumerate(rows):
        ax.axvspan(max(start, lo), min(end, hi), color="tab:red", alpha=0.08, lw=0)
        ax.annotate(  # labels of nearby faults on staggered rows
            f"{kind} {target}",
            (max(start, lo), 0.1 * (i % 3)),
            xycoords=("data", "axes fraction"),
            xytext=(2, 2),
            textcoords="offset points",
            fontsize="x-small",
            color="tab:red",
        )


def plot_cost(
    table: pl.DataFrame,
    *,
    latency: str = "latency_p50_ms",
    label: str = "semantics",
    ax: Axes | None = None,
) -> Axes:
    """The price of each guarantee: latency against wire messages per produced event.

    Rows with the same latency and messages per event share one point, labelled with all
    their names.

    Parameters
    ----------
    table
        A :func:`~eventsim.delivery.compare_delivery` frame, or several stacked (a sweep):
        ``latency``, ``messages``, ``produced`` and ``label``.
    latency
        The latency column on the x axis.
    label
        The column that names each point.
    ax
        Where to draw (default: a new figure).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> table = pl.DataFrame(
    ...     {
    ...         "semantics": ["at-least-once", "exactly-once"],
    ...         "latency_p50_ms": [12.0, 60.0],
    ...         "messages": [900, 1200],
    ...         "produced": [1000, 1000],
    ...     }
    ... )
    >>> ax = plot_cost(table)
    >>> ax.get_ylabel(), [t.get_text() for t in ax.texts]
    ('wire messages per event', ['at-least-once', 'exactly-once'])
    >>> plt.close(ax.figure)
    """
    _require(table, "plot_cost", [latency, "messages", "produced", label])
    ax = _axes(ax, (6.5, 4.0))
    per_event = (pl.col("messages") / pl.col("produced")).alias("per_event")
    points = (  # presets that cost the same share one point and one label
        table.select(pl.col(label).cast(pl.String), pl.col(latency), per_event)
        .group_by(latency, "per_event", maintain_order=True)
        .agg(pl.col(label).str.join(", "))
    )
    x = points.get_column(latency).to_numpy()
    y = points.get_column("per_event").to_numpy()
    ax.scatter(x, y, s=40, color="tab:blue", zorder=3)
    for name, xi, yi in zip(points.get_column(label).to_list(), x, y, strict=True):
        ax.annotate(name, (xi, yi), xytext=(5, 4), textcoords="offset points", fontsize="small")
    ax.set_xlabel(latency.replace("_ms", " (ms)").replace("_", " "))
    ax.set_ylabel("wire messages per event")
    ax.grid(alpha=0.3)
    ax.margins(x=0.2, y=0.2)
    return ax
