"""Scenario: a frozen, validated description of one run, loadable from TOML and writable back.

A scenario and a seed determine the run. ``replace(**changes)`` makes variants (dotted paths
for nested fields), and ``key()`` is a stable hash, the same in every process, so sweeps can
cache and resume.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventsim.exceptions import ScenarioError, closest
from eventsim.faults import FaultsConfig
from eventsim.units import parse_duration
from eventsim.workloads.base import IncidentSpec

__all__ = [
    "ConsumerGroupConfig",
    "LogConfig",
    "ProducerConfig",
    "Scenario",
    "load_scenario",
]


def _require(ok: bool, field_path: str, value: Any, rule: str) -> None:
    if not ok:
        msg = f"{field_path} must be {rule}; got {value!r}"
        raise ScenarioError(msg)


def _one_of(value: Any, field_path: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        msg = f"{field_path} must be one of {', '.join(allowed)}; got {value!r}"
        raise ScenarioError(msg)


@dataclass(frozen=True)
class LogConfig:
    """The event log: topics' partitions, brokers and replication, retention and compaction.

    Parameters
    ----------
    partitions
        Partitions per topic (>= 1).
    brokers
        Number of brokers holding replicas (>= 1).
    replication_factor
        Replicas per partition (1 ..= brokers).
    retention_s
        Delete records older than this (seconds since append); None keeps everything.
    retention_records
        Keep at most this many records per partition; None for no limit.
    compaction
        Keep only the latest record per key (tombstones dropped after ``delete_retention_s``).
    delete_retention_s
        How long a tombstone survives compaction.
    min_insync_replicas
        With ``acks=all`` a write needs this many in-sync replicas (1 ..= replication factor).
    unclean_leader_election
        Elect an out-of-sync replica when no in-sync one is alive (losing what it lacks).
    replication_lag_s
        How long a follower takes to fetch a record from its leader; consumers read only
        records replicated to every in-sync replica (the high watermark).
    election_s
        Time for the controller to detect a dead leader and elect a new one.
    """

    partitions: int = 12
    brokers: int = 3
    replication_factor: int = 1
    retention_s: float | None = None
    retention_records: int | None = None
    compaction: bool = False
    delete_retention_s: float = 86400.0
    min_insync_replicas: int = 1
    unclean_leader_election: bool = False
    replication_lag_s: float = 0.002
    election_s: float = 1.0

    def __post_init__(self) -> None:
        _require(self.partitions >= 1, "log.partitions", self.partitions, ">= 1")
        _require(
            1 <= self.min_insync_replicas <= self.replication_factor,
            "log.min_insync_replicas",
            self.min_insync_replicas,
            f"between 1 and log.replication_factor ({self.replication_factor})",
        )
        _require(
            self.replication_lag_s >= 0, "log.replication_lag_s", self.replication_lag_s, ">= 0"
        )
        _require(self.election_s >= 0, "log.election_s", self.election_s, ">= 0")
        _require(self.brokers >= 1, "log.brokers", self.brokers, ">= 1")
        _require(
            1 <= self.replication_factor <= self.brokers,
            "log.replication_factor",
            self.replication_factor,
            f"between 1 and log.brokers ({self.brokers})",
        )
        if self.retention_s is not None:
            _require(self.retention_s > 0, "log.retention_s", self.retention_s, "> 0 or unset")
        if self.retention_records is not None:
            _require(
                self.retention_records >= 1,
                "log.retention_records",
                self.retention_records,
                ">= 1 or unset",
            )
        _require(
            self.delete_retention_s >= 0, "log.delete_retention_s", self.delete_retention_s, ">= 0"
        )


@dataclass(frozen=True)
class ProducerConfig:
    """How producers batch and send.

    Parameters
    ----------
    linger_s
        Records created within one linger window travel in one batch (Kafka ``linger.ms``).
    network_delay_s
        One-way producer → broker delay.
    acks
        ``"0"`` (fire and forget), ``"1"`` (leader wrote it) or ``"all"`` (every in-sync
        replica has it, and at least ``log.min_insync_replicas``).
    retries
        Resends of a failed request (0 = none); bounded by ``delivery_timeout_s`` too.
    retry_backoff_s, retry_backoff_max_s
        Exponential backoff between resends: first and largest wait.
    request_timeout_s
        A request without a response after this long counts as failed and is resent.
    delivery_timeout_s
        Give up on a record this long after it was created (status ``failed``).
    idempotent
        Producer id + per-partition sequence numbers: the broker drops resent copies and
        keeps each partition in send order.
    transactional
        Atomic writes in transactions of ``transaction_interval_s``; needs ``idempotent``.
        A restarted producer fences its zombie and aborts its open transaction.
    transaction_interval_s
        How often a transactional producer commits.
    resend_on_restart
        After a producer crash, resend every record that was not acknowledged (an outbox);
        False drops them (at-most-once).
    """

    linger_s: float = 0.005
    network_delay_s: float = 0.001
    acks: str = "all"
    retries: int = 2_147_483_647
    retry_backoff_s: float = 0.1
    retry_backoff_max_s: float = 1.0
    request_timeout_s: float = 3.0
    delivery_timeout_s: float = 120.0
    idempotent: bool = False
    transactional: bool = False
    transaction_interval_s: float = 0.1
    resend_on_restart: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "acks", str(self.acks))
        _require(self.linger_s > 0, "producer.linger_s", self.linger_s, "> 0")
        _one_of(self.acks, "producer.acks", ("0", "1", "all"))
        _require(self.retries >= 0, "producer.retries", self.retries, ">= 0")
        for name in (
            "retry_backoff_s",
            "retry_backoff_max_s",
            "request_timeout_s",
            "delivery_timeout_s",
            "transaction_interval_s",
        ):
            value = getattr(self, name)
            _require(value > 0, f"producer.{name}", value, "> 0")
        if self.idempotent and self.acks == "0":
            msg = "producer.idempotent needs acknowledgements (acks = 1 or all); got acks = '0'"
            raise ScenarioError(msg)
        if self.transactional and not self.idempotent:
            msg = "producer.transactional needs producer.idempotent = true (Kafka's rule)"
            raise ScenarioError(msg)
        _require(
            self.network_delay_s >= 0, "producer.network_delay_s", self.network_delay_s, ">= 0"
        )


@dataclass(frozen=True)
class ConsumerGroupConfig:
    """A consumer group feeding a sink.

    Parameters
    ----------
    name
        Group id.
    members
        Consumers in the group (>= 1); partitions are spread over them by ``assignor``.
    max_poll_records
        Records one poll returns at most (Kafka ``max.poll.records``).
    poll_interval_s
        Poll cadence: a poll that returns less than ``max_poll_records`` is followed by the
        next one this long after it started (a fetch wait, like Kafka's
        ``fetch.max.wait.ms``); a full poll is followed at once. Simulation cost grows with
        simulated time divided by this.
    processing_time_s
        Handler time per record.
    commit
        ``auto`` (commit on an interval), ``before-process`` (at-most-once),
        ``after-process`` (at-least-once) or ``transactional`` (the sink's writes and the
        offsets commit in one transaction: exactly-once read-process-write).
    isolation
        ``read_uncommitted`` | ``read_committed`` (skip aborted transactional records and wait
        for the commit).
    sink
        ``plain`` (every processing applies its effect) | ``idempotent`` (dedup by event id).
    ack_mode
        ``batch`` (commit once per poll) | ``record`` (commit after every record).
    session_timeout_s
        How long a crashed member keeps its partitions before the group rebalances.
    auto_commit_interval_s
        Interval of automatic commits.
    auto_offset_reset
        Where a consumer starts without a valid committed offset: ``earliest`` | ``latest``.
    assignor
        ``range`` | ``roundrobin``.
    topics
        Topics the group subscribes to; empty means all topics of the workload.
    """

    name: str = "sink"
    members: int = 4
    max_poll_records: int = 500
    poll_interval_s: float = 0.25
    processing_time_s: float = 0.00005
    commit: str = "auto"
    auto_commit_interval_s: float = 5.0
    auto_offset_reset: str = "earliest"
    assignor: str = "range"
    topics: tuple[str, ...] = ()
    isolation: str = "read_uncommitted"
    sink: str = "plain"
    ack_mode: str = "batch"
    session_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        p = f"consumers[{self.name}]"
        _one_of(self.isolation, f"{p}.isolation", ("read_uncommitted", "read_committed"))
        _one_of(self.sink, f"{p}.sink", ("plain", "idempotent"))
        _one_of(self.ack_mode, f"{p}.ack_mode", ("batch", "record"))
        _require(
            self.session_timeout_s > 0, f"{p}.session_timeout_s", self.session_timeout_s, "> 0"
        )
        _require(self.members >= 1, f"{p}.members", self.members, ">= 1")
        _require(self.max_poll_records >= 1, f"{p}.max_poll_records", self.max_poll_records, ">= 1")
        _require(self.poll_interval_s > 0, f"{p}.poll_interval_s", self.poll_interval_s, "> 0")
        _require(
            self.processing_time_s >= 0, f"{p}.processing_time_s", self.processing_time_s, ">= 0"
        )
        _one_of(
            self.commit,
            f"{p}.commit",
            ("auto", "before-process", "after-process", "transactional"),
        )
        _require(
            self.auto_commit_interval_s > 0,
            f"{p}.auto_commit_interval_s",
            self.auto_commit_interval_s,
            "> 0",
        )
        _one_of(self.auto_offset_reset, f"{p}.auto_offset_reset", ("earliest", "latest"))
        _one_of(self.assignor, f"{p}.assignor", ("range", "roundrobin"))
        object.__setattr__(self, "topics", tuple(self.topics))


@dataclass(frozen=True)
class Scenario:
    """A run: workload, duration, seed, log, producer, consumer groups and incidents.

    Parameters
    ----------
    workload
        Registered workload name (``eventsim workloads`` lists them).
    duration
        Simulated length in seconds; strings with units (``"90s"``, ``"30m"``, ``"2h"``) are
        accepted and stored as seconds.
    seed
        Seed of every random stream in the run.
    params
        Workload parameters by name (see the workload's ``Params``).
    log, producer, consumers
        Event-log, producer and consumer-group settings.
    incidents
        Labelled incidents the workload injects.
    faults
        Injected faults: scheduled ones and random rates (see :mod:`eventsim.faults`).
    drain
        Simulated time after the workload stops producing during which consumers keep
        consuming (seconds, or a duration string).

    Examples
    --------
    >>> sc = Scenario(workload="synthetic", duration="30m", seed=7)
    >>> sc.duration, sc.log.partitions
    (1800.0, 12)
    >>> sc.replace(**{"log.partitions": 24}).log.partitions
    24
    >>> sc.key() == Scenario(workload="synthetic", duration=1800, seed=7).key()
    True
    """

    workload: str = "synthetic"
    duration: float = 600.0
    seed: int = 0
    params: Mapping[str, Any] = field(default_factory=dict)
    log: LogConfig = field(default_factory=LogConfig)
    producer: ProducerConfig = field(default_factory=ProducerConfig)
    consumers: tuple[ConsumerGroupConfig, ...] = (ConsumerGroupConfig(),)
    incidents: tuple[IncidentSpec, ...] = ()
    faults: FaultsConfig = field(default_factory=FaultsConfig)
    drain: float = 30.0

    def __post_init__(self) -> None:
        from eventsim.workloads import get_workload

        drain = parse_duration(self.drain, "drain")
        _require(drain >= 0, "drain", self.drain, ">= 0")
        object.__setattr__(self, "drain", drain)
        duration = parse_duration(self.duration, "duration")
        _require(duration > 0, "duration", self.duration, "> 0 (e.g. 90s, 30m, 2h)")
        object.__setattr__(self, "duration", duration)
        _require(
            isinstance(self.seed, int) and not isinstance(self.seed, bool) and self.seed >= 0,
            "seed",
            self.seed,
            "an integer >= 0",
        )
        object.__setattr__(self, "params", FrozenParams(self.params))
        object.__setattr__(self, "consumers", tuple(self.consumers))
        object.__setattr__(self, "incidents", tuple(self.incidents))
        names = [c.name for c in self.consumers]
        _require(len(set(names)) == len(names), "consumers.name", names, "unique")
        workload = get_workload(self.workload)(self.params, self.incidents)
        workload.check_window(duration)
        self.faults.validate(self)

    # -- variants and identity -------------------------------------------------------------
    def replace(self, **changes: Any) -> Scenario:
        """A copy with fields changed; keys may be dotted paths (``"log.partitions"``)."""
        data = self.to_dict()
        for path, value in changes.items():
            _set_path(data, path, value)
        return Scenario.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict of the scenario (TOML- and JSON-ready)."""
        return _drop_none(dataclasses.asdict(self))

    def key(self) -> str:
        """A stable 16-hex-digit hash of the scenario: same scenario → same key anywhere.

        Numbers are hashed by value (``60`` and ``60.0`` give the same key).
        """
        text = json.dumps(_canonical(self.to_dict()), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    # -- TOML ------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Build from a nested dict, rejecting unknown keys with the closest suggestion."""
        return typing.cast(Scenario, _build(cls, data, ""))

    @classmethod
    def from_toml(cls, path: str | Path) -> Scenario:
        """Load a scenario file (TOML)."""
        return load_scenario(path)

    def to_toml(self) -> str:
        """The scenario as TOML text; ``Scenario.from_dict(tomllib.loads(text))`` is equal."""
        from eventsim._toml import dumps

        return dumps(self.to_dict())

    def write_toml(self, path: str | Path) -> None:
        """Write the scenario as TOML, atomically."""
        from eventsim._atomic import atomic_write_text

        atomic_write_text(Path(path), self.to_toml())


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load a TOML scenario file, applying dotted-path ``overrides``.

    Raises
    ------
    ScenarioError
        Missing file, malformed TOML (with line and column), unknown keys or bad values.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"scenario file {str(path)!r} cannot be read: {exc.strerror}"
        raise ScenarioError(msg) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"scenario file {str(path)!r} is not valid TOML: {exc}"
        raise ScenarioError(msg) from None
    for key, value in (overrides or {}).items():
        _set_path(data, key, value)
    return Scenario.from_dict(data)


# -- building nested dataclasses from dicts ----------------------------------------------------
def _build(cls: type, data: Any, prefix: str) -> Any:
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        msg = f"{prefix.rstrip('.') or 'scenario'} must be a table; got {data!r}"
        raise ScenarioError(msg)
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name not in fields:
            where = prefix.rstrip(".") or "scenario"
            msg = (
                f"{prefix}{name} is not a field of {where}{closest(name, fields)}"
                f" (known: {', '.join(sorted(fields))})"
            )
            raise ScenarioError(msg)
        kwargs[name] = _convert(hints[name], value, f"{prefix}{name}")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        msg = f"{prefix.rstrip('.') or 'scenario'}: {exc}"
        raise ScenarioError(msg) from None


def _convert(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _build(typing.cast(type, hint), value, f"{path}.")
    if origin is tuple and args and dataclasses.is_dataclass(args[0]):
        if not isinstance(value, list | tuple):
            msg = f"{path} must be a list of tables; got {value!r}"
            raise ScenarioError(msg)
        item = typing.cast(type, args[0])
        return tuple(_build(item, v, f"{path}[{i}].") for i, v in enumerate(value))
    if origin is tuple:
        return tuple(value) if isinstance(value, list | tuple) else (value,)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                msg = f"{'.'.join(parts[: i + 1])} is not an index into a list of {len(node)}"
                raise ScenarioError(msg)
            node = node[int(part)]
        else:
            node = node.setdefault(part, {})
        if not isinstance(node, dict | list):
            msg = f"{'.'.join(parts[: i + 1])} is a value, not a table; cannot set {path}"
            raise ScenarioError(msg)
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            msg = f"{path} is not an index into a list of {len(node)}"
            raise ScenarioError(msg)
        node[int(last)] = value
    else:
        node[last] = value


class FrozenParams(dict[str, Any]):
    """Workload parameters: a read-only, hashable dict (lists become tuples)."""

    def __init__(self, data: Mapping[str, Any] = ()) -> None:  # type: ignore[assignment]
        super().__init__({k: _freeze(v) for k, v in dict(data).items()})

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))

    def _readonly(self, *args: Any, **kwargs: Any) -> Any:
        msg = "scenario params are read-only; use Scenario.replace(**{'params.name': value})"
        raise TypeError(msg)

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _readonly  # type: ignore[assignment]

    def __reduce__(self) -> Any:
        return (FrozenParams, (dict(self),))


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return FrozenParams(value)
    return value


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def _drop_none(value: Any) -> Any:
    if isinstance(value, FrozenParams):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value]
    return value
