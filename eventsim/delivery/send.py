"""The producer's side of delivery semantics: what becomes of every record it sends.

Given when each record is ready to send, the partition timelines (leaders, ISR, pauses,
truncations), the producer's faults and its settings (acks, retries, backoff, timeouts,
idempotence, transactions), :func:`send_records` works out — vectorised over all records in
flight, one pass per retry round — every attempt's fate:

- the leader is offline, or ``acks=all`` finds fewer than ``min_insync_replicas`` in sync:
  the attempt fails fast and is retried after backoff;
- the request (or its response) is dropped, or the leader is paused longer than the request
  timeout: the producer times out and resends — where the broker did append, that is a
  duplicate unless the producer is idempotent (the broker drops resends by sequence number);
- a link duplicates the request: two copies, unless idempotent;
- an append that a leader failover truncates is lost; under ``acks=1`` it had been
  acknowledged (a *lost write*), under ``acks=all`` it had not, so it is resent;
- a producer crash stops everything in flight; records not yet acknowledged are resent by
  the restarted producer (``resend_on_restart``) under a new producer id, so idempotence
  does not span the crash; a transactional producer's open transaction is aborted (its
  records stay in the log, marked aborted) and resent in a new one.

The result is one row per record copy that reached the log (with its append time and
transaction state) and one ``sends`` row per business event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from eventsim.faults import FaultSpec
from eventsim.log.replication import PartitionTimeline
from eventsim.scenario import LogConfig, ProducerConfig

__all__ = ["SENDS_SCHEMA", "TXN_ABORTED", "TXN_COMMITTED", "SendOutcome", "send_records"]

TXN_NONE, TXN_COMMITTED, TXN_ABORTED = 0, 1, 2

#: Schema of ``RunResult.sends``: one row per business event the producer was asked to send.
SENDS_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.Int64(),
    "topic": pl.String(),
    "key": pl.String(),
    "partition": pl.Int32(),
    "created_s": pl.Float64(),
    "attempts": pl.Int32(),
    "status": pl.String(),
    "acked_s": pl.Float64(),
}
_STATUS = ("acked", "failed", "unacked")


@dataclass
class SendOutcome:
    """Copies in the log (arrays, one entry per copy) and per-record results."""

    rec: np.ndarray  # record index of each copy
    append_s: np.ndarray
    txn: np.ndarray  # TXN_* per copy
    stable_s: np.ndarray  # when read_committed consumers may see it
    attempts: np.ndarray  # per record
    status: np.ndarray  # per record: index into ("acked", "failed", "unacked")
    acked_s: np.ndarray  # per record, NaN if never acked
    requests: int  # produce requests sent (batches x attempts), for the wire count


@dataclass
class _LinkFaults:
    drop: list[tuple[float, float, float]]
    dup: list[tuple[float, float, float]]
    delay: list[tuple[float, float, float]]
    cut: dict[int, list[tuple[float, float]]]  # broker -> windows cut from the producer


def _active(t: np.ndarray, spans: list[tuple[float, float, float]]) -> np.ndarray:
    out = np.zeros(t.shape[0])
    for s, e, v in spans:
        out = np.where((t >= s) & (t < e), np.maximum(out, v), out)
    return out


def _link_faults(faults: list[FaultSpec], brokers: int) -> _LinkFaults:
    lf = _LinkFaults([], [], [], {})
    for f in faults:
        if f.kind == "link_drop":
            lf.drop.append((f.start_s, f.end_s, f.probability))
        elif f.kind == "link_duplicate":
            lf.dup.append((f.start_s, f.end_s, f.probability))
        elif f.kind == "link_delay":
            lf.delay.append((f.start_s, f.end_s, f.delay_s))
        elif f.kind == "network_partition":
            left, right = f.sides()
            other = right if "producer" in left else left if "producer" in right else set()
            for b in range(brokers):
                if f"broker-{b}" in other:
                    lf.cut.setdefault(b, []).append((f.start_s, f.end_s))
    return lf


def send_records(
    ready_s: np.ndarray,
    partition: np.ndarray,
    timelines: list[PartitionTimeline],
    faults: list[FaultSpec],
    cfg: ProducerConfig,
    log: LogConfig,
    rng: np.random.Generator,
) -> SendOutcome:
    """Work out the fate of every record (see the module docstring).

    Parameters
    ----------
    ready_s
        When each record's batch is ready to send (its linger window closed), sorted.
    partition
        Each record's partition.
    timelines
        One :class:`PartitionTimeline` per partition number.
    faults
        The run's faults (producer crashes, links, network partitions are used here).
    cfg, log
        Producer and log settings.
    rng
        The producer's network stream.

    Examples
    --------
    >>> from eventsim.log.replication import partition_timelines
    >>> tl = partition_timelines(1, 1, 1, down={}, paused={})
    >>> out = send_records(np.array([0.1, 0.2]), np.zeros(2, int), tl, [], ProducerConfig(),
    ...                    LogConfig(brokers=1), np.random.default_rng(0))
    >>> out.rec.tolist(), out.status.tolist(), out.attempts.tolist()
    ([0, 1], [0, 0], [1, 1])
    """
    n = ready_s.shape[0]
    crashes = sorted((f.start_s, f.end_s) for f in faults if f.kind == "producer_crash")
    links = _link_faults(faults, max((int(tl.leader.max()) for tl in timelines), default=0) + 1)
    attempts = np.zeros(n, dtype=np.int32)
    status = np.full(n, 1, dtype=np.int8)  # failed unless shown otherwise
    acked = np.full(n, np.nan)
    copies: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # rec, append_s, session
    requests = 0
    # session boundaries: the producer lives in [start, stop) between crashes
    lives = []
    start = 0.0
    for c0, c1 in crashes:
        lives.append((start, c0))
        start = c1
    lives.append((start, np.inf))
    jobs = np.arange(n)
    job_t = ready_s.copy()
    txn_of = np.full(n, -1, dtype=np.int64)
    txn_end: dict[int, float] = {}
    txn_aborted: set[int] = set()
    for session, (life_start, life_end) in enumerate(lives):
        job_t = np.maximum(job_t, life_start)
        mine = job_t < life_end
        later_jobs, later_t = jobs[~mine], job_t[~mine]
        jobs, job_t = jobs[mine], job_t[mine]
        if cfg.transactional and jobs.shape[0]:
            txn_id = session * 10**9 + np.floor(job_t / cfg.transaction_interval_s).astype(int)
            txn_of[jobs] = txn_id
        interrupted, sent = _attempt_session(
            jobs,
            job_t,
            ready_s,
            partition,
            timelines,
            links,
            cfg,
            log,
            rng,
            life_end,
            attempts,
            status,
            acked,
            copies,
            session,
        )
        requests += sent
        resend = interrupted
        if cfg.transactional and jobs.shape[0]:
            ok = status[jobs] == 0
            ends = (
                pl.DataFrame(
                    {"txn": txn_of[jobs], "ack": np.where(ok, acked[jobs], np.inf), "t": job_t}
                )
                .group_by("txn")
                .agg(pl.col("ack").max(), pl.col("t").min())
            )
            for txn, ack, t in ends.iter_rows():
                end = max(
                    ack, (np.floor(t / cfg.transaction_interval_s) + 1) * cfg.transaction_interval_s
                )
                if end >= life_end or not np.isfinite(end):
                    txn_aborted.add(txn)
                    txn_end[txn] = life_end
                else:
                    txn_end[txn] = end
            lost = np.isin(txn_of[jobs], np.fromiter(txn_aborted, dtype=np.int64))
            resend = np.union1d(resend, jobs[lost & (status[jobs] == 0)])
            status[jobs[lost]] = 1
            acked[jobs[lost]] = np.nan
        if cfg.resend_on_restart and resend.shape[0]:
            status[resend] = 1
            acked[resend] = np.nan
            later_jobs = np.concatenate([resend, later_jobs])
            later_t = np.concatenate([np.full(resend.shape[0], life_end), later_t])
        order = np.argsort(later_jobs, kind="stable")
        jobs, job_t = later_jobs[order], later_t[order]
    if copies:
        rec = np.concatenate([c[0] for c in copies])
        app = np.concatenate([c[1] for c in copies])
        ses = np.concatenate([c[2] for c in copies])
    else:
        rec, app, ses = (np.empty(0, dtype=np.int64), np.empty(0), np.empty(0, dtype=np.int64))
    txn = np.zeros(rec.shape[0], dtype=np.int8)
    stable = app.copy()
    if cfg.transactional and rec.shape[0]:
        # a copy belongs to the transaction of the session that wrote it
        ids = ses * 10**9 + np.floor(
            _first_try(rec, ses, ready_s, lives) / cfg.transaction_interval_s
        ).astype(int)
        ends = np.full(ids.shape[0], np.inf)
        if txn_end:
            known = np.fromiter(sorted(txn_end), dtype=np.int64)
            values = np.array([txn_end[i] for i in known.tolist()], dtype=np.float64)
            at = np.searchsorted(known, ids).clip(max=known.shape[0] - 1)
            ends = np.where(known[at] == ids, values[at], np.inf)
        aborted = np.isin(ids, np.fromiter(txn_aborted, dtype=np.int64))
        txn = np.where(aborted, TXN_ABORTED, TXN_COMMITTED).astype(np.int8)
        stable = np.maximum(app, ends)
    if cfg.idempotent and rec.shape[0]:
        # within each (partition, session), in sequence order, append times never go back:
        # a running max per group, done at once by lifting each group above the previous
        order = np.lexsort((rec, ses, partition[rec]))
        keyed = partition[rec][order] * (len(lives) + 1) + ses[order]
        group = np.concatenate([[0], np.cumsum(np.diff(keyed) != 0)])
        app_sorted = app[order]
        lift = (float(np.ptp(app_sorted)) + 1.0) * group
        app[order] = np.maximum.accumulate(app_sorted + lift) - lift
        stable = np.maximum(stable, app)
    return SendOutcome(rec, app, txn, stable, attempts, status, acked, requests)


def _first_try(
    rec: np.ndarray, ses: np.ndarray, ready_s: np.ndarray, lives: list[tuple[float, float]]
) -> np.ndarray:
    starts = np.array([s for s, _ in lives])
    return np.maximum(ready_s[rec], starts[ses])


def _attempt_session(
    jobs: np.ndarray,
    job_t: np.ndarray,
    ready_s: np.ndarray,
    partition: np.ndarray,
    timelines: list[PartitionTimeline],
    links: _LinkFaults,
    cfg: ProducerConfig,
    log: LogConfig,
    rng: np.random.Generator,
    life_end: float,
    attempts: np.ndarray,
    status: np.ndarray,
    acked: np.ndarray,
    copies: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    session: int,
) -> tuple[np.ndarray, int]:
    """Retry rounds for the records of one producer session; returns the records the
    session's end interrupted and the number of requests sent."""
    has_copy = np.zeros(ready_s.shape[0], dtype=np.bool_)
    pending, t, k = jobs, job_t, np.zeros(jobs.shape[0], dtype=np.int64)
    interrupted: list[np.ndarray] = []
    requests = 0
    fire_and_forget = cfg.acks == "0"
    lag = log.replication_lag_s
    while pending.shape[0]:
        requests += _distinct(t)
        attempts[pending] += 1
        m = pending.shape[0]
        arrive = t + cfg.network_delay_s
        extra = _active(t, links.delay)
        if extra.any():
            arrive = arrive + rng.exponential(1.0, m) * extra
        leader, isr, paused, pause_end, lost_at = _broker_view(
            partition[pending], arrive, timelines
        )
        cut = np.zeros(m, dtype=np.bool_)
        for b, spans in links.cut.items():
            for s, e in spans:
                cut |= (leader == b) & (arrive >= s) & (arrive < e)
        if links.drop or links.dup:
            drop_req = rng.random(m) < _active(t, links.drop)
            drop_resp = rng.random(m) < _active(t, links.drop)
            dup = rng.random(m) < _active(t, links.dup)
        else:
            drop_req = drop_resp = dup = np.zeros(m, dtype=np.bool_)
        offline = leader < 0
        too_few = (cfg.acks == "all") & (isr < log.min_insync_replicas)
        fast_fail = offline | too_few
        reaches = ~fast_fail & ~drop_req & ~cut
        append_at = np.where(paused, pause_end, arrive)
        new_copy = reaches & ~(cfg.idempotent & has_copy[pending])
        n_copies = new_copy.astype(np.int64) + (new_copy & dup & ~cfg.idempotent)
        kept = new_copy & np.isinf(lost_at)
        if kept.any():
            idx = np.repeat(np.flatnonzero(kept), n_copies[kept])
            copies.append((pending[idx], append_at[idx], np.full(idx.shape[0], session)))
        has_copy[pending[kept]] = True
        ack_ready = append_at + (lag if cfg.acks == "all" else 0.0) + cfg.network_delay_s
        timed_out = (
            drop_req | cut | drop_resp | (paused & (pause_end - arrive > cfg.request_timeout_s))
        )
        truncated_unacked = (cfg.acks == "all") & (append_at + lag >= lost_at)
        ok = reaches & ~timed_out & ~truncated_unacked
        if fire_and_forget:
            status[pending] = 2
            break
        done = ok & (ack_ready < life_end)
        status[pending[done]] = 0
        acked[pending[done]] = ack_ready[done]
        fail_t = np.where(timed_out | truncated_unacked, t + cfg.request_timeout_s, arrive)
        backoff = np.minimum(cfg.retry_backoff_s * 2.0**k, cfg.retry_backoff_max_s)
        next_t = fail_t + backoff
        retry = ~ok & (k + 1 <= cfg.retries) & (next_t <= ready_s[pending] + cfg.delivery_timeout_s)
        cut_short = (ok & ~done) | (retry & (next_t >= life_end))
        interrupted.append(pending[cut_short])
        retry &= next_t < life_end
        pending, t, k = pending[retry], next_t[retry], k[retry] + 1
    gone = np.concatenate(interrupted) if interrupted else np.empty(0, dtype=np.int64)
    return gone, requests


def _distinct(t: np.ndarray) -> int:
    """Number of distinct send times (one produce request each)."""
    if t.shape[0] < 2:
        return int(t.shape[0])
    r = np.sort(np.round(t, 9))
    return int(1 + np.count_nonzero(np.diff(r)))


def _broker_view(
    part: np.ndarray, arrive: np.ndarray, timelines: list[PartitionTimeline]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Leader, ISR size, pause state, pause end and truncation time at each arrival.

    Records are grouped by partition once (a stable sort), so each partition's timeline is
    looked up on a contiguous slice.
    """
    m = part.shape[0]
    leader = np.empty(m, dtype=np.int64)
    isr = np.empty(m, dtype=np.int64)
    paused = np.zeros(m, dtype=np.bool_)
    pause_end = arrive.copy()
    lost_at = np.full(m, np.inf)
    order = np.argsort(part, kind="stable")
    sorted_part = part[order]
    bounds = np.flatnonzero(np.diff(sorted_part)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [m]])
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        idx = order[a:b]
        tl = timelines[int(sorted_part[a])]
        at = arrive[idx]
        if tl.starts.shape[0] == 1:
            leader[idx] = tl.leader[0]
            isr[idx] = tl.isr[0]
            continue
        seg = tl.segment(at)
        leader[idx] = tl.leader[seg]
        isr[idx] = tl.isr[seg]
        stalled = tl.paused[seg]
        paused[idx] = stalled
        end = np.where(stalled, tl.pause_end[seg], at)
        pause_end[idx] = end
        for crash_t, since in tl.truncations:
            hit = (end > since) & (end <= crash_t)
            if hit.any():
                lost_at[idx[hit]] = np.minimum(lost_at[idx[hit]], crash_t)
    return leader, isr, paused, pause_end, lost_at
