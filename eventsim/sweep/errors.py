"""The error a sweep raises when its grid or settings are wrong, before any run starts."""

from __future__ import annotations

from collections.abc import Sequence

from eventsim.exceptions import ConfigError

__all__ = ["SweepError"]


class SweepError(ConfigError):
    """A sweep's grid, ranges, seeds or settings are not allowed (nothing was run).

    Examples
    --------
    >>> print(SweepError.from_problems(["grid key 'a' is not a scenario field"]))
    grid key 'a' is not a scenario field
    >>> print(SweepError.from_problems(["first problem", "second problem"]))
    sweep has 2 problems (nothing was run):
      first problem
      second problem
    """

    @classmethod
    def from_problems(cls, problems: Sequence[str]) -> SweepError:
        """One problem: its line; several: a heading and one line each."""
        if len(problems) == 1:
            return cls(problems[0])
        lines = "\n".join(f"  {p}" for p in problems)
        return cls(f"sweep has {len(problems)} problems (nothing was run):\n{lines}")
