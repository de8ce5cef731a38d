"""Plot helpers for anomaly detection: score traces, feature streams, NAB's scoring weights.

Each takes frames, accepts ``ax=None``, returns the Axes and never calls ``plt.show()``;
matplotlib is imported inside the functions, so importing ``eventsim.anomaly`` stays light.
Incident windows are shaded; alarms are dots on the trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from eventsim.anomaly.workload_eval import IncidentRun

__all__ = ["plot_feature", "plot_incident_run", "plot_nab_scoring", "plot_scores", "show_incident"]

_HOUR = 3600.0


def _axes(ax: Axes | None, size: tuple[float, float] = (9.0, 3.2)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=size)[1]


def _shade(ax: Axes, incidents: pl.DataFrame | None, streams: Sequence[str] | None) -> None:
    if incidents is None or not incidents.height:
        return
    labelled = set()
    for row in incidents.iter_rows(named=True):
        touched = row.get("affected") or []
        if streams is not None and touched and not set(touched) & set(streams):
            continue
        label = row["kind"] if row["kind"] not in labelled else None
        labelled.add(row["kind"])
        ax.axvspan(row["start_s"] / _HOUR, row["end_s"] / _HOUR, color="tab:red", alpha=0.15)
        ax.annotate(
            label or "",
            (row["start_s"] / _HOUR, 1.0),
            xycoords=("data", "axes fraction"),
            fontsize=7,
            rotation=90,
            va="top",
            ha="right",
            color="tab:red",
        )


def plot_scores(
    scores: pl.DataFrame,
    incidents: pl.DataFrame | None = None,
    *,
    streams: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Alarm scores per stream over simulated time, incidents shaded, alarms as dots.

    Parameters
    ----------
    scores
        :data:`~eventsim.anomaly.SCORES_SCHEMA` rows (from
        :func:`~eventsim.anomaly.score_streams` or a live run's ``extra["scores"]``).
    incidents
        Incidents (``kind``, ``start_s``, ``end_s``, optional ``affected`` streams).
    streams
        Streams to draw (default: all).
    ax
        Where to draw.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> sc = pl.DataFrame({"window_start_s": [0.0, 60.0], "window_end_s": [60.0, 120.0],
    ...                    "stream": "a", "score": [0.0, 7.0], "alarm": [False, True]})
    >>> plot_scores(sc).get_ylabel()
    'alarm score (0 below threshold)'
    """
    ax = _axes(ax)
    names = streams or scores["stream"].unique().sort().to_list()
    for name in names:
        part = scores.filter(pl.col("stream") == name).sort("window_start_s")
        t = part["window_end_s"].to_numpy() / _HOUR
        s = part["score"].to_numpy()
        (line,) = ax.plot(t, s, lw=0.9, label=name)
        hit = part["alarm"].to_numpy()
        ax.plot(t[hit], s[hit], "o", ms=3, color=line.get_color())
    _shade(ax, incidents, names)
    ax.set_xlabel("simulated time (h)")
    ax.set_ylabel("alarm score (0 below threshold)")
    if len(names) > 1:
        ax.legend(fontsize=7, ncol=min(len(names), 4), loc="upper left")
    return ax


def plot_feature(
    features: pl.DataFrame,
    column: str,
    incidents: pl.DataFrame | None = None,
    *,
    streams: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """One feature column per stream over simulated time, incidents shaded.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> f = pl.DataFrame({"window_start_s": [0.0, 60.0], "window_end_s": [60.0, 120.0],
    ...                   "stream": "a", "event_rate_per_s": [3.0, 0.0]})
    >>> plot_feature(f, "event_rate_per_s").get_ylabel()
    'event_rate_per_s'
    """
    ax = _axes(ax)
    # by default the streams that carry the column (region and stage streams carry some)
    names = streams or (
        features.filter(pl.col(column).is_not_null())["stream"].unique().sort().to_list()
    )
    for name in names:
        part = features.filter(pl.col("stream") == name).sort("window_start_s")
        ax.plot(part["window_start_s"].to_numpy() / _HOUR, part[column].to_numpy(), lw=0.9,
                label=name)  # fmt: skip
    _shade(ax, incidents, names)
    ax.set_xlabel("simulated time (h)")
    ax.set_ylabel(column)
    if len(names) > 1:
        ax.legend(fontsize=7, ncol=min(len(names), 4), loc="upper left")
    return ax


def plot_nab_scoring(
    n_rows: int,
    windows: Sequence[tuple[int, int]],
    *,
    values: np.ndarray | Sequence[float] | None = None,
    profile: str = "standard",
    probation_percent: float = 0.15,
    ax: Axes | None = None,
) -> Axes:
    """NAB's reward for a detection at each row: windows, sigmoid and probation, in one picture.

    Inside a window the first detection earns up to ``tpWeight`` (most at the window's
    start, the scaled sigmoid falling towards its end); outside, a detection costs up to
    ``fpWeight``, less just after a window; the probationary rows at the start are never
    scored. ``values`` (the series) are drawn faintly on a second axis.

    Parameters
    ----------
    n_rows
        Rows of the series.
    windows
        Inclusive ``(first_row, last_row)`` windows (``NabCorpus.window_rows[name]``).
    values
        The series, for context.
    profile
        A NAB profile name (:data:`~eventsim.anomaly.PROFILES`).
    probation_percent
        NAB's probationary share.
    ax
        Where to draw.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> plot_nab_scoring(400, [(200, 239)]).get_ylabel()
    'score of a detection at this row'
    """
    from eventsim.anomaly._nab_sweep import PROBATION, sweep_rows
    from eventsim.anomaly.nab import PROFILES

    ax = _axes(ax)
    rows = sweep_rows(n_rows, [tuple(w) for w in windows], PROFILES[profile], probation_percent)
    i = np.arange(n_rows)
    weight = np.where(rows.window == PROBATION, np.nan, rows.sweep)
    if values is not None:
        twin = ax.twinx()
        twin.plot(i, np.asarray(values, dtype=np.float64), color="0.75", lw=0.7)
        twin.set_ylabel("series value", color="0.5")
    ax.plot(i, weight, color="tab:blue", lw=1.4)
    ax.axhline(0.0, color="0.3", lw=0.6)
    for left, right in windows:
        ax.axvspan(left, right, color="tab:green", alpha=0.2)
    probation = int(np.sum(rows.window == PROBATION))
    if probation:
        ax.axvspan(0, probation, color="0.85", alpha=0.6)
        ax.annotate("probation", (probation / 2, 0.95), xycoords=("data", "axes fraction"),
                    ha="center", fontsize=8)  # fmt: skip
    ax.set_xlabel("row")
    ax.set_ylabel("score of a detection at this row")
    ax.set_title(f"NAB weights, profile {profile!r}: windows green, sigmoid reward inside")
    return ax


def plot_incident_run(
    run: IncidentRun, *, feature: str | None = None, fig: Figure | None = None
) -> Figure:
    """Two panels: the feature that moved most during the incident, and the alarm scores.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from eventsim.anomaly.workload_eval import explore_incident
    >>> run = explore_incident("synthetic", duration="1h", params={"rate_per_s": 2})
    >>> len(plot_incident_run(run).axes)
    2
    """
    import matplotlib.pyplot as plt

    from eventsim.anomaly.feature_spec import feature_columns

    fig = fig if fig is not None else plt.figure(figsize=(9.0, 5.0))
    top, bottom = fig.subplots(2, 1, sharex=True)
    streams = sorted({s for row in run.incidents["affected"].to_list() for s in row})
    if feature is None:
        feature = _most_moved(run, feature_columns(run.features), streams)
    plot_feature(run.features, feature, run.incidents, streams=streams or None, ax=top)
    plot_scores(run.scores, run.incidents, ax=bottom)
    detected = run.outcomes["detected"].to_list()
    delays = run.outcomes["delay_s"].to_list()
    verdict = ", ".join(
        f"{k}: {'detected after ' + format(d, '.0f') + ' s' if hit else 'missed'}"
        for k, hit, d in zip(run.outcomes["kind"].to_list(), detected, delays, strict=True)
    )
    top.set_title(verdict, fontsize=9)
    return fig


def _most_moved(run: IncidentRun, columns: list[str], streams: list[str]) -> str:
    """The feature whose incident-window mean moved most, in units of its spread before."""
    inc = run.incidents.row(0, named=True)
    feats = run.features.filter(pl.col("stream").is_in(streams)) if streams else run.features
    during = feats.filter(
        (pl.col("window_start_s") >= inc["start_s"]) & (pl.col("window_start_s") < inc["end_s"])
    )
    before = feats.filter(pl.col("window_end_s") <= inc["start_s"])
    best, name = -1.0, columns[0]
    for col in columns:
        spread = float(before[col].std() or 0.0) or 1e-9
        moved = abs(float(during[col].mean() or 0.0) - float(before[col].mean() or 0.0)) / spread
        if moved > best:
            best, name = moved, col
    return name


def show_incident(
    workload: str = "synthetic",
    kind: str = "outage",
    intensity: float = 1.0,
    detector: str = "tail",
    threshold: float = 0.0,
    **kwargs: object,
) -> Figure:
    """Run :func:`~eventsim.anomaly.explore_incident` and draw it (the widget callback).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> show_incident("synthetic", duration="1h", params={"rate_per_s": 2}).axes[1].get_ylabel()
    'alarm score (0 below threshold)'
    """
    from eventsim.anomaly.workload_eval import explore_incident

    run = explore_incident(workload, kind, intensity, detector, threshold, **kwargs)  # type: ignore[arg-type]
    return plot_incident_run(run)
