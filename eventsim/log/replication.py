"""Replication: replicas on brokers, a leader and an in-sync replica set (ISR) per partition,
leader election on failure — as a timeline computed from the broker faults of a run.

Placement: partition ``p`` has replicas on brokers ``(p + i) % brokers`` for
``i < replication_factor``; the first is the preferred leader. A replica is in sync while its
broker is up, unpaused and reachable from the leader. When the leader's broker crashes, the
controller elects (after ``election_s``) the first live in-sync replica (the ISR is frozen while
the partition has no leader, so a replica that was in sync when it died is eligible again when
it returns); records the old
leader had appended in its last ``replication_lag_s`` never reached a follower and are
truncated. With no in-sync follower alive the partition stays offline until a replica that
was in sync returns — or, with unclean election, an out-of-sync replica takes over and
everything it lacked is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["PartitionTimeline", "partition_timelines", "replicas_of"]


def replicas_of(partition: int, brokers: int, replication_factor: int) -> list[int]:
    """Brokers holding ``partition``'s replicas, preferred leader first.

    Examples
    --------
    >>> replicas_of(4, brokers=3, replication_factor=2)
    [1, 2]
    """
    return [(partition + i) % brokers for i in range(replication_factor)]


@dataclass
class PartitionTimeline:
    """Piecewise-constant state of one partition over simulated time.

    ``starts[i]`` opens segment ``i`` (until ``starts[i + 1]``); in it ``leader[i]`` is the
    leading broker (-1: offline), ``isr[i]`` the number of in-sync replicas, ``paused[i]``
    whether the leader is stalled until ``pause_end[i]``. ``truncations`` lists
    ``(time_s, since_s)``: at ``time_s`` records appended after ``since_s`` were lost.
    """

    starts: np.ndarray
    leader: np.ndarray
    isr: np.ndarray
    paused: np.ndarray
    pause_end: np.ndarray
    truncations: list[tuple[float, float]] = field(default_factory=list)

    def segment(self, t: np.ndarray) -> np.ndarray:
        """Index of the segment containing each time in ``t``."""
        return np.searchsorted(self.starts, t, side="right") - 1

    def offline_until(self, t: float) -> float:
        """When the partition next has a leader at or after ``t`` (inf if never)."""
        i = int(self.segment(np.array([t]))[0])
        for j in range(i, len(self.starts)):
            if self.leader[j] >= 0:
                return max(t, float(self.starts[j]))
        return float("inf")


def partition_timelines(
    n_partitions: int,
    brokers: int,
    replication_factor: int,
    *,
    down: dict[int, list[tuple[float, float]]],
    paused: dict[int, list[tuple[float, float]]],
    cut: dict[tuple[int, int], list[tuple[float, float]]] | None = None,
    election_s: float = 1.0,
    replication_lag_s: float = 0.0,
    unclean: bool = False,
) -> list[PartitionTimeline]:
    """Timelines of every partition from broker down/pause intervals and broker↔broker cuts.

    Examples
    --------
    >>> tl = partition_timelines(1, 2, 2, down={0: [(10.0, 20.0)]}, paused={}, election_s=1.0)[0]
    >>> tl.starts.tolist(), tl.leader.tolist(), tl.isr.tolist()
    ([0.0, 10.0, 11.0, 20.0], [0, -1, 1, 1], [2, 0, 1, 2])
    >>> tl.truncations
    [(10.0, 10.0)]
    """
    cut = cut or {}

    def is_in(b: int, t: float, spans: dict[int, list[tuple[float, float]]]) -> bool:
        return any(s <= t < e for s, e in spans.get(b, ()))

    def linked(a: int, b: int, t: float) -> bool:
        key = (min(a, b), max(a, b))
        return not any(s <= t < e for s, e in cut.get(key, ()))

    points = {0.0}
    for spans in (down, paused):
        for lst in spans.values():
            for s, e in lst:
                points.update((s, e, s + election_s))
    for lst in cut.values():
        for s, e in lst:
            points.update((s, e))
    times = sorted(points)
    out = []
    for p in range(n_partitions):
        reps = replicas_of(p, brokers, replication_factor)
        leader = reps[0]
        old_leader = leader
        in_sync = set(reps)  # frozen while the partition has no leader
        dead_since = 0.0
        rows: list[tuple[float, int, int, bool, float]] = []
        truncations: list[tuple[float, float]] = []
        left_isr: dict[int, float] = {}
        for t in times:
            alive = {b for b in reps if not is_in(b, t, down)}
            if leader >= 0 and leader not in alive:
                dead_since, old_leader, leader = t, leader, -1
            if leader < 0 and t >= dead_since + election_s:
                candidates = [b for b in reps if b in alive and b in in_sync]
                since = dead_since - replication_lag_s
                if not candidates and unclean:
                    candidates = [b for b in reps if b in alive]
                    if candidates:
                        since = min(since, left_isr.get(candidates[0], since))
                if candidates:
                    leader = candidates[0]
                    if leader != old_leader:
                        truncations.append((dead_since, since))
            if leader >= 0:
                for b in reps:
                    ok = b in alive and not is_in(b, t, paused)
                    ok = ok and (b == leader or linked(b, leader, t))
                    if ok:
                        in_sync.add(b)
                        left_isr.pop(b, None)
                    elif b != leader and b in in_sync:
                        in_sync.discard(b)
                        left_isr[b] = t
            stalled = leader >= 0 and is_in(leader, t, paused)
            pause_end = (
                max((e for s, e in paused.get(leader, ()) if s <= t < e), default=t)
                if stalled
                else t
            )
            isr = len(in_sync & alive) if leader >= 0 else 0
            rows.append((t, leader, isr, stalled, pause_end))
        arr = np.array(rows, dtype=object)
        out.append(
            PartitionTimeline(
                starts=arr[:, 0].astype(float),
                leader=arr[:, 1].astype(np.int64),
                isr=arr[:, 2].astype(np.int64),
                paused=arr[:, 3].astype(bool),
                pause_end=arr[:, 4].astype(float),
                truncations=truncations,
            )
        )
    return out
