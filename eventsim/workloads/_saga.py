"""Private: a vectorised saga walker shared by the uber and amazon workloads.

``n`` saga instances move through their steps together, as arrays: each step advances the
instances' clocks by a per-instance delay, draws failures for a subset, and emits events for
a mask of instances. Incidents hook in by stage: a latency regression multiplies the delay
of steps that *start* inside its window; an error burst replaces the failure probability of
steps that start inside its window (and records which instances failed there).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from eventsim.workloads.base import IncidentSpec

__all__ = ["Saga"]


class Saga:
    """Walks ``len(start_s)`` saga instances through their steps, collecting events.

    Parameters
    ----------
    start_s
        Start time of each instance.
    event_types
        All event types the saga can emit (their index is the event code).
    rng
        Stream for failure draws.
    incidents
        Latency regressions and error bursts, by stage name (``spec.target``).

    Examples
    --------
    >>> saga = Saga(np.array([0.0, 10.0]), ["start", "fail", "done"], np.random.default_rng(0))
    >>> saga.emit("start")
    >>> failed = saga.fail("pay", np.array([1.0, 0.0]))
    >>> saga.end("fail", failed)
    >>> saga.advance("ship", np.array([5.0, 5.0]))
    >>> saga.end("done")
    >>> idx, t, code = saga.events()
    >>> idx.tolist(), t.tolist(), code.tolist()
    ([0, 1, 0, 1], [0.0, 10.0, 0.0, 15.0], [0, 0, 1, 2])
    """

    def __init__(
        self,
        start_s: np.ndarray,
        event_types: Sequence[str],
        rng: np.random.Generator,
        incidents: Sequence[tuple[IncidentSpec, str]] = (),
    ) -> None:
        self.t = np.asarray(start_s, dtype=float).copy()
        self.alive = np.ones(len(self.t), dtype=bool)
        self.event_types = list(event_types)
        self._code = {name: i for i, name in enumerate(self.event_types)}
        self._rng = rng
        self._incidents = list(incidents)
        self.burst_failed: dict[int, np.ndarray] = {}
        self._parts: list[tuple[np.ndarray, np.ndarray, int]] = []

    def _mask(self, mask: np.ndarray | None) -> np.ndarray:
        return self.alive if mask is None else self.alive & mask

    def emit(self, name: str, mask: np.ndarray | None = None, *, lag_s: float = 0.0) -> None:
        """Emit ``name`` for the live instances in ``mask`` at their clock (+ ``lag_s``)."""
        idx = np.flatnonzero(self._mask(mask))
        self._parts.append((idx, self.t[idx] + lag_s, self._code[name]))

    def advance(self, stage: str, delay_s: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Move the live instances in ``mask`` forward by ``delay_s`` (one value per instance)."""
        m = self._mask(mask)
        delay = np.asarray(delay_s, dtype=float).copy()
        for spec, target in self._incidents:
            if spec.kind == "latency_regression" and target == stage:
                hit = (self.t >= spec.start_s) & (self.t < spec.end_s)
                delay[hit] *= spec.intensity
        self.t[m] += delay[m]

    def fail(
        self, stage: str, p_fail: np.ndarray | float, mask: np.ndarray | None = None
    ) -> np.ndarray:
        """Draw failures of step ``stage`` for the live instances in ``mask``; returns them."""
        m = self._mask(mask)
        p = np.broadcast_to(np.asarray(p_fail, dtype=float), self.t.shape).copy()
        windows: list[tuple[int, np.ndarray]] = []
        for i, (spec, target) in enumerate(self._incidents):
            if spec.kind == "error_burst" and target == stage:
                hit = (self.t >= spec.start_s) & (self.t < spec.end_s)
                p[hit] = spec.intensity
                windows.append((i, hit))
        failed = m & (self._rng.random(len(self.t)) < p)
        for i, hit in windows:
            self.burst_failed[i] = self.burst_failed.get(i, np.zeros_like(failed)) | (failed & hit)
        return failed

    def end(self, name: str, mask: np.ndarray | None = None) -> None:
        """Emit the terminal event ``name`` for the live instances in ``mask`` and retire them."""
        m = self._mask(mask)
        self.emit(name, m)
        self.alive &= ~m

    def events(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Instance index, time and event code of every emitted event (emission order)."""
        if not self._parts:
            empty = np.empty(0, dtype=np.int64)
            return empty, np.empty(0), empty
        idx = np.concatenate([p[0] for p in self._parts])
        t = np.concatenate([p[1] for p in self._parts])
        code = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int64) for p in self._parts])
        return idx, t, code
