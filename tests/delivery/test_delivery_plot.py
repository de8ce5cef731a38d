"""Delivery plots: they draw what the frames say, on the Axes given, and return it."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib
import numpy as np
import polars as pl
import pytest

from eventsim.delivery.plot import crash_lanes, plot_cost, plot_crash_timeline, plot_outcomes
from eventsim.exceptions import DataFormatError

matplotlib.use("Agg")
import matplotlib.pyplot as plt

TABLE = pl.DataFrame(
    {
        "semantics": ["at-most-once", "at-least-once", "exactly-once", "effectively-once"],
        "produced": [1000, 1000, 1000, 1000],
        "lost": [12, 0, 0, 0],
        "duplicated": [0, 30, 0, 0],
        "latency_p50_ms": [10.0, 10.0, 55.0, 10.0],
        "messages": [1500, 1500, 1700, 1500],
    }
)
TIMELINE = pl.DataFrame(
    {
        "event_id": [1, 2, 3, 4, 5, 6],
        "created_s": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "attempts": [1, 2, 1, 1, 1, 1],
        "fate": ["delivered_once", "delivered_once", "lost", "redelivered", "lost", "lost"],
        "reason": [
            None,
            None,
            "acked-then-truncated",
            "producer-resend",
            "producer-gave-up",
            "producer-gave-up",
        ],
    }
)


@pytest.fixture
def ax() -> Iterator[plt.Axes]:
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_outcomes_bars_and_labels(ax: plt.Axes) -> None:
    assert plot_outcomes(TABLE, ax=ax) is ax
    heights = [p.get_height() for p in ax.patches]
    assert heights == [12, 0, 0, 0, 0, 30, 0, 0]  # lost bars, then duplicated bars
    assert [t.get_text() for t in ax.texts] == ["12", "0", "0", "0", "0", "30", "0", "0"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["lost", "duplicated"]


def test_outcomes_other_columns_and_missing_ones(ax: plt.Axes) -> None:
    plot_outcomes(TABLE, columns=("lost",), ax=ax)
    assert len(ax.patches) == 4
    with pytest.raises(DataFormatError, match=r"plot_outcomes needs column\(s\) \['reordered'\]"):
        plot_outcomes(TABLE, columns=("reordered",), ax=ax)


def test_crash_lanes() -> None:
    lanes = crash_lanes(TIMELINE)
    assert lanes["lane"].to_list() == [
        "delivered once",
        "delivered once, after a retry",
        "lost: acked-then-truncated",
        "redelivered: producer-resend",
        "lost: producer-gave-up",
        "lost: producer-gave-up",
    ]
    assert lanes["kind"].to_list() == [
        "delivered_once",
        "retried",
        "lost",
        "redelivered",
        "lost",
        "lost",
    ]


def test_crash_timeline_lanes_in_order_with_counts(ax: plt.Axes) -> None:
    assert plot_crash_timeline(TIMELINE, ax=ax) is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "delivered once",
        "delivered once, after a retry",
        "redelivered: producer-resend",
        "lost: acked-then-truncated",
        "lost: producer-gave-up",
    ]
    sizes = [c.get_offsets().shape[0] for c in ax.collections]
    assert sizes == [1, 1, 1, 1, 2]
    gave_up = ax.collections[-1].get_offsets()
    assert np.asarray(gave_up)[:, 0].tolist() == [5.0, 6.0]
    assert ax.collections[-1].get_label() == "lost: producer-gave-up (2)"


def test_crash_timeline_shades_the_faults_it_overlaps(ax: plt.Axes) -> None:
    faults = pl.DataFrame(
        {
            "kind": ["broker_crash", "consumer_crash"],
            "target": ["broker-0", "g-1"],
            "start_s": [2.5, 50.0],
            "end_s": [3.5, 60.0],
            "detail": ["", ""],
        }
    )
    plot_crash_timeline(TIMELINE, faults, ax=ax)
    assert [t.get_text() for t in ax.texts] == ["broker_crash broker-0"]
    assert len(ax.patches) == 1  # one shaded window


def test_crash_timeline_empty(ax: plt.Axes) -> None:
    plot_crash_timeline(TIMELINE.clear(), pl.DataFrame(), ax=ax)
    assert len(ax.collections) == 0


def test_cost_points_share_labels(ax: plt.Axes) -> None:
    assert plot_cost(TABLE, ax=ax) is ax
    assert [t.get_text() for t in ax.texts] == [
        "at-most-once, at-least-once, effectively-once",
        "exactly-once",
    ]
    points = np.asarray(ax.collections[0].get_offsets())
    assert points.tolist() == [[10.0, 1.5], [55.0, 1.7]]
    assert ax.get_xlabel() == "latency p50 (ms)"


def test_new_figure_when_no_axes_given() -> None:
    ax = plot_cost(TABLE, latency="latency_p50_ms")
    try:
        assert ax.figure is not None
    finally:
        plt.close(ax.figure)
