"""A small TOML writer for scenario dicts (tables, arrays of tables, scalars, lists)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["dumps"]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if math.isnan(value):
            return "nan"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_scalar(v)}" for k, v in value.items()) + "}"
    msg = f"cannot write {value!r} as TOML"
    raise TypeError(msg)


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum()
    return key if bare else json.dumps(key)


def _is_table_list(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and bool(value)
        and all(isinstance(v, Mapping) for v in value)
    )


def _emit(table: Mapping[str, Any], prefix: str, out: list[str]) -> None:
    for k, v in table.items():
        if not isinstance(v, Mapping) and not _is_table_list(v):
            out.append(f"{_key(k)} = {_scalar(v)}")
    for k, v in table.items():
        name = f"{prefix}{_key(k)}"
        if isinstance(v, Mapping):
            out.append(f"\n[{name}]")
            _emit(v, f"{name}.", out)
        elif _is_table_list(v):
            for item in v:
                out.append(f"\n[[{name}]]")
                _emit(item, f"{name}.", out)


def dumps(data: Mapping[str, Any]) -> str:
    """TOML text for a nested dict.

    Examples
    --------
    >>> print(dumps({"seed": 3, "log": {"partitions": 4}, "consumers": [{"name": "a"}]}))
    seed = 3
    <BLANKLINE>
    [log]
    partitions = 4
    <BLANKLINE>
    [[consumers]]
    name = "a"
    <BLANKLINE>
    """
    out: list[str] = []
    _emit(data, "", out)
    return "\n".join(out) + "\n"
