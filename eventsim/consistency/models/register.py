"""A read/write/compare-and-set register, with etcd's semantics (Porcupine's ``etcdModel``).

State: the value as a string, or None while the register does not exist (reads return nil).

- ``read`` ok returns the state (null output = does not exist); a failed or unknown read has
  no effect and is dropped.
- ``write v`` sets the state; a failed write is dropped; an unknown one may land any time
  after its invocation.
- ``cas [a, b]`` ok: the state was ``a`` and becomes ``b``. fail: the compare failed, the
  state was not ``a`` at the linearization point. info: ``b`` if the state was ``a``.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from typing import Any

from eventsim.consistency.models.base import ILLEGAL, Model, Step
from eventsim.exceptions import DataFormatError

__all__ = ["RegisterModel", "parse_pair"]


def parse_pair(value: str | None) -> tuple[str | None, str | None]:
    """The ``(a, b)`` of a cas argument written ``[a, b]`` (JSON) or ``[a b]`` (EDN).

    Examples
    --------
    >>> parse_pair("[3, 0]"), parse_pair("[3 0]"), parse_pair('["x", null]')
    (('3', '0'), ('3', '0'), ('x', None))
    """
    text = value or ""
    try:
        items = json.loads(text)
    except ValueError:
        items = text.strip("[] ").replace(",", " ").split()
    if not isinstance(items, list) or len(items) != 2:
        msg = f"cas value must be a pair [a, b]; got {value!r}"
        raise DataFormatError(msg)
    a, b = (None if v is None or v == "nil" else v if isinstance(v, str) else str(v) for v in items)
    return a, b


def _read(expect: str | None) -> Step:
    def step(s: Any, expect: str | None = expect) -> Any:
        return s if s == expect else ILLEGAL

    return step


def _write(new: str | None) -> Step:
    def step(s: Any, new: str | None = new) -> Any:
        return new

    step.blind = True  # type: ignore[attr-defined]  # the search may prune on these
    step.sig = ("write", new)  # type: ignore[attr-defined]
    return step


def _cas_ok(a: str | None, b: str | None) -> Step:
    def step(s: Any, a: str | None = a, b: str | None = b) -> Any:
        return b if s == a else ILLEGAL

    return step


def _cas_fail(a: str | None) -> Step:
    def step(s: Any, a: str | None = a) -> Any:
        return ILLEGAL if s == a else s

    return step


def _cas_maybe(a: str | None, b: str | None) -> Step:
    def step(s: Any, a: str | None = a, b: str | None = b) -> Any:
        return b if s == a else s

    step.sig = ("cas", a, b)  # type: ignore[attr-defined]  # same effect: interchangeable
    return step


class RegisterModel(Model):
    """A register with read, write and cas (see the module docstring for the rules).

    Examples
    --------
    >>> m = RegisterModel()
    >>> m.compile("cas", "[1, 2]", None, "ok")("1"), m.compile("cas", "[1, 2]", None, "fail")("1")
    ('2', <object object at ...>)
    >>> m.compile("read", None, None, "fail") is None
    True
    """

    name = "register"
    ops = ("read", "write", "cas")

    def init(self) -> Hashable:
        """None: the register does not exist yet."""
        return None

    def compile(self, op: str, value: str | None, output: str | None, status: str) -> Step | None:
        """The step of one row (None without effect: failed/unknown reads, failed writes)."""
        if op == "read":
            return _read(output) if status == "ok" else None
        if op == "write":
            return None if status == "fail" else _write(value)
        if op == "cas":
            a, b = parse_pair(value)
            if status == "ok":
                return _cas_ok(a, b)
            return _cas_fail(a) if status == "fail" else _cas_maybe(a, b)
        raise self.unknown_op(op)
