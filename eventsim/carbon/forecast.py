"""Carbon-intensity forecasts: perfect, persistence, seasonal-naive, and truth + noise.

A forecast answers "seen at slot ``issue``, what will the intensity be at ``issue + k``?" for
many issue slots at once: :meth:`Forecast.window` gathers a ``(n_issues, length)`` matrix (or
``(n_issues, length, n_regions)`` for a 2-D truth) with numpy fancy indexing, no loops.
Offsets past the end of the truth read as ``inf`` so that a scheduler never picks them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from eventsim.exceptions import ConfigError, closest

__all__ = [
    "FORECASTS",
    "Forecast",
    "NoisyForecast",
    "PerfectForecast",
    "PersistenceForecast",
    "SeasonalNaiveForecast",
    "make_forecast",
]


class Forecast(ABC):
    """A forecast of a regular intensity series (the truth on the slot grid)."""

    name: ClassVar[str]

    def window(
        self, truth: np.ndarray, issue: np.ndarray, length: int, slot_s: float
    ) -> np.ndarray:
        """Forecast values at ``issue[i] + k`` for ``k < length``, issued at ``issue[i]``.

        Parameters
        ----------
        truth
            True intensity, shape ``(T,)`` or ``(T, R)``.
        issue
            Issue slots, shape ``(n,)`` of ints in ``[0, T)``.
        length
            Number of slots ahead (offset 0 is the issue slot itself).
        slot_s
            Slot length in seconds (for seasonal periods).

        Returns
        -------
        numpy.ndarray
            Shape ``(n, length)`` or ``(n, length, R)``; ``inf`` past the end of the truth.
        """
        issue = np.asarray(issue, dtype=np.int64)
        target = issue[:, None] + np.arange(length, dtype=np.int64)[None, :]
        source = self._source(truth, issue, target, slot_s)
        out = self._series(truth)[np.clip(source, 0, truth.shape[0] - 1)]
        out[target >= truth.shape[0]] = np.inf
        return out

    def series(self, truth: np.ndarray) -> np.ndarray:
        """The forecast of every slot as issued at that slot's start (a 1-slot lead)."""
        return self.window(truth, np.arange(truth.shape[0]), 1, 1.0)[:, 0]

    def _series(self, truth: np.ndarray) -> np.ndarray:
        return np.asarray(truth, dtype=np.float64)

    @abstractmethod
    def _source(
        self, truth: np.ndarray, issue: np.ndarray, target: np.ndarray, slot_s: float
    ) -> np.ndarray:
        """Index of the truth (or noisy truth) value used to forecast each target slot."""


@dataclass(frozen=True)
class PerfectForecast(Forecast):
    """The truth itself (an oracle, for upper bounds).

    Examples
    --------
    >>> PerfectForecast().window(np.array([5.0, 6.0, 7.0]), np.array([1]), 3, 1800).tolist()
    [[6.0, 7.0, inf]]
    """

    name: ClassVar[str] = "perfect"

    def _source(self, truth, issue, target, slot_s):  # type: ignore[no-untyped-def]
        return target


@dataclass(frozen=True)
class PersistenceForecast(Forecast):
    """Tomorrow is like now: every slot ahead gets the value at the issue slot.

    Examples
    --------
    >>> PersistenceForecast().window(np.array([5.0, 6.0, 7.0]), np.array([0]), 2, 1800).tolist()
    [[5.0, 5.0]]
    """

    name: ClassVar[str] = "persistence"

    def _source(self, truth, issue, target, slot_s):  # type: ignore[no-untyped-def]
        return np.broadcast_to(issue[:, None], target.shape).copy()


@dataclass(frozen=True)
class SeasonalNaiveForecast(Forecast):
    """The value one (or more) seasons earlier, the latest one known at the issue slot.

    Parameters
    ----------
    period_s
        Season length, default one day.

    Examples
    --------
    >>> truth = np.array([1.0, 2.0, 3.0, 4.0])
    >>> SeasonalNaiveForecast(period_s=2.0).window(truth, np.array([2]), 2, 1.0).tolist()
    [[3.0, 2.0]]
    """

    period_s: float = 86_400.0
    name: ClassVar[str] = "seasonal-naive"

    def __post_init__(self) -> None:
        if not self.period_s > 0:
            msg = f"SeasonalNaiveForecast.period_s must be > 0; got {self.period_s!r}"
            raise ConfigError(msg)

    def _source(self, truth, issue, target, slot_s):  # type: ignore[no-untyped-def]
        period = max(round(self.period_s / slot_s), 1)
        lead = target - issue[:, None]
        seasons = -(-lead // period)  # ceil: how many periods back to reach a known slot
        return np.where(lead == 0, target, target - seasons * period)


@dataclass(frozen=True)
class NoisyForecast(Forecast):
    """Truth plus Gaussian noise with sd ``error`` x the mean of the truth (per region).

    One noise series is drawn per ``seed`` over the whole horizon, as in Wiesner et al.,
    *Let's Wait Awhile* (Middleware 2021), so all issue times see the same forecast of a slot.

    Parameters
    ----------
    error
        Noise sd as a fraction of the mean intensity (0.05 = 5 %).
    seed
        Seed of the noise.

    Examples
    --------
    >>> f = NoisyForecast(error=0.05, seed=1)
    >>> w = f.window(np.full(1000, 100.0), np.array([0]), 1000, 1800)
    >>> round(float(w.std()), 1)
    5.0
    """

    error: float = 0.05
    seed: int = 0
    name: ClassVar[str] = "noisy"

    def __post_init__(self) -> None:
        if not self.error >= 0:
            msg = f"NoisyForecast.error must be >= 0; got {self.error!r}"
            raise ConfigError(msg)

    def _series(self, truth: np.ndarray) -> np.ndarray:
        truth = np.asarray(truth, dtype=np.float64)
        rng = np.random.default_rng(self.seed)
        sd = self.error * truth.mean(axis=0)
        return truth + rng.normal(0.0, 1.0, size=truth.shape) * sd

    def _source(self, truth, issue, target, slot_s):  # type: ignore[no-untyped-def]
        return target


FORECASTS: dict[str, type[Forecast]] = {
    cls.name: cls
    for cls in (PerfectForecast, PersistenceForecast, SeasonalNaiveForecast, NoisyForecast)
}
"""Forecast name → class."""


def make_forecast(spec: str | Forecast, **params: float) -> Forecast:
    """A forecast from its registry name and parameters (or pass one through).

    Examples
    --------
    >>> make_forecast("noisy", error=0.1)
    NoisyForecast(error=0.1, seed=0)
    >>> make_forecast("perfec")
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ConfigError: forecast 'perfec' is unknown; ...; did you mean 'perfect'?
    """
    if isinstance(spec, Forecast):
        return spec
    if spec not in FORECASTS:
        allowed = ", ".join(sorted(FORECASTS))
        msg = f"forecast {spec!r} is unknown; allowed: {allowed}{closest(spec, FORECASTS)}"
        raise ConfigError(msg)
    return FORECASTS[spec](**params)  # type: ignore[arg-type]
