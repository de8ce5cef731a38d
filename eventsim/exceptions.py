"""The error hierarchy: one base, subclasses named for what went wrong.

Every error message is one line naming the field, the value and what is allowed. The CLI
catches :class:`EventsimError`, prints the message and exits with status 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ConfigError",
    "DataFormatError",
    "EventsimError",
    "OffsetOutOfRange",
    "ScenarioError",
    "closest",
]


class EventsimError(Exception):
    """Base class of every error eventsim raises on purpose."""


class ConfigError(EventsimError, ValueError):
    """A configuration value is not allowed."""


class ScenarioError(ConfigError):
    """A scenario field has a value that is not allowed."""


class DataFormatError(EventsimError, ValueError):
    """A file or frame is not in the format expected (missing, truncated, malformed)."""


class OffsetOutOfRange(EventsimError, LookupError):
    """A read asked for an offset below the log-start offset or past the log end."""


def closest(name: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""`` if none is close.

    Examples
    --------
    >>> closest("partitons", ["partitions", "topics"])
    "; did you mean 'partitions'?"
    >>> closest("zzz", ["partitions"])
    ''
    """
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""
