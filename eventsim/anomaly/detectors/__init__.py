"""Anomaly detectors behind one interface (``learn_one``/``score_one``), and their registry.

:data:`DETECTORS` maps a name to a constructor taking keyword ``seed=`` (and ``on_missing=``);
``"default"`` is the detector the kit recommends (:class:`ConformalKNN`). river and
scikit-learn are imported only when a detector that needs them is first used.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from eventsim.anomaly.detectors.base import Detector, as_matrix
from eventsim.anomaly.detectors.conformal_knn import ConformalKNN
from eventsim.anomaly.detectors.null import NullDetector
from eventsim.anomaly.detectors.random_guess import RandomDetector
from eventsim.anomaly.detectors.river_hst import HalfSpaceTrees
from eventsim.anomaly.detectors.river_lof import RiverLOF
from eventsim.anomaly.detectors.river_predictive import ForecastError
from eventsim.anomaly.detectors.river_sad import StandardAbsoluteDeviation
from eventsim.anomaly.detectors.robust_z import RobustZScore
from eventsim.anomaly.detectors.sklearn_batch import ESTIMATORS, SklearnDetector

__all__ = [
    "DETECTORS",
    "ESTIMATORS",
    "ConformalKNN",
    "Detector",
    "ForecastError",
    "HalfSpaceTrees",
    "NullDetector",
    "RandomDetector",
    "RiverLOF",
    "RobustZScore",
    "SklearnDetector",
    "StandardAbsoluteDeviation",
    "as_matrix",
]


def _tail(**kwargs: object) -> Detector:
    """:class:`~eventsim.anomaly.TailDetector` (imported here, not at module import: it
    lives beside the stream wrapper and imports this package)."""
    from eventsim.anomaly.tail import TailDetector

    return TailDetector(**kwargs)  # type: ignore[arg-type]


#: Detector name → constructor (keyword ``seed=``); ``"default"`` is :class:`ConformalKNN`.
DETECTORS: dict[str, Callable[..., Detector]] = {
    "default": ConformalKNN,
    "conformal_knn": ConformalKNN,
    "half_space_trees": HalfSpaceTrees,
    "standard_absolute_deviation": StandardAbsoluteDeviation,
    "holt_winters_error": partial(ForecastError, "holt_winters"),
    "snarimax_error": partial(ForecastError, "snarimax"),
    "river_lof": RiverLOF,
    "isolation_forest": partial(SklearnDetector, "isolation_forest"),
    "sklearn_lof": partial(SklearnDetector, "lof"),
    "one_class_svm": partial(SklearnDetector, "one_class_svm"),
    "robust_z": RobustZScore,
    "tail": _tail,
    "null": NullDetector,
    "random": RandomDetector,
}
