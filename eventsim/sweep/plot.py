"""Plots of a sweep table: a metric over one parameter (mean line and confidence band per value
of another parameter) and a heatmap of a metric's mean over two parameters.

Both aggregate with :func:`~eventsim.sweep.aggregate.aggregate`: parameters that are not
drawn are pooled with the seeds, so filter the table first to hold them fixed. matplotlib is
imported inside the functions; they draw on ``ax`` (a new figure's when None) and return it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from eventsim.sweep.aggregate import aggregate

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_heatmap", "plot_metric"]


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots()
    return new_ax


def plot_metric(
    table: pl.DataFrame,
    metric: str,
    x: str,
    *,
    hue: str | None = None,
    confidence: float = 0.95,
    ax: Axes | None = None,
) -> Axes:
    """Mean of ``metric`` over parameter ``x``, with its confidence band; a line per ``hue``.

    Parameters
    ----------
    table
        A sweep table.
    metric
        Metric column to draw.
    x
        Parameter on the horizontal axis.
    hue
        Parameter with one line per value (None: one line).
    confidence
        Level of the band (t interval across seeds).
    ax
        Axes to draw on; None makes a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> t = pl.DataFrame({
    ...     "log.partitions": [4, 4, 8, 8], "seed": [0, 1, 0, 1], "scenario_key": list("abcd"),
    ...     "lag": [1.0, 2.0, 4.0, 5.0], "run_s": [0.1] * 4, "status": ["ok"] * 4,
    ... })
    >>> ax = plot_metric(t, "lag", "log.partitions")
    >>> ax.get_xlabel(), ax.get_ylabel(), ax.lines[0].get_ydata().tolist()
    ('log.partitions', 'lag', [1.5, 4.5])
    """
    by = [x] if hue is None else [x, hue]
    agg = aggregate(table, by=by, metrics=[metric], confidence=confidence)
    ax = _axes(ax)
    groups: list[tuple[Any, pl.DataFrame]]
    if hue is None:
        groups = [(None, agg)]
    else:
        groups = [(key[0], frame) for key, frame in agg.group_by(hue, maintain_order=True)]
    for value, frame in groups:
        frame = frame.sort(x, nulls_last=True)
        xs = frame.get_column(x).to_list()
        mean = frame.get_column("mean").to_numpy()
        label = None if hue is None else f"{hue}={value}"
        (line,) = ax.plot(xs, mean, marker="o", label=label)
        low = frame.get_column("ci_low").fill_null(np.nan).to_numpy()
        high = frame.get_column("ci_high").fill_null(np.nan).to_numpy()
        if np.isfinite(low).any():
            ax.fill_between(xs, low, high, alpha=0.2, color=line.get_color(), linewidth=0)
    ax.set_xlabel(x)
    ax.set_ylabel(metric)
    if hue is not None:
        ax.legend(title=None)
    return ax


def plot_heatmap(
    table: pl.DataFrame,
    metric: str,
    x: str,
    y: str,
    *,
    annotate: bool | None = None,
    cmap: str = "viridis",
    ax: Axes | None = None,
) -> Axes:
    """Mean of ``metric`` (across seeds) on a grid of parameters ``x`` × ``y``.

    Parameters
    ----------
    table
        A sweep table.
    metric
        Metric column to colour by.
    x, y
        Parameters for the columns and rows (their distinct values, sorted).
    annotate
        Write each cell's value; None does it when there are at most 100 cells.
    cmap
        Matplotlib colormap name.
    ax
        Axes to draw on; None makes a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> t = pl.DataFrame({
    ...     "a": [1, 1, 2, 2], "b": ["u", "v", "u", "v"], "seed": [0] * 4,
    ...     "scenario_key": list("abcd"), "lag": [1.0, 2.0, 3.0, 4.0],
    ...     "run_s": [0.1] * 4, "status": ["ok"] * 4,
    ... })
    >>> ax = plot_heatmap(t, "lag", "a", "b")
    >>> ax.images[0].get_array().tolist()
    [[1.0, 3.0], [2.0, 4.0]]
    """
    agg = aggregate(table, by=[x, y], metrics=[metric])
    xs = agg.get_column(x).unique().sort(nulls_last=True).to_list()
    ys = agg.get_column(y).unique().sort(nulls_last=True).to_list()
    cells = (
        pl.DataFrame({y: ys}, schema={y: agg.schema[y]})
        .join(pl.DataFrame({x: xs}, schema={x: agg.schema[x]}), how="cross")
        .join(
            agg.select(x, y, "mean"), on=[x, y], how="left", nulls_equal=True, maintain_order="left"
        )
    )
    grid = cells.get_column("mean").fill_null(np.nan).to_numpy().reshape(len(ys), len(xs))
    ax = _axes(ax)
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="auto", origin="lower")
    ax.set_xticks(range(len(xs)), [str(v) for v in xs])
    ax.set_yticks(range(len(ys)), [str(v) for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.figure.colorbar(image, ax=ax, label=metric)
    if annotate or (annotate is None and grid.size <= 100):
        for (row, col), value in np.ndenumerate(grid):
            if np.isfinite(value):
                ax.text(col, row, f"{value:.3g}", ha="center", va="center", fontsize=8)
    return ax
