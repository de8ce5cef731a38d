"""Video streaming: playback sessions with heartbeats over a Zipf catalogue, and a content pipeline.

Models a Netflix-style service. Members in three regions (each with its own evening peak)
start playback sessions as a non-homogeneous Poisson process; each session picks a title by
Zipf popularity, watches for a lognormal time (mean ``mean_watch_s``), sends a ``heartbeat``
every ``heartbeat_interval_s`` of playback, and pauses (then resumes), seeks and switches
bitrate as Poisson events; pauses stretch the session's wall-clock time. A "new release"
flash crowd adds sessions, all on the new title (index ``n_titles``), shaped by a :class:`Spike`
starting at ``release_at_s`` (``"auto"``: halfway through the run; None: no release crowd;
see :mod:`~eventsim.workloads.spikes`).

Content pipeline: uploads arrive at ``uploads_per_h``; each is encoded for 6 resolutions × 3
codecs in parallel (each job retried up to ``max_encode_retries`` times after a failure),
then packaged and published; if a job exhausts its retries the upload ends in
``pipeline_failed``. Stage durations are lognormal.

Topics, event types and keys
----------------------------
playback (key member ``m<id>``): play_start, heartbeat, pause, resume, seek, bitrate_switch,
play_stop. content (key upload ``u<id>``): upload_received, encode_started, encode_failed,
encode_completed, package_completed, published, pipeline_failed. account (key member):
login, login_failed, password_changed, email_changed, device_added.

Payload columns
---------------
title : Int32 (catalogue index ``rank - 1``, 0 the most popular), region : Enum, position_s :
Float64 (playback position), bitrate_kbps : Int32, stage : Enum (encode | package |
publish), resolution : Enum, codec : Enum, attempt : Int32 (1-based),
stage_duration_s : Float64 (on completed/failed stages). Identifiers in the payload are
numbers; only the keys are strings.

Incidents (``intensity`` meaning)
---------------------------------
outage (target a topic or region; fraction of its events lost), latency_regression (target
stage encode | package | publish; duration multiplier for stages starting in the window),
error_burst (target encode; failure probability of encode attempts starting in the window;
affected = uploads with a failed attempt there), account_takeover (target account;
``ceil(5 × intensity)`` members suffer a credential-stuffing burst of login_failed, then a
login from another region, password and email changes and a new device; affected = them).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import polars as pl

from eventsim.sim.rng import RngStreams
from eventsim.workloads._checks import check_params
from eventsim.workloads._frame import EventFrame, Labels, format_keys
from eventsim.workloads._incidents import check_incidents, drop_outage, incidents_frame, pick_target
from eventsim.workloads._pipeline import (
    CODECS,
    CONTENT_TYPES,
    RESOLUTIONS,
    STAGES,
    encode_pipeline,
)
from eventsim.workloads.base import KEY_PREFIX, IncidentSpec, Workload, WorkloadOutput
from eventsim.workloads.popularity import Zipf
from eventsim.workloads.rates import RateCurve, Region, poisson_arrivals
from eventsim.workloads.sessions import segment_starts
from eventsim.workloads.spikes import AUTO, Spike, check_spike_param, spike_start

__all__ = ["Netflix"]

MEMBER, UPLOAD = KEY_PREFIX["member"], KEY_PREFIX["upload"]

REGIONS = (Region("americas", -5.0, 0.45), Region("emea", 1.0, 0.3), Region("apac", 8.0, 0.25))
PLAYBACK = ("play_start", "heartbeat", "pause", "resume", "seek", "bitrate_switch", "play_stop")
ACCOUNT = ("login", "login_failed", "password_changed", "email_changed", "device_added")
BITRATES_KBPS = np.array([235, 750, 1750, 3000, 5800, 8000, 16000])
PAYLOAD_SCHEMA: dict[str, pl.DataType] = {
    "title": pl.Int32(),
    "region": pl.Enum([r.name for r in REGIONS]),
    "position_s": pl.Float64(),
    "bitrate_kbps": pl.Int32(),
    "stage": pl.Enum(STAGES),
    "resolution": pl.Enum(RESOLUTIONS),
    "codec": pl.Enum(CODECS),
    "attempt": pl.Int32(),
    "stage_duration_s": pl.Float64(),
}


@dataclass(frozen=True)
class NetflixParams:
    """Parameters of :class:`Netflix` (rates per second unless named, times in seconds)."""

    rate_multiplier: float = 1.0
    session_rate_per_s: float = 50.0
    n_members: int = 1_000_000
    n_titles: int = 5_000
    title_zipf_exponent: float = 1.0
    mean_watch_s: float = 1800.0
    watch_sigma: float = 1.0
    heartbeat_interval_s: float = 60.0
    pauses_per_h: float = 1.0
    pause_median_s: float = 90.0
    seeks_per_h: float = 1.5
    bitrate_switches_per_h: float = 2.0
    p_login: float = 0.05
    peak_to_trough: float = 4.0
    peak_hour: float = 21.0
    weekend_factor: float = 1.2
    start_hour_utc: float = 0.0
    uploads_per_h: float = 30.0
    encode_median_s: float = 300.0
    package_median_s: float = 120.0
    publish_median_s: float = 30.0
    p_encode_failure: float = 0.05
    max_encode_retries: int = 3
    release_at_s: float | str | None = AUTO
    release_ramp_s: float = 1800.0
    release_peak_multiplier: float = 2.0
    release_decay_s: float = 7200.0

    def __post_init__(self) -> None:
        check_params(
            self,
            positive=(
                "rate_multiplier",
                "session_rate_per_s",
                "n_members",
                "n_titles",
                "mean_watch_s",
                "heartbeat_interval_s",
                "pause_median_s",
                "weekend_factor",
                "uploads_per_h",
                "encode_median_s",
                "package_median_s",
                "publish_median_s",
                "release_decay_s",
            ),
            non_negative=("title_zipf_exponent", "watch_sigma", "pauses_per_h", "seeks_per_h"),
            probability=("p_login", "p_encode_failure"),
            at_least_one=("peak_to_trough", "release_peak_multiplier"),
        )
        check_params(
            self,
            non_negative=("bitrate_switches_per_h", "max_encode_retries", "release_ramp_s"),
        )
        check_spike_param("release_at_s", self.release_at_s)


class Netflix(Workload):
    """Video streaming: playback sessions, a content encoding pipeline and a new-release crowd.

    Examples
    --------
    >>> out = Netflix({"session_rate_per_s": 1.0}).generate(600.0, RngStreams(1))
    >>> sorted(out.events["topic"].unique())
    ['account', 'content', 'playback']
    """

    name = "netflix"
    Params = NetflixParams
    incident_kinds = ("outage", "latency_regression", "error_burst", "account_takeover")
    topics: ClassVar[dict[str, tuple[str, ...]]] = {
        "playback": PLAYBACK,
        "content": CONTENT_TYPES,
        "account": ACCOUNT,
    }
    payload_schema = PAYLOAD_SCHEMA
    incident_targets: ClassVar[dict[str, tuple[str, ...]]] = {
        "outage": ("playback", "content", "account", *(r.name for r in REGIONS)),
        "latency_regression": ("encode", "package", "publish"),
        "error_burst": ("encode",),
        "account_takeover": ("account",),
    }

    def __init__(
        self, params: dict[str, object] | None = None, incidents: tuple[IncidentSpec, ...] = ()
    ) -> None:
        super().__init__(params, incidents)
        check_incidents(self.incidents, self.incident_targets, self.name)

    def generate(self, duration_s: float, rngs: RngStreams) -> WorkloadOutput:
        """Draw the run's sessions, pipeline runs, account events and incidents."""
        self.check_window(duration_s)
        p = self.params
        release_s = spike_start("release_at_s", p.release_at_s, duration_s, duration_s / 2)
        pick = rngs("netflix.incidents")
        pairs = [(s, pick_target(s, self.incident_targets[s.kind], pick)) for s in self.incidents]
        ef = EventFrame(PAYLOAD_SCHEMA, until_s=duration_s, topics=self.topics)
        members = self._sessions(ef, duration_s, release_s, rngs("netflix.sessions"))
        burst = encode_pipeline(ef, p, duration_s, pairs, rngs("netflix.pipeline"))
        rows = []
        for i, (spec, target) in enumerate(pairs):
            if spec.kind == "account_takeover":
                victims = _takeover(ef, spec, p.n_members, rngs(f"netflix.ato{i}"))
                rows.append((spec, target, [f"{MEMBER}{v}" for v in victims]))
            elif spec.kind == "error_burst":
                rows.append((spec, target, [f"{UPLOAD}{j}" for j in burst.get(i, [])]))
            else:
                rows.append((spec, target, []))
        self._logins(ef, members, rngs("netflix.logins"))
        events = ef.build()
        for i, (spec, target) in enumerate(pairs):
            if spec.kind == "outage":
                events = drop_outage(events, spec, target, rngs(f"netflix.outage{i}"))
        return WorkloadOutput(events, incidents_frame(rows))

    def _sessions(
        self,
        ef: EventFrame,
        duration_s: float,
        release_s: float | None,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Add the playback sessions (and the release's crowd, unless ``release_s`` is None);
        returns (start, member, region) per session."""
        p = self.params
        curve = RateCurve(
            p.session_rate_per_s * p.rate_multiplier,
            peak_to_trough=p.peak_to_trough,
            peak_hour=p.peak_hour,
            regions=REGIONS,
            weekend_factor=p.weekend_factor,
            start_hour_utc=p.start_hour_utc,
        )
        t0, region = curve.arrivals(rng, 0.0, duration_s)
        title = Zipf(p.n_titles, p.title_zipf_exponent).sample(rng, len(t0))
        t1, region1 = np.empty(0), np.empty(0, dtype=np.int64)
        if release_s is not None:
            spike = Spike(release_s, p.release_ramp_s, p.release_peak_multiplier, p.release_decay_s)
            crowd = dataclasses.replace(curve, spikes=(spike,))

            def extra_rate(x: np.ndarray) -> np.ndarray:
                return crowd.rate(x) - curve.rate(x)

            t1 = poisson_arrivals(rng, extra_rate, 0.0, duration_s)
            region1 = rng.choice(len(REGIONS), len(t1), p=_weights())
        t0 = np.concatenate([t0, t1])
        region = np.concatenate([region, region1])
        title = np.concatenate([title, np.full(len(t1), p.n_titles)])
        # sessions already playing at time 0 (stationary): length-biased watch times
        mu = np.log(p.mean_watch_s) - p.watch_sigma**2 / 2
        n_on = int(rng.poisson(curve.rate(np.zeros(1))[0] * p.mean_watch_s))
        w_on = rng.lognormal(mu + p.watch_sigma**2, p.watch_sigma, n_on)
        t0 = np.concatenate([-rng.random(n_on) * w_on, t0])
        region = np.concatenate([rng.choice(len(REGIONS), n_on, p=_weights()), region])
        title = np.concatenate([Zipf(p.n_titles, p.title_zipf_exponent).sample(rng, n_on), title])
        n = len(t0)
        blocks = np.cumsum([0] + [int(p.n_members * r.weight) for r in REGIONS])
        member = blocks[region] + rng.integers(0, np.diff(blocks)[region])
        watch = np.concatenate([w_on, rng.lognormal(mu, p.watch_sigma, n - n_on)])
        bitrate = BITRATES_KBPS[rng.integers(1, len(BITRATES_KBPS), n)]
        # playback points: (session, position, code); heartbeats are regular in playback time
        # only the part of each session inside the run is drawn: positions from `seen` (what
        # was played before time 0) to `upto` (pauses only delay, so later positions end
        # after the run)
        seen = np.maximum(-t0, 0.0)
        upto = np.minimum(watch, duration_s - t0)
        k0 = np.floor(seen / p.heartbeat_interval_s).astype(np.int64)
        n_hb = np.floor(upto / p.heartbeat_interval_s).astype(np.int64) - k0
        hb_s = np.repeat(np.arange(n, dtype=np.int32), n_hb)
        hb_pos = np.arange(1, len(hb_s) + 1, dtype=np.float64)
        hb_pos -= np.repeat(segment_starts(n_hb) - k0, n_hb)
        hb_pos *= p.heartbeat_interval_s
        ctl = [(2, p.pauses_per_h), (4, p.seeks_per_h), (5, p.bitrate_switches_per_h)]
        counts = [rng.poisson((upto - seen) * rate / 3600.0) for _, rate in ctl]
        c_s = np.concatenate([np.repeat(np.arange(n), c) for c in counts])
        c_code = np.concatenate([np.full(c.sum(), code) for (code, _), c in zip(ctl, counts)])
        c_pos = seen[c_s] + rng.random(len(c_s)) * (upto - seen)[c_s]
        # pauses stretch wall-clock time: shift each point by the pauses before it
        is_pause = c_code == 2
        p_s, p_pos = c_s[is_pause], c_pos[is_pause]
        p_len = rng.lognormal(np.log(p.pause_median_s), 1.0, len(p_s))
        order = np.lexsort((p_pos, p_s))
        p_s, p_pos, p_len = p_s[order], p_pos[order], p_len[order]
        p_key = p_s + p_pos / (watch[p_s] + 1.0)
        cum = np.concatenate([[0.0], np.cumsum(p_len)])
        first_pause = np.searchsorted(p_key, np.arange(n), side="left")
        paused = np.bincount(p_s, minlength=n) > 0

        def shifted(s: np.ndarray, pos: np.ndarray) -> np.ndarray:
            """Wall-clock time of playback position ``pos`` of session ``s``: the start plus
            the position plus the pauses before it (only sessions with pauses are searched)."""
            t = t0[s] + pos
            m = np.flatnonzero(paused[s])
            sm = s[m]
            before = np.searchsorted(p_key, sm + pos[m] / (watch[sm] + 1.0), side="left")
            t[m] += cum[before] - cum[first_pause[sm]]
            return t

        # play_start only for sessions starting in the run, play_stop only for those whose
        # watch time ends in it (pauses only delay the stop); the rest would be dropped
        starts = np.flatnonzero(t0 >= 0.0).astype(np.int32)
        stops = np.flatnonzero(watch <= duration_s - t0).astype(np.int32)
        sess = np.concatenate([starts, hb_s, c_s, p_s, stops]).astype(np.int32)
        pos = np.concatenate([np.zeros(len(starts)), hb_pos, c_pos, p_pos, watch[stops]])
        ts = shifted(sess, pos)
        resumes = slice(len(ts) - len(stops) - len(p_s), len(ts) - len(stops))
        ts[resumes] += p_len  # resumes after their pause
        code = np.concatenate(
            [
                np.zeros(len(starts), np.int8),
                np.ones(len(hb_s), np.int8),
                c_code.astype(np.int8),
                np.full(len(p_s), 3, np.int8),
                np.full(len(stops), 6, np.int8),
            ]
        )
        rate = bitrate[sess].astype(np.int32)
        switch = np.flatnonzero(code == 5)
        rate[switch] = BITRATES_KBPS[rng.integers(0, len(BITRATES_KBPS), len(switch))]
        ef.add(
            ts,
            "playback",
            Labels(code, PLAYBACK),
            Labels(sess, format_keys(MEMBER, member)),
            np.where(code == 1, np.int32(180), np.int32(400)),
            title=title.astype(np.int32)[sess],
            region=Labels(region.astype(np.int8)[sess], [r.name for r in REGIONS]),
            position_s=np.round(pos, 3),
            bitrate_kbps=rate,
        )
        return t0, member, region

    def _logins(
        self,
        ef: EventFrame,
        members: tuple[np.ndarray, np.ndarray, np.ndarray],
        rng: np.random.Generator,
    ) -> None:
        """A share ``p_login`` of sessions is preceded by a login a few seconds earlier."""
        t0, member, region = members
        m = rng.random(len(t0)) < self.params.p_login
        t = np.maximum(t0[m] - rng.exponential(5.0, int(m.sum())), 0.0)
        ef.add(
            t,
            "account",
            "login",
            Labels.keys(MEMBER, member[m]),
            300,
            region=Labels(region[m], [r.name for r in REGIONS]),
        )


def _weights() -> np.ndarray:
    """Traffic share of each region."""
    w = np.array([r.weight for r in REGIONS])
    return w / w.sum()


def _takeover(
    ef: EventFrame, spec: IncidentSpec, n_members: int, rng: np.random.Generator
) -> np.ndarray:
    """Account takeovers: a login_failed burst, a foreign login, then account changes."""
    k = int(np.ceil(5 * spec.intensity))
    victims = rng.choice(n_members, k, replace=False)
    start = spec.start_s + rng.random(k) * spec.duration_s * 0.5
    n_fail = rng.geometric(1 / 20.0, k)
    v_fail = np.repeat(np.arange(k), n_fail)
    gaps = rng.exponential(2.0, len(v_fail))
    cs = gaps.cumsum()
    first = segment_starts(n_fail)
    offset = cs - np.repeat(cs[first] - gaps[first], n_fail)
    t_fail = start[v_fail] + np.minimum(offset, spec.duration_s / 4)
    t_login = np.minimum(np.maximum.reduceat(t_fail, first) + 1.0, spec.end_s - 1e-6)
    steps = np.cumsum(rng.exponential(30.0, (k, 3)), axis=1)
    t_rest = np.minimum(t_login[:, None] + steps, spec.end_s - 1e-6)
    ts = np.concatenate([t_fail, t_login, t_rest.ravel()])
    who = np.concatenate([v_fail, np.arange(k), np.repeat(np.arange(k), 3)])
    code = np.concatenate([np.ones(len(v_fail)), np.zeros(k), np.tile([2, 3, 4], k)])
    region = rng.integers(0, len(REGIONS), len(ts))
    ef.add(
        ts,
        "account",
        Labels(code.astype(np.int64), ACCOUNT),
        Labels.keys(MEMBER, victims[who]),
        300,
        region=Labels(region, [r.name for r in REGIONS]),
    )
    return np.sort(victims)
