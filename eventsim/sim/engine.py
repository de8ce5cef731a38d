"""The engine: ``run(scenario) -> RunResult`` on a SimPy Environment.

Flow: the workload draws the run's events (vectorised); a :class:`~eventsim.sim.producer.Producer`
appends them to the :class:`~eventsim.log.EventLog` one linger window at a time; each consumer
group's members poll batches and record deliveries in a :class:`~eventsim.sim.consumer.Sink`;
monitors sample lag into a :class:`~eventsim.sim.recorder.Recorder`. Every random draw comes
from a stream named after its component, so a scenario and its seed determine the run.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import simpy

from eventsim.log.consumer_group import ConsumerGroup
from eventsim.log.event_log import EventLog
from eventsim.scenario import Scenario
from eventsim.sim.consumer import Sink, member_process
from eventsim.sim.producer import Producer
from eventsim.sim.recorder import Recorder
from eventsim.sim.result import RunResult
from eventsim.sim.rng import RngStreams
from eventsim.workloads import get_workload

__all__ = ["Simulation", "run"]

_PROGRESS_AFTER_S = 2.0
_STEPS = 200


class Simulation:
    """One run of a scenario: the environment, the log, the processes and the monitors."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.env = simpy.Environment()
        self.rngs = RngStreams(scenario.seed)
        self.log = EventLog(partitions=scenario.log.partitions)
        self.recorder = Recorder()
        workload = get_workload(scenario.workload)(scenario.params, scenario.incidents)
        out = workload.generate(scenario.duration, self.rngs)
        self.incidents = out.incidents
        self.producer = Producer(self.log, out.events, scenario.producer)
        self.groups: list[tuple[ConsumerGroup, Sink]] = []
        for cfg in scenario.consumers:
            topics = list(cfg.topics) or None
            group = ConsumerGroup(
                self.log,
                cfg.name,
                topics,
                assignor=cfg.assignor,
                auto_offset_reset=cfg.auto_offset_reset,
            )
            sink = Sink(cfg.name)
            members = [f"{cfg.name}-{i}" for i in range(cfg.members)]
            for m in members:
                group.join(m)
            for m in members:
                self.env.process(member_process(self.env, group, m, cfg, sink))
            self.groups.append((group, sink))
        self.env.process(self.producer.process(self.env))
        self.end_s = scenario.duration + scenario.drain
        self.env.process(self._monitor())
        if scenario.log.retention_s or scenario.log.retention_records or scenario.log.compaction:
            self.env.process(self._housekeeping())

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
        events = self.log.to_polars()
        deliveries = _concat([sink.frame() for _, sink in self.groups])
        return RunResult(
            scenario=self.scenario,
            events=events,
            deliveries=deliveries,
            incidents=self.incidents,
            metrics=self.recorder.frame(),
            wall_s=time.perf_counter() - start,
        )


def run(scenario: Scenario, *, progress: bool | None = None) -> RunResult:
    """Run ``scenario`` and return its frames.

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
    return Simulation(scenario).run(progress=progress)


def _concat(frames: list[Any]) -> Any:
    import polars as pl

    from eventsim.sim.consumer import DELIVERY_SCHEMA

    return pl.concat(frames) if frames else pl.DataFrame(schema=DELIVERY_SCHEMA)
