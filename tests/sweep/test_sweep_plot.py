"""Plot helpers: lines with bands per hue value, heatmaps; they draw on the given Axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
import pytest

from eventsim.sweep import plot_heatmap, plot_metric


@pytest.fixture
def table():
    rows = [(p, r, s, 10.0 * p + r + s) for p in (1, 4, 8) for r in (50.0, 100.0) for s in range(3)]
    p, r, s, lag = zip(*rows)
    n = len(rows)
    return pl.DataFrame(
        {
            "log.partitions": p,
            "params.rate_per_s": r,
            "seed": s,
            "scenario_key": [f"k{i}" for i in range(n)],
            "lag": lag,
            "run_s": [0.1] * n,
            "status": ["ok"] * n,
        }
    )


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_metric_one_line_per_hue_with_bands(table):
    _fig, ax = plt.subplots()
    out = plot_metric(table, "lag", "log.partitions", hue="params.rate_per_s", ax=ax)
    assert out is ax
    assert len(ax.lines) == 2
    assert ax.lines[0].get_xdata().tolist() == [1, 4, 8]
    assert ax.lines[0].get_ydata().tolist() == [61.0, 91.0, 131.0]
    assert ax.lines[1].get_ydata().tolist() == [111.0, 141.0, 181.0]
    assert len(ax.collections) == 2  # one CI band per line
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "params.rate_per_s=50.0",
        "params.rate_per_s=100.0",
    ]


def test_plot_metric_without_hue_pools_other_parameters(table):
    ax = plot_metric(table, "lag", "params.rate_per_s")
    assert len(ax.lines) == 1
    pooled = 10 * np.mean([1, 4, 8]) + 1  # mean over partitions and seeds 0..2
    assert ax.lines[0].get_ydata().tolist() == pytest.approx([pooled + 50.0, pooled + 100.0])
    assert ax.get_legend() is None


def test_single_seed_draws_no_band(table):
    one = table.filter((pl.col("seed") == 0) & (pl.col("params.rate_per_s") == 50.0))
    ax = plot_metric(one, "lag", "log.partitions")
    assert len(ax.collections) == 0


def test_heatmap_cells_and_labels(table):
    _fig, ax = plt.subplots()
    out = plot_heatmap(table, "lag", "log.partitions", "params.rate_per_s", ax=ax)
    assert out is ax
    grid = ax.images[0].get_array()
    assert grid.tolist() == [[61.0, 91.0, 131.0], [111.0, 141.0, 181.0]]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "4", "8"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["50.0", "100.0"]
    assert len(ax.texts) == 6


def test_heatmap_missing_cells_are_masked(table):
    partial = table.filter(
        ~((pl.col("log.partitions") == 8) & (pl.col("params.rate_per_s") == 50.0))
    )
    ax = plot_heatmap(partial, "lag", "log.partitions", "params.rate_per_s", annotate=False)
    grid = ax.images[0].get_array()
    assert bool(grid.mask[0, 2])
    assert grid.mask.sum() == 1
    assert len(ax.texts) == 0
