"""Adapter: forecast-error detector around a river forecaster (Holt-Winters or SNARIMAX).

river 0.26's ``PredictiveAnomalyDetection`` clips large errors to 1.0, which ties thousands
of top scores; here the score is the absolute one-step forecast error divided by the running
standard deviation of past errors (floored), unclipped.
"""

from __future__ import annotations

import math
from typing import Any

from eventsim.anomaly.detectors.base import Detector
from eventsim.exceptions import ConfigError

__all__ = ["ForecastError"]

_MODELS = ("holt_winters", "snarimax")


class ForecastError(Detector):
    """Standardised one-step forecast error of one feature (river forecaster).

    Parameters
    ----------
    model
        ``"holt_winters"`` (level + trend) or ``"snarimax"`` (ARIMA(2, 1, 1)).
    feature
        The feature forecast; ``None`` takes the first key (sorted) of the first row.
    warmup
        Rows learned before scoring (0.0 before).
    seed
        Accepted for the common interface; unused.
    on_missing
        ``"raise"`` or ``"skip"``.

    Examples
    --------
    >>> det = ForecastError(warmup=5)
    >>> for i in range(50):
    ...     det.learn_one({"v": float(i)})
    >>> det.score_one({"v": 50.0}) < 1.0 < det.score_one({"v": 90.0})
    True
    """

    def __init__(
        self,
        model: str = "holt_winters",
        feature: str | None = None,
        warmup: int = 30,
        *,
        seed: int | None = None,
        on_missing: str = "raise",
    ) -> None:
        super().__init__(on_missing=on_missing)
        if model not in _MODELS:
            msg = f"ForecastError.model must be one of {_MODELS}; got {model!r}"
            raise ConfigError(msg)
        self.model = model
        self.feature = feature
        self.warmup = warmup
        self.seed = seed
        self._forecaster: Any = None
        self._err_var: Any = None
        self._n = 0

    def _setup(self, x: dict[str, float]) -> None:
        from river import stats, time_series

        if self.feature is None:
            self.feature = sorted(x)[0]
        if self.model == "holt_winters":
            self._forecaster = time_series.HoltWinters(alpha=0.3, beta=0.1)
        else:
            self._forecaster = time_series.SNARIMAX(p=2, d=1, q=1)
        self._err_var = stats.Var()

    def _error(self, x: dict[str, float]) -> float:
        y = x.get(str(self.feature), 0.0)
        forecast = self._forecaster.forecast(horizon=1)[0]
        return abs(y - forecast) if math.isfinite(forecast) else 0.0

    def _score(self, x: dict[str, float]) -> float:
        if self._forecaster is None or self._n < self.warmup:
            return 0.0
        sd = math.sqrt(max(self._err_var.get(), 0.0))
        return self._error(x) / max(sd, 1e-9)

    def _learn(self, x: dict[str, float]) -> None:
        if self._forecaster is None:
            self._setup(x)
        if self._n >= 2:
            self._err_var.update(self._error(x))
        self._forecaster.learn_one(x.get(str(self.feature), 0.0))
        self._n += 1
