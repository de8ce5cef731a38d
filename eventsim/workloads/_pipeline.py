"""Private: the netflix content pipeline: upload → encode per (resolution, codec) → publish.

Each upload fans out into one encode job per (resolution, codec); jobs run in parallel and a
failed attempt is retried after an exponential backoff, at most ``max_encode_retries`` times.
When every job of an upload has succeeded it is packaged and published; if one exhausts its
retries the upload ends in ``pipeline_failed`` once its last job is over. Stage durations are
lognormal (encode time scales with resolution and codec); latency regressions multiply the
durations of stages starting in their window, error bursts set the encode failure
probability of attempts starting in theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from eventsim.workloads._frame import EventFrame, Labels, format_keys
from eventsim.workloads.base import KEY_PREFIX, IncidentSpec

__all__ = ["CONTENT_TYPES", "encode_pipeline"]

CONTENT_TYPES = (
    "upload_received",
    "encode_started",
    "encode_failed",
    "encode_completed",
    "package_completed",
    "published",
    "pipeline_failed",
)
RESOLUTIONS = ("240p", "480p", "720p", "1080p", "1440p", "2160p")
RES_FACTOR = np.array([0.2, 0.4, 0.7, 1.0, 1.6, 2.5])
CODECS = ("h264", "hevc", "av1")
CODEC_FACTOR = np.array([1.0, 1.8, 3.0])
STAGES = ("encode", "package", "publish")


def _slowdown(t: np.ndarray, stage: str, pairs: Sequence[tuple[IncidentSpec, str]]) -> np.ndarray:
    """Duration multiplier of ``stage`` for stages starting at ``t``."""
    mult = np.ones(len(t))
    for spec, target in pairs:
        if spec.kind == "latency_regression" and target == stage:
            mult[(t >= spec.start_s) & (t < spec.end_s)] *= spec.intensity
    return mult


def encode_pipeline(
    ef: EventFrame,
    p: Any,
    duration_s: float,
    pairs: Sequence[tuple[IncidentSpec, str]],
    rng: np.random.Generator,
) -> dict[int, np.ndarray]:
    """Add the pipeline's events; returns, per error burst, the uploads it made fail.

    Examples
    --------
    >>> from eventsim.workloads.netflix import PAYLOAD_SCHEMA, NetflixParams
    >>> ef = EventFrame(PAYLOAD_SCHEMA)
    >>> encode_pipeline(ef, NetflixParams(uploads_per_h=60), 3600.0, [], np.random.default_rng(0))
    {}
    >>> sorted(ef.build()["event_type"].unique())[:3]
    ['encode_completed', 'encode_failed', 'encode_started']
    """
    n_up = int(rng.poisson(p.uploads_per_h * p.rate_multiplier * duration_s / 3600.0))
    t_up = np.sort(rng.random(n_up) * duration_s)
    per = len(RESOLUTIONS) * len(CODECS)
    up = np.repeat(np.arange(n_up), per)
    res = np.tile(np.repeat(np.arange(len(RESOLUTIONS)), len(CODECS)), n_up)
    codec = np.tile(np.arange(len(CODECS)), n_up * len(RESOLUTIONS))
    keys = format_keys(KEY_PREFIX["upload"], np.arange(n_up))

    def add(t: np.ndarray, code: int, m: np.ndarray, attempt: int, dur: Any = np.nan) -> None:
        ef.add(
            t[m],
            "content",
            CONTENT_TYPES[code],
            Labels(up[m], keys),
            350,
            stage="encode",
            resolution=Labels(res[m], RESOLUTIONS),
            codec=Labels(codec[m], CODECS),
            attempt=attempt,
            stage_duration_s=dur[m] if isinstance(dur, np.ndarray) else dur,
        )

    ef.add(t_up, "content", "upload_received", Labels(np.arange(n_up), keys), 600)
    t = t_up[up] + rng.exponential(10.0, len(up))
    end = t.copy()
    done = np.zeros(len(up), dtype=bool)
    dead = np.zeros(len(up), dtype=bool)
    burst: dict[int, set[int]] = {}
    base = p.encode_median_s * RES_FACTOR[res] * CODEC_FACTOR[codec]
    for a in range(p.max_encode_retries + 1):
        act = ~done & ~dead
        if not act.any():
            break
        d = rng.lognormal(np.log(base), 0.4) * _slowdown(t, "encode", pairs)
        pf = np.full(len(up), p.p_encode_failure)
        for spec, target in pairs:
            if spec.kind == "error_burst" and target == "encode":
                win = (t >= spec.start_s) & (t < spec.end_s)
                pf[win] = spec.intensity
        fail = act & (rng.random(len(up)) < pf)
        for i, (spec, target) in enumerate(pairs):
            if spec.kind == "error_burst" and target == "encode":
                hit = fail & (t >= spec.start_s) & (t < spec.end_s) & (t < duration_s)
                burst.setdefault(i, set()).update(up[hit].tolist())
        d = np.where(fail, d * rng.uniform(0.1, 1.0, len(up)), d)
        add(t, 1, act, a + 1)
        add(t + d, 2, fail, a + 1, d)
        add(t + d, 3, act & ~fail, a + 1, d)
        end = np.where(act, t + d, end)
        done |= act & ~fail
        if a == p.max_encode_retries:
            dead |= fail
        t = np.where(fail, t + d + 30.0 * 2.0**a, t)
    last = np.maximum.reduceat(end, np.arange(0, len(up), per)) if n_up else end
    failed = np.bitwise_or.reduceat(dead, np.arange(0, len(up), per)) if n_up else dead
    ok = ~failed
    ids = np.arange(n_up)
    ef.add(last[failed], "content", "pipeline_failed", Labels(ids[failed], keys), 300)
    t_pkg = last[ok]
    d_pkg = rng.lognormal(np.log(p.package_median_s), 0.4, len(t_pkg)) * _slowdown(
        t_pkg, "package", pairs
    )
    ef.add(
        t_pkg + d_pkg,
        "content",
        "package_completed",
        Labels(ids[ok], keys),
        400,
        stage="package",
        stage_duration_s=d_pkg,
    )
    t_pub = t_pkg + d_pkg
    d_pub = rng.lognormal(np.log(p.publish_median_s), 0.4, len(t_pub)) * _slowdown(
        t_pub, "publish", pairs
    )
    ef.add(
        t_pub + d_pub,
        "content",
        "published",
        Labels(ids[ok], keys),
        400,
        stage="publish",
        stage_duration_s=d_pub,
    )
    return {i: np.array(sorted(v), dtype=np.int64) for i, v in burst.items() if v}
