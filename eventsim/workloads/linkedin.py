"""Professional network: posts and engagement on a power-law follower graph, fan-out, virality.

Models a LinkedIn-style network. Members (three regions, midday weekday peaks) have Pareto
follower counts; authors post at a rate shaped by the diurnal/weekly curves (popular members
post more, ∝ sqrt(followers)). Browsing sessions (geometric number of actions, lognormal
think times) like, comment and share recent posts (recency-biased Zipf), request connections
(accepted later with ``p_accept``), update profiles and send messages. Every post and share
fans out on write to the broadcaster's followers as ``feed_item_added`` events, capped at
``fanout_cap`` (beyond it one ``fanout_capped`` event stands for fan-out on read). A viral
cascade starts from the most-followed member's post: ``viral_seed_shares`` members share it,
and each share begets Poisson(``viral_branching``) further shares, up to ``viral_max_shares``;
the seed post is published at ``viral_at_s`` (``"auto"``: 40 % into the run; None: no seed
post and no cascade; see :mod:`~eventsim.workloads.spikes`).

Topics, event types and keys
----------------------------
posts (key member): post_created, post_shared. engagement (key post ``p<id>``): post_liked,
comment_added. feed (key follower): feed_item_added, feed_delivery_failed, fanout_capped
(key author). connections (key target member): connection_requested, connection_accepted.
profiles (key member): profile_updated. messages (key recipient): message_sent.

Payload columns
---------------
member : Int64 (acting member; its key is ``m<member>``), post_id : Int64 (the key
``p<post_id>``), author : Int64 (post author),
region : Enum (acting member's region), followers : Int64 (broadcaster's followers, on
posts/shares and fanout_capped), delivery_delay_s : Float64 (feed_item_added and
feed_delivery_failed: seconds from the broadcast to this delivery). Identifiers in the payload
are numbers; only the keys are strings.

Incidents (``intensity`` meaning)
---------------------------------
outage (target a topic or region; fraction of its events lost), latency_regression (target
fanout; delivery delay multiplier for broadcasts in the window), error_burst (target fanout;
probability a feed delivery in the window fails; affected = post ids with failed deliveries),
spam_bots (target connections; ``ceil(10 × intensity)`` new accounts each sending 0.5
connection requests/s and 0.5 messages/s and posting every 50 s; affected = the bots).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import polars as pl

from eventsim.exceptions import ScenarioError
from eventsim.sim.rng import RngStreams
from eventsim.workloads._checks import check_params
from eventsim.workloads._frame import EventFrame, Labels, format_keys
from eventsim.workloads._incidents import check_incidents, drop_outage, incidents_frame, pick_target
from eventsim.workloads.base import KEY_PREFIX, IncidentSpec, Workload, WorkloadOutput
from eventsim.workloads.popularity import Zipf, pareto_sizes
from eventsim.workloads.rates import RateCurve, Region
from eventsim.workloads.sessions import draw_sessions
from eventsim.workloads.spikes import AUTO, check_spike_param, spike_start

__all__ = ["LinkedIn"]

MEMBER, POST = KEY_PREFIX["member"], KEY_PREFIX["post_id"]

REGIONS = (Region("americas", -5.0, 0.4), Region("emea", 1.0, 0.35), Region("apac", 8.0, 0.25))
ACTIONS = ("post_liked", "comment_added", "post_shared", "connection_requested")
ACTIONS += ("profile_updated", "message_sent")
REGION_NAMES = [r.name for r in REGIONS]
TOPIC_OF = {
    "post_liked": "engagement",
    "comment_added": "engagement",
    "post_shared": "posts",
    "connection_requested": "connections",
    "profile_updated": "profiles",
    "message_sent": "messages",
}
PAYLOAD_SCHEMA: dict[str, pl.DataType] = {
    "member": pl.Int64(),
    "post_id": pl.Int64(),
    "author": pl.Int64(),
    "region": pl.Enum(REGION_NAMES),
    "followers": pl.Int64(),
    "delivery_delay_s": pl.Float64(),
}


@dataclass(frozen=True)
class LinkedInParams:
    """Parameters of :class:`LinkedIn` (rates per second, times in seconds)."""

    rate_multiplier: float = 1.0
    n_members: int = 200_000
    follower_min: int = 20
    follower_alpha: float = 1.2
    post_rate_per_s: float = 5.0
    session_rate_per_s: float = 20.0
    mean_actions: float = 6.0
    think_mean_s: float = 20.0
    p_like: float = 0.55
    p_comment: float = 0.1
    p_share: float = 0.05
    p_connect: float = 0.08
    p_profile: float = 0.04
    p_accept: float = 0.6
    accept_median_s: float = 3600.0
    recent_posts: int = 2000
    fanout_cap: int = 2000
    fanout_median_s: float = 0.5
    peak_to_trough: float = 3.0
    peak_hour: float = 12.0
    weekend_factor: float = 0.5
    start_hour_utc: float = 0.0
    viral_at_s: float | str | None = AUTO
    viral_seed_shares: int = 20
    viral_branching: float = 1.4
    viral_max_shares: int = 3000
    viral_delay_median_s: float = 120.0
    viral_likes_per_share: float = 4.0

    def __post_init__(self) -> None:
        check_params(
            self,
            positive=("rate_multiplier", "n_members", "follower_alpha", "post_rate_per_s"),
            non_negative=("session_rate_per_s", "viral_branching", "viral_max_shares"),
            probability=("p_like", "p_comment", "p_share", "p_connect", "p_profile", "p_accept"),
            at_least_one=("mean_actions", "peak_to_trough", "follower_min", "recent_posts"),
        )
        check_params(
            self,
            positive=("think_mean_s", "accept_median_s", "fanout_median_s", "weekend_factor"),
            non_negative=("viral_likes_per_share", "fanout_cap"),
            at_least_one=("viral_seed_shares",),
        )
        check_params(self, positive=("viral_delay_median_s",))
        check_spike_param("viral_at_s", self.viral_at_s)
        total = self.p_like + self.p_comment + self.p_share + self.p_connect + self.p_profile
        if total > 1.0:
            msg = f"workload.params.p_like + ... + p_profile must be <= 1; got {total}"
            raise ScenarioError(msg)


class LinkedIn(Workload):
    """Professional network: posts, engagement, feed fan-out, connections and a viral cascade.

    Examples
    --------
    >>> out = LinkedIn({"n_members": 1000, "post_rate_per_s": 0.5}).generate(600.0, RngStreams(1))
    >>> "feed" in set(out.events["topic"])
    True
    """

    name = "linkedin"
    Params = LinkedInParams
    incident_kinds = ("outage", "latency_regression", "error_burst", "spam_bots")
    topics: ClassVar[dict[str, tuple[str, ...]]] = {
        "posts": ("post_created", "post_shared"),
        "engagement": ("post_liked", "comment_added"),
        "feed": ("feed_item_added", "feed_delivery_failed", "fanout_capped"),
        "connections": ("connection_requested", "connection_accepted"),
        "profiles": ("profile_updated",),
        "messages": ("message_sent",),
    }
    payload_schema = PAYLOAD_SCHEMA
    incident_targets: ClassVar[dict[str, tuple[str, ...]]] = {
        "outage": (*topics, *(r.name for r in REGIONS)),
        "latency_regression": ("fanout",),
        "error_burst": ("fanout",),
        "spam_bots": ("connections",),
    }

    def __init__(
        self, params: dict[str, object] | None = None, incidents: tuple[IncidentSpec, ...] = ()
    ) -> None:
        super().__init__(params, incidents)
        check_incidents(self.incidents, self.incident_targets, self.name)

    def _curve(self, rate_per_s: float) -> RateCurve:
        p = self.params
        return RateCurve(
            rate_per_s * p.rate_multiplier,
            peak_to_trough=p.peak_to_trough,
            peak_hour=p.peak_hour,
            regions=REGIONS,
            weekend_factor=p.weekend_factor,
            start_hour_utc=p.start_hour_utc,
        )

    def generate(self, duration_s: float, rngs: RngStreams) -> WorkloadOutput:
        """Draw the run's posts, sessions, fan-out, cascade and incidents."""
        self.check_window(duration_s)
        p = self.params
        seed_t = spike_start("viral_at_s", p.viral_at_s, duration_s, duration_s * 0.4)
        pick = rngs("linkedin.incidents")
        pairs = [(s, pick_target(s, self.incident_targets[s.kind], pick)) for s in self.incidents]
        rng = rngs("linkedin.graph")
        n = p.n_members
        followers = np.minimum(
            pareto_sizes(rng, n, minimum=p.follower_min, alpha=p.follower_alpha), n - 1
        )
        bounds = np.cumsum([0] + [int(n * r.weight) for r in REGIONS])
        bounds[-1] = n
        region_of = np.searchsorted(bounds, np.arange(n), side="right") - 1
        self._ctx = (followers, region_of)
        ef = EventFrame(PAYLOAD_SCHEMA, until_s=duration_s, topics=self.topics)
        # posts (plus the cascade's seed post), by authors ∝ sqrt(followers)
        rng = rngs("linkedin.posts")
        t_post, _ = self._curve(p.post_rate_per_s).arrivals(rng, 0.0, duration_s)
        cdf = np.cumsum(np.sqrt(followers))
        author = np.searchsorted(cdf, rng.random(len(t_post)) * cdf[-1], side="right")
        at = 0
        if seed_t is not None:
            at = int(np.searchsorted(t_post, seed_t))
            t_post = np.insert(t_post, at, seed_t)
            author = np.insert(author, at, int(np.argmax(followers)))
        m_names = format_keys(MEMBER, np.arange(n))
        self._names = {MEMBER: m_names, POST: format_keys(POST, np.arange(len(t_post)))}
        self._author = author
        self._add(ef, t_post, "posts", "post_created", author, np.arange(len(t_post)), author)
        # sessions of actions over recent posts
        acts = self._sessions(ef, t_post, author, duration_s, rngs("linkedin.sessions"))
        share_t, share_by, share_post = acts
        # the viral cascade: shares beget shares
        rng = rngs("linkedin.viral")
        vt, vby = (
            (np.empty(0), np.empty(0, np.int64)) if seed_t is None else _cascade(seed_t, p, rng)
        )
        self._add(ef, vt, "posts", "post_shared", vby, np.full(len(vt), at), author)
        likes = rng.poisson(p.viral_likes_per_share, len(vt))
        lt = np.repeat(vt, likes) + rng.exponential(60.0, likes.sum())
        liker = rng.integers(0, n, len(lt))
        self._add(ef, lt, "engagement", "post_liked", liker, np.full(len(lt), at), author)
        # fan-out on write for posts and shares
        bt = np.concatenate([t_post, share_t, vt])
        by = np.concatenate([author, share_by, vby])
        post = np.concatenate([np.arange(len(t_post)), share_post, np.full(len(vt), at)])
        failed = self._fanout(ef, bt, by, post, author, pairs, rngs("linkedin.fanout"))
        rows = []
        for i, (spec, target) in enumerate(pairs):
            affected: list[str] = []
            if spec.kind == "spam_bots":
                bots = _spam_bots(self, ef, spec, n + 1000 * i, rngs(f"linkedin.bots{i}"))
                affected = [f"{MEMBER}{b}" for b in bots]
            elif spec.kind == "error_burst":
                affected = [f"{POST}{j}" for j in failed.get(i, [])]
            rows.append((spec, target, affected))
        events = ef.build()
        for i, (spec, target) in enumerate(pairs):
            if spec.kind == "outage":
                events = drop_outage(events, spec, target, rngs(f"linkedin.outage{i}"))
        return WorkloadOutput(events, incidents_frame(rows))

    def _add(
        self,
        ef: EventFrame,
        t: np.ndarray,
        topic: str,
        event_type: str,
        member: np.ndarray,
        post: np.ndarray | None,
        author: np.ndarray,
        key: tuple[str, np.ndarray] | None = None,
        delay: np.ndarray | None = None,
    ) -> None:
        """Add events acted by ``member`` (ids >= n_members are bots), keyed by ``key``
        (default: the member; engagement: the post); ``delay``: fan-out delays (feed)."""
        followers, region_of = self._ctx
        n = len(followers)
        human = member < n
        if key is None:
            key = (POST, post) if topic == "engagement" and post is not None else (MEMBER, member)
        broadcast = event_type in ("post_created", "post_shared", "fanout_capped")
        ef.add(
            t,
            topic,
            event_type,
            self._labels(*key),
            900 if broadcast else 250,
            member=member,
            post_id=post,
            author=None if post is None else self._author[post],
            region=Labels(np.where(human, region_of[np.minimum(member, n - 1)], 0), REGION_NAMES),
            followers=np.where(human, followers[np.minimum(member, n - 1)], 0)
            if broadcast
            else None,
            delivery_delay_s=delay,
        )

    def _labels(self, prefix: str, ids: np.ndarray) -> Labels:
        """Member or post keys from the per-run dictionaries (bots are formatted per row)."""
        names = self._names[prefix]
        if len(ids) and ids.max() >= len(names):
            return Labels.keys(prefix, ids)
        return Labels(ids, names)

    def _sessions(
        self,
        ef: EventFrame,
        t_post: np.ndarray,
        author: np.ndarray,
        duration_s: float,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Browsing sessions' actions; returns the shares (time, sharer, post) for fan-out."""
        p = self.params
        n = p.n_members
        t0, region = self._curve(p.session_rate_per_s).arrivals(rng, 0.0, duration_s)
        s = draw_sessions(rng, t0, mean_events=p.mean_actions, think_mean_s=p.think_mean_s)
        bounds = np.cumsum([0] + [int(n * r.weight) for r in REGIONS])
        actor = (bounds[region] + rng.integers(0, np.diff(bounds)[region]))[s.session]
        mix = np.cumsum([p.p_like, p.p_comment, p.p_share, p.p_connect, p.p_profile])
        action = np.searchsorted(mix, rng.random(len(s.time_s)), side="right")
        t = s.time_s
        # recency-biased Zipf choice among the posts created before each action
        before = np.searchsorted(t_post, t, side="right")
        post = before - 1 - Zipf(p.recent_posts, 1.0).sample(rng, len(t))
        ok = (t < duration_s) & ((action >= 3) | (post >= 0))
        t, actor, action, post = t[ok], actor[ok], action[ok], post[ok]
        for a, name in enumerate(ACTIONS):
            m = action == a
            other = rng.integers(0, n, int(m.sum()))
            if a <= 2:
                self._add(ef, t[m], TOPIC_OF[name], name, actor[m], post[m], author)
            elif name == "profile_updated":
                self._add(ef, t[m], "profiles", name, actor[m], None, author)
            else:
                self._add(ef, t[m], TOPIC_OF[name], name, actor[m], None, author, (MEMBER, other))
            if name == "connection_requested":
                yes = rng.random(len(other)) < p.p_accept
                lag = rng.lognormal(np.log(p.accept_median_s), 1.0, int(yes.sum()))
                key = (MEMBER, actor[m][yes])
                self._add(
                    ef,
                    t[m][yes] + lag,
                    "connections",
                    "connection_accepted",
                    other[yes],
                    None,
                    author,
                    key,
                )
        m = action == 2
        return t[m], actor[m], post[m]

    def _fanout(
        self,
        ef: EventFrame,
        t: np.ndarray,
        by: np.ndarray,
        post: np.ndarray,
        author: np.ndarray,
        pairs: list[tuple[IncidentSpec, str]],
        rng: np.random.Generator,
    ) -> dict[int, np.ndarray]:
        """Fan-out on write to followers (capped); returns, per error burst, failed posts."""
        p = self.params
        followers = self._ctx[0]
        capped = followers[by] > p.fanout_cap
        self._add(ef, t[capped], "feed", "fanout_capped", by[capped], post[capped], author)
        reach = np.minimum(followers[by], p.fanout_cap)
        b = np.repeat(np.arange(len(t)), reach)
        delay = rng.lognormal(np.log(p.fanout_median_s), 0.8, len(b))
        fail = np.zeros(len(b), dtype=bool)
        failed: dict[int, np.ndarray] = {}
        for i, (spec, _) in enumerate(pairs):
            win = (t[b] >= spec.start_s) & (t[b] < spec.end_s)
            if spec.kind == "latency_regression":
                delay[win] *= spec.intensity
            elif spec.kind == "error_burst":
                hit = win & (rng.random(len(b)) < spec.intensity)
                fail |= hit
                failed[i] = np.unique(post[b[hit & (t[b] + delay < ef.until_s)]])
        follower = rng.integers(0, p.n_members, len(b))
        for name, m in (("feed_item_added", ~fail), ("feed_delivery_failed", fail)):
            key = (MEMBER, follower[m])
            self._add(
                ef, t[b][m] + delay[m], "feed", name, by[b][m], post[b][m], author, key, delay[m]
            )
        return failed


def _cascade(
    seed_t: float, p: LinkedInParams, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Shares of the viral post: a Galton-Watson tree, generation by generation (capped)."""
    times, total = [], 0
    parents = np.array([seed_t])
    while len(parents) and total < p.viral_max_shares:
        if total == 0:
            kids = np.array([p.viral_seed_shares])
        else:
            kids = rng.poisson(p.viral_branching, len(parents))
        t = np.repeat(parents, kids) + rng.lognormal(
            np.log(p.viral_delay_median_s), 0.7, kids.sum()
        )
        t = t[: p.viral_max_shares - total]
        times.append(t)
        total += len(t)
        parents = t
    vt = np.concatenate(times) if times else np.empty(0)
    return vt, rng.integers(0, p.n_members, len(vt))


def _spam_bots(
    w: LinkedIn, ef: EventFrame, spec: IncidentSpec, first_id: int, rng: np.random.Generator
) -> np.ndarray:
    """Spam bots: new accounts flooding connection requests and messages, and spam posts."""
    k = int(np.ceil(10 * spec.intensity))
    bots = first_id + np.arange(k)
    for topic, name, rate in (
        ("connections", "connection_requested", 0.5),
        ("messages", "message_sent", 0.5),
        ("posts", "post_created", 0.02),
    ):
        count = rng.poisson(rate * spec.duration_s, k)
        by = np.repeat(bots, count)
        t = spec.start_s + rng.random(len(by)) * spec.duration_s
        other = rng.integers(0, w.params.n_members, len(by))
        key = (MEMBER, by if topic == "posts" else other)
        w._add(ef, t, topic, name, by, None, np.empty(0, dtype=np.int64), key)
    return bots
