"""The demo behind ``make demo``: every workload for a simulated hour, one table, one plot."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from eventsim.scenario import Scenario
from eventsim.sim.engine import run
from eventsim.workloads import WORKLOADS, IncidentSpec, get_workload

__all__ = ["demo", "demo_scenarios"]


#: Demo volumes: scaled down so that the whole demo runs in well under a minute.
_DEMO_PARAMS: dict[str, dict[str, float]] = {
    "synthetic": {"rate_per_s": 100.0},
    "netflix": {"rate_multiplier": 0.05},
    "uber": {"rate_multiplier": 0.2, "n_drivers": 300},
    "linkedin": {"rate_multiplier": 0.1},
    "amazon": {"rate_multiplier": 1.0},
}


def demo_scenarios() -> list[Scenario]:
    """One scenario per importable workload: 1 simulated hour at reduced volume, seed 7, an
    outage at minute 40."""
    out = []
    for name in WORKLOADS:
        try:
            cls = get_workload(name)
        except ImportError:
            continue
        incidents = ()
        if "outage" in cls.incident_kinds:
            incidents = (IncidentSpec("outage", start_s=2400.0, duration_s=300.0, intensity=0.9),)
        params = _DEMO_PARAMS.get(name, {})
        out.append(
            Scenario(workload=name, duration="1h", seed=7, params=params, incidents=incidents)
        )
    return out


def demo(out_dir: Path, *, quiet: bool = False) -> pl.DataFrame:
    """Run :func:`demo_scenarios`, write ``<workload>.parquet`` files and ``event_rates.png``
    into ``out_dir``, print and return the summary table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from eventsim._atomic import atomic_path
    from eventsim.plot import plot_event_rates

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    scenarios = demo_scenarios()
    fig, axes = plt.subplots(len(scenarios), 1, figsize=(9, 2.6 * len(scenarios)), squeeze=False)
    for ax, scenario in zip(axes[:, 0], scenarios, strict=True):
        result = run(scenario, progress=not quiet and None)
        result.write_parquet(out_dir / f"{scenario.workload}.parquet")
        summary = result.summary()
        summary["wall_s"] = round(result.wall_s, 2)
        rows.append(summary)
        plot_event_rates(result.events, ax=ax)
        ax.set_title(f"{scenario.workload}: events per second (outage at 40 min)")
    fig.tight_layout()
    with atomic_path(out_dir / "event_rates.png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    table = pl.DataFrame(rows).select(
        "workload",
        "events",
        "events_per_s",
        "topics",
        "partitions",
        "delivered_events",
        "latency_p50_ms",
        "latency_p99_ms",
        "max_lag",
        "incidents",
        "wall_s",
    )
    if not quiet:
        with pl.Config(
            tbl_rows=20, tbl_cols=20, tbl_width_chars=160, tbl_hide_dataframe_shape=True
        ):
            print(table)
        print(f"wrote {out_dir}/<workload>.parquet and {out_dir}/event_rates.png")
    return table
