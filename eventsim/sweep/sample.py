"""Sampled designs: random and Latin-hypercube points over parameter ranges.

A range is ``(low, high)`` (integers if both bounds are integers, inclusive; floats otherwise),
a mapping ``{"low": .., "high": .., "log": True}`` for a log-uniform range, or
``{"choices": [...]}`` for a categorical parameter. A sampler draws points in the unit cube
(seeded) and each range maps its coordinate to a value. Samplers live in :data:`SAMPLERS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eventsim.exceptions import closest
from eventsim.sweep.errors import SweepError

__all__ = ["SAMPLERS", "Range", "sample_points"]


def _random_unit(n: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, d))


def _lhs_unit(n: int, d: int, seed: int) -> np.ndarray:
    from scipy.stats import qmc

    try:
        engine = qmc.LatinHypercube(d=d, rng=seed)
    except TypeError:  # scipy < 1.15 names the argument ``seed``
        engine = qmc.LatinHypercube(d=d, seed=seed)
    return np.asarray(engine.random(n))


#: Samplers by name: ``(n, d, seed) -> array (n, d)`` of points in [0, 1).
SAMPLERS: dict[str, Callable[[int, int, int], np.ndarray]] = {
    "random": _random_unit,
    "lhs": _lhs_unit,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Range:
    """One parameter's range: numeric (linear or log, int or float) or a list of choices.

    Examples
    --------
    >>> Range.parse("log.partitions", (1, 4)).values(np.array([0.0, 0.3, 0.99]))
    [1, 2, 4]
    >>> Range.parse("params.rate_per_s", {"low": 10.0, "high": 1e3, "log": True}).values(
    ...     np.array([0.5])
    ... )
    [100.0]
    >>> Range.parse("consumers.0.commit", {"choices": ["auto", "after-process"]}).values(
    ...     np.array([0.2, 0.7])
    ... )
    ['auto', 'after-process']
    """

    path: str
    low: float = 0.0
    high: float = 1.0
    integer: bool = False
    log: bool = False
    choices: tuple[Any, ...] | None = None

    @classmethod
    def parse(cls, path: str, spec: Any) -> Range:
        """Read ``(low, high)``, ``{"low", "high", "log", "integer"}`` or ``{"choices"}``."""
        if isinstance(spec, Mapping):
            return cls._from_mapping(path, spec)
        if isinstance(spec, list | tuple) and len(spec) == 2 and all(map(_is_number, spec)):
            low, high = spec
            return cls._checked(path, low, high, isinstance(low, int) and isinstance(high, int))
        msg = (
            f"sample range of {path!r} must be [low, high], {{low, high, log}} or {{choices}};"
            f" got {spec!r}"
        )
        raise SweepError(msg)

    @classmethod
    def _from_mapping(cls, path: str, spec: Mapping[str, Any]) -> Range:
        allowed = ("choices",) if "choices" in spec else ("low", "high", "log", "integer")
        for key in spec:
            if key not in allowed:
                msg = (
                    f"sample range of {path!r} has unknown key {key!r}{closest(key, allowed)}"
                    f" (allowed: {', '.join(allowed)})"
                )
                raise SweepError(msg)
        if "choices" in spec:
            choices = spec["choices"]
            if not isinstance(choices, list | tuple) or not choices:
                msg = f"sample choices of {path!r} must be a non-empty list; got {choices!r}"
                raise SweepError(msg)
            return cls(path, choices=tuple(choices))
        if "low" not in spec or "high" not in spec:
            msg = f"sample range of {path!r} needs both low and high; got {dict(spec)!r}"
            raise SweepError(msg)
        low, high = spec["low"], spec["high"]
        integer = spec.get("integer", isinstance(low, int) and isinstance(high, int))
        return cls._checked(path, low, high, bool(integer), log=bool(spec.get("log", False)))

    @classmethod
    def _checked(cls, path: str, low: Any, high: Any, integer: bool, *, log: bool = False) -> Range:
        if not (_is_number(low) and _is_number(high) and low < high):
            msg = f"sample range of {path!r} must have numbers low < high; got {low!r}, {high!r}"
            raise SweepError(msg)
        if log and low <= 0:
            msg = f"log sample range of {path!r} must have low > 0; got {low!r}"
            raise SweepError(msg)
        return cls(path, float(low), float(high), integer=integer, log=log)

    def values(self, unit: np.ndarray) -> list[Any]:
        """Map coordinates in [0, 1) to values of this range (plain Python scalars)."""
        u = np.clip(np.asarray(unit, dtype=np.float64), 0.0, 1.0)
        if self.choices is not None:
            idx = np.minimum((u * len(self.choices)).astype(np.int64), len(self.choices) - 1)
            return [self.choices[i] for i in idx.tolist()]
        top = self.high + 1.0 if self.integer else self.high
        if self.log:
            x = np.exp(math.log(self.low) + u * (math.log(top) - math.log(self.low)))
        else:
            x = self.low + u * (top - self.low)
        if self.integer:
            return np.minimum(np.floor(x), self.high).astype(np.int64).tolist()
        return [float(v) for v in x.tolist()]


def sample_points(
    ranges: Mapping[str, Any], n: int, *, method: str = "lhs", seed: int = 0
) -> list[dict[str, Any]]:
    """``n`` points drawn by sampler ``method`` over ``ranges`` (dotted path → range).

    Examples
    --------
    >>> pts = sample_points({"log.partitions": (1, 48), "params.rate_per_s": (10.0, 100.0)}, 4)
    >>> len(pts), sorted(pts[0])
    (4, ['log.partitions', 'params.rate_per_s'])
    >>> pts == sample_points({"log.partitions": (1, 48), "params.rate_per_s": (10.0, 100.0)}, 4)
    True
    """
    if method not in SAMPLERS:
        msg = (
            f"sample method must be one of {', '.join(SAMPLERS)}; got {method!r}"
            f"{closest(str(method), SAMPLERS)}"
        )
        raise SweepError(msg)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        msg = f"sample size n must be an integer >= 1; got {n!r}"
        raise SweepError(msg)
    if not ranges:
        msg = "sample ranges are empty: give at least one parameter range"
        raise SweepError(msg)
    parsed: Sequence[Range] = [Range.parse(path, spec) for path, spec in ranges.items()]
    unit = SAMPLERS[method](n, len(parsed), seed)
    columns = [r.values(unit[:, j]) for j, r in enumerate(parsed)]
    return [{r.path: col[i] for r, col in zip(parsed, columns)} for i in range(n)]
