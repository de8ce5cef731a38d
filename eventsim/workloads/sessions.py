"""Sessions: a user's session as a sequence of events with think times, drawn in bulk."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Sessions", "draw_sessions", "segment_starts"]


@dataclass(frozen=True)
class Sessions:
    """Events of many sessions, flattened: which session, position in it, and time.

    ``session`` is non-decreasing, ``position`` counts 0, 1, ... within each session and
    ``time_s`` is the session start plus the cumulative think time.
    """

    session: np.ndarray
    position: np.ndarray
    time_s: np.ndarray
    length: np.ndarray


def segment_starts(counts: np.ndarray) -> np.ndarray:
    """Index of the first element of each segment, for segments of the given lengths.

    Examples
    --------
    >>> segment_starts(np.array([2, 0, 3])).tolist()
    [0, 2, 2]
    """
    counts = np.asarray(counts, dtype=np.int64)
    return np.cumsum(counts) - counts


def draw_sessions(
    rng: np.random.Generator,
    starts_s: np.ndarray,
    *,
    mean_events: float,
    think_mean_s: float,
    think_sigma: float = 1.0,
) -> Sessions:
    """Sessions with geometric lengths (mean ``mean_events`` >= 1) and lognormal think times.

    The first event of a session happens at its start; each next one after a lognormal think
    time with mean ``think_mean_s`` and log-sd ``think_sigma``.

    Examples
    --------
    >>> s = draw_sessions(np.random.default_rng(0), np.array([0.0, 100.0]), mean_events=3,
    ...                   think_mean_s=5.0)
    >>> s.session.tolist() == np.repeat([0, 1], s.length).tolist()
    True
    >>> float(s.time_s[s.position == 0][1])
    100.0
    """
    starts_s = np.asarray(starts_s, dtype=float)
    n = len(starts_s)
    length = rng.geometric(1.0 / mean_events, n).astype(np.int64)
    session = np.repeat(np.arange(n, dtype=np.int64), length)
    first = segment_starts(length)
    mu = np.log(think_mean_s) - think_sigma**2 / 2
    think = rng.lognormal(mu, think_sigma, len(session))
    think[first] = 0.0
    cum = np.cumsum(think)
    offset = cum - np.repeat(cum[first], length)
    position = np.arange(len(session), dtype=np.int64) - np.repeat(first, length)
    return Sessions(session, position, starts_s[session] + offset, length)
