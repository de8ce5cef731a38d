"""Recorder: simulation monitors that collect metrics as columns and export one frame."""

from __future__ import annotations

import polars as pl

__all__ = ["METRICS_SCHEMA", "Recorder"]

#: Schema of ``RunResult.metrics``: one row per sample.
METRICS_SCHEMA: dict[str, pl.DataType] = {
    "time_s": pl.Float64(),
    "metric": pl.String(),
    "group": pl.String(),
    "topic": pl.String(),
    "partition": pl.Int32(),
    "value": pl.Float64(),
}


class Recorder:
    """Appends samples to column lists; :meth:`frame` builds the metrics frame once.

    Examples
    --------
    >>> r = Recorder()
    >>> r.sample(1.0, "lag", 5, group="g", topic="t", partition=0)
    >>> r.frame().select("metric", "value").rows()
    [('lag', 5.0)]
    """

    def __init__(self) -> None:
        self._cols: dict[str, list[object]] = {name: [] for name in METRICS_SCHEMA}

    def sample(
        self,
        time_s: float,
        metric: str,
        value: float,
        *,
        group: str | None = None,
        topic: str | None = None,
        partition: int | None = None,
    ) -> None:
        """Record one sample."""
        c = self._cols
        c["time_s"].append(time_s)
        c["metric"].append(metric)
        c["group"].append(group)
        c["topic"].append(topic)
        c["partition"].append(partition)
        c["value"].append(float(value))

    def frame(self) -> pl.DataFrame:
        """All samples as a frame with :data:`METRICS_SCHEMA`."""
        return pl.DataFrame(self._cols, schema=METRICS_SCHEMA)
