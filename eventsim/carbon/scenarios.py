"""Published scenarios re-implemented: Wiesner et al., *Let's Wait Awhile*, Scenario II.

Setup (P. Wiesner, I. Behnke, D. Scheinert, K. Gontarska, L. Thamsen, "Let's Wait Awhile: How
Temporal Workload Shifting Can Reduce Carbon Emissions in the Cloud", Middleware 2021,
doi:10.1145/3464298.3493399), as described in the shared data README:

* traces: the paper's ``{ger,gb,fr}_ci.csv`` from 2020-01-01 00:00 on, keeping the :00 and :30
  rows (30-minute steps throughout);
* jobs: 3 387 ad-hoc ML training jobs. Per-day counts are multinomial over the workdays
  (Mon–Fri) of 2020; within each day, arrival times are drawn uniformly from 09:00, 09:30, ...,
  16:30 and sorted; durations are drawn uniformly from 4 h, 4.5 h, ..., 89.5 h (the paper's
  ``range(4 h, 90 h, 30 min)``). All draws come from ``numpy.random.default_rng(seed)`` in the
  paper's order, so ``seed=0`` gives the paper's job set. Every job draws the same power;
* deadline "Next Workday" on the nominal end *t* = arrival + duration: *t* itself if it falls
  Mon–Fri 09:00–17:00, else the next 09:00 (same day before 9, next day after 17 or on a
  Sunday, Monday on a Saturday); "Semi-Weekly" is also available;
* forecast: the true series plus Gaussian noise with sd = 5 % of the series mean, one noise
  series per repetition; emissions are averaged over 10 repetitions (noise seeds
  ``seed * n_repeats + r``, so ``seed=0`` uses 0..9 as the paper does);
* strategies, against running every job at once: non-interrupting (the block start with the
  lowest forecast mean) and interrupting (the lowest-forecast 30-minute slots);
  both strictly inside ``[arrival, deadline)``, so no job ends after its deadline.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from eventsim.carbon.forecast import Forecast, NoisyForecast, PerfectForecast
from eventsim.carbon.loaders import load_csv
from eventsim.carbon.schedule import best_start, greenest_slots
from eventsim.exceptions import ConfigError, DataFormatError, closest

if TYPE_CHECKING:
    from eventsim.carbon.scenario import PlacementScenario

__all__ = [
    "LWA_FILES",
    "deadline_slots",
    "demo_scenario",
    "lets_wait_awhile",
    "load_lwa_trace",
    "sample_ml_jobs",
]

SLOTS_PER_DAY = 48
_YEAR_START_WEEKDAY = 2  # 2020-01-01 was a Wednesday (Monday = 0)
LWA_FILES = {
    "de": "ger_ci.csv",
    "ger": "ger_ci.csv",
    "gb": "gb_ci.csv",
    "fr": "fr_ci.csv",
    "cal": "cal_ci.csv",
}
"""Region code → file name in the paper's data folder."""
_STRATEGIES = ("non-interrupting", "interrupting")
_DEADLINES = ("next-workday", "semi-weekly")


def load_lwa_trace(traces_dir: str | Path, region: str) -> np.ndarray:
    """The paper's intensity series of ``region`` from 2020-01-01 00:00 in 30-minute steps.

    Examples
    --------
    >>> load_lwa_trace("/nonexistent", "xx")
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ConfigError: region 'xx' is unknown; allowed: cal, de, fr, gb, ger
    """
    if region not in LWA_FILES:
        allowed = ", ".join(sorted(LWA_FILES))
        msg = f"region {region!r} is unknown; allowed: {allowed}{closest(region, LWA_FILES)}"
        raise ConfigError(msg)
    trace = load_csv(Path(traces_dir) / LWA_FILES[region], gaps="keep")  # mixed 15/30 min
    trace = trace.filter(
        pl.col("timestamp") >= pl.datetime(2020, 1, 1, time_zone="UTC"),
        pl.col("timestamp").dt.minute() % 30 == 0,
    )
    steps = trace["timestamp"].diff().drop_nulls().dt.total_seconds()
    if trace.height < 2 or (steps != 1800).any():
        msg = f"{LWA_FILES[region]}: expected a regular 30-minute series from 2020-01-01"
        raise DataFormatError(msg)
    return trace["intensity_g_per_kwh"].to_numpy().astype(np.float64)


def sample_ml_jobs(n: int = 3387, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Arrival slots and lengths (30-minute slots since 2020-01-01 00:00) of the ML jobs.

    Examples
    --------
    >>> arrival, length = sample_ml_jobs(5, seed=0)
    >>> int(length.min()) >= 8 and int(length.max()) < 180
    True
    """
    rng = np.random.default_rng(seed)
    n_days = 366  # 2020-01-01 .. 2020-12-31
    weekday = (np.arange(n_days) + _YEAR_START_WEEKDAY) % 7
    workdays = np.flatnonzero(weekday <= 4)
    per_workday = rng.multinomial(n, np.full(len(workdays), 1 / len(workdays)))
    per_day = np.zeros(n_days, dtype=np.int64)
    per_day[workdays] = per_workday
    start_minutes = np.arange(9 * 60, 17 * 60, 30)
    # one draw per calendar day in order, as the paper's generator does (262 small calls)
    minutes = [np.sort(rng.choice(start_minutes, size=int(k))) for k in per_day]
    day_of_job = np.repeat(np.arange(n_days), per_day)
    arrival = day_of_job * SLOTS_PER_DAY + np.concatenate(minutes).astype(np.int64) // 30
    durations = rng.choice(np.arange(4 * 60, 90 * 60, 30), size=n)
    return arrival, (durations // 30).astype(np.int64)


def deadline_slots(end: np.ndarray, rule: str = "next-workday") -> np.ndarray:
    """Deadline slot for nominal end slots ``end`` (30-minute slots since 2020-01-01 00:00).

    Examples
    --------
    >>> fri_18h = 2 * 48 + 36  # 2020-01-03 18:00 (a Friday)
    >>> int(deadline_slots(np.array([fri_18h]))[0]) == 3 * 48 + 18  # Saturday 09:00
    True
    >>> sat_10h = 3 * 48 + 20
    >>> int(deadline_slots(np.array([sat_10h]))[0]) == 5 * 48 + 18  # Monday 09:00
    True
    """
    end = np.asarray(end, dtype=np.int64)
    day, slot = np.divmod(end, SLOTS_PER_DAY)
    weekday = (day + _YEAR_START_WEEKDAY) % 7
    nine, seventeen = 18, 34
    if rule == "next-workday":
        days_ahead = np.select(
            [weekday == 5, (weekday == 6) | (slot > seventeen), slot < nine],
            [2, 1, 0],
            default=-1,
        )
        return np.where(days_ahead < 0, end, (day + days_ahead) * SLOTS_PER_DAY + nine)
    if rule == "semi-weekly":
        to_thursday = (
            ((weekday == 0) & (slot > nine))
            | np.isin(weekday, (1, 2))
            | ((weekday == 3) & (slot <= nine))
        )
        days_ahead = np.where(to_thursday, (3 - weekday) % 7, (7 - weekday) % 7)
        return (day + days_ahead) * SLOTS_PER_DAY + nine
    msg = f"deadline rule must be one of {', '.join(map(repr, _DEADLINES))}; got {rule!r}"
    raise ConfigError(msg)


def lets_wait_awhile(
    traces_dir: str | Path,
    regions: tuple[str, ...] = ("de", "gb", "fr"),
    seed: int = 0,
    *,
    error: float = 0.05,
    n_repeats: int = 10,
    deadline: str = "next-workday",
    n_jobs: int = 3387,
) -> pl.DataFrame:
    """Scenario II of *Let's Wait Awhile*: savings of shifting ad-hoc ML jobs vs running at once.

    Parameters
    ----------
    traces_dir
        Folder with the paper's ``ger_ci.csv``, ``gb_ci.csv``, ``fr_ci.csv``.
    regions
        Region codes (``de``, ``gb``, ``fr``; ``cal`` if ``cal_ci.csv`` is present).
    seed
        Seed of the job sample and of the forecast noise.
    error
        Forecast noise sd as a fraction of the mean intensity (0 = perfect forecast).
    n_repeats
        Noise repetitions averaged (ignored when ``error == 0``).
    deadline
        ``"next-workday"`` (the default, as in the issue) or ``"semi-weekly"``.
    n_jobs
        Number of jobs.

    Returns
    -------
    polars.DataFrame
        ``region`` String, ``strategy`` String (``non-interrupting`` | ``interrupting``),
        ``savings_pct`` Float64 (emission savings against running each job at once).

    Examples
    --------
    >>> lets_wait_awhile("/nonexistent", regions=("de",))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    eventsim.exceptions.DataFormatError: cannot read CSV '/nonexistent/ger_ci.csv': ...
    """
    if deadline not in _DEADLINES:
        deadline_slots(np.zeros(1, dtype=np.int64), deadline)  # raises the one-line error
    if not error >= 0 or n_repeats < 1:
        msg = f"error must be >= 0 and n_repeats >= 1; got error={error!r}, n_repeats={n_repeats!r}"
        raise ConfigError(msg)
    arrival, length = sample_ml_jobs(n_jobs, seed)
    due = deadline_slots(arrival + length, deadline)
    window = due - arrival
    forecasts = (
        [NoisyForecast(error, seed * n_repeats + r) for r in range(n_repeats)]
        if error > 0
        else [PerfectForecast()]
    )
    rows = []
    for region in regions:
        truth = load_lwa_trace(traces_dir, region)
        if due.max() > truth.size:
            msg = f"{LWA_FILES[region]} ends at slot {truth.size}; the jobs need {due.max()}"
            raise DataFormatError(msg)
        savings = _savings(truth, arrival, length, window, forecasts)
        rows += [(region, s, v) for s, v in zip(_STRATEGIES, savings)]
    return pl.DataFrame(
        rows,
        schema={"region": pl.String, "strategy": pl.String, "savings_pct": pl.Float64},
        orient="row",
    )


def _savings(
    truth: np.ndarray, arrival: np.ndarray, length: np.ndarray, window: np.ndarray, forecasts: list
) -> tuple[float, float]:
    width = int(window.max())
    cs = np.concatenate([[0.0], np.cumsum(truth)])
    baseline = float((cs[arrival + length] - cs[arrival]).sum())
    true_win = PerfectForecast().window(truth, arrival, width, 1800.0)
    block = np.zeros(len(forecasts))
    split = np.zeros(len(forecasts))
    for i, forecast in enumerate(forecasts):
        fc = forecast.window(truth, arrival, width, 1800.0)
        start = arrival + best_start(fc, length, window)
        block[i] = (cs[start + length] - cs[start]).sum()
        chosen = greenest_slots(fc, length, window)
        split[i] = np.where(chosen, true_win, 0.0).sum()
    return (
        100.0 * (1.0 - block.mean() / baseline),
        100.0 * (1.0 - split.mean() / baseline),
    )


DEMO_LATENCY_MS = {("de", "gb"): 15.0, ("de", "fr"): 11.0, ("gb", "fr"): 9.0}
"""Round-trip-ish latencies between Frankfurt, London and Paris cloud regions (assumed)."""


def demo_scenario(
    *,
    days: float = 7.0,
    rate_per_s: float = 100.0,
    slot_s: float = 3600.0,
    slo_ms: float | None = 10.0,
    fr_capacity_events_per_s: float | None = 80.0,
    forecast: Forecast | str = "perfect",
    seed: int = 0,
) -> PlacementScenario:
    """A European scenario from the shipped profiles: de, gb, fr; four topics; jobs of all kinds.

    Traces are synthesised from ``datasets/carbon/region_profiles.csv`` (seeded), starting on
    Monday 2021-01-04. ``rate_per_s`` is the mean total event rate, split over the topics.
    With the default 10 ms SLO, German users must be served in Germany; France (cleanest)
    can take ``fr_capacity_events_per_s`` events/s.

    Examples
    --------
    >>> sc = demo_scenario(days=1, rate_per_s=10)
    >>> sc.region_names, len(sc.topics)
    (('de', 'gb', 'fr'), 4)
    """
    from eventsim.carbon.profile import synthesize_trace
    from eventsim.carbon.region import Region
    from eventsim.carbon.scenario import PlacementScenario, WorkSpec
    from eventsim.carbon.work import TopicSpec

    start = datetime(2021, 1, 4)
    names = ("de", "gb", "fr")
    span = days + 4  # room for job deadlines past the stream horizon
    traces = {n: synthesize_trace(n, start, span, seed=seed * 10 + i) for i, n in enumerate(names)}
    users = (("de", 0.5), ("gb", 0.3), ("fr", 0.2))
    topics = (
        TopicSpec("plays", "recommendations", "stateful", users, state_gb=20.0),
        TopicSpec("clicks", "sessionizer", "stateless", users, state_gb=2.0),
        TopicSpec("orders", "order-sink", "sink", users, state_gb=5.0),
        TopicSpec("fraud", "fraud-scoring", "inference", users, state_gb=1.0),
    )
    split = (0.5, 0.3, 0.15, 0.05)
    work = WorkSpec(tuple((t.topic, rate_per_s * w) for t, w in zip(topics, split)))
    return PlacementScenario(
        regions=(
            Region("de", pue=1.2),
            Region("gb", pue=1.15),
            Region("fr", pue=1.25, capacity_events_per_s=fr_capacity_events_per_s),
        ),
        traces=traces,
        latency_ms=DEMO_LATENCY_MS,
        start=start,
        duration_s=days * 86_400,
        slot_s=slot_s,
        slo_ms=slo_ms,
        topics=topics,
        work=work,
        forecast=forecast,
        seed=seed,
    )
