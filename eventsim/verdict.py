"""Verdicts of checkers: ``CheckResult(valid, anomalies)``, as Jepsen/Maelstrom report them.

``valid`` is True (the history kept the guarantee), False (it did not; ``anomalies`` holds the
evidence, one row per offending record or operation) or None (unknown: the checker ran out of
budget or lacked information).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

__all__ = ["CheckResult"]


@dataclass(frozen=True)
class CheckResult:
    """The verdict of a checker.

    Parameters
    ----------
    valid
        True, False, or None when unknown.
    anomalies
        One row per anomaly; at least the column ``anomaly`` (str) naming it, plus evidence
        columns specific to the checker.
    info
        Extra figures (counts, budget spent, longest linearizable prefix, ...).

    Examples
    --------
    >>> r = CheckResult(True, pl.DataFrame({"anomaly": []}, schema={"anomaly": pl.String}))
    >>> r.valid, r.n_anomalies
    (True, 0)
    """

    valid: bool | None
    anomalies: pl.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_anomalies(self) -> int:
        """Number of anomaly rows."""
        return self.anomalies.height

    def counts(self) -> dict[str, int]:
        """Anomaly name → number of rows."""
        if self.anomalies.is_empty():
            return {}
        grouped = self.anomalies.group_by("anomaly").len().sort("anomaly")
        return dict(zip(grouped["anomaly"].to_list(), grouped["len"].to_list(), strict=True))
