"""Scoring detections: point-wise and incident-wise precision/recall/F1, delays, PR-AUC.

Point-wise metrics compare a boolean alarm per row with a boolean label per row. Incident-wise
metrics count an incident ``[start_s, end_s]`` as detected when an alarm falls inside it
(``end_s + grace_s`` allowed); precision is the share of alarms that fall inside some
incident. The NAB score lives in :mod:`eventsim.anomaly.nab`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "detection_delays",
    "false_alarms_per_day",
    "incident_metrics",
    "pointwise_metrics",
    "pr_auc",
]

ArrayLike = Sequence[float] | np.ndarray


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def pointwise_metrics(labels: ArrayLike, alarms: ArrayLike) -> dict[str, float]:
    """Row-level precision, recall and F1 (0.0 where undefined).

    Examples
    --------
    >>> pointwise_metrics([0, 1, 1, 0], [0, 1, 0, 1])
    {'precision': 0.5, 'recall': 0.5, 'f1': 0.5}
    """
    y = np.asarray(labels, dtype=bool)
    a = np.asarray(alarms, dtype=bool)
    tp = int((y & a).sum())
    precision = tp / int(a.sum()) if a.any() else 0.0
    recall = tp / int(y.sum()) if y.any() else 0.0
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def _inside(times: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For each time, the index of the incident holding it (-1 if none); first match wins."""
    hit = (times[:, None] >= starts[None, :]) & (times[:, None] <= ends[None, :])
    return np.where(hit.any(axis=1), hit.argmax(axis=1), -1)


def detection_delays(
    times_s: ArrayLike,
    alarms: ArrayLike,
    starts_s: ArrayLike,
    ends_s: ArrayLike,
    *,
    grace_s: float = 0.0,
) -> np.ndarray:
    """Seconds from each incident's start to its first alarm; NaN where it was missed.

    Examples
    --------
    >>> detection_delays([0, 10, 20, 30], [0, 0, 1, 0], [5, 25], [22, 28])
    array([15., nan])
    """
    t = np.asarray(times_s, dtype=np.float64)
    a = np.asarray(alarms, dtype=bool)
    st = np.asarray(starts_s, dtype=np.float64)
    en = np.asarray(ends_s, dtype=np.float64) + grace_s
    at = t[a]
    out = np.full(st.size, np.nan)
    for k in range(st.size):
        hits = at[(at >= st[k]) & (at <= en[k])]
        if hits.size:
            out[k] = hits.min() - st[k]
    return out


def incident_metrics(
    times_s: ArrayLike,
    alarms: ArrayLike,
    starts_s: ArrayLike,
    ends_s: ArrayLike,
    *,
    grace_s: float = 0.0,
) -> dict[str, float]:
    """Incident recall, alarm precision, their F1, and the median detection delay.

    Returns
    -------
    dict
        ``recall`` (detected incidents / incidents), ``precision`` (alarms inside an incident /
        alarms), ``f1``, ``median_delay_s`` (NaN when nothing was detected), ``detected``,
        ``incidents``, ``alarms``.

    Examples
    --------
    >>> m = incident_metrics([0, 10, 20, 30], [0, 1, 0, 1], [5], [15])
    >>> m["recall"], m["precision"], m["median_delay_s"]
    (1.0, 0.5, 5.0)
    """
    t = np.asarray(times_s, dtype=np.float64)
    a = np.asarray(alarms, dtype=bool)
    st = np.asarray(starts_s, dtype=np.float64)
    en = np.asarray(ends_s, dtype=np.float64)
    delays = detection_delays(t, a, st, en, grace_s=grace_s)
    detected = int(np.isfinite(delays).sum())
    recall = detected / st.size if st.size else 0.0
    inside = _inside(t[a], st, en + grace_s) >= 0 if st.size else np.zeros(int(a.sum()), bool)
    precision = float(inside.mean()) if a.any() else 0.0
    return {
        "recall": recall,
        "precision": precision,
        "f1": _f1(precision, recall),
        "median_delay_s": float(np.median(delays[np.isfinite(delays)])) if detected else np.nan,
        "detected": detected,
        "incidents": int(st.size),
        "alarms": int(a.sum()),
    }


def pr_auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the precision-recall curve (average precision; ties handled as one step).

    Examples
    --------
    >>> pr_auc([0.9, 0.8, 0.1, 0.05], [1, 1, 0, 0])
    1.0
    >>> round(pr_auc([0.9, 0.8, 0.1, 0.05], [0, 1, 1, 0]), 3)
    0.583
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    if not y.any():
        return 0.0
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.flatnonzero(np.append(s[1:] != s[:-1], True))
    tp = np.cumsum(y)[last]
    precision = tp / (last + 1)
    recall = tp / y.sum()
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def false_alarms_per_day(
    times_s: ArrayLike,
    alarms: ArrayLike,
    starts_s: ArrayLike = (),
    ends_s: ArrayLike = (),
    *,
    grace_s: float = 0.0,
    span_s: float | None = None,
) -> float:
    """Alarms outside every incident, per simulated day (span: first to last time).

    Examples
    --------
    >>> false_alarms_per_day([0, 43200, 86400], [1, 0, 1], [80000], [90000])
    1.0
    """
    t = np.asarray(times_s, dtype=np.float64)
    a = np.asarray(alarms, dtype=bool)
    st = np.asarray(starts_s, dtype=np.float64)
    en = np.asarray(ends_s, dtype=np.float64) + grace_s
    false = int((_inside(t[a], st, en) < 0).sum()) if st.size else int(a.sum())
    span = span_s if span_s is not None else (float(t.max() - t.min()) if t.size else 0.0)
    return false / (span / 86400.0) if span > 0 else float(false)
