"""A key-value map with get/put/append (Porcupine's ``kvModel``), checked key by key.

State of one key: its string, ``""`` until written. ``get`` ok returns the whole string
(a null output counts as ``""``); ``put v`` replaces it; ``append v`` concatenates. Failed
puts/appends and failed or unknown gets are dropped; unknown puts/appends may land any time
after their invocation.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from eventsim.consistency.models.base import ILLEGAL, Model, Step

__all__ = ["KvModel"]


def _get(expect: str) -> Step:
    def step(s: Any, expect: str = expect) -> Any:
        return s if s == expect else ILLEGAL

    return step


def _put(new: str) -> Step:
    def step(s: Any, new: str = new) -> Any:
        return new

    step.blind = True  # type: ignore[attr-defined]  # the search may prune on these
    step.sig = ("put", new)  # type: ignore[attr-defined]
    return step


def _append(tail: str) -> Step:
    def step(s: Any, tail: str = tail) -> Any:
        return s + tail

    step.sig = ("append", tail)  # type: ignore[attr-defined]  # same effect: interchangeable
    return step


class KvModel(Model):
    """One key of a string map with get, put and append.

    Examples
    --------
    >>> m = KvModel()
    >>> s = m.compile("append", "ab", None, "ok")(m.init())
    >>> s, m.compile("get", None, "ab", "ok")(s) == s
    ('ab', True)
    """

    name = "kv"
    ops = ("get", "put", "append")

    def init(self) -> Hashable:
        """The empty string."""
        return ""

    def compile(self, op: str, value: str | None, output: str | None, status: str) -> Step | None:
        """The step of one row (None for rows without effect)."""
        if op == "get":
            return _get(output or "") if status == "ok" else None
        if op not in ("put", "append"):
            raise self.unknown_op(op)
        if status == "fail":
            return None
        return _put(value or "") if op == "put" else _append(value or "")
