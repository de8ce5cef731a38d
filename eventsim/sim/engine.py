"""The engine: ``run(scenario) -> RunResult`` on a SimPy Environment.

Flow: the workload draws the run's events (vectorised); the fault schedule is drawn and the
partitions' leader/ISR timelines follow from it; the
:class:`~eventsim.sim.producer.Producer` works out every record's fate under the producer
settings and faults and stages the surviving copies into the
:class:`~eventsim.log.EventLog` epoch by epoch; each consumer group's
:class:`~eventsim.sim.consumer.Member` processes poll batches, commit, crash and rejoin, and
record deliveries in a :class:`~eventsim.sim.consumer.Sink`; monitors sample lag into a
:class:`~eventsim.sim.recorder.Recorder`. Every random draw comes from a stream named after
its component, so a scenario and its seed determine the run.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import polars as pl
import simpy

from eventsim._memory import retained_memory
from eventsim.faults import FaultSpec, faults_frame
from eventsim.log.consumer_group import ConsumerGroup
from eventsim.log.event_log import EventLog
from eventsim.log.record import TopicPartition
from eventsim.log.replication import PartitionTimeline, partition_timelines
from eventsim.scenario import Scenario
from eventsim.sim.consumer import DELIVERY_SCHEMA, Handler, Member, Sink
from eventsim.sim.producer import Producer
from eventsim.sim.recorder import Recorder
from eventsim.sim.result import RunResult
from eventsim.sim.rng import RngStreams
from eventsim.workloads import get_workload

__all__ = ["Simulation", "run"]

_PROGRESS_AFTER_S = 2.0
_STEPS = 200


def _timelines(scenario: Scenario, faults: list[FaultSpec]) -> list[PartitionTimeline]:
    cfg = scenario.log
    down: dict[int, list[tuple[float, float]]] = {}
    paused: dict[int, list[tuple[float, float]]] = {}
    cut: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for f in faults:
        if f.kind in ("broker_crash", "broker_pause"):
            b = int(f.target.removeprefix("broker-"))
            (down if f.kind == "broker_crash" else paused).setdefault(b, []).append(
                (f.start_s, f.end_s)
            )
        elif f.kind == "network_partition":
            left, right = f.sides()
            for a in left:
                for b in right:
                    if a.startswith("broker-") and b.startswith("broker-"):
                        x, y = int(a[7:]), int(b[7:])
                        cut.setdefault((min(x, y), max(x, y)), []).append((f.start_s, f.end_s))
    return partition_timelines(
        cfg.partitions,
        cfg.brokers,
        cfg.replication_factor,
        down=down,
        paused=paused,
        cut=cut,
        election_s=cfg.election_s,
        replication_lag_s=cfg.replication_lag_s,
        unclean=cfg.unclean_leader_election,
    )


class Simulation:
    """One run of a scenario: the environment, the log, the processes and the monitors.

    Analyses that run *inside* the simulation register batch handlers on a consumer group
    before :meth:`run`: ``sim.handlers["sink"].append(handler)`` (see
    :data:`~eventsim.sim.consumer.Handler`).
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.env = simpy.Environment()
        self.rngs = RngStreams(scenario.seed)
        self.log = EventLog(partitions=scenario.log.partitions)
        self.recorder = Recorder()
        workload = get_workload(scenario.workload)(scenario.params, scenario.incidents)
        out = workload.generate(scenario.duration, self.rngs)
        self.incidents = out.incidents
        self.events_in = out.events
        self.faults = scenario.faults.schedule(scenario, self.rngs("faults"))
        self.timelines = _timelines(scenario, self.faults)
        self.producer = Producer(
            self.log,
            out.events,
            scenario.producer,
            log_cfg=scenario.log,
            timelines=self.timelines,
            faults=self.faults,
            rng=self.rngs("producer.network"),
        )
        self._cuts = [f for f in self.faults if f.kind == "network_partition"]
        self._blocking = any(f.kind in ("broker_crash", "network_partition") for f in self.faults)
        self.groups: list[tuple[ConsumerGroup, Sink]] = []
        self.handlers: dict[str, list[Handler]] = {c.name: [] for c in scenario.consumers}
        for cfg in scenario.consumers:
            self._start_group(cfg)
        self.env.process(self.producer.process(self.env))
        self.end_s = scenario.duration + scenario.drain
        self.env.process(self._monitor())
        if scenario.log.retention_s or scenario.log.retention_records or scenario.log.compaction:
            self.env.process(self._housekeeping())

    def _start_group(self, cfg: Any) -> None:
        topics = list(cfg.topics) or None
        group = ConsumerGroup(
            self.log,
            cfg.name,
            topics,
            assignor=cfg.assignor,
            auto_offset_reset=cfg.auto_offset_reset,
        )
        sink = Sink(cfg.name, idempotent=cfg.sink == "idempotent", n_events=self.events_in.height)
        committed = cfg.isolation == "read_committed" and self.scenario.producer.transactional
        gate = "stable_s" if committed else "visible_s"
        names = [f"{cfg.name}-{i}" for i in range(cfg.members)]
        for m in names:
            group.join(m)
        for m in names:
            crashes = [f for f in self.faults if f.kind == "consumer_crash" and f.target == m]
            member = Member(
                self.env,
                group,
                m,
                cfg,
                sink,
                gate=gate,
                crashes=crashes,
                skip=self._unreachable if self._blocking else None,
                handlers=self.handlers[cfg.name],
            )
            self.env.process(member.process())
        self.groups.append((group, sink))

    def _unreachable(self, member: str, tp: TopicPartition, now: float) -> bool:
        """True while ``tp``'s leader is offline or cut off from ``member``."""
        tl = self.timelines[tp.partition]
        seg = int(tl.segment(now)) if tl.starts.shape[0] > 1 else 0
        leader = int(tl.leader[seg])
        if leader < 0:
            return True
        for f in self._cuts:
            if f.start_s <= now < f.end_s:
                left, right = f.sides()
                b = f"broker-{leader}"
                if (member in left and b in right) or (member in right and b in left):
                    return True
        return False

    def _monitor(self) -> Generator[Any, Any, None]:
        interval = max(1.0, self.end_s / 1000.0)
        while True:
            yield self.env.timeout(interval)
            now = self.env.now
            for group, _ in self.groups:
                for tp in self.log.topic_partitions(group.topics):
                    p = self.log.partition(*tp)
                    visible = p.visible_end(now)
                    done = group.committed.get(tp, p.start_offset)
                    self.recorder.sample(
                        now,
                        "lag",
                        max(0, visible - done),
                        group=group.group_id,
                        topic=tp.topic,
                        partition=tp.partition,
                    )

    def _housekeeping(self) -> Generator[Any, Any, None]:
        cfg = self.scenario.log
        interval = min(300.0, max(1.0, self.end_s / 20.0))
        while True:
            yield self.env.timeout(interval)
            for _, sink in self.groups:  # let go of the storage retention may replace
                sink.flush()
            removed = self.log.enforce_retention(
                self.env.now,
                retention_s=cfg.retention_s,
                retention_records=cfg.retention_records,
            )
            if cfg.compaction:
                removed += self.log.compact(self.env.now, delete_retention_s=cfg.delete_retention_s)
            self.recorder.sample(self.env.now, "records_deleted", removed)

    def run(self, *, progress: bool | None = None) -> RunResult:
        """Run to the end (duration + drain) and collect the frames."""
        start = time.perf_counter()
        bar = None
        for step in range(1, _STEPS + 1):
            self.env.run(until=self.end_s * step / _STEPS)
            if bar is None and progress is not False and step < _STEPS:
                if progress or time.perf_counter() - start > _PROGRESS_AFTER_S:
                    from tqdm.auto import tqdm

                    bar = tqdm(total=_STEPS, initial=step, desc="simulating", unit="step")
            elif bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        return self._result(time.perf_counter() - start)

    def _result(self, wall_s: float) -> RunResult:
        events = self.log.to_polars()
        if "txn_state" in events.columns:
            events = events.with_columns(
                pl.col("txn_state").replace_strict(
                    {0: None, 1: "committed", 2: "aborted"}, return_dtype=pl.String
                )
            )
        frames = [sink.frame() for _, sink in self.groups]
        deliveries = pl.concat(frames) if frames else pl.DataFrame(schema=DELIVERY_SCHEMA)
        acks = self.scenario.producer.acks != "0"
        wire = {
            "produce_requests": self.producer.outcome.requests,
            "produce_responses": self.producer.outcome.requests if acks else 0,
            "fetches": sum(s.polls for _, s in self.groups),
            "commits": sum(s.commits for _, s in self.groups),
        }
        if self.scenario.producer.transactional:
            wire["txn_markers"] = 2 * int(
                (self.scenario.duration + self.scenario.drain)
                / self.scenario.producer.transaction_interval_s
            )
        return RunResult(
            scenario=self.scenario,
            events=events,
            deliveries=deliveries,
            incidents=self.incidents,
            metrics=self.recorder.frame(),
            sends=self.producer.sends(),
            faults=faults_frame(self.faults),
            wall_s=wall_s,
            extra={"wire": wire},
        )


def run(scenario: Scenario, *, progress: bool | None = None) -> RunResult:
    """Run ``scenario`` and return its frames.

    While it runs, the process keeps the memory its phases free for the next phase to reuse
    (glibc), and gives it back to the OS at the end (see ``eventsim._memory``).

    Parameters
    ----------
    scenario
        What to run.
    progress
        True shows a progress bar, False never; None (default) shows one when the run takes
        longer than about two seconds.

    Examples
    --------
    >>> from eventsim.scenario import Scenario
    >>> res = run(Scenario(workload="synthetic", duration="10s", seed=1, params={"rate_per_s": 50}))
    >>> res.events.height, res.deliveries.height == res.events.height
    (463, True)
    """
    with retained_memory():  # phases reuse each other's freed memory (see eventsim._memory)
        return Simulation(scenario).run(progress=progress)
