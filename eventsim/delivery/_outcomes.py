"""Business outcomes per consumer group, as arrays over the rows of ``sends``.

Counts come from ``np.bincount`` over the row of each delivery's event; first applications
from ``np.minimum.at``. Reordering is found in two steps: adjacent descents of the first
application time within each (topic, key) hash bucket, in creation order, pick the candidate
buckets (no descent means no reordering); an exact segmented running maximum over those
buckets' events only, regrouped by exact key, then decides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from eventsim.delivery._prepare import Prepared

__all__ = ["Outcomes", "outcomes"]


@dataclass
class Outcomes:
    """One group's outcomes; arrays are aligned with the rows of ``sends`` (NaN: none)."""

    group: str | None
    scope: np.ndarray
    n_delivered: np.ndarray
    n_applied: np.ndarray
    first_applied_s: np.ndarray
    first_latency_s: np.ndarray
    reordered: np.ndarray
    prior_applied_s: np.ndarray
    late: np.ndarray

    def counts(self) -> dict[str, int]:
        """Events delivered once, lost, duplicated, reordered and late."""
        n = self.n_applied[self.scope]
        return {
            "delivered_once": int((n == 1).sum()),
            "lost": int((n == 0).sum()),
            "duplicated": int((n > 1).sum()),
            "reordered": int(self.reordered.sum()),
            "late": int(self.late.sum()),
        }


def outcomes(prep: Prepared, late_after_s: float | None) -> list[Outcomes]:
    """The outcomes of every group of ``prep``."""
    d = prep.deliveries
    applied = d["applied"].fill_null(value=False).to_numpy()
    delivered_s = d["delivered_s"].to_numpy()
    latency_s = d["latency_s"].to_numpy()
    counted = ~prep.d_aborted & (prep.d_pos >= 0)
    out = []
    for i, group in enumerate(prep.groups):
        mine = counted & (prep.d_group == i)
        ok = mine & applied
        scope = prep.scope[i]
        n_delivered = np.bincount(prep.d_pos[mine], minlength=prep.n) * scope
        n_applied = np.bincount(prep.d_pos[ok], minlength=prep.n) * scope
        first = _first(prep.n, prep.d_pos[ok], delivered_s[ok], scope)
        latency = _first(prep.n, prep.d_pos[ok], latency_s[ok], scope)
        reordered, prior = _reordered(prep, first)
        late = np.zeros(prep.n, dtype=bool)
        if late_after_s is not None:
            late = np.nan_to_num(latency, nan=-np.inf) > late_after_s
        out.append(
            Outcomes(group, scope, n_delivered, n_applied, first, latency, reordered, prior, late)
        )
    return out


def _first(n: int, pos: np.ndarray, values: np.ndarray, scope: np.ndarray) -> np.ndarray:
    """Smallest value per send row (NaN where none, or out of scope)."""
    low = np.full(n, np.inf)
    np.minimum.at(low, pos, values)
    low[np.isinf(low) | ~scope] = np.nan
    return low


def _reordered(prep: Prepared, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reordered flag and, for flagged events, the latest earlier-created first application."""
    reordered = np.zeros(prep.n, dtype=bool)
    prior = np.full(prep.n, np.nan)
    order, seg = prep.key_order, prep.key_segment
    w = np.nan_to_num(first[order], nan=np.inf)
    descent = (seg[1:] == seg[:-1]) & (w[1:] < w[:-1])
    if not descent.any():
        return reordered, prior
    candidate = np.zeros(int(seg.max()) + 1, dtype=bool)
    candidate[seg[1:][descent]] = True
    pick = candidate[seg]
    rows, new_key = _by_key(prep, order[pick], prep.key_hash[pick])
    v = first[rows]
    hit, before = _after_a_later_one(v, new_key)
    reordered[rows[hit]] = True
    prior[rows[hit]] = before[hit]
    return reordered, prior


def _by_key(prep: Prepared, rows: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` (in bucket, creation order) regrouped by exact (topic, key), and where each
    key starts.

    A stable sort by the 64-bit hash keeps creation order within a key; if two keys share a
    hash, an exact sort by the strings is used instead.
    """
    by_hash = np.argsort(h, kind="stable")
    rows, h = rows[by_hash], h[by_hash]
    keys = prep.sends.select("topic", "key")[rows]
    same_hash = h[1:] == h[:-1]
    same_key = (keys["topic"][1:] == keys["topic"][:-1]) & (keys["key"][1:] == keys["key"][:-1])
    if (same_hash & ~same_key.to_numpy()).any():
        exact = prep.sends.select("topic", "key", "created_s", "event_id")[rows]
        by_string = exact.select(
            pl.arg_sort_by("topic", "key", "created_s", "event_id", nulls_last=True)
        ).to_series()
        rows, keys = rows[by_string.to_numpy()], keys[by_string]
        same_key = (keys["topic"][1:] == keys["topic"][:-1]) & (keys["key"][1:] == keys["key"][:-1])
        same_hash = np.ones(same_hash.size, dtype=bool)
    new_key = np.ones(rows.size, dtype=bool)
    new_key[1:] = ~(same_hash & same_key.to_numpy())
    return rows, new_key


def _after_a_later_one(v: np.ndarray, new_key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For values ``v`` grouped by key in creation order (NaN: none): whether some value
    before it in its key is larger, and the largest such value (NaN when none before).

    A segmented running maximum in one pass: each row carries ``key * (R + 1) + rank(v)``
    (ranks 1..R, 0 for NaN), whose plain running maximum never reaches into an earlier key's
    values.
    """
    finite = ~np.isnan(v)
    values, inverse = np.unique(v[finite], return_inverse=True)
    rank = np.zeros(v.size, dtype=np.int64)
    rank[finite] = inverse + 1
    key = np.cumsum(new_key)
    width = values.size + 1
    running = np.maximum.accumulate(key * width + rank)
    before = np.full(v.size, -1, dtype=np.int64)
    before[1:] = running[:-1]
    prior_rank = np.where(before // width == key, before % width, 0)
    prior = np.r_[np.nan, values][prior_rank]
    return (rank > 0) & (rank < prior_rank), prior
