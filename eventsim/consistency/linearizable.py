"""Linearizability checking: is there one order of the operations, consistent with real time,
in which the model's sequential specification explains every output?

The algorithm is Wing & Gong's search with Lowe's memoisation, as in Porcupine's
``checkSingle``: the history becomes a doubly linked list of call and return entries sorted by
time (calls first on ties); the search walks it, *lifting* a call and its return out of the
list when the call can take effect next, and backtracks when it meets a return whose call has
not been linearized. A cache of ``(linearized set, state)`` pairs (the set a Python ``int``
used as a bitset) prunes configurations already explored. Histories are split by key
(P-compositionality: a history is linearizable iff each key's sub-history is), and the keys
are checked one after the other.

Operations whose outcome is unknown (status ``info``) complete at ``+inf``: they may take
effect at any point after their invocation, or never (their steps accept every state). Jepsen
histories are full of them (timed-out writes), and each multiplies the configurations the
search can reach; three dominance rules (see ``_search``) skip the moves that cannot help,
which is what keeps a pure-Python checker under a second on Porcupine's etcd logs.
"""

from __future__ import annotations

import math
import time
from typing import Any

import polars as pl

from eventsim.consistency.history import validate_history
from eventsim.consistency.models import ILLEGAL, Model, get_model
from eventsim.verdict import CheckResult

__all__ = ["ANOMALY_SCHEMA", "check_linearizable"]

ANOMALY_SCHEMA: dict[str, pl.DataType] = {
    "anomaly": pl.String(),
    "row": pl.Int64(),
    "process": pl.Int64(),
    "op": pl.String(),
    "key": pl.String(),
    "value": pl.String(),
    "output": pl.String(),
    "invoke_s": pl.Float64(),
    "complete_s": pl.Float64(),
    "status": pl.String(),
    "blocking": pl.Boolean(),
    "state": pl.String(),
}
"""Columns of the anomalies frame of :func:`check_linearizable`."""

_CHECK_EVERY = 1 << 13  # search steps between two looks at the clock
_PRUNE_UNKNOWN = True  # the dominance rules for unknown-outcome ops (False: Porcupine's search)


class _Budget:
    """The deadline shared by the per-key searches."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.perf_counter() + seconds if seconds > 0 else math.inf
        self.steps = 0

    def expired(self) -> bool:
        return time.perf_counter() > self.deadline


class _Outcome:
    """What the search of one key found."""

    __slots__ = ("blocking", "ok", "prefix", "state")

    def __init__(self, ok: bool | None, prefix: list[int], state: Any, blocking: int) -> None:
        self.ok = ok
        self.prefix = prefix  # op indices, in linearization order
        self.state = state
        self.blocking = blocking  # op whose return could not be passed (-1 if none)


def _search(
    calls_t: list[float], returns_t: list[float], steps: list[Any], init: Any, budget: _Budget
) -> _Outcome:
    """Porcupine's ``checkSingle`` over ops 0..n-1 of one key, plus pruning for info ops.

    An operation that never returns (``returns_t`` inf: outcome unknown) accepts every state
    and may be linearized at the very end, so it is optional. A configuration is *dominated*
    (any way to finish from it also finishes from another configuration the search explores)
    when it was reached by linearizing an unknown op that

    1. left the state unchanged (the configuration before it dominates);
    2. is a *blind* write (its step ignores the state) right after another unknown op (the
       run of unknown ops could have started with this write: same state, fewer ops used);
    3. has an unused *twin*: an earlier-invoked unknown op with the same effect (``sig``),
       which is just as available now (interchangeable; take the earliest).

    Such moves are skipped; the rest is Porcupine's search with its ``(linearized, state)``
    cache. Success is declared once only unknown ops remain.
    """
    n = len(steps)
    entries = sorted(
        [(calls_t[i], 0, i) for i in range(n)] + [(returns_t[i], 1, i) for i in range(n)]
    )
    size = 2 * n + 2
    tail = size - 1
    nxt = [*range(1, size), tail]
    prv = [0, *range(size - 1)]
    match = [0] * size  # call node → its return node; 0 on return nodes
    node_op = [-1] * size
    step_of: list[Any] = [None] * size
    bit = [0] * size
    unknown = [False] * size
    blind = [False] * size  # the step ignores the state (a write): see the pruning rules
    twins = [0] * size  # earlier unknown ops with the same effect (interchangeable)
    first_of: dict[Any, int] = {}
    ret_node = [0] * n
    for pos, (_, kind, i) in enumerate(entries, start=1):
        node_op[pos] = i
        if kind:
            ret_node[i] = pos
            unknown[pos] = returns_t[i] == math.inf
    for pos, (_, kind, i) in enumerate(entries, start=1):
        if not kind:
            match[pos] = ret_node[i]
            step_of[pos] = steps[i]
            bit[pos] = 1 << i
            unknown[pos] = returns_t[i] == math.inf
            blind[pos] = getattr(steps[i], "blind", False)
            sig = getattr(steps[i], "sig", None)
            if unknown[pos] and sig is not None:
                twins[pos] = first_of.get(sig, 0)
                first_of[sig] = twins[pos] | bit[pos]

    state = init
    lin = 0  # returned ops linearized
    used = 0  # unknown-outcome ops linearized
    cache: set[tuple[int, int, Any]] = set()
    stack: list[tuple[int, Any]] = []
    best: list[int] = []
    best_state = init
    blocking = -1
    illegal = ILLEGAL
    prune = _PRUNE_UNKNOWN
    count = 0
    e = nxt[0]
    while e != tail:
        count += 1
        if not count & (_CHECK_EVERY - 1) and budget.expired():
            return _Outcome(None, [node_op[c] for c, _ in stack], state, -1)
        m = match[e]
        if m:
            new = step_of[e](state)
            if new is not illegal:
                if unknown[e]:
                    # an unknown op that changes nothing, a blind write right after another
                    # unknown op, or the later of two interchangeable ones, is dominated
                    if prune and (
                        new == state
                        or (used & twins[e]) != twins[e]
                        or (blind[e] and stack and unknown[stack[-1][0]])
                    ):
                        e = nxt[e]
                        continue
                    key = (lin, used | bit[e], new)
                else:
                    key = (lin | bit[e], used, new)
                if key in cache:
                    e = nxt[e]
                    continue
                cache.add(key)
                stack.append((e, state))
                state = new
                lin = key[0]
                used = key[1]
                p = prv[e]
                q = nxt[e]
                nxt[p] = q
                prv[q] = p
                p = prv[m]
                q = nxt[m]
                nxt[p] = q
                prv[q] = p
                e = nxt[0]
                continue
            e = nxt[e]
            continue
        if unknown[e]:
            break  # only unknown-outcome ops are left: they all take effect at the end
        # a return whose call is not linearized: backtrack
        if len(stack) > len(best) or blocking < 0:
            best = [node_op[c] for c, _ in stack]
            best_state = state
            blocking = node_op[e]
        if not stack:
            return _Outcome(False, best, best_state, blocking)
        e, state = stack.pop()
        if unknown[e]:
            used ^= bit[e]
        else:
            lin ^= bit[e]
        m = match[e]
        nxt[prv[m]] = m
        prv[nxt[m]] = m
        nxt[prv[e]] = e
        prv[nxt[e]] = e
        e = nxt[e]
    budget.steps += count
    placed = [node_op[c] for c, _ in stack]
    rest = set(range(n)).difference(placed)
    for i in sorted(rest, key=lambda i: calls_t[i]):
        placed.append(i)
        state = steps[i](state)
    return _Outcome(True, placed, state, -1)


def check_linearizable(
    history: pl.DataFrame,
    model: str | Model = "register",
    time_budget_s: float = 10.0,
    *,
    partition: bool = True,
) -> CheckResult:
    """Check that ``history`` is linearizable with respect to ``model``.

    Parameters
    ----------
    history
        A history frame (:mod:`eventsim.consistency.history`).
    model
        A name in :data:`~eventsim.consistency.models.MODELS` (``"register"``, ``"kv"``) or a
        :class:`~eventsim.consistency.models.Model`.
    time_budget_s
        Give up after this many seconds (0 or less: no limit); the verdict is then None.
    partition
        Check key by key (P-compositionality). False checks the whole history as one search
        over a map of independent objects (slower; for comparison).

    Returns
    -------
    CheckResult
        ``valid`` True, False or None (budget exhausted). On False, ``anomalies`` (columns in
        :data:`ANOMALY_SCHEMA`, anomaly ``"not-linearizable"``) lists, for each failing key,
        the operations that could not be placed after the longest linearizable prefix: those
        invoked before the *blocking* operation completed, the blocking one flagged; ``state``
        is the model state after that prefix. ``info`` holds ``model``, ``n_ops`` (checked),
        ``n_dropped`` (no effect), ``n_keys``, ``failed_keys``, ``longest_prefix`` (history
        row numbers, in linearization order, of the first failing key), ``elapsed_s`` and
        ``timed_out``.

    Raises
    ------
    ConfigError
        Unknown model name (the message lists the known ones).
    DataFormatError
        The history is malformed or holds an operation the model does not have.

    Examples
    --------
    >>> from eventsim.consistency.history import make_history

    A slow write of 1; one reader sees 1, a later reader sees the register empty again:

    >>> h = make_history([(0, "write", None, 1, None, 0, 10), (1, "read", None, None, 1, 1, 2),
    ...                   (2, "read", None, None, None, 3, 4)])
    >>> r = check_linearizable(h)
    >>> r.valid, r.info["longest_prefix"]
    (False, [0, 1])
    >>> r.anomalies.select("row", "op", "output", "blocking", "state").rows()
    [(2, 'read', None, True, '1')]
    >>> check_linearizable(h.head(2)).valid
    True
    """
    started = time.perf_counter()
    the_model = get_model(model)
    frame = validate_history(history)
    budget = _Budget(time_budget_s)
    cols = frame.select("key", "op", "value", "output", "status", "invoke_s", "complete_s")
    keys, ops, values, outputs, statuses, invokes, completes = (
        cols[c].to_list() for c in cols.columns
    )
    groups: dict[Any, list[int]] = {}
    steps: list[Any] = [None] * frame.height
    compile_ = the_model.compile
    n_dropped = 0
    for row in range(frame.height):
        step = compile_(ops[row], values[row], outputs[row], statuses[row])
        if step is None:
            n_dropped += 1
            continue
        steps[row] = step
        groups.setdefault(keys[row] if partition else None, []).append(row)
    init = the_model.init()
    if not partition:
        names = sorted(set(keys), key=lambda k: (k is not None, k))
        ordinal = {k: i for i, k in enumerate(names)}
        steps = [_keyed(s, ordinal[k]) if s else None for s, k in zip(steps, keys)]
        init = tuple(init for _ in ordinal)
    failed: dict[Any, tuple[list[int], _Outcome]] = {}
    timed_out = False
    for key in sorted(groups, key=lambda k: (k is not None, k)):
        if budget.expired():
            timed_out = True
            break
        rows = groups[key]
        out = _search(
            [invokes[r] for r in rows],
            [completes[r] for r in rows],
            [steps[r] for r in rows],
            init,
            budget,
        )
        if out.ok is None:
            timed_out = True
            break
        if not out.ok:
            failed[key] = (rows, out)
    anomalies = _anomalies(frame, failed, the_model, invokes, completes, partition=partition)
    valid: bool | None = False if failed else (None if timed_out else True)
    first = next(iter(failed.values()), None)
    info = {
        "model": the_model.name,
        "n_ops": frame.height - n_dropped,
        "n_dropped": n_dropped,
        "n_keys": len(groups),
        "failed_keys": list(failed),
        "longest_prefix": [first[0][i] for i in first[1].prefix] if first else [],
        "elapsed_s": time.perf_counter() - started,
        "timed_out": timed_out,
    }
    return CheckResult(valid, anomalies, info)


def _keyed(step: Any, index: int) -> Any:
    """Lift a one-object step to a tuple of objects (for ``partition=False``)."""

    def keyed_step(s: tuple[Any, ...], step: Any = step, k: int = index) -> Any:
        new = step(s[k])
        if new is ILLEGAL:
            return ILLEGAL
        return (*s[:k], new, *s[k + 1 :])

    sig = getattr(step, "sig", None)
    if sig is not None:
        keyed_step.sig = (index, sig)  # type: ignore[attr-defined]
    return keyed_step


def _anomalies(
    frame: pl.DataFrame,
    failed: dict[Any, tuple[list[int], _Outcome]],
    model: Model,
    invokes: list[float],
    completes: list[float],
    *,
    partition: bool,
) -> pl.DataFrame:
    picked: list[int] = []
    blocking: list[bool] = []
    states: list[str | None] = []
    for rows, out in failed.values():
        placed = set(out.prefix)
        limit = completes[rows[out.blocking]]
        for i, r in enumerate(rows):
            if i not in placed and invokes[r] <= limit:
                picked.append(r)
                blocking.append(i == out.blocking)
                states.append(model.describe(out.state) if partition else str(out.state))
    evidence = (
        frame.with_row_index("row")
        .with_columns(pl.col("row").cast(pl.Int64))
        .filter(pl.col("row").is_in(picked))
    )
    order = {r: i for i, r in enumerate(picked)}
    extra = pl.DataFrame(
        {"row": picked, "blocking": blocking, "state": states},
        schema={"row": pl.Int64(), "blocking": pl.Boolean(), "state": pl.String()},
    )
    result = (
        evidence.join(extra, on="row")
        .with_columns(pl.lit("not-linearizable").alias("anomaly"))
        .sort(pl.col("row").replace_strict(order, return_dtype=pl.Int64))
    )
    return result.select([pl.col(c).cast(t) for c, t in ANOMALY_SCHEMA.items()])
