"""Private: validating, targeting and labelling injected incidents (the ground truth).

Intensity meaning shared by the four business workloads:

- ``outage``: fraction of the target's events lost in the window (1 = total outage), [0, 1];
- ``latency_regression``: multiplier of the target stage's durations (> 0; > 1 slows down);
- ``error_burst``: failure probability of the target step in the window, [0, 1];
- fraud/abuse kinds: attack scale (> 0), documented per workload.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from eventsim.exceptions import ScenarioError
from eventsim.workloads.base import INCIDENT_SCHEMA, IncidentSpec

__all__ = ["check_incidents", "drop_outage", "in_window", "incidents_frame", "pick_target"]

PROBABILITY_KINDS = ("outage", "error_burst")


def check_incidents(
    incidents: Sequence[IncidentSpec], targets: dict[str, tuple[str, ...]], workload: str
) -> None:
    """Reject targets a kind cannot hit and intensities outside the kind's range.

    Examples
    --------
    >>> check_incidents([IncidentSpec("outage", 0, 1, 2.0)], {"outage": ("a",)}, "w")
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ScenarioError: incidents.intensity of kind 'outage' must be in [0, 1]...
    """
    for inc in incidents:
        allowed = targets[inc.kind]
        if inc.target is not None and inc.target not in allowed:
            msg = (
                f"incidents.target {inc.target!r} of kind {inc.kind!r} is not known to workload"
                f" {workload!r}; allowed: {', '.join(allowed)}"
            )
            raise ScenarioError(msg)
        if inc.kind in PROBABILITY_KINDS and inc.intensity > 1.0:
            msg = (
                f"incidents.intensity of kind {inc.kind!r} must be in [0, 1] (a probability);"
                f" got {inc.intensity!r}"
            )
            raise ScenarioError(msg)
        if inc.kind not in PROBABILITY_KINDS and inc.intensity <= 0:
            msg = f"incidents.intensity of kind {inc.kind!r} must be > 0; got {inc.intensity!r}"
            raise ScenarioError(msg)


def pick_target(spec: IncidentSpec, choices: Sequence[str], rng: np.random.Generator) -> str:
    """The spec's target, or a seeded choice among ``choices`` when it is None.

    Examples
    --------
    >>> pick_target(IncidentSpec("outage", 0, 1, target="b"), ["a", "b"], None)
    'b'
    """
    if spec.target is not None:
        return spec.target
    return str(choices[int(rng.integers(len(choices)))])


def in_window(t_s: np.ndarray, spec: IncidentSpec) -> np.ndarray:
    """Boolean mask of times inside ``[start_s, end_s)``.

    Examples
    --------
    >>> in_window(np.array([0.0, 1.0, 2.0]), IncidentSpec("outage", 1.0, 1.0)).tolist()
    [False, True, False]
    """
    return (t_s >= spec.start_s) & (t_s < spec.end_s)


def drop_outage(
    events: pl.DataFrame, spec: IncidentSpec, target: str, rng: np.random.Generator
) -> pl.DataFrame:
    """Drop events of ``target`` (a topic, or a value of the ``region`` column) in the window.

    Each matching event inside the window is lost with probability ``spec.intensity``.

    Examples
    --------
    >>> ev = pl.DataFrame({"timestamp_s": [0.5, 1.5, 1.6], "topic": ["a", "a", "b"]})
    >>> drop_outage(ev, IncidentSpec("outage", 1.0, 1.0, 1.0), "a", None)["topic"].to_list()
    ['a', 'b']
    """
    t = events["timestamp_s"].to_numpy()
    lo, hi = np.searchsorted(t, [spec.start_s, spec.end_s], side="left")
    window = events.slice(int(lo), int(hi - lo))
    hit = (window["topic"] == target).to_numpy()
    if "region" in window.columns:
        hit |= (window["region"] == target).fill_null(value=False).to_numpy()
    if spec.intensity < 1.0:
        hit &= rng.random(len(window)) < spec.intensity
    keep = np.ones(len(events), dtype=bool)
    keep[lo:hi] = ~hit
    return events.filter(pl.Series(keep))


def incidents_frame(rows: Sequence[tuple[IncidentSpec, str, Sequence[str]]]) -> pl.DataFrame:
    """The incidents frame: one row per (spec, target, affected keys), in injection order.

    Examples
    --------
    >>> incidents_frame([(IncidentSpec("outage", 1.0, 2.0), "a", [])]).row(0)
    ('outage', 1.0, 3.0, 'a', [])
    """
    return pl.DataFrame(
        {
            "kind": [s.kind for s, _, _ in rows],
            "start_s": [float(s.start_s) for s, _, _ in rows],
            "end_s": [float(s.end_s) for s, _, _ in rows],
            "target": [t for _, t, _ in rows],
            "affected": [sorted(set(a)) for _, _, a in rows],
        },
        schema=INCIDENT_SCHEMA,
    )
