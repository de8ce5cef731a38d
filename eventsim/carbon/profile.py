"""Synthetic region profiles: a seeded intensity generator calibrated to per-region statistics.

Model (hourly, UTC): ``x_t = mean * (1 + a1 cos(2π(h - p1)/24) + a2 cos(2π(h - p2)/12)) * w_t
+ e_t``, where ``w_t`` is the workday or weekend factor (their ratio is ``weekend_ratio``, and
the week averages 1), ``e_t`` is AR(1) noise (``ar1`` per hour, stationary sd ``noise_sd``,
relative to the mean), clipped at ``min_g_per_kwh``. Seasons are not modelled (runs are weeks).

Profiles live in ``datasets/carbon/region_profiles.csv``; its README names the source of every
figure. :func:`fit_profile` computes the shape parameters from a trace, which is how the shipped
shapes were derived (traces are not redistributed, only these statistics).
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from eventsim.carbon.trace import make_trace, to_grid
from eventsim.exceptions import ConfigError, DataFormatError, closest

__all__ = [
    "RegionProfile",
    "default_profiles_path",
    "fit_profile",
    "load_region_profiles",
    "synthesize_trace",
]


@dataclass(frozen=True)
class RegionProfile:
    """Statistics of one region's carbon intensity (see the module docstring for the model).

    Examples
    --------
    >>> RegionProfile("x", mean_g_per_kwh=100.0).weekend_ratio
    1.0
    """

    region: str
    mean_g_per_kwh: float
    a1: float = 0.0
    p1_h: float = 0.0
    a2: float = 0.0
    p2_h: float = 0.0
    weekend_ratio: float = 1.0
    ar1: float = 0.9
    noise_sd: float = 0.1
    min_g_per_kwh: float = 0.0
    source: str = ""

    def __post_init__(self) -> None:
        if not self.mean_g_per_kwh > 0:
            msg = f"RegionProfile.mean_g_per_kwh must be > 0; got {self.mean_g_per_kwh!r}"
            raise ConfigError(msg)
        if not -1 < self.ar1 < 1:
            msg = f"RegionProfile.ar1 must be in (-1, 1); got {self.ar1!r}"
            raise ConfigError(msg)
        if self.noise_sd < 0 or self.weekend_ratio <= 0:
            msg = (
                "RegionProfile.noise_sd must be >= 0 and weekend_ratio > 0; got "
                f"{self.noise_sd!r}, {self.weekend_ratio!r}"
            )
            raise ConfigError(msg)


def default_profiles_path() -> Path:
    """Path of ``datasets/carbon/region_profiles.csv`` in the source tree."""
    return Path(__file__).resolve().parents[2] / "datasets" / "carbon" / "region_profiles.csv"


def load_region_profiles(path: str | Path | None = None) -> dict[str, RegionProfile]:
    """Region → profile from a CSV with one column per :class:`RegionProfile` field.

    Examples
    --------
    >>> sorted(load_region_profiles())
    ['caiso_north_moer', 'ciso', 'de', 'fr', 'gb']
    """
    path = default_profiles_path() if path is None else Path(path)
    try:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        msg = f"cannot read region profiles {str(path)!r}: {exc}"
        raise DataFormatError(msg) from None
    kinds = {f.name: f.type for f in fields(RegionProfile)}
    out = {}
    for row in rows:
        values = {k: (v if kinds[k] == "str" else float(v)) for k, v in row.items() if k in kinds}
        profile = RegionProfile(**values)  # type: ignore[arg-type]
        out[profile.region] = profile
    return out


def synthesize_trace(
    profile: RegionProfile | str,
    start: datetime,
    n_days: float,
    *,
    step_s: float = 3600.0,
    seed: int = 0,
) -> pl.DataFrame:
    """A seeded synthetic trace for ``profile`` (or a region name of the shipped profiles).

    Returns
    -------
    polars.DataFrame
        Trace frame (``timestamp`` UTC, ``intensity_g_per_kwh``) at ``step_s``.

    Examples
    --------
    >>> t = synthesize_trace("de", datetime(2021, 1, 4), 28, seed=1)
    >>> t.height, t["intensity_g_per_kwh"].min() >= 101.705
    (672, True)
    """
    if isinstance(profile, str):
        profiles = load_region_profiles()
        if profile not in profiles:
            msg = f"region profile {profile!r} is unknown; allowed: {', '.join(sorted(profiles))}"
            raise ConfigError(msg + closest(profile, profiles))
        profile = profiles[profile]
    n_hours = int(np.ceil(n_days * 24)) + 1
    hourly = _hourly(profile, start, n_hours, seed)
    trace = make_trace(start, hourly, 3600.0)
    n = round(n_days * 86_400 / step_s)
    return make_trace(start, to_grid(trace, start, n, step_s), step_s)


def _hourly(p: RegionProfile, start: datetime, n_hours: int, seed: int) -> np.ndarray:
    from scipy.signal import lfilter

    hours = np.arange(n_hours)
    hod = (start.hour + start.minute / 60 + hours) % 24
    weekday = ((start.weekday() * 24 + start.hour + hours) // 24) % 7
    shape = (
        1
        + p.a1 * np.cos(2 * np.pi * (hod - p.p1_h) / 24)
        + p.a2 * np.cos(2 * np.pi * (hod - p.p2_h) / 12)
    )
    workday_factor = 7 / (5 + 2 * p.weekend_ratio)
    week = np.where(weekday >= 5, p.weekend_ratio * workday_factor, workday_factor)
    rng = np.random.default_rng(seed)
    innov = rng.normal(0.0, p.noise_sd * np.sqrt(1 - p.ar1**2), n_hours)
    innov[0] = rng.normal(0.0, p.noise_sd)  # start in the stationary distribution
    noise = lfilter([1.0], [1.0, -p.ar1], innov)
    values = p.mean_g_per_kwh * (shape * week + noise)
    return np.maximum(values, p.min_g_per_kwh)


def fit_profile(trace: pl.DataFrame, region: str, *, source: str = "") -> RegionProfile:
    """Fit the profile's shape (harmonics, weekend ratio, AR(1) noise) to a trace.

    The trace is averaged to hours first; the fit is least squares on the relative series.

    Examples
    --------
    >>> t = synthesize_trace("gb", datetime(2021, 1, 4), 56, seed=3)
    >>> p = fit_profile(t, "gb")
    >>> abs(p.weekend_ratio - load_region_profiles()["gb"].weekend_ratio) < 0.1
    True
    """
    start = trace["timestamp"][0].replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    span = (trace["timestamp"][-1] - start).total_seconds()
    n = int(span // 3600)
    y = to_grid(trace, start, n, 3600.0)
    mean = float(y.mean())
    rel = y / mean
    hours = np.arange(n)
    hod = (start.hour + hours) % 24
    weekend = (((start.weekday() * 24 + start.hour + hours) // 24) % 7 >= 5).astype(float)
    w1, w2 = 2 * np.pi * hod / 24, 2 * np.pi * hod / 12
    design = np.column_stack([np.ones(n), np.cos(w1), np.sin(w1), np.cos(w2), np.sin(w2), weekend])
    coef, *_ = np.linalg.lstsq(design, rel, rcond=None)
    resid = rel - design @ coef
    ar1 = float(np.corrcoef(resid[1:], resid[:-1])[0, 1])
    base = coef[0] + 2 / 7 * coef[5]
    return RegionProfile(
        region=region,
        mean_g_per_kwh=round(mean, 3),
        a1=round(float(np.hypot(coef[1], coef[2]) / base), 4),
        p1_h=round(float(np.degrees(np.arctan2(coef[2], coef[1])) / 15 % 24), 2),
        a2=round(float(np.hypot(coef[3], coef[4]) / base), 4),
        p2_h=round(float(np.degrees(np.arctan2(coef[4], coef[3])) / 30 % 12), 2),
        weekend_ratio=round(float((coef[0] + coef[5]) / coef[0]), 4),
        ar1=round(min(max(ar1, -0.99), 0.99), 4),
        noise_sd=round(float(resid.std()), 4),
        min_g_per_kwh=round(float(y.min()), 3),
        source=source,
    )


def profile_row(profile: RegionProfile) -> dict[str, object]:
    """The profile as a CSV row (field → value)."""
    return asdict(profile)
