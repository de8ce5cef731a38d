"""The null detector: always scores 0 (never alarms); NAB's normalisation floor."""

from __future__ import annotations

from eventsim.anomaly.detectors.base import Detector

__all__ = ["NullDetector"]


class NullDetector(Detector):
    """Scores every row 0.0; learns nothing.

    Parameters
    ----------
    seed
        Accepted for the common interface; unused.
    on_missing
        ``"raise"`` or ``"skip"``.

    Examples
    --------
    >>> NullDetector().score_one({"v": 1e9})
    0.0
    """

    def __init__(self, *, seed: int | None = None, on_missing: str = "raise") -> None:
        super().__init__(on_missing=on_missing)
        self.seed = seed

    def _learn(self, x: dict[str, float]) -> None:
        return None

    def _score(self, x: dict[str, float]) -> float:
        return 0.0
