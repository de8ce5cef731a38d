"""Plot helpers: they draw what the frames say, on the Axes given, and keep matplotlib lazy."""

from __future__ import annotations

import subprocess
import sys

import matplotlib
import polars as pl
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.colors import to_hex

from eventsim.plot import (
    plot_bars,
    plot_event_mix,
    plot_funnel,
    plot_rank_frequency,
    set_hour_ticks,
    shade_incidents,
)
from eventsim.workloads.analysis import event_mix, rank_frequency


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def ax():
    return plt.subplots()[1]


def labels(ticks):
    return [t.get_text() for t in ticks]


def test_importing_eventsim_plot_does_not_import_matplotlib():
    code = "import sys, eventsim.plot; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_event_mix_bars_follow_the_counts_and_lump_the_rest(ax):
    ev = pl.DataFrame(
        {
            "topic": ["a"] * 6 + ["b"] * 3 + ["c"],
            "event_type": ["x"] * 6 + ["y"] * 2 + ["z"] + ["w"],
        }
    )
    out = plot_event_mix(event_mix(ev), ax=ax, top=2)
    assert out is ax
    assert labels(ax.get_yticklabels()) == ["x", "y", "(2 other)"]
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths == [2, 2, 6]  # the two rest rows summed into one bar
    assert ax.get_xscale() == "log"
    assert labels(ax.get_legend().get_texts()) == ["a", "b", "other"]
    assert to_hex(ax.patches[-1].get_facecolor()) == to_hex("tab:gray")
    assert ax.get_xlim()[0] == pytest.approx(2 / 3)


def test_rank_frequency_draws_one_log_log_line_per_group(ax):
    ev = pl.DataFrame({"topic": ["a", "a", "a", "b"], "key": ["k", "k", "j", "q"]})
    plot_rank_frequency(rank_frequency(ev), ax=ax)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["a", "b"]
    assert lines[0].get_xdata().tolist() == [1, 2]
    assert lines[0].get_ydata().tolist() == [2, 1]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    whole = plot_rank_frequency(rank_frequency(ev, by=None), by=None)
    assert [line.get_label() for line in whole.get_lines()] == ["all"]


def test_long_rank_curves_are_thinned_on_log_spaced_ranks(ax):
    freq = pl.DataFrame({"rank": range(1, 10_001), "n_events": range(10_000, 0, -1)})
    (line,) = plot_rank_frequency(freq, ax=ax, by=None, max_points=50).get_lines()
    ranks = line.get_xdata().tolist()
    assert ranks[:3] == [1, 2, 3]
    assert ranks[-1] == 10_000
    assert 30 < len(ranks) <= 50
    assert ranks == sorted(set(ranks))


def test_funnel_bars_are_coloured_by_kind_and_labelled(ax):
    f = pl.DataFrame(
        {
            "position": [1, 0, 2, 3],
            "state": ["done", "start", "failed", "(open)"],
            "kind": ["step", "step", "exit", "open"],
            "n_entities": [6, 10, 1, 3],
            "share": [0.6, 1.0, 0.1, 0.3],
        }
    )
    plot_funnel(f, ax=ax)
    assert labels(ax.get_yticklabels()) == ["start", "done", "failed", "(open)"]
    assert [p.get_width() for p in ax.patches] == [10, 6, 1, 3]
    colors = [to_hex(p.get_facecolor()) for p in ax.patches]
    assert colors == [to_hex(c) for c in ("tab:blue", "tab:blue", "tab:red", "tab:gray")]
    assert [t.get_text() for t in ax.texts] == [" 10 (100%)", " 6 (60%)", " 1 (10%)", " 3 (30%)"]


def test_shade_incidents_spans_each_window_in_axis_units(ax):
    inc = pl.DataFrame(
        {
            "kind": ["outage", "spam_bots"],
            "start_s": [3600.0, 600.0],
            "end_s": [7200.0, 1200.0],
            "target": ["orders", None],
        }
    )
    out = shade_incidents(ax, inc, time_unit_s=3600.0)
    assert out is ax
    spans = [(p.get_x(), p.get_x() + p.get_width()) for p in ax.patches]
    assert spans == [pytest.approx((1 / 6, 1 / 3)), pytest.approx((1.0, 2.0))]
    assert [t.get_text() for t in ax.texts] == ["spam_bots", "outage (orders)"]
    assert shade_incidents(ax, inc.clear()) is ax


def test_hour_ticks_relabel_a_minutes_axis(ax):
    ax.plot([0, 1440], [0, 1])
    set_hour_ticks(ax, every_h=6)
    assert ax.get_xticks().tolist() == [0, 360, 720, 1080, 1440]
    assert labels(ax.get_xticklabels()) == ["0 h", "6 h", "12 h", "18 h", "24 h"]


def test_bars_group_side_by_side(ax):
    t = pl.DataFrame(
        {"group": ["g", "h", "g"], "policy": ["a", "a", "b"], "emissions_g": [1.0, 2.0, 3.0]}
    )
    plot_bars(t, x="group", y="emissions_g", hue="policy", ax=ax)
    xy = [(round(p.get_x() + p.get_width() / 2, 2), p.get_height()) for p in ax.patches]
    assert xy == [(-0.2, 1.0), (0.8, 2.0), (0.2, 3.0)]
    assert labels(ax.get_legend().get_texts()) == ["a", "b"]
    single = plot_bars(t.filter(pl.col("policy") == "a"), x="group", y="emissions_g")
    assert single.get_legend() is None
    assert [p.get_height() for p in single.patches] == [1.0, 2.0]
