"""Seeded histories from a simulated linearizable key-value store, for tests and benchmarks.

Each of ``n_processes`` clients issues operations one after another (exponential service
and think times); every operation takes effect at a uniform random instant inside its
invoke-complete interval, and the store applies them in that order. The history is therefore
linearizable by construction, unless ``p_stale`` makes some reads return the value a key had
before its latest write (a lagging replica).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from eventsim.consistency.history import HISTORY_SCHEMA
from eventsim.exceptions import ConfigError

__all__ = ["simulate_history"]

_READS = ("get", "read")
_KINDS = ("get", "put", "append", "read", "write")


def simulate_history(
    n_ops: int,
    n_keys: int = 1,
    n_processes: int = 5,
    *,
    ops: tuple[str, ...] = ("get", "put", "append"),
    p_stale: float = 0.0,
    mean_latency_s: float = 0.01,
    mean_think_s: float = 0.005,
    seed: int = 0,
) -> pl.DataFrame:
    """A history of ``n_ops`` operations on ``n_keys`` keys by ``n_processes`` clients.

    Parameters
    ----------
    n_ops
        Number of operations (rows).
    n_keys
        Number of keys (``"0"``, ``"1"``, ...), drawn uniformly.
    n_processes
        Concurrent clients.
    ops
        Operation kinds drawn uniformly, among get/put/append (kv model) or read/write
        (register model). Written values are unique: ``"<process>:<n>"`` (appends add
        ``" <process>:<n>"``).
    p_stale
        Probability that a read returns the key's value from before its latest write.
    mean_latency_s, mean_think_s
        Means of the exponential operation latency and the pause between two operations.
    seed
        Seed of the generator; same seed, same frame.

    Returns
    -------
    polars.DataFrame
        A history frame (all statuses ``ok``) sorted by ``invoke_s``, plus ``version``
        (Int64): for writes, their position in the key's write order (1, 2, ...); null for
        reads.

    Examples
    --------
    >>> h = simulate_history(6, n_keys=2, n_processes=2, ops=("read", "write"), seed=1)
    >>> h.height, h["status"].unique().to_list(), sorted(h["op"].unique().to_list())
    (6, ['ok'], ['read', 'write'])
    """
    unknown = [o for o in ops if o not in _KINDS]
    if unknown or not ops:
        msg = f"simulate_history: ops must be drawn from {list(_KINDS)}; got {list(ops)}"
        raise ConfigError(msg)
    if n_ops < 0 or n_keys < 1 or n_processes < 1:
        msg = f"simulate_history: need n_ops >= 0, n_keys >= 1, n_processes >= 1; got {n_ops}, "
        msg += f"{n_keys}, {n_processes}"
        raise ConfigError(msg)
    rng = np.random.default_rng(seed)
    process = np.arange(n_ops) % n_processes
    latency = rng.exponential(mean_latency_s, n_ops) + 1e-6
    think = rng.exponential(mean_think_s, n_ops)
    # per process, operations run back to back: invoke = previous completion + think
    order = np.lexsort((np.arange(n_ops), process))
    span = (latency + think)[order]
    ends = np.cumsum(span)
    starts_at = np.r_[0, np.flatnonzero(np.diff(process[order])) + 1]
    offsets = np.repeat(ends[starts_at] - span[starts_at], np.diff(np.r_[starts_at, n_ops]))
    complete = np.empty(n_ops)
    complete[order] = ends - offsets
    invoke = complete - latency
    effect = invoke + rng.uniform(0.0, 1.0, n_ops) * latency
    kind = np.asarray(ops)[rng.integers(0, len(ops), n_ops)]
    key = rng.integers(0, n_keys, n_ops)
    stale = rng.uniform(0.0, 1.0, n_ops) < p_stale
    values: list[str | None] = [None] * n_ops
    outputs: list[str | None] = [None] * n_ops
    versions: list[int | None] = [None] * n_ops
    state: dict[int, str | None] = {}
    previous: dict[int, str | None] = {}
    n_writes: dict[int, int] = {}
    register = "read" in ops or "write" in ops
    for i in np.argsort(effect, kind="stable").tolist():
        k = int(key[i])
        op = str(kind[i])
        current = state.get(k, None if register else "")
        if op in _READS:
            outputs[i] = previous.get(k, current) if stale[i] else current
            continue
        token = f"{process[i]}:{i}"
        new = (current or "") + " " + token if op == "append" else token
        values[i] = " " + token if op == "append" else token
        outputs[i] = values[i]
        previous[k] = current
        state[k] = new
        n_writes[k] = versions[i] = n_writes.get(k, 0) + 1
    schema = dict(HISTORY_SCHEMA)
    schema["version"] = pl.Int64()
    frame = pl.DataFrame(
        {
            "process": process,
            "op": kind,
            "key": key.astype(str),
            "value": values,
            "output": outputs,
            "invoke_s": invoke,
            "complete_s": complete,
            "status": ["ok"] * n_ops,
            "version": versions,
        },
        schema=schema,
    )
    return frame.sort("invoke_s", maintain_order=True)
