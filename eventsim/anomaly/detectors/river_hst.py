"""Adapter: river's HalfSpaceTrees behind min-max scaling (HST needs features in [0, 1])."""

from __future__ import annotations

from typing import Any

from eventsim.anomaly.detectors.base import Detector

__all__ = ["HalfSpaceTrees"]


class HalfSpaceTrees(Detector):
    """river ``preprocessing.MinMaxScaler() | anomaly.HalfSpaceTrees``; river imported lazily.

    Parameters
    ----------
    n_trees, height, window_size
        As in river's ``HalfSpaceTrees``.
    seed
        Seed of the trees.
    on_missing
        ``"raise"`` or ``"skip"``.

    Examples
    --------
    >>> det = HalfSpaceTrees(window_size=50, seed=1)
    >>> for i in range(300):
    ...     det.learn_one({"v": float(i % 10)})
    >>> det.score_one({"v": 4.0}) < det.score_one({"v": 500.0})
    True
    """

    def __init__(
        self,
        n_trees: int = 10,
        height: int = 8,
        window_size: int = 250,
        *,
        seed: int | None = 0,
        on_missing: str = "raise",
    ) -> None:
        super().__init__(on_missing=on_missing)
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.seed = seed
        self._model: Any = None

    def _pipeline(self) -> Any:
        if self._model is None:
            from river import anomaly, preprocessing

            hst = anomaly.HalfSpaceTrees(
                n_trees=self.n_trees,
                height=self.height,
                window_size=self.window_size,
                seed=self.seed,
            )
            self._model = preprocessing.MinMaxScaler() | hst
        return self._model

    def _learn(self, x: dict[str, float]) -> None:
        self._pipeline().learn_one(x)

    def _score(self, x: dict[str, float]) -> float:
        return float(self._pipeline().score_one(x))
