"""The run cache: one small JSON file per finished run, so a sweep resumes where it stopped.

Layout under the sweep's output folder::

    runs/<scenario key>-<metrics hash>.json   one per successful run, written atomically
    sweep.parquet                             the last complete table

A file is keyed by ``scenario.key()`` and a hash of the metrics function's qualified name
(:func:`eventsim.sweep.worker.metrics_id`), so changing either runs again. Failed runs are not
stored: the next sweep retries them. JSON keeps Python's number types and float values exactly,
so a cached row equals a fresh one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eventsim._atomic import atomic_write_text
from eventsim.scenario import Scenario

__all__ = ["RunCache"]


class RunCache:
    """Finished runs under ``folder/runs``, keyed by scenario key and metrics function.

    Parameters
    ----------
    folder
        The sweep's output folder (created on the first write).
    metrics_id
        The metrics function's stable name (:func:`eventsim.sweep.worker.metrics_id`).

    Examples
    --------
    >>> import tempfile
    >>> cache = RunCache(tempfile.mkdtemp(), "eventsim.sim.result.RunResult.summary")
    >>> sc = Scenario(duration="5s")
    >>> cache.get(sc.key()) is None
    True
    >>> out = {"status": "ok", "error": None, "run_s": 0.1, "metrics": {"events": 3}}
    >>> cache.put(sc, out)
    >>> cache.get(sc.key())["metrics"]
    {'events': 3}
    >>> len(cache)
    1
    """

    def __init__(self, folder: str | Path, metrics_id: str) -> None:
        import hashlib

        self.folder = Path(folder)
        self.metrics_id = metrics_id
        self.metrics_hash = hashlib.sha256(metrics_id.encode("utf-8")).hexdigest()[:8]

    @property
    def runs_dir(self) -> Path:
        """Where the per-run files live."""
        return self.folder / "runs"

    def path(self, key: str) -> Path:
        """The file of the run with scenario key ``key``."""
        return self.runs_dir / f"{key}-{self.metrics_hash}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored outcome of run ``key``, or None (missing or unreadable: run it again)."""
        try:
            data = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("status") != "ok":
            return None
        return {k: data.get(k) for k in ("status", "error", "run_s", "metrics")}

    def put(self, scenario: Scenario, outcome: dict[str, Any]) -> None:
        """Store a successful outcome atomically (failed ones are not stored)."""
        if outcome.get("status") != "ok":
            return
        record = {
            "scenario_key": scenario.key(),
            "metrics_id": self.metrics_id,
            **outcome,
            "scenario": scenario.to_dict(),
        }
        atomic_write_text(self.path(scenario.key()), json.dumps(record, indent=1) + "\n")

    def __len__(self) -> int:
        if not self.runs_dir.is_dir():
            return 0
        return sum(1 for _ in self.runs_dir.glob(f"*-{self.metrics_hash}.json"))
