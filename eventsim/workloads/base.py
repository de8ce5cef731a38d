"""The workload interface: a named, parameterised, seeded generator of business events.

A workload draws a whole run's events with vectorised numpy (in chunks where it helps) and
returns them as one polars frame, sorted by time; the engine then walks that frame with a
few long-lived SimPy processes (producers flush per linger window), so one SimPy event moves
many records.

Events frame (the columns every workload returns, in this order)
----------------------------------------------------------------
timestamp_s : Float64
    Creation time of the event in simulated seconds since the run started; sorted ascending.
topic : String or Enum
    Topic the event is produced to.
key : String or Enum (nullable)
    Partitioning key (member, driver, order, ...); null keys are spread round-robin.
event_type : String or Enum
    What happened (``play_start``, ``trip_requested``, ...).
payload_bytes : Int32
    Serialized size of the event's value, for network and storage accounting.
(more)
    Workload-specific payload columns, documented by each workload (null where a topic does
    not carry them).

String columns may come dictionary-encoded as ``pl.Enum`` (:data:`BASE_SCHEMA` lists them
as String): the business workloads return ``topic`` and ``event_type`` as Enums of their
declared ``topics`` and event types, and fixed vocabularies among their payload columns
(regions, pipeline stages, ...) as documented in their ``payload_schema``; the synthetic
workload returns ``topic``, ``key`` and ``event_type`` as Enums. Keys stay String. The
event log stores either as the same dictionary codes, so ``RunResult.events`` (read back
from the log) has String columns whatever the workload returned; cast an Enum with
``.cast(pl.String)`` where plain strings are needed.

Incidents frame (labelled ground truth)
---------------------------------------
kind : String, start_s : Float64, end_s : Float64, target : String (topic, region, cell or
stage), affected : List(String) (the affected entities as keys ``<prefix><id>``: orders
``o<order_id>``, drivers ``d<driver>``, members ``m<member>``, ...; empty when it is the
target). Payload identifiers are numbers (``order_id``, ``driver``, ``member``, ...); keys
are strings, so an entity's key is its prefix (:data:`KEY_PREFIX`) and number
(:func:`entity_key`).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from eventsim.exceptions import ScenarioError, closest
from eventsim.sim.rng import RngStreams

__all__ = [
    "BASE_SCHEMA",
    "INCIDENT_SCHEMA",
    "KEY_PREFIX",
    "IncidentSpec",
    "Workload",
    "WorkloadOutput",
    "empty_incidents",
    "entity_key",
]

BASE_SCHEMA: dict[str, pl.DataType] = {
    "timestamp_s": pl.Float64(),
    "topic": pl.String(),
    "key": pl.String(),
    "event_type": pl.String(),
    "payload_bytes": pl.Int32(),
}

INCIDENT_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "start_s": pl.Float64(),
    "end_s": pl.Float64(),
    "target": pl.String(),
    "affected": pl.List(pl.String()),
}

#: The key prefix of each entity a payload identifier column (or a key) names: an entity's
#: key is its prefix and number (``d17``), in every workload.
KEY_PREFIX: dict[str, str] = {
    "order_id": "o",
    "customer": "c",
    "trip_id": "t",
    "rider": "r",
    "driver": "d",
    "member": "m",
    "author": "m",
    "post_id": "p",
    "upload": "u",
}


def entity_key(column: str) -> pl.Expr:
    """The key form of the entity numbered in payload column ``column`` (null stays null).

    Examples
    --------
    >>> pl.DataFrame({"driver": [17, None]}).select(entity_key("driver"))["driver"].to_list()
    ['d17', None]
    """
    return pl.format(f"{KEY_PREFIX[column]}{{}}", column)


def empty_incidents() -> pl.DataFrame:
    """An incidents frame with no rows."""
    return pl.DataFrame(schema=INCIDENT_SCHEMA)


@dataclass(frozen=True)
class IncidentSpec:
    """A labelled incident to inject: what, when, how strong, where.

    Parameters
    ----------
    kind
        One of the workload's ``incident_kinds`` (``outage``, ``latency_regression``,
        ``error_burst`` and one fraud/abuse pattern per workload).
    start_s, duration_s
        When it starts and how long it lasts, in simulated seconds.
    intensity
        Strength; its meaning is documented per kind (a rate-drop fraction, a latency
        multiplier, an error probability, an attack rate multiplier).
    target
        Topic, region, cell or stage it hits; None lets the workload choose (seeded).
    """

    kind: str
    start_s: float
    duration_s: float
    intensity: float = 1.0
    target: str | None = None

    def __post_init__(self) -> None:
        if self.start_s < 0:
            msg = f"incidents.start_s must be >= 0; got {self.start_s!r}"
            raise ScenarioError(msg)
        if self.duration_s <= 0:
            msg = f"incidents.duration_s must be > 0; got {self.duration_s!r}"
            raise ScenarioError(msg)
        if self.intensity < 0:
            msg = f"incidents.intensity must be >= 0; got {self.intensity!r}"
            raise ScenarioError(msg)

    @property
    def end_s(self) -> float:
        """End of the incident window."""
        return self.start_s + self.duration_s


@dataclass(frozen=True)
class WorkloadOutput:
    """What a workload generates: the events frame and the incidents frame (ground truth)."""

    events: pl.DataFrame
    incidents: pl.DataFrame


class Workload(ABC):
    """Base class of the workloads; one subclass per file, registered by ``name``.

    Subclasses set ``name``, ``Params`` (a frozen dataclass of parameters, with realistic
    defaults, units in the names and validation in ``__post_init__``), ``incident_kinds`` and
    ``topics`` (topic name → event types), and implement :meth:`generate`.

    Parameters
    ----------
    params
        Parameter overrides by name; unknown names are rejected with the closest suggestion.
    incidents
        Incidents to inject; kinds outside ``incident_kinds`` are rejected.
    """

    name: ClassVar[str]
    Params: ClassVar[type]
    incident_kinds: ClassVar[tuple[str, ...]] = ()
    topics: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(
        self, params: dict[str, Any] | None = None, incidents: tuple[IncidentSpec, ...] = ()
    ) -> None:
        self.params = self.make_params(params or {})
        for inc in incidents:
            if inc.kind not in self.incident_kinds:
                allowed = ", ".join(self.incident_kinds) or "none"
                msg = (
                    f"incidents.kind {inc.kind!r} is not supported by workload {self.name!r};"
                    f" allowed: {allowed}"
                )
                raise ScenarioError(msg)
        self.incidents = tuple(incidents)

    @classmethod
    def make_params(cls, params: dict[str, Any]) -> Any:
        """Build the ``Params`` dataclass, naming unknown parameters with a suggestion."""
        fields = {f.name for f in dataclasses.fields(cls.Params)}
        for name in params:
            if name not in fields:
                msg = (
                    f"workload.params.{name} is not a parameter of workload {cls.name!r}"
                    f"{closest(name, fields)} (known: {', '.join(sorted(fields))})"
                )
                raise ScenarioError(msg)
        return cls.Params(**params)

    @classmethod
    def description(cls) -> str:
        """The first line of the class docstring."""
        return (cls.__doc__ or "").strip().splitlines()[0]

    def check_window(self, duration_s: float) -> None:
        """Reject incidents (and subclass windows) that fall outside the run."""
        for inc in self.incidents:
            if inc.end_s > duration_s:
                msg = (
                    f"incidents window [{inc.start_s}, {inc.end_s}] s of kind {inc.kind!r}"
                    f" ends after the run (duration {duration_s} s)"
                )
                raise ScenarioError(msg)

    @abstractmethod
    def generate(self, duration_s: float, rngs: RngStreams) -> WorkloadOutput:
        """Draw the run's events and incidents.

        Parameters
        ----------
        duration_s
            Length of the run in simulated seconds.
        rngs
            Seeded streams; take one per component by name (``rngs("sessions")``).

        Returns
        -------
        WorkloadOutput
            ``events`` with :data:`BASE_SCHEMA` columns first, sorted by ``timestamp_s``;
            ``incidents`` with :data:`INCIDENT_SCHEMA`.
        """
