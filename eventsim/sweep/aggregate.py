"""Aggregation across seeds: mean, standard deviation and a t confidence interval per point.

Only rows with ``status == "ok"`` count. The half-width of the interval is
``t_{(1+confidence)/2, n-1} · std / sqrt(n)`` (Student's t, scipy), null when fewer than two
seeds gave a value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from eventsim.exceptions import closest
from eventsim.sweep.errors import SweepError

__all__ = ["AGGREGATE_SCHEMA", "aggregate", "metric_columns", "param_columns"]

#: Columns of :func:`aggregate` after the grouping ones.
AGGREGATE_SCHEMA = {
    "metric": pl.String,
    "n": pl.UInt32,
    "mean": pl.Float64,
    "std": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
}
_TAIL = ("run_s", "status", "cached", "error")


def _require_sweep_table(table: pl.DataFrame) -> None:
    missing = [c for c in ("seed", "scenario_key", "status") if c not in table.columns]
    if missing:
        msg = f"table must be a sweep table (from sweep()); it lacks columns {missing}"
        raise SweepError(msg)


def param_columns(table: pl.DataFrame) -> list[str]:
    """The grid's parameter columns of a sweep table (those before ``seed``).

    Examples
    --------
    >>> t = pl.DataFrame({"log.partitions": [4], "seed": [0], "scenario_key": ["k"],
    ...                   "events": [9], "run_s": [0.1], "status": ["ok"]})
    >>> param_columns(t), metric_columns(t)
    (['log.partitions'], ['events'])
    """
    _require_sweep_table(table)
    return table.columns[: table.columns.index("seed")]


def metric_columns(table: pl.DataFrame, *, numeric: bool = True) -> list[str]:
    """The metric columns of a sweep table (between ``scenario_key`` and ``run_s``).

    With ``numeric`` (default) only numeric and boolean ones.

    Examples
    --------
    >>> t = pl.DataFrame({"seed": [0], "scenario_key": ["k"], "events": [9], "workload": ["s"],
    ...                   "run_s": [0.1], "status": ["ok"]})
    >>> metric_columns(t), metric_columns(t, numeric=False)
    (['events'], ['events', 'workload'])
    """
    _require_sweep_table(table)
    start = table.columns.index("scenario_key") + 1
    cols = [c for c in table.columns[start:] if c not in _TAIL]
    if numeric:
        cols = [c for c in cols if table.schema[c].is_numeric() or table.schema[c] == pl.Boolean]
    return cols


def _check_columns(table: pl.DataFrame, names: Sequence[str], what: str) -> None:
    for name in names:
        if name not in table.columns:
            msg = (
                f"{what} {name!r} is not a column of the sweep table"
                f"{closest(name, table.columns)} (columns: {', '.join(table.columns)})"
            )
            raise SweepError(msg)


def aggregate(
    table: pl.DataFrame,
    *,
    by: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pl.DataFrame:
    """Mean and t confidence interval of each metric across seeds, per grid point.

    Parameters
    ----------
    table
        A table from :func:`~eventsim.sweep.runner.sweep`.
    by
        Columns to group by; default every grid parameter (so each group is one point and its
        seeds). Parameters left out are pooled with the seeds.
    metrics
        Metric columns; default every numeric one.
    confidence
        Level of the interval, in (0, 1).

    Returns
    -------
    polars.DataFrame
        One row per group and metric, groups in the table's order: the ``by`` columns,
        ``metric`` String, ``n`` UInt32 (ok runs with a value), ``mean``, ``std``,
        ``ci_low``, ``ci_high`` Float64 (null where n < 2).

    Examples
    --------
    >>> t = pl.DataFrame({
    ...     "log.partitions": [4, 4, 4, 8, 8], "seed": [0, 1, 2, 0, 1],
    ...     "scenario_key": list("abcde"), "lag": [1.0, 2.0, 3.0, 5.0, 7.0],
    ...     "run_s": [0.1] * 5, "status": ["ok", "ok", "ok", "ok", "failed"],
    ... })
    >>> aggregate(t)
    shape: (2, 7)
    ┌────────────────┬────────┬─────┬──────┬──────┬───────────┬──────────┐
    │ log.partitions ┆ metric ┆ n   ┆ mean ┆ std  ┆ ci_low    ┆ ci_high  │
    │ ---            ┆ ---    ┆ --- ┆ ---  ┆ ---  ┆ ---       ┆ ---      │
    │ i64            ┆ str    ┆ u32 ┆ f64  ┆ f64  ┆ f64       ┆ f64      │
    ╞════════════════╪════════╪═════╪══════╪══════╪═══════════╪══════════╡
    │ 4              ┆ lag    ┆ 3   ┆ 2.0  ┆ 1.0  ┆ -0.484138 ┆ 4.484138 │
    │ 8              ┆ lag    ┆ 1   ┆ 5.0  ┆ null ┆ null      ┆ null     │
    └────────────────┴────────┴─────┴──────┴──────┴───────────┴──────────┘
    """
    if not 0 < confidence < 1:
        msg = f"confidence must be in (0, 1); got {confidence!r}"
        raise SweepError(msg)
    by = list(param_columns(table) if by is None else by)
    metrics = list(metric_columns(table) if metrics is None else metrics)
    _check_columns(table, by, "by column")
    _check_columns(table, metrics, "metric")
    ok = table.filter(pl.col("status") == "ok")
    aggs = []
    for j, m in enumerate(metrics):
        col = pl.col(m).cast(pl.Float64)
        aggs += [
            col.count().cast(pl.UInt32).alias(f"n_{j}"),
            col.mean().alias(f"mean_{j}"),
            col.std().alias(f"std_{j}"),
        ]
    if by:
        wide = ok.group_by(by, maintain_order=True).agg(aggs)
    else:
        wide = ok.select(aggs) if ok.height else ok.select(aggs).clear()
    wide = wide.with_row_index("_group")
    parts = [
        wide.select(
            *by,
            "_group",
            pl.lit(j, dtype=pl.UInt32).alias("_metric"),
            pl.lit(m, dtype=pl.String).alias("metric"),
            pl.col(f"n_{j}").alias("n"),
            pl.col(f"mean_{j}").alias("mean"),
            pl.col(f"std_{j}").alias("std"),
        )
        for j, m in enumerate(metrics)
    ]
    schema = {**{c: table.schema[c] for c in by}, **AGGREGATE_SCHEMA}
    if not parts:
        return pl.DataFrame(schema=schema)
    long = pl.concat(parts).sort("_group", "_metric").drop("_group", "_metric")
    half = _half_width(long, confidence)
    return long.with_columns(
        ci_low=pl.col("mean") - half,
        ci_high=pl.col("mean") + half,
    ).cast(schema)  # type: ignore[arg-type]


def _half_width(frame: pl.DataFrame, confidence: float) -> pl.Series:
    from scipy import stats

    n = frame.get_column("n").to_numpy().astype(np.float64)
    std = frame.get_column("std").fill_null(np.nan).to_numpy().astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stats.t.ppf((1.0 + confidence) / 2.0, np.where(n >= 2, n - 1, np.nan))
        half = t * std / np.sqrt(n)
    return pl.Series("half", half, dtype=pl.Float64, nan_to_null=True)
