"""NAB's scoring arithmetic, vectorised: the scaled sigmoid, per-row sweep scores, threshold sweep.

A faithful numpy port of ``nab/sweeper.py`` (numenta/NAB, MIT): the same probationary length,
the same per-row weights (true positives by position inside their window, false positives by
distance past the preceding window) and the same sweep over every distinct anomaly score,
descending. Private: the public names live in :mod:`eventsim.anomaly.nab`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "OUTSIDE",
    "PROBATION",
    "SweepRows",
    "ThresholdSweep",
    "probation_length",
    "scaled_sigmoid",
    "score_at",
    "sweep_rows",
    "sweep_thresholds",
]

OUTSIDE = -1  # row outside every window (a detection there is a false positive)
PROBATION = -2  # row in the probationary period (never scored)


def scaled_sigmoid(position: np.ndarray | float) -> np.ndarray:
    """NAB's ``scaledSigmoid``: ``2·sigmoid(-5·x) - 1``, and ``-1`` beyond ``x > 3``."""
    x = np.asarray(position, dtype=np.float64)
    val = 2.0 * (1.0 / (1.0 + np.exp(5.0 * x))) - 1.0
    return np.where(x > 3.0, -1.0, val)


def probation_length(n_rows: int, probation_percent: float = 0.15) -> float:
    """Rows at the start of a file that NAB never scores: ``min(floor(p·n), p·5000)``."""
    return min(math.floor(probation_percent * n_rows), probation_percent * 5000)


@dataclass(frozen=True)
class SweepRows:
    """Per-row NAB weights of one file: ``sweep`` (score if detected) and ``window`` id."""

    sweep: np.ndarray
    window: np.ndarray  # window index in the file, OUTSIDE or PROBATION


def sweep_rows(
    n_rows: int,
    windows: list[tuple[int, int]],
    cost: dict[str, float],
    probation_percent: float = 0.15,
) -> SweepRows:
    """Weight of a detection at each row of one file (``Sweeper.calcSweepScore``).

    ``windows`` are inclusive ``(first_row, last_row)`` pairs, sorted and disjoint.
    """
    i = np.arange(n_rows, dtype=np.float64)
    window = np.full(n_rows, OUTSIDE, dtype=np.int64)
    tp_w, fp_w = float(cost["tpWeight"]), float(cost["fpWeight"])
    max_tp = float(scaled_sigmoid(-1.0))
    # outside every window: distance past the preceding window, or -1 when none precedes
    unweighted = np.full(n_rows, -1.0)
    sweep = np.empty(n_rows)
    rights = np.array([r for _, r in windows], dtype=np.int64)
    if windows:
        prev = np.searchsorted(rights, np.arange(n_rows), side="left") - 1
        has_prev = prev >= 0
        prev_right = rights[np.maximum(prev, 0)].astype(np.float64)
        prev_width = np.array([r - left + 1 for left, r in windows], dtype=np.float64)[
            np.maximum(prev, 0)
        ]
        with np.errstate(divide="ignore", invalid="ignore"):
            past = np.abs(prev_right - i) / np.maximum(prev_width - 1.0, 1.0)
        unweighted = np.where(has_prev, scaled_sigmoid(past), -1.0)
    sweep[:] = unweighted * fp_w
    for k, (left, right) in enumerate(windows):
        width = float(right - left + 1)
        rows = slice(left, right + 1)
        position = -(right - i[rows] + 1.0) / width
        sweep[rows] = scaled_sigmoid(position) * tp_w / max_tp
        window[rows] = k
    window[: math.ceil(probation_length(n_rows, probation_percent))] = PROBATION
    return SweepRows(sweep=sweep, window=window)


@dataclass(frozen=True)
class ThresholdSweep:
    """Raw NAB score and row counts at every candidate threshold, thresholds descending.

    Row ``j`` is the score when every row with anomaly score ``>= threshold[j]`` is a
    detection; row 0 has threshold ``+inf`` (nothing detected: every window missed).
    """

    threshold: np.ndarray
    score: np.ndarray
    tp: np.ndarray
    fp: np.ndarray

    def best(self) -> int:
        """Index of the best threshold; ties go to the highest threshold, as in NAB."""
        return int(np.argmax(self.score))


def sweep_thresholds(
    scores: list[np.ndarray], rows: list[SweepRows], fn_weight: float
) -> ThresholdSweep:
    """Score every distinct threshold over several files at once (``calcScoreByThreshold``)."""
    s_parts, w_parts, g_parts = [], [], []
    offset = 0
    for sc, r in zip(scores, rows, strict=True):
        keep = r.window != PROBATION
        s_parts.append(np.asarray(sc, dtype=np.float64)[keep])
        w_parts.append(r.sweep[keep])
        win = r.window[keep]
        g_parts.append(np.where(win >= 0, win + offset, OUTSIDE))
        offset += int(r.window.max(initial=-1)) + 1
    score = np.concatenate(s_parts) if s_parts else np.empty(0)
    weight = np.concatenate(w_parts) if w_parts else np.empty(0)
    group = np.concatenate(g_parts) if g_parts else np.empty(0, dtype=np.int64)
    order = np.argsort(-score, kind="stable")
    score, weight, group = score[order], weight[order], group[order]
    inside = group >= 0
    delta = np.where(inside, 0.0, weight)
    floor = -float(fn_weight)
    windows = np.unique(group[inside])
    for g in windows:
        idx = np.flatnonzero(group == g)
        run = np.maximum(np.maximum.accumulate(weight[idx]), floor)
        delta[idx] = np.diff(run, prepend=floor)
    base = floor * windows.size
    total = base + np.cumsum(delta)
    tp = np.cumsum(inside)
    fp = np.cumsum(~inside)
    # the last row of each run of equal scores closes that threshold
    last = np.flatnonzero(np.append(score[1:] != score[:-1], True)) if score.size else []
    return ThresholdSweep(
        threshold=np.concatenate([[np.inf], score[last]]),
        score=np.concatenate([[base], total[last]]),
        tp=np.concatenate([[0], tp[last]]).astype(np.int64),
        fp=np.concatenate([[0], fp[last]]).astype(np.int64),
    )


def score_at(
    scores: np.ndarray, rows: SweepRows, threshold: float, fn_weight: float
) -> tuple[float, np.ndarray]:
    """Raw score of one file at ``threshold`` and NAB's per-row ``S(t)`` contributions.

    Each window's contribution (its earliest detection's weight, or ``-fn_weight``) sits on
    the window's first scored row; each false positive's weight on its own row.
    """
    scores = np.asarray(scores, dtype=np.float64)
    detected = (scores >= threshold) & (rows.window != PROBATION)
    contrib = np.where(detected & (rows.window == OUTSIDE), rows.sweep, 0.0)
    for k in np.unique(rows.window[rows.window >= 0]):
        in_k = np.flatnonzero(rows.window == k)
        hits = in_k[detected[in_k]]
        best = rows.sweep[hits].max() if hits.size else -np.inf
        contrib[in_k[0]] = max(best, -float(fn_weight))
    return float(contrib.sum()), contrib
