"""The synthetic workload's samplers: the table-driven inverse CDF equals a binary search."""

from __future__ import annotations

import numpy as np
import pytest

from eventsim.workloads.synthetic import inverse_cdf, zipf_ranks


def _cdf(weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights.astype(np.float64))
    return cdf / cdf[-1]


@pytest.mark.parametrize(
    ("n_keys", "exponent"), [(1, 1.0), (3, 0.0), (100, 1.2), (10_000, 1.1), (5_000, 0.0)]
)
def test_inverse_cdf_matches_searchsorted_on_zipf(n_keys: int, exponent: float) -> None:
    cdf = _cdf(np.arange(1, n_keys + 1, dtype=np.float64) ** -exponent)
    u = np.random.default_rng(n_keys).random(200_000)
    u[:4] = [0.0, 0.5, 1 - 2**-53, 2**-40]
    got = inverse_cdf(cdf, u)
    np.testing.assert_array_equal(got, np.searchsorted(cdf, u, side="right"))
    assert got.dtype == np.searchsorted(cdf, u, side="right").dtype


def test_inverse_cdf_exact_on_cell_edges_and_zero_weights() -> None:
    # cdf values exactly on cell boundaries, repeated values (zero weights), draws on them
    cdf = _cdf(np.array([1, 1, 0, 0, 2, 0, 4] * 20, dtype=np.float64))
    rng = np.random.default_rng(7)
    u = np.concatenate([cdf[:-1], np.nextafter(cdf[:-1], 0), rng.random(20_000)])
    np.testing.assert_array_equal(inverse_cdf(cdf, u), np.searchsorted(cdf, u, side="right"))


def test_zipf_ranks_skewed_and_in_range() -> None:
    r = zipf_ranks(np.random.default_rng(1), 100_000, 1_000, 1.1)
    counts = np.bincount(r, minlength=1_000)
    assert r.min() >= 0
    assert r.max() < 1_000
    assert counts[0] > counts[1] > counts[10] > counts[500]
