"""Plots of consistency: a space-time diagram of operations and replication, model
comparisons and staleness distributions. Each helper accepts ``ax=None``, returns the Axes and
never calls ``plt.show()``; matplotlib is imported only when a helper is called."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import polars as pl

from eventsim.exceptions import DataFormatError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from eventsim.consistency.stores.result import StoreResult

__all__ = ["plot_comparison", "plot_space_time", "plot_staleness", "space_time_frame"]

_WRITE = "tab:blue"
_READ = "tab:green"
_BAD = "tab:red"


def _axes(ax: Axes | None, figsize: tuple[float, float] = (9.0, 4.0)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def space_time_frame(
    result: StoreResult, rows: Sequence[int], *, context_s: float = 0.0
) -> pl.DataFrame:
    """The operations a space-time diagram draws: ``rows`` of the history, plus (with
    ``context_s > 0``) every operation on their keys by their processes that overlaps the
    window widened by ``context_s``.

    Returns
    -------
    polars.DataFrame
        History columns plus ``row`` (Int64) and the trace's ``client``, ``region``,
        ``replica`` and ``served_s``, sorted by ``invoke_s``.

    Examples
    --------
    >>> from eventsim.consistency.stores import run_store
    >>> res = run_store(model="eventual", duration_s=3, seed=1)
    >>> space_time_frame(res, [0, 1]).select("row", "op", "replica").height
    2
    """
    h = result.history.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("row"))
    full = h.join(result.trace.select("row", "client", "region", "replica", "served_s"), on="row")
    picked = full.filter(pl.col("row").is_in(list(rows)))
    if picked.height != len(set(rows)):
        msg = f"space_time_frame: rows must be history rows 0..{h.height - 1}; got {list(rows)}"
        raise DataFormatError(msg)
    if context_s > 0 and picked.height:
        start = float(picked["invoke_s"].min()) - context_s  # type: ignore[arg-type]
        end = float(picked["invoke_s"].max()) + context_s  # type: ignore[arg-type]
        near = full.filter(
            pl.col("key").is_in(picked["key"].unique().to_list())
            & pl.col("process").is_in(picked["process"].unique().to_list())
            & (pl.col("invoke_s") <= end)
            & (pl.col("complete_s") >= start)
        )
        picked = pl.concat([picked, near]).unique("row", keep="first")
    return picked.sort("invoke_s", "row")


def _label(op: str, key: str | None, value: str | None, output: str | None) -> str:
    k = key if key is not None else ""
    if op in ("read", "get"):
        return f"r({k})→{'∅' if output is None else output}"
    return f"w({k})={value}"


def plot_space_time(
    result: StoreResult,
    rows: Sequence[int],
    *,
    highlight: Sequence[int] = (),
    context_s: float = 0.0,
    ax: Axes | None = None,
) -> Axes:
    """Space-time diagram: replicas and clients as lanes, operations as bars on their
    client's lane with request/response arrows to the replica that served them, and each
    write's arrival at every replica (dots, from ``replica_states``). Partitions are shaded.

    Parameters
    ----------
    result
        A store run.
    rows
        History rows to draw (e.g. an anomaly's ``row`` and ``earlier_row``).
    highlight
        Rows drawn in red (the violating operation).
    context_s
        Also draw operations on the same keys by the same processes within this many
        seconds (see :func:`space_time_frame`).
    ax
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from eventsim.consistency.stores import run_store
    >>> res = run_store(model="eventual", duration_s=3, seed=1)
    >>> ax = plot_space_time(res, [3, 4], highlight=[4])
    >>> ax.get_xlabel()
    'time (s)'
    """
    ops = space_time_frame(result, rows, context_s=context_s)
    ax = _axes(ax)
    cfg = result.config
    from eventsim.consistency.stores.network import node_regions

    regions = node_regions(cfg)
    replicas = cfg.replica_names
    clients = ops.select("process", "client").unique(maintain_order=True).rows()
    lanes: dict[str, float] = {}
    labels = []
    for i, r in enumerate(replicas):
        lanes[r] = float(len(replicas) + len(clients) - i)
        labels.append(f"{r}\n({regions[r]})")
    for j, (p, c) in enumerate(clients):
        lanes[f"p{p}"] = float(len(clients) - j)
        labels.append(f"process {p}\n{c} ({regions[c]})")
    states = result.replica_states
    writes = ops.filter(~pl.col("op").is_in(["read", "get"]) & pl.col("version").is_not_null())
    reached = states.join(writes.select("key", "version"), on=["key", "version"])
    ends = ops.filter(pl.col("complete_s").is_finite())["complete_s"].to_list()
    t0 = float(ops["invoke_s"].min() or 0.0)  # type: ignore[arg-type]
    t1 = max([t0, *ops["invoke_s"].to_list(), *ends])
    if reached.height:  # show replication, but not seconds of it
        t1 = max(t1, min(float(reached["time_s"].max()), t1 + max(0.2, t1 - t0)))  # type: ignore[arg-type]
    pad = max(0.01, 0.06 * (t1 - t0))
    lo, hi = t0 - pad, t1 + pad
    for f in result.faults.filter(pl.col("kind") == "network_partition").iter_rows(named=True):
        if f["start_s"] < hi and f["end_s"] > lo:
            ax.axvspan(max(f["start_s"], lo), min(f["end_s"], hi), color="0.85", zorder=0)
            ax.text(
                max(f["start_s"], lo),
                max(lanes.values()) + 0.6,
                f"partition {f['target']}",
                fontsize=8,
                color="0.35",
                va="bottom",
            )
    bad = set(highlight)
    for op in ops.iter_rows(named=True):
        y = lanes[f"p{op['process']}"]
        done = op["complete_s"] if math.isfinite(op["complete_s"]) else hi
        is_read = op["op"] in ("read", "get")
        colour = _BAD if op["row"] in bad else (_READ if is_read else _WRITE)
        style = "-" if op["status"] == "ok" else ":"
        ax.plot(
            [op["invoke_s"], done],
            [y, y],
            color=colour,
            lw=5,
            ls=style,
            solid_capstyle="butt",
            zorder=3,
        )
        text = _label(op["op"], op["key"], op["value"], op["output"])
        if op["status"] != "ok":
            text += f" [{op['status']}]"
        above = 0.14 if not is_read else -0.14
        ax.text(
            op["invoke_s"],
            y + above,
            text,
            fontsize=8,
            color=colour,
            zorder=5,
            va="bottom" if not is_read else "top",
        )
        rep, served = op["replica"], op["served_s"]
        if rep is None or served is None:
            continue
        ry = lanes[rep]
        arrow = {"arrowstyle": "->", "color": colour, "lw": 0.8, "alpha": 0.8}
        ax.annotate("", xy=(served, ry), xytext=(op["invoke_s"], y), arrowprops=arrow)
        if math.isfinite(op["complete_s"]):
            ax.annotate("", xy=(op["complete_s"], y), xytext=(served, ry), arrowprops=arrow)
        if not is_read and op["version"] is not None:
            got = (
                states.filter((pl.col("key") == op["key"]) & (pl.col("version") == op["version"]))
                .group_by("replica")
                .agg(pl.col("time_s").min())
            )
            seen = dict(got.iter_rows())
            for other in replicas:
                if other != rep and other not in seen:
                    ax.annotate(
                        f"{text} never visible here",
                        xy=(hi, lanes[other]),
                        xytext=(-4, 4),
                        textcoords="offset points",
                        ha="right",
                        fontsize=7,
                        color="0.4",
                    )
            for other, t in seen.items():
                if other == rep or other not in lanes:
                    continue
                if t > hi:  # arrives after the window: say when
                    ax.annotate(
                        f"{text} arrives {t:.2f} s →",
                        xy=(hi, lanes[other]),
                        xytext=(-4, 4),
                        textcoords="offset points",
                        ha="right",
                        fontsize=7,
                        color=_WRITE,
                    )
                    continue
                ax.plot(
                    [served, t],
                    [ry, lanes[other]],
                    color=_WRITE,
                    lw=0.8,
                    ls="--",
                    alpha=0.7,
                    zorder=2,
                )
                ax.plot([t], [lanes[other]], "o", color=_WRITE, ms=5, zorder=4)
            ax.plot([served], [ry], "o", color=_WRITE, ms=5, zorder=4)
    ax.set_yticks(list(lanes.values()), labels)
    ax.set_xlim(lo, hi)
    ax.set_ylim(0.4, max(lanes.values()) + 1.0)
    ax.set_xlabel("time (s)")
    ax.axhline(len(clients) + 0.5, color="0.6", lw=0.6)
    ax.set_title(f"{cfg.model}: operations and replication")
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=_WRITE, lw=5, label="write"),
        Line2D([], [], color=_READ, lw=5, label="read"),
        Line2D([], [], color=_BAD, lw=5, label="violation"),
        Line2D([], [], color=_WRITE, marker="o", ls="--", lw=0.8, label="write reaches replica"),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return ax


def plot_comparison(
    table: pl.DataFrame, metric: str, *, ax: Axes | None = None, label: str = "model"
) -> Axes:
    """Horizontal bars of one column of a :func:`~eventsim.consistency.compare_consistency`
    table, one bar per model, each labelled with its value (null: "n/a").

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> t = pl.DataFrame({"model": ["a", "b"], "availability": [1.0, 0.8]})
    >>> plot_comparison(t, "availability").get_xlabel()
    'availability'
    """
    for col in (label, metric):
        if col not in table.columns:
            msg = f"plot_comparison needs column {col!r}; the table has {table.columns}"
            raise DataFormatError(msg)
    ax = _axes(ax, (5.0, 3.0))
    names = [str(x) for x in table[label].to_list()]
    values = table[metric].cast(pl.Float64).to_list()
    ys = list(range(len(names)))[::-1]
    ax.barh(ys, [0.0 if v is None else v for v in values], color="tab:blue", alpha=0.8)
    top = max([v for v in values if v is not None] or [1.0]) or 1.0
    for y, v in zip(ys, values):
        text = "n/a" if v is None else f"{v:.3g}"
        ax.text((v or 0.0) + 0.01 * top, y, text, va="center", fontsize=8)
    ax.set_yticks(ys, names)
    ax.set_xlim(0, top * 1.18)
    ax.set_xlabel(metric)
    return ax


def plot_staleness(
    frames: Mapping[str, pl.DataFrame],
    *,
    column: str = "seconds_behind",
    ax: Axes | None = None,
) -> Axes:
    """Empirical CDFs of read staleness, one line per labelled
    :func:`~eventsim.consistency.staleness` frame (fresh reads count as 0).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> st = pl.DataFrame({"seconds_behind": [0.0, 0.0, 0.3]})
    >>> plot_staleness({"Δ=0.5s": st}).get_ylabel()
    'share of reads'
    """
    ax = _axes(ax, (6.0, 3.5))
    for name, frame in frames.items():
        if column not in frame.columns:
            msg = f"plot_staleness: frame {name!r} lacks column {column!r}"
            raise DataFormatError(msg)
        values = frame[column].cast(pl.Float64).drop_nulls().sort().to_list()
        if not values:
            continue
        n = len(values)
        ax.step(
            [0.0, *values],
            [0.0, *((i + 1) / n for i in range(n))],
            where="post",
            label=f"{name} (max {values[-1]:.3g})",
        )
    ax.set_xlabel(column.replace("_", " "))
    ax.set_ylabel("share of reads")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    return ax
