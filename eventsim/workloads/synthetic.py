"""Synthetic: a Poisson stream of keyed events with Zipf-skewed keys and a configurable mix.

The simplest workload, for learning the log and for benchmarks: arrivals are a homogeneous
Poisson process, keys follow a Zipf law over ``n_keys``, event types follow ``event_mix``, and
payload sizes are lognormal.

Topics and schema
-----------------
``topics`` (default ``events``), chosen per event by ``topic_mix``. ``topic``, ``key``
(``key-000000`` … by popularity rank) and ``event_type`` are ``pl.Enum`` columns (dictionary
encoded, as the workload contract allows; cast to ``pl.String`` if you need plain strings).
Columns after the base ones: ``latency_ms`` Float32 (service latency the event reports,
lognormal, milliseconds).

Incidents
---------
``outage``: events of the target topic in the window are dropped with probability
``intensity`` (1 = nothing arrives). ``error_burst``: events in the window become
``event_type="error"`` with probability ``intensity``. ``latency_regression``: ``latency_ms``
multiplied by ``1 + intensity`` in the window. ``hot_key`` (abuse): one key sends an extra
``intensity × rate_per_s`` events/s during the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from eventsim.exceptions import ScenarioError
from eventsim.sim.rng import RngStreams
from eventsim.workloads.base import INCIDENT_SCHEMA, Workload, WorkloadOutput

__all__ = ["Synthetic", "SyntheticParams", "inverse_cdf", "poisson_arrivals", "zipf_ranks"]


def poisson_arrivals(
    rng: np.random.Generator, rate_per_s: float, start_s: float, end_s: float
) -> np.ndarray:
    """Sorted arrival times of a homogeneous Poisson process on ``[start_s, end_s)``.

    Drawn in vectorised chunks of exponential gaps.

    Examples
    --------
    >>> t = poisson_arrivals(np.random.default_rng(0), 100.0, 0.0, 10.0)
    >>> len(t), bool((np.diff(t) >= 0).all()), bool(t[-1] < 10.0)
    (978, True, True)
    """
    if rate_per_s <= 0 or end_s <= start_s:
        return np.empty(0)
    expected = rate_per_s * (end_s - start_s)
    chunk = int(expected + 6 * np.sqrt(expected) + 16)
    parts: list[np.ndarray] = []
    t = start_s
    while t < end_s:
        times = np.cumsum(rng.exponential(1.0 / rate_per_s, chunk))
        times += t
        parts.append(times)
        t = float(times[-1])
    out = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return out[: np.searchsorted(out, end_s)]


def zipf_ranks(rng: np.random.Generator, n: int, n_keys: int, exponent: float) -> np.ndarray:
    """``n`` draws of ranks 0..n_keys-1 with P(rank k) ∝ (k+1)^-exponent (finite Zipf).

    Examples
    --------
    >>> r = zipf_ranks(np.random.default_rng(0), 10_000, 100, 1.2)
    >>> int(r.min()), int(r.max()) < 100, bool((r == 0).mean() > (r == 1).mean())
    (0, True, True)
    """
    weights = np.arange(1, n_keys + 1, dtype=np.float64) ** -exponent
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    ranks = inverse_cdf(cdf, rng.random(n))
    return np.minimum(ranks, n_keys - 1, out=ranks)


def inverse_cdf(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``np.searchsorted(cdf, u, side="right")`` for draws ``u`` in [0, 1), exactly, through a
    table of 2^b equal cells of [0, 1) (about 16 per ``cdf`` entry).

    A draw in a cell that no ``cdf`` value falls strictly inside has its answer in the table;
    only draws in the other cells (a few percent) are binary-searched. Multiplying by a power
    of two is exact, so the cell of a draw and the cells' bounds are exact too.

    Examples
    --------
    >>> cdf = np.array([0.25, 0.5, 0.5, 0.9, 1.0])
    >>> u = np.array([0.0, 0.25, 0.3, 0.5, 0.95, 0.999])
    >>> inverse_cdf(cdf, u).tolist() == np.searchsorted(cdf, u, side="right").tolist()
    True
    """
    k = cdf.shape[0]
    if u.shape[0] < 8 * k or k > 1 << 18:  # the table would cost more than it saves
        return np.searchsorted(cdf, u, side="right")
    m = 1 << max(8, (k - 1).bit_length() + 4)
    scaled = cdf * m
    cell = np.minimum(np.floor(scaled), m).astype(np.int64)
    below_next = np.cumsum(np.bincount(cell, minlength=m + 1))  # #cdf < j + 1 (scaled)
    on_edge = np.bincount(cell[scaled == cell], minlength=m + 1)  # #cdf == j (scaled)
    at_most = np.empty(m, dtype=np.int64)  # #cdf <= j (scaled): the answer at the cell start
    at_most[0] = on_edge[0]
    at_most[1:] = below_next[: m - 1] + on_edge[1:m]
    table = np.where(below_next[:m] == at_most, at_most, -1)
    out = (u * m).astype(np.intp)  # each draw's cell, then the answer from the table
    np.take(table, out, out=out, mode="clip")  # cells are in range: clip never clips
    inside = np.flatnonzero(out < 0)
    out[inside] = np.searchsorted(cdf, u[inside], side="right")
    return out


@dataclass(frozen=True)
class SyntheticParams:
    """Parameters of the synthetic workload.

    Parameters
    ----------
    rate_per_s
        Mean events per second.
    n_keys
        Distinct keys.
    zipf_exponent
        Skew of key popularity (0 = uniform).
    event_types, event_mix
        Event type names and their probabilities (normalised).
    topics, topic_mix
        Topics and their probabilities (normalised).
    payload_bytes_median, payload_bytes_sigma
        Lognormal payload size: median bytes and sigma of its log.
    latency_ms_median
        Median of the ``latency_ms`` payload column.
    rate_multiplier
        Scales ``rate_per_s`` (as on every workload).
    """

    rate_per_s: float = 1000.0
    n_keys: int = 10_000
    zipf_exponent: float = 1.1
    event_types: tuple[str, ...] = ("view", "click", "purchase")
    event_mix: tuple[float, ...] = (0.8, 0.18, 0.02)
    topics: tuple[str, ...] = ("events",)
    topic_mix: tuple[float, ...] = (1.0,)
    payload_bytes_median: float = 400.0
    payload_bytes_sigma: float = 0.5
    latency_ms_median: float = 20.0
    rate_multiplier: float = 1.0

    def __post_init__(self) -> None:
        for name in ("event_types", "event_mix", "topics", "topic_mix"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        p = "workload.params"
        checks = [
            (self.rate_per_s > 0, "rate_per_s", self.rate_per_s, "> 0"),
            (self.rate_multiplier > 0, "rate_multiplier", self.rate_multiplier, "> 0"),
            (self.n_keys >= 1, "n_keys", self.n_keys, ">= 1"),
            (self.zipf_exponent >= 0, "zipf_exponent", self.zipf_exponent, ">= 0"),
            (
                self.payload_bytes_median > 0,
                "payload_bytes_median",
                self.payload_bytes_median,
                "> 0",
            ),
            (
                self.payload_bytes_sigma >= 0,
                "payload_bytes_sigma",
                self.payload_bytes_sigma,
                ">= 0",
            ),
            (self.latency_ms_median > 0, "latency_ms_median", self.latency_ms_median, "> 0"),
        ]
        for ok, name, value, rule in checks:
            if not ok:
                msg = f"{p}.{name} must be {rule}; got {value!r}"
                raise ScenarioError(msg)
        for names, mix, label in (
            (self.event_types, self.event_mix, "event"),
            (self.topics, self.topic_mix, "topic"),
        ):
            if len(names) != len(mix) or not names:
                msg = f"{p}.{label}_mix must have one weight per name ({len(names)}); got {mix!r}"
                raise ScenarioError(msg)
            if any(w < 0 for w in mix) or sum(mix) <= 0:
                msg = f"{p}.{label}_mix must be weights >= 0 with a positive sum; got {mix!r}"
                raise ScenarioError(msg)


class Synthetic(Workload):
    """Poisson arrivals, Zipf-skewed keys and a configurable event mix (for learning and
    benchmarks)."""

    name = "synthetic"
    Params = SyntheticParams
    incident_kinds = ("outage", "error_burst", "latency_regression", "hot_key")
    topics = {"events": ("view", "click", "purchase", "error")}

    def generate(self, duration_s: float, rngs: RngStreams) -> WorkloadOutput:
        """Draw the run's events (see the module docstring for the schema)."""
        prm: SyntheticParams = self.params
        self.check_window(duration_s)
        rng = rngs("synthetic.arrivals")
        ts = poisson_arrivals(rng, prm.rate_per_s * prm.rate_multiplier, 0.0, duration_s)
        keys = zipf_ranks(rngs("synthetic.keys"), ts.shape[0], prm.n_keys, prm.zipf_exponent)
        extra_t, extra_k, extra_topic, incidents = self._abuse(rngs, duration_s)
        forced = None
        if extra_t.shape[0]:
            forced = np.full(ts.shape[0], -1, dtype=np.int64)
            ts = np.concatenate([ts, extra_t])
            keys = np.concatenate([keys, extra_k])
            forced = np.concatenate([forced, extra_topic])
            order = np.argsort(ts, kind="stable")
            ts, keys, forced = ts[order], keys[order], forced[order]
        n = ts.shape[0]
        mix_rng = rngs("synthetic.mix")
        etype = _choice(mix_rng, prm.event_mix, n)
        topic = _choice(mix_rng, prm.topic_mix, n)
        if forced is not None:
            topic = np.where(forced >= 0, forced, topic)
        size_rng = rngs("synthetic.sizes")
        drawn = size_rng.lognormal(np.log(prm.payload_bytes_median), prm.payload_bytes_sigma, n)
        size = np.maximum(drawn, 1, out=drawn).astype(np.int32)
        latency = size_rng.lognormal(np.log(prm.latency_ms_median), 0.4, n).astype(np.float32)
        keep = np.ones(n, dtype=np.bool_)
        error_code = len(prm.event_types)
        inc_rng = rngs("synthetic.incidents")
        for inc in self.incidents:
            if inc.kind == "hot_key":
                continue
            target = inc.target or prm.topics[0]
            window = (ts >= inc.start_s) & (ts < inc.end_s)
            if target in prm.topics:
                window &= topic == prm.topics.index(target)
            hit = window & (inc_rng.random(n) < min(inc.intensity, 1.0))
            if inc.kind == "outage":
                keep &= ~hit
            elif inc.kind == "error_burst":
                etype = np.where(hit, error_code, etype)
            elif inc.kind == "latency_regression":
                latency = np.where(window, latency * (1 + inc.intensity), latency)
            incidents.append((inc.kind, inc.start_s, inc.end_s, target, []))
        key_names = [f"key-{i:06d}" for i in range(prm.n_keys)]
        if not keep.all():
            idx = np.flatnonzero(keep)
            ts, topic, keys, etype = ts[idx], topic[idx], keys[idx], etype[idx]
            size, latency = size[idx], latency[idx]
        events = pl.DataFrame(
            {
                "timestamp_s": ts,
                "topic": _labels(prm.topics, topic),
                "key": _labels(key_names, keys),
                "event_type": _labels([*prm.event_types, "error"], etype),
                "payload_bytes": size,
                "latency_ms": latency,
            }
        )
        frame = pl.DataFrame(incidents, schema=INCIDENT_SCHEMA, orient="row")
        return WorkloadOutput(events, frame.sort("start_s", "kind"))

    def _abuse(
        self, rngs: RngStreams, duration_s: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[object, ...]]]:
        prm: SyntheticParams = self.params
        times, keys, topics, rows = [], [], [], []
        rng = rngs("synthetic.hot_key")
        for inc in self.incidents:
            if inc.kind != "hot_key":
                continue
            key = int(rng.integers(prm.n_keys // 2, prm.n_keys)) if prm.n_keys > 1 else 0
            t = poisson_arrivals(rng, inc.intensity * prm.rate_per_s, inc.start_s, inc.end_s)
            times.append(t)
            keys.append(np.full(t.shape[0], key))
            topic = inc.target if inc.target in prm.topics else prm.topics[0]
            topics.append(np.full(t.shape[0], prm.topics.index(topic)))
            rows.append(("hot_key", inc.start_s, inc.end_s, topic, [f"key-{key:06d}"]))
        if not times:
            empty = np.empty(0, dtype=np.int64)
            return np.empty(0), empty, empty, rows
        return np.concatenate(times), np.concatenate(keys), np.concatenate(topics), rows


def _labels(names: list[str] | tuple[str, ...], codes: np.ndarray) -> pl.Series:
    """``names[codes]`` as a ``pl.Enum`` column of the distinct names (no per-row strings)."""
    distinct = list(dict.fromkeys(names))
    if len(distinct) < len(names):  # a name given twice: both codes map to its category
        remap = np.array([distinct.index(name) for name in names], dtype=np.int64)
        codes = remap[codes]
    return pl.Series(distinct, dtype=pl.Enum(distinct)).gather(codes)


def _choice(rng: np.random.Generator, weights: tuple[float, ...], n: int) -> np.ndarray:
    if len(weights) == 1:
        return np.zeros(n, dtype=np.int64)
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    picks = inverse_cdf(cdf, rng.random(n))
    return np.minimum(picks, len(weights) - 1, out=picks)
