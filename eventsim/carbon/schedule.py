"""Vectorised temporal shifting: best start of a block, or the greenest slots, in each job's window.

Both kernels take a forecast matrix ``fc`` of shape ``(n_jobs, L)`` whose row ``j`` holds the
forecast intensity of the slots ``submit_j, submit_j + 1, ...`` (``inf``/``nan`` past the end
of the data), the job lengths ``n_slots`` and the windows ``window`` (slots from submit to the
deadline, so a job must run inside offsets ``[0, window_j)``). No per-job Python loop:

* non-interrupting: window sums for every start offset from one cumulative sum per row;
* interrupting: one stable argsort per row, keep the ``n_slots_j`` lowest ranks (ties go to the
  earliest slot).
"""

from __future__ import annotations

import numpy as np

__all__ = ["best_start", "greenest_slots", "window_sums"]


def window_sums(values: np.ndarray, n_slots: np.ndarray) -> np.ndarray:
    """Sum of ``values[j, o : o + n_slots[j]]`` for every row ``j`` and offset ``o``.

    Offsets whose block runs past the row, or touches a non-finite value, are ``inf``.

    Examples
    --------
    >>> window_sums(np.array([[1.0, 2.0, 3.0]]), np.array([2])).tolist()
    [[3.0, 5.0, inf]]
    """
    values = np.asarray(values, dtype=np.float64)
    n_rows, length = values.shape
    clean = np.where(np.isfinite(values), values, np.nan)
    cs = np.zeros((n_rows, length + 1))
    np.cumsum(clean, axis=1, out=cs[:, 1:])
    offsets = np.arange(length)[None, :]
    ends = offsets + np.asarray(n_slots)[:, None]
    valid = ends <= length
    rows = np.arange(n_rows)[:, None]
    sums = cs[rows, np.minimum(ends, length)] - cs[:, :length]
    return np.where(valid & ~np.isnan(sums), sums, np.inf)


def best_start(fc: np.ndarray, n_slots: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Start offset of each job's block with the lowest forecast sum inside its window.

    Parameters
    ----------
    fc
        Forecast matrix ``(n_jobs, L)``, row ``j`` starting at job ``j``'s submit slot.
    n_slots
        Job lengths in slots (>= 1).
    window
        Slots from submit to deadline (>= ``n_slots``).

    Returns
    -------
    numpy.ndarray
        Int64 offsets in ``[0, window - n_slots]``; the earliest among equal sums.

    Examples
    --------
    >>> fc = np.array([[5.0, 1.0, 1.0, 9.0], [5.0, 1.0, 1.0, 0.0]])
    >>> best_start(fc, np.array([2, 2]), np.array([4, 3])).tolist()
    [1, 1]
    """
    sums = window_sums(fc, n_slots)
    latest = np.asarray(window) - np.asarray(n_slots)
    sums = np.where(np.arange(sums.shape[1])[None, :] <= latest[:, None], sums, np.inf)
    return np.argmin(sums, axis=1).astype(np.int64)


def greenest_slots(fc: np.ndarray, n_slots: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Boolean mask of the ``n_slots[j]`` lowest forecast slots within ``[0, window[j])``.

    Examples
    --------
    >>> fc = np.array([[3.0, 1.0, 2.0, 0.0]])
    >>> greenest_slots(fc, np.array([2]), np.array([3])).tolist()
    [[False, True, True, False]]
    """
    fc = np.asarray(fc, dtype=np.float64)
    length = fc.shape[1]
    inside = np.arange(length)[None, :] < np.asarray(window)[:, None]
    masked = np.where(inside & np.isfinite(fc), fc, np.inf)
    order = np.argsort(masked, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(length), order.shape), axis=1)
    return (ranks < np.asarray(n_slots)[:, None]) & inside
