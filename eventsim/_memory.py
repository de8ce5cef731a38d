"""Private: keep freed memory in the process while a run needs it (glibc's malloc only).

A run allocates and frees a few hundred MB of numpy columns, one phase after the other
(workload draws, the events frame, the log's codes, staging, the result frames). By default
glibc serves each block over 128 KiB with a fresh ``mmap`` and gives it back when freed, so
every phase faults its pages in again and the kernel zeroes them: on the 2-core machine of
``benchmarks/README.md`` that was about a fifth of an amazon run (``bench_engine.py``: 1.9
→ 1.5 s, median of 6 runs each, interleaved in one process).

:func:`retained_memory` sets glibc's thresholds for the duration of a block (blocks up to
32 MB come from the heap, which grows with 64 MB of padding and is not trimmed), then puts
back the settings the process started with (glibc's defaults, or its ``MALLOC_*_``
environment variables) and returns the free memory to the OS (``malloc_trim``): a notebook's
memory goes back down after each run. :func:`keep_freed_memory` sets them for good, for
sweep workers that run one scenario after the other. Elsewhere than Linux/glibc both do
nothing. Polars' own allocator (jemalloc) is configured when polars is imported; see
:func:`eventsim.sweep.worker.worker_env`.

Both also stop numpy from asking for transparent huge pages (``madvise(MADV_HUGEPAGE)`` on
arrays of 4 MB and more, numpy's default on Linux) while they hold: with the kernel's usual
``defrag=madvise`` a huge-page fault may compact memory first, and a run's short-lived
columns paid for it in system time: on the machine of ``benchmarks/README.md``, the 24
runs of ``bench_sweep.py`` took 10 % less time without it (Σ 25.3 / 24.2 → 22.9 / 21.7 s,
half in each of two processes run one after the other). The setting is numpy's own
(``NUMPY_MADVISE_HUGEPAGE``); it is put back after the block.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping

__all__ = ["keep_freed_memory", "retained_memory"]

#: mallopt parameter numbers (glibc's malloc.h)
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
#: while a run holds memory: (parameter, value)
RETAIN = ((M_MMAP_THRESHOLD, 32 << 20), (M_TRIM_THRESHOLD, 2**31 - 1), (M_TOP_PAD, 64 << 20))
#: for a sweep worker, which runs scenarios back to back for its whole life
KEEP = ((M_MMAP_THRESHOLD, 32 << 20), (M_TRIM_THRESHOLD, 2**31 - 1), (M_TOP_PAD, 512 << 20))
#: glibc's environment variable for each parameter, and its default
_GLIBC = {
    M_MMAP_THRESHOLD: ("MALLOC_MMAP_THRESHOLD_", 128 << 10),
    M_TRIM_THRESHOLD: ("MALLOC_TRIM_THRESHOLD_", 128 << 10),
    M_TOP_PAD: ("MALLOC_TOP_PAD_", 0),
}


def _startup_settings(environ: Mapping[str, str]) -> tuple[tuple[int, int], ...]:
    """What the process started with: glibc's ``MALLOC_*_`` variables where set (and
    numeric), else glibc's defaults.

    Examples
    --------
    >>> dict(_startup_settings({"MALLOC_TRIM_THRESHOLD_": "65536"}))[M_TRIM_THRESHOLD]
    65536
    >>> dict(_startup_settings({"MALLOC_TOP_PAD_": "lots"}))[M_TOP_PAD]
    0
    """
    out = []
    for param, (name, default) in _GLIBC.items():
        value = environ.get(name, "")
        out.append((param, int(value) if value.isdigit() else default))
    return tuple(out)


#: put back after a run: the settings the process started with (they then stay fixed: glibc
#: stops adjusting its mmap threshold once it has been set)
DEFAULTS = _startup_settings(os.environ)

_lock = threading.Lock()
_depth = 0  # runs in progress (threads of one process share the allocator)
_kept = False  # keep_freed_memory() was called: never give memory back
_hugepages_before = True  # numpy's huge-page setting before the outermost block


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 (glibc has both; musl has neither)
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


def _set(settings: tuple[tuple[int, int], ...]) -> bool:
    return _LIBC is not None and all(_LIBC.mallopt(p, v) == 1 for p, v in settings)


def _numpy_hugepage_switch() -> Callable[[bool], bool] | None:
    """numpy's ``_set_madvise_hugepage`` (returns the previous setting), on Linux only."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy 1.26
        from numpy.core import multiarray
    return getattr(multiarray, "_set_madvise_hugepage", None)


_HUGEPAGES = _numpy_hugepage_switch()


def keep_freed_memory() -> bool:
    """Make this process's malloc keep freed memory for reuse, for good (glibc only); True
    if it did.

    Each run allocates and frees a few hundred MB of columns; by default glibc returns large
    blocks to the OS and the next run faults them in again, which slowed two sweep workers
    side by side by 10-30 % here. Blocks up to 32 MB then come from the heap, with 512 MB of
    top padding and no trimming, so a worker's memory stays at its largest run's peak.
    Process pool workers run this as their initializer and Dask workers at the start of
    each sweep; elsewhere than Linux/glibc it does nothing.
    """
    global _kept
    with _lock:
        if _HUGEPAGES is not None:
            _HUGEPAGES(False)
        _kept = _set(KEEP)
        return _kept


@contextlib.contextmanager
def retained_memory() -> Iterator[bool]:
    """Within the block, freed memory is kept for reuse; after the outermost block (of any
    thread), the settings the process started with (:data:`DEFAULTS`) are back and free
    memory is returned to the OS. Yields True if the settings apply (Linux/glibc).

    Examples
    --------
    >>> import numpy as np
    >>> with retained_memory():
    ...     total = sum(float(np.ones(1 << 20).sum()) for _ in range(3))  # 8 MB each, reused
    >>> total
    3145728.0
    """
    global _depth, _hugepages_before
    with _lock:
        _depth += 1
        if _depth == 1 and not _kept and _HUGEPAGES is not None:
            _hugepages_before = _HUGEPAGES(False)
        kept = _kept or (_set(RETAIN) if _depth == 1 else _LIBC is not None)
    try:
        yield kept
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and not _kept:
                if _HUGEPAGES is not None:
                    _HUGEPAGES(_hugepages_before)
                if _LIBC is not None:
                    _set(DEFAULTS)
                    _LIBC.malloc_trim(0)
