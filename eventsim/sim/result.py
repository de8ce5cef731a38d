"""RunResult: the tables a run produces, their summary, and their Parquet files.

Frames
------
events
    The event log (schema in :mod:`eventsim.log.event_log`).
deliveries
    One row per record delivered to a consumer (:data:`eventsim.sim.consumer.DELIVERY_SCHEMA`).
incidents
    Labelled incidents injected by the workload (:mod:`eventsim.workloads.base`).
metrics
    Samples of consumer lag and other monitors (:data:`eventsim.sim.recorder.METRICS_SCHEMA`).
sends
    One row per business event the producer was asked to send, with its fate
    (:data:`eventsim.delivery.send.SENDS_SCHEMA`).
faults
    The faults injected (:data:`eventsim.faults.FAULTS_SCHEMA`).
history
    Client operations on a replicated store fed by this run's log, when one ran
    (:func:`eventsim.consistency.run_with_store`; schema in :mod:`eventsim.consistency.history`),
    else None.

Files
-----
``write_parquet("run.parquet")`` writes the events to ``run.parquet`` (with the scenario and
the summary in its metadata) and each other frame to ``run.<frame>.parquet`` beside it; every
file is written to a temporary name and renamed, the events file last.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from eventsim.exceptions import DataFormatError
from eventsim.scenario import Scenario

__all__ = ["FRAMES", "RunResult", "read_run_metadata"]

FRAMES = ("deliveries", "incidents", "metrics", "sends", "faults")
_SCENARIO_KEY = b"eventsim.scenario"
_SUMMARY_KEY = b"eventsim.summary"


@dataclass
class RunResult:
    """The outcome of ``run(scenario)``: frames plus the scenario that made them."""

    scenario: Scenario
    events: pl.DataFrame
    deliveries: pl.DataFrame
    incidents: pl.DataFrame
    metrics: pl.DataFrame
    sends: pl.DataFrame
    faults: pl.DataFrame
    history: pl.DataFrame | None = None
    wall_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Headline figures of the run (deterministic: no wall-clock time)."""
        sc = self.scenario
        ev, dl = self.events, self.deliveries
        lat = dl.get_column("latency_s")
        produced = ev.height
        delivered_ids = dl.get_column("event_id").n_unique() if dl.height else 0
        lag = self.metrics.filter(pl.col("metric") == "lag")
        return {
            "workload": sc.workload,
            "duration_s": sc.duration,
            "seed": sc.seed,
            "scenario_key": sc.key(),
            "topics": ev.get_column("topic").n_unique(),
            "partitions": ev.select("topic", "partition").n_unique(),
            "events": produced,
            "events_per_s": round(produced / sc.duration, 3),
            "deliveries": dl.height,
            "delivered_events": delivered_ids,
            "undelivered_events": produced - delivered_ids if len(sc.consumers) == 1 else None,
            "latency_p50_ms": _ms(lat.quantile(0.5)) if dl.height else None,
            "latency_p99_ms": _ms(lat.quantile(0.99)) if dl.height else None,
            "max_lag": int(lag.get_column("value").max() or 0) if lag.height else 0,
            "incidents": self.incidents.height,
        }

    # -- files ---------------------------------------------------------------------------------
    @staticmethod
    def frame_path(path: Path, frame: str) -> Path:
        """Where frame ``frame`` of a run saved at ``path`` lives."""
        return path.with_name(f"{path.stem}.{frame}{path.suffix or '.parquet'}")

    def write_parquet(self, path: str | Path) -> Path:
        """Write all frames as one unit: each to a temporary file, renamed only when every
        one is written, the events file last (a failure leaves the previous run's files as
        they were). Returns ``path``."""
        from eventsim.log.parquet import write_frames

        path = Path(path)
        meta = {
            _SCENARIO_KEY: self.scenario.to_toml(),
            _SUMMARY_KEY: json.dumps(self.summary()),
        }
        files = [(self.events, path, meta)]
        files += [(getattr(self, name), self.frame_path(path, name), None) for name in FRAMES]
        if self.history is not None:
            files.append((self.history, self.frame_path(path, "history"), None))
        write_frames(files)
        return path

    @classmethod
    def read_parquet(cls, path: str | Path) -> RunResult:
        """Read a run written by :meth:`write_parquet`."""
        import tomllib

        from eventsim.log.parquet import read_frame

        path = Path(path)
        events, meta = read_frame(path)
        if _SCENARIO_KEY not in meta:
            msg = f"{str(path)!r} is a Parquet file but not an eventsim run (no scenario metadata)"
            raise DataFormatError(msg)
        scenario = Scenario.from_dict(tomllib.loads(meta[_SCENARIO_KEY].decode()))
        frames = {name: read_frame(cls.frame_path(path, name))[0] for name in FRAMES}
        history_path = cls.frame_path(path, "history")
        history = read_frame(history_path)[0] if history_path.exists() else None
        return cls(scenario=scenario, events=events, history=history, **frames)


def read_run_metadata(path: str | Path) -> tuple[str, dict[str, Any], int]:
    """Scenario TOML, summary and row count of a saved run, without reading its data."""
    from eventsim.log.parquet import read_metadata

    path = Path(path)
    meta = read_metadata(path)
    if _SCENARIO_KEY not in meta:
        msg = f"{str(path)!r} is a Parquet file but not an eventsim run (no scenario metadata)"
        raise DataFormatError(msg)
    summary = json.loads(meta[_SUMMARY_KEY].decode())
    return meta[_SCENARIO_KEY].decode(), summary, int(meta[b"num_rows"])


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)
