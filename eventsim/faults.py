"""Faults: what goes wrong, where and when — declared in the scenario, deterministic under the
seed, and recorded in ``RunResult.faults``.

Kinds and their targets
-----------------------
broker_crash, broker_pause
    ``broker-<i>``. A crash kills the broker (its partitions fail over); a pause (GC stall)
    leaves it alive but unresponsive, so requests time out and are resent.
consumer_crash
    ``<group>-<i>`` (a member). ``point`` says where it dies: ``before-process`` (after a
    poll), ``after-process`` (before the commit) or ``after-commit``. It rejoins after
    ``duration_s``; the group rebalances after the session timeout.
producer_crash
    ``producer``. Records created while it is down wait for the restart; unacknowledged ones
    are resent (``producer.resend_on_restart``) or dropped.
network_partition
    ``"a,b|c"``: no traffic between the nodes left and right of ``|`` (``producer``,
    ``broker-<i>``, members).
link_drop, link_duplicate, link_delay
    ``producer`` (its links to every broker): each request is lost (or its response is) with
    ``probability``; duplicated with ``probability``; delayed by an exponential extra delay
    of mean ``delay_s``.
clock_skew
    A node's clock runs ``delay_s`` ahead plus ``drift_ppm`` parts per million of elapsed
    time, during the window.

Random faults come from rates per hour (``faults.broker_crash_rate_per_h`` ...) with
exponential durations; they never overlap on one target and end before the workload does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from eventsim.exceptions import ScenarioError, closest

if TYPE_CHECKING:
    from eventsim.scenario import Scenario

__all__ = ["FAULTS_SCHEMA", "FAULT_KINDS", "FaultSpec", "FaultsConfig", "faults_frame", "nodes"]

FAULT_KINDS = (
    "broker_crash",
    "broker_pause",
    "consumer_crash",
    "producer_crash",
    "network_partition",
    "link_drop",
    "link_duplicate",
    "link_delay",
    "clock_skew",
)
CRASH_POINTS = ("before-process", "after-process", "after-commit")

#: Schema of ``RunResult.faults``.
FAULTS_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "target": pl.String(),
    "start_s": pl.Float64(),
    "end_s": pl.Float64(),
    "detail": pl.String(),
}


@dataclass(frozen=True)
class FaultSpec:
    """One fault, scheduled at ``start_s`` for ``duration_s``.

    Parameters
    ----------
    kind
        One of :data:`FAULT_KINDS`.
    target
        The node(s) it hits (see the module docstring).
    start_s, duration_s
        Window in simulated seconds.
    point
        Where a consumer crash happens: ``before-process``, ``after-process``,
        ``after-commit``.
    probability
        For ``link_drop`` and ``link_duplicate``: chance per request.
    delay_s
        Mean extra delay (``link_delay``) or clock offset (``clock_skew``).
    drift_ppm
        Clock drift (``clock_skew``).
    """

    kind: str
    target: str = ""
    start_s: float = 0.0
    duration_s: float = 10.0
    point: str = "after-process"
    probability: float = 0.0
    delay_s: float = 0.0
    drift_ppm: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            msg = (
                f"faults.kind {self.kind!r} is unknown{closest(self.kind, FAULT_KINDS)}"
                f"; known: {', '.join(FAULT_KINDS)}"
            )
            raise ScenarioError(msg)
        if self.start_s < 0 or self.duration_s <= 0:
            msg = (
                f"faults window of {self.kind} on {self.target!r} must have start_s >= 0 and"
                f" duration_s > 0; got start_s={self.start_s!r}, duration_s={self.duration_s!r}"
            )
            raise ScenarioError(msg)
        if self.point not in CRASH_POINTS:
            msg = f"faults.point must be one of {', '.join(CRASH_POINTS)}; got {self.point!r}"
            raise ScenarioError(msg)
        if not 0.0 <= self.probability <= 1.0:
            msg = f"faults.probability must be in [0, 1]; got {self.probability!r}"
            raise ScenarioError(msg)
        if self.delay_s < 0 and self.kind != "clock_skew":
            msg = f"faults.delay_s must be >= 0; got {self.delay_s!r}"
            raise ScenarioError(msg)

    @property
    def end_s(self) -> float:
        """End of the window."""
        return self.start_s + self.duration_s

    def sides(self) -> tuple[set[str], set[str]]:
        """The two sides of a ``network_partition`` target."""
        left, _, right = self.target.partition("|")
        return {s.strip() for s in left.split(",") if s.strip()}, {
            s.strip() for s in right.split(",") if s.strip()
        }

    def detail(self) -> str:
        """Short text of the kind-specific settings."""
        if self.kind == "consumer_crash":
            return f"point={self.point}"
        if self.kind in ("link_drop", "link_duplicate"):
            return f"probability={self.probability}"
        if self.kind == "link_delay":
            return f"mean_delay_s={self.delay_s}"
        if self.kind == "clock_skew":
            return f"offset_s={self.delay_s}, drift_ppm={self.drift_ppm}"
        return ""


def nodes(scenario: Scenario) -> dict[str, str]:
    """Every node of a scenario and its role: brokers, the producer, consumer members."""
    out = {f"broker-{i}": "broker" for i in range(scenario.log.brokers)}
    out["producer"] = "producer"
    for group in scenario.consumers:
        for i in range(group.members):
            out[f"{group.name}-{i}"] = "consumer"
    return out


_TARGET_ROLE = {
    "broker_crash": "broker",
    "broker_pause": "broker",
    "consumer_crash": "consumer",
    "producer_crash": "producer",
    "link_drop": "producer",
    "link_duplicate": "producer",
    "link_delay": "producer",
}


@dataclass(frozen=True)
class FaultsConfig:
    """Scheduled faults plus random ones drawn from rates.

    Parameters
    ----------
    scheduled
        Faults at fixed times.
    broker_crash_rate_per_h, broker_crash_mean_s
        Random broker crashes: per broker per hour, and mean downtime.
    broker_pause_rate_per_h, broker_pause_mean_s
        Random GC stalls.
    consumer_crash_rate_per_h, consumer_crash_mean_s
        Random consumer crashes (per member), at a random point, and mean time to rejoin.
    producer_crash_rate_per_h, producer_crash_mean_s
        Random producer crashes and mean downtime.
    """

    scheduled: tuple[FaultSpec, ...] = ()
    broker_crash_rate_per_h: float = 0.0
    broker_crash_mean_s: float = 30.0
    broker_pause_rate_per_h: float = 0.0
    broker_pause_mean_s: float = 5.0
    consumer_crash_rate_per_h: float = 0.0
    consumer_crash_mean_s: float = 15.0
    producer_crash_rate_per_h: float = 0.0
    producer_crash_mean_s: float = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "scheduled", tuple(self.scheduled))
        for name in (
            "broker_crash_rate_per_h",
            "broker_pause_rate_per_h",
            "consumer_crash_rate_per_h",
            "producer_crash_rate_per_h",
        ):
            if getattr(self, name) < 0:
                msg = f"faults.{name} must be >= 0; got {getattr(self, name)!r}"
                raise ScenarioError(msg)
        for name in (
            "broker_crash_mean_s",
            "broker_pause_mean_s",
            "consumer_crash_mean_s",
            "producer_crash_mean_s",
        ):
            if getattr(self, name) <= 0:
                msg = f"faults.{name} must be > 0; got {getattr(self, name)!r}"
                raise ScenarioError(msg)

    def validate(self, scenario: Scenario) -> None:
        """Targets exist and fit the kind; windows of one kind on one target do not overlap."""
        known = nodes(scenario)
        for i, f in enumerate(self.scheduled):
            targets = f.sides()[0] | f.sides()[1] if f.kind == "network_partition" else {f.target}
            if f.kind == "network_partition" and (not f.sides()[0] or not f.sides()[1]):
                msg = f"faults.scheduled[{i}].target must look like 'a,b|c'; got {f.target!r}"
                raise ScenarioError(msg)
            for t in targets:
                role = _TARGET_ROLE.get(f.kind)
                if t not in known or (role is not None and known[t] != role):
                    allowed = [n for n, r in known.items() if role is None or r == role]
                    msg = (
                        f"faults.scheduled[{i}].target {t!r} is not a {role or 'node'} of this"
                        f" scenario{closest(t, allowed)}; known: {', '.join(allowed)}"
                    )
                    raise ScenarioError(msg)
            if f.end_s > scenario.duration + scenario.drain:
                msg = (
                    f"faults.scheduled[{i}] window [{f.start_s}, {f.end_s}] s ends after the run"
                    f" ({scenario.duration + scenario.drain} s)"
                )
                raise ScenarioError(msg)
        spans = sorted(
            (f.kind, f.target, f.start_s, f.end_s, i) for i, f in enumerate(self.scheduled)
        )
        for a, b in itertools.pairwise(spans):
            if a[:2] == b[:2] and b[2] < a[3]:
                msg = (
                    f"faults.scheduled[{b[4]}] overlaps faults.scheduled[{a[4]}]: two {a[0]}"
                    f" windows on {a[1]!r} ([{a[2]}, {a[3]}] and [{b[2]}, {b[3]}])"
                )
                raise ScenarioError(msg)

    def schedule(self, scenario: Scenario, rng: np.random.Generator) -> list[FaultSpec]:
        """Scheduled faults plus the random ones, drawn from ``rng``; sorted by start."""
        out = list(self.scheduled)
        known = nodes(scenario)
        plans = [
            ("broker_crash", self.broker_crash_rate_per_h, self.broker_crash_mean_s, "broker"),
            ("broker_pause", self.broker_pause_rate_per_h, self.broker_pause_mean_s, "broker"),
            (
                "consumer_crash",
                self.consumer_crash_rate_per_h,
                self.consumer_crash_mean_s,
                "consumer",
            ),
            (
                "producer_crash",
                self.producer_crash_rate_per_h,
                self.producer_crash_mean_s,
                "producer",
            ),
        ]
        horizon = scenario.duration
        for kind, rate, mean, role in plans:
            if rate <= 0:
                continue
            for target in (n for n, r in known.items() if r == role):
                busy = [(f.start_s, f.end_s) for f in out if f.target == target]
                n = rng.poisson(rate * horizon / 3600.0)
                starts = np.sort(rng.uniform(0.0, horizon, n))
                durations = rng.exponential(mean, n)
                points = rng.integers(0, len(CRASH_POINTS), n)
                for start, dur, point in zip(starts, durations, points, strict=True):
                    end = min(start + max(dur, 0.1), horizon)
                    if end - start < 0.1 or any(s < end and start < e for s, e in busy):
                        continue
                    busy.append((start, end))
                    out.append(
                        FaultSpec(
                            kind,
                            target,
                            round(float(start), 6),
                            round(float(end - start), 6),
                            point=CRASH_POINTS[int(point)],
                        )
                    )
        return sorted(out, key=lambda f: (f.start_s, f.kind, f.target))


def faults_frame(faults: list[FaultSpec]) -> pl.DataFrame:
    """The faults as a frame with :data:`FAULTS_SCHEMA`.

    Examples
    --------
    >>> faults_frame([FaultSpec("broker_crash", "broker-1", 10.0, 5.0)]).rows()
    [('broker_crash', 'broker-1', 10.0, 15.0, '')]
    """
    rows = [(f.kind, f.target, f.start_s, f.end_s, f.detail()) for f in faults]
    return pl.DataFrame(rows, schema=FAULTS_SCHEMA, orient="row")
