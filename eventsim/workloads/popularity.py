"""Heavy tails: Zipf popularity over a finite catalogue, lognormal and Pareto sizes.

- :class:`Zipf` and :func:`fit_zipf_exponent` — heavy-tailed popularity and its
  maximum-likelihood fit;
- :func:`lognormal_sizes`, :func:`pareto_sizes` — heavy-tailed sizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = ["Zipf", "fit_zipf_exponent", "lognormal_sizes", "pareto_sizes"]


@dataclass(frozen=True)
class Zipf:
    """Zipf popularity over a finite catalogue: item of rank ``k`` (1-based) has p ∝ k^-s.

    :meth:`sample` returns 0-based ranks (0 is the most popular item).

    Examples
    --------
    >>> z = Zipf(n_items=1000, exponent=1.0)
    >>> ranks = z.sample(np.random.default_rng(0), 100_000)
    >>> round(fit_zipf_exponent(ranks + 1, 1000), 1)
    1.0
    """

    n_items: int
    exponent: float

    @cached_property
    def pmf(self) -> np.ndarray:
        """Probability of each rank (index 0 = rank 1)."""
        w = np.arange(1, self.n_items + 1, dtype=float) ** -self.exponent
        return w / w.sum()

    @cached_property
    def _cdf(self) -> np.ndarray:
        cdf = np.cumsum(self.pmf)
        cdf[-1] = 1.0
        return cdf

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` 0-based ranks drawn from the distribution (int64)."""
        idx = np.searchsorted(self._cdf, rng.random(size), side="right")
        return np.minimum(idx, self.n_items - 1).astype(np.int64)


def fit_zipf_exponent(ranks: np.ndarray, n_items: int) -> float:
    """Maximum-likelihood exponent of a discrete Zipf law on ranks ``1..n_items``.

    Solves ``mean(log k) = Σ k^-s log k / Σ k^-s`` for ``s`` by bisection on [0, 10].

    Examples
    --------
    >>> fit_zipf_exponent(np.array([1, 1, 1, 2]), 2)
    1.58...
    """
    counts = np.bincount(np.asarray(ranks, dtype=np.int64) - 1, minlength=n_items)
    logk = np.log(np.arange(1, n_items + 1, dtype=float))
    target = float(counts @ logk) / counts.sum()
    lo, hi = 0.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        w = np.exp(-mid * logk)
        expected = float(w @ logk) / w.sum()
        # expected mean log-rank falls as s grows
        lo, hi = (mid, hi) if expected > target else (lo, mid)
    return (lo + hi) / 2


def lognormal_sizes(
    rng: np.random.Generator, size: int, *, median: float, sigma: float
) -> np.ndarray:
    """Heavy-tailed positive sizes: lognormal with the given median and log-sd (int64, >= 1).

    Examples
    --------
    >>> s = lognormal_sizes(np.random.default_rng(0), 100_001, median=500, sigma=1.0)
    >>> 480 < float(np.median(s)) < 520, int(s.min()) >= 1
    (True, True)
    """
    vals = rng.lognormal(np.log(median), sigma, size)
    return np.maximum(np.rint(vals), 1).astype(np.int64)


def pareto_sizes(
    rng: np.random.Generator, size: int, *, minimum: float, alpha: float
) -> np.ndarray:
    """Heavy-tailed sizes: Pareto with scale ``minimum`` and tail index ``alpha`` (int64).

    Examples
    --------
    >>> s = pareto_sizes(np.random.default_rng(0), 10_000, minimum=100, alpha=1.5)
    >>> int(s.min()) >= 100, float(np.median(s)) < 200
    (True, True)
    """
    return np.floor(minimum * (1.0 + rng.pareto(alpha, size))).astype(np.int64)
