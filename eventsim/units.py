"""Human-friendly quantities at the edges: ``"90s"``, ``"30m"``, ``"2h"``, ``"1d"`` → seconds."""

from __future__ import annotations

import re

from eventsim.exceptions import ScenarioError

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PATTERN = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*([a-z]*)\s*$")


def parse_duration(value: float | int | str, field: str = "duration") -> float:
    """Seconds from a number (seconds) or a string with a unit (ms, s, m, min, h, d, w).

    Raises
    ------
    ScenarioError
        If the text is not a number with a known unit.

    Examples
    --------
    >>> parse_duration("30m"), parse_duration("2h"), parse_duration(90), parse_duration("1.5s")
    (1800.0, 7200.0, 90.0, 1.5)
    """
    if isinstance(value, bool):
        msg = f"{field} must be a duration like 90s, 30m or 2h; got {value!r}"
        raise ScenarioError(msg)
    if isinstance(value, int | float):
        return float(value)
    match = _PATTERN.match(str(value))
    if match is None or match.group(2) not in {*_UNITS, ""}:
        allowed = ", ".join(_UNITS)
        msg = f"{field} must be a duration like 90s, 30m or 2h (units: {allowed}); got {value!r}"
        raise ScenarioError(msg)
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def format_duration(seconds: float) -> str:
    """The shortest exact text for a duration.

    Examples
    --------
    >>> format_duration(1800), format_duration(7200), format_duration(95), format_duration(0.25)
    ('30m', '2h', '95s', '0.25s')
    """
    for unit in ("d", "h", "m"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{seconds}s"
