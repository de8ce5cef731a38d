"""Private: the amazon inventory pass — which reservations succeed, and the replenishments.

Stock is kept per (fulfilment centre, SKU) pair under an order-up-to policy: every
``period_s`` a pair whose available units fell below ``reorder_fraction`` × target is refilled to
its target. Within a period, a pair's reservations are served in time order until their
cumulative quantity exceeds the units available at the period start (no backfilling by later,
smaller orders). Units released by compensations come back at the boundary after their
release. Available stock therefore never goes negative, and every unit is accounted for:
``initial + received = available + reserved − released`` at every boundary.
"""

from __future__ import annotations

import numpy as np

__all__ = ["reserve_stock"]


def reserve_stock(
    target: np.ndarray,
    orders: dict[str, np.ndarray],
    t_res: np.ndarray,
    release_t: np.ndarray,
    duration_s: float,
    *,
    period_s: float,
    reorder_fraction: float,
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Decide reservations and draw replenishments.

    Parameters
    ----------
    target
        Stock target (and initial stock) per (fc, sku), shape ``(n_fcs, n_skus)``.
    orders
        Per order: ``region`` (= fc index), ``sku``, ``qty``, ``digital`` (no inventory).
    t_res, release_t
        Reservation time of each order, and the time its units are released (inf if never).
    duration_s
        Length of the run; later reservations are left undecided (True).

    Returns
    -------
    ok, (t, fc, sku, qty)
        Whether each order's reservation succeeded; the replenishments.

    Examples
    --------
    >>> orders = {"region": np.zeros(3, int), "sku": np.zeros(3, int),
    ...           "qty": np.array([2, 2, 1]), "digital": np.zeros(3, bool)}
    >>> ok, rec = reserve_stock(np.array([[3]]), orders, np.array([1.0, 2.0, 3.0]),
    ...                         np.full(3, np.inf), 20.0, period_s=10.0, reorder_fraction=0.5)
    >>> ok.tolist(), [r.tolist() for r in rec]
    ([True, False, False], [[10.0], [0], [0], [2]])
    """
    n_skus = target.shape[1]
    target = target.ravel()
    avail = target.copy()
    reorder = reorder_fraction * target
    pair = orders["region"] * n_skus + orders["sku"]
    qty = orders["qty"]
    phys = ~orders["digital"]
    ok = np.ones(len(t_res), dtype=bool)
    todo = np.flatnonzero(phys & (t_res < duration_s))
    # by (cycle, pair, time): a stable sort by time (nearly sorted already), then a stable
    # sort by the combined (cycle, pair) key (a radix sort when it fits 16 bits)
    todo = todo[np.argsort(t_res[todo], kind="stable")]
    cyc = np.floor(t_res[todo] / period_s).astype(np.int64)
    key = cyc * len(target) + pair[todo]
    if key.shape[0] and key.max() < 2**16:
        key = key.astype(np.uint16)
    by_key = np.argsort(key, kind="stable")
    todo, cyc = todo[by_key], cyc[by_key]
    rel_cyc = np.floor(np.minimum(release_t, 1e18) / period_s)
    receipts: list[tuple[np.ndarray, ...]] = []
    n_cycles = int(np.ceil(duration_s / period_s))
    bounds = np.searchsorted(cyc, np.arange(n_cycles + 1))
    for c in range(n_cycles):
        sl = todo[bounds[c] : bounds[c + 1]]
        pr, q = pair[sl], qty[sl]
        cs = np.cumsum(q)
        first = np.r_[True, pr[1:] != pr[:-1]][: len(pr)]
        base = np.maximum.accumulate(np.where(first, cs - q, 0)) if len(pr) else cs
        ok[sl] = cs - base <= avail[pr]
        good = ok[sl]
        avail -= np.bincount(pr[good], weights=q[good], minlength=len(avail)).astype(np.int64)
        back = np.flatnonzero((rel_cyc == c) & ok & phys)
        avail += np.bincount(pair[back], weights=qty[back], minlength=len(avail)).astype(np.int64)
        need = np.flatnonzero(avail < reorder)
        if (c + 1) * period_s < duration_s and len(need):
            receipts.append(
                (np.full(len(need), (c + 1) * period_s), need, target[need] - avail[need])
            )
            avail[need] = target[need]
    if receipts:
        t_r, pr_r, q_r = (np.concatenate(x) for x in zip(*receipts))
    else:
        t_r, pr_r, q_r = np.empty(0), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return ok, (t_r, pr_r // n_skus, pr_r % n_skus, q_r)
