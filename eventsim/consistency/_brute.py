"""A brute-force linearizability check: every order, no memoisation, no partitioning.

Exponential; for cross-checking :func:`eventsim.consistency.check_linearizable` on tiny
histories and as the benchmark's baseline.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from eventsim.consistency.history import validate_history
from eventsim.consistency.models import ILLEGAL, Model, get_model

__all__ = ["is_linearizable_brute"]


def is_linearizable_brute(history: pl.DataFrame, model: str | Model = "register") -> bool:
    """True when some real-time-respecting order of the operations satisfies ``model``.

    Each key is a separate object; unknown-outcome operations may be left out (they could
    take effect at the end). Op ``a`` must precede ``b`` when ``a`` completed strictly
    before ``b`` was invoked.

    Examples
    --------
    >>> from eventsim.consistency.history import make_history
    >>> h = make_history([(0, "write", None, 1, None, 0, 1), (1, "read", None, None, 1, 2, 3)])
    >>> is_linearizable_brute(h)
    True
    """
    the_model = get_model(model)
    frame = validate_history(history)
    ops: list[tuple[float, float, Any, Any]] = []
    for r in frame.iter_rows(named=True):
        step = the_model.compile(r["op"], r["value"], r["output"], r["status"])
        if step is not None:
            ops.append((r["invoke_s"], r["complete_s"], r["key"], step))
    init = the_model.init()
    n = len(ops)

    def go(placed: int, states: dict[Any, Any]) -> bool:
        pending = [i for i in range(n) if not placed >> i & 1]
        if all(ops[i][1] == math.inf for i in pending):
            return True
        horizon = min(ops[i][1] for i in pending)  # the earliest pending completion
        for i in pending:
            invoke, _, key, step = ops[i]
            if invoke > horizon:
                continue
            new = step(states.get(key, init))
            if new is not ILLEGAL and go(placed | 1 << i, {**states, key: new}):
                return True
        return False

    return go(0, {})
