"""Business outcomes per consumer group, as arrays over the rows of ``sends``.

Counts come from ``np.bincount`` over the row of each delivery's event; first applications
from ``np.minimum.at``. Reordering is found in two steps: adjacent descents of the first
application time within each (topic, key) hash group, in creation order, pick the candidate
keys (no descent means no reordering); an exact polars window function over those keys only
then decides (``cum_max`` of the times applied before, by creation).
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
    rows = order[np.isin(seg, np.unique(seg[1:][descent]))]
    keys = prep.sends[rows].select("topic", "key", "created_s", "event_id")
    exact = (
        keys.with_columns(v=pl.Series(first[rows]).fill_nan(None), row=pl.Series(rows))
        .sort("topic", "key", "created_s", "event_id", nulls_last=True)
        .with_columns(
            prior=pl.col("v")
            .fill_null(float("-inf"))
            .shift(1, fill_value=float("-inf"))
            .cum_max()
            .over("topic", "key")
        )
        .filter(pl.col("v") < pl.col("prior"))
    )
    hit = exact["row"].to_numpy()
    reordered[hit] = True
    prior[hit] = exact["prior"].to_numpy()
    return reordered, prior
