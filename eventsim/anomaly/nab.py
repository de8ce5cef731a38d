"""The NAB score: Numenta Anomaly Benchmark scoring, threshold optimisation and normalisation.

Replicates NAB's scorer (``nab/sweeper.py``, ``nab/optimizer.py``, ``nab/runner.py``
normalisation; numenta/NAB, MIT):

- the first ``min(floor(0.15·n), 750)`` rows of a series (the *probationary period*) are
  never scored;
- a detection is a row whose anomaly score is ``>= threshold``;
- each anomaly window counts once: its earliest detection earns
  ``tpWeight·S(-(last - i + 1)/width)/S(-1)`` (``S`` the scaled sigmoid
  ``2·sigmoid(-5x) - 1``, so ``tpWeight`` at the window's first row, ~0 at its last); a
  window with no detection costs ``-fnWeight``; later detections in a window are free;
- each detection outside windows costs ``fpWeight·S(d)`` with ``d`` the distance past the
  end of the preceding window in window widths (``-fpWeight`` when no window precedes, or
  beyond three widths), so alarms just after a window are cheap;
- one threshold per detector and profile is chosen to maximise the raw score summed over all
  series scored together (ties go to the highest threshold);
- the normalised score is ``100·(raw - null)/(perfect - null)`` with ``null = -fnWeight·W``
  (never detecting) and ``perfect = tpWeight·W`` over the ``W`` windows scored.

Row counts ``tp``/``fp`` are NAB's: detected *rows* inside / outside windows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import polars as pl

from eventsim.anomaly._nab_sweep import (
    OUTSIDE,
    PROBATION,
    SweepRows,
    score_at,
    sweep_rows,
    sweep_thresholds,
)
from eventsim.anomaly.detectors.base import Detector
from eventsim.anomaly.nab_data import NabCorpus, load_nab, read_nab_results
from eventsim.exceptions import ConfigError, closest

__all__ = [
    "PROFILES",
    "nab_benchmark",
    "nab_file_scores",
    "nab_score",
    "nab_series_scores",
    "rescore_results",
]

#: NAB's application profiles (``config/profiles.json``): weights of TP, FP, FN, TN.
PROFILES: dict[str, dict[str, float]] = {
    "standard": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0},
    "reward_low_FP_rate": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.22, "tnWeight": 1.0},
    "reward_low_FN_rate": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11, "tnWeight": 1.0},
}

Profile = str | Mapping[str, float]


def _cost(profile: Profile) -> dict[str, float]:
    if isinstance(profile, str):
        if profile not in PROFILES:
            hint = closest(profile, PROFILES)
            msg = f"profile must be one of {sorted(PROFILES)}; got {profile!r}{hint}"
            raise ConfigError(msg)
        return PROFILES[profile]
    missing = {"tpWeight", "fpWeight", "fnWeight"} - set(profile)
    if missing:
        msg = f"profile cost matrix lacks {sorted(missing)}; got keys {sorted(profile)}"
        raise ConfigError(msg)
    return {k: float(v) for k, v in profile.items()}


def nab_score(
    scores: Sequence[float] | np.ndarray,
    windows: Sequence[tuple[int, int]],
    threshold: float,
    profile: Profile = "standard",
    *,
    probation_percent: float = 0.15,
) -> float:
    """Raw NAB score of one series at ``threshold``.

    Parameters
    ----------
    scores
        One anomaly score per row of the series, in file order.
    windows
        Anomaly windows as inclusive ``(first_row, last_row)`` index pairs, sorted, disjoint
        (``NabCorpus.window_rows[name]``).
    threshold
        Rows with ``score >= threshold`` are detections.
    profile
        A name in :data:`PROFILES` or a cost matrix with ``tpWeight``, ``fpWeight``,
        ``fnWeight``.
    probation_percent
        Share of the series at its start that is not scored (NAB: 0.15, at most 750 rows).

    Returns
    -------
    float
        The raw (un-normalised) score: window rewards and misses plus false-positive costs.

    Examples
    --------
    A 100-row series, one window on rows 40-59; a detection on the window's first row earns
    the full true-positive weight, one long after it costs the full false-positive weight:

    >>> s = np.zeros(100)
    >>> s[40] = 1.0
    >>> nab_score(s, [(40, 59)], 0.5)
    1.0
    >>> s[99] = 1.0
    >>> round(nab_score(s, [(40, 59)], 0.5), 4)
    0.89
    >>> nab_score(np.zeros(100), [(40, 59)], 0.5, "reward_low_FN_rate")
    -2.0
    """
    cost = _cost(profile)
    arr = np.asarray(scores, dtype=np.float64)
    rows = sweep_rows(len(arr), [tuple(w) for w in windows], cost, probation_percent)
    return score_at(arr, rows, threshold, cost["fnWeight"])[0]


def _rows_for(corpus: NabCorpus, cost: dict[str, float], pp: float) -> dict[str, SweepRows]:
    return {n: sweep_rows(f.height, corpus.window_rows[n], cost, pp) for n, f in corpus.items()}


def _checked(scores: Mapping[str, np.ndarray], corpus: NabCorpus) -> dict[str, np.ndarray]:
    out = {}
    for name, frame in corpus.items():
        if name not in scores:
            msg = f"scores lack series {name!r}{closest(name, scores)}"
            raise ConfigError(msg)
        arr = np.asarray(scores[name], dtype=np.float64)
        if arr.shape != (frame.height,) or not np.isfinite(arr).all():
            msg = f"scores[{name!r}] must be {frame.height} finite floats; got shape {arr.shape}"
            raise ConfigError(msg)
        out[name] = arr
    return out


def nab_file_scores(
    scores: Mapping[str, np.ndarray],
    corpus: NabCorpus,
    threshold: float,
    profile: Profile = "standard",
    *,
    probation_percent: float = 0.15,
) -> pl.DataFrame:
    """Per-series raw NAB scores at one threshold, as NAB's ``<det>_<profile>_scores.csv``.

    Parameters
    ----------
    scores
        Series name → anomaly scores (one per row).
    corpus
        The series and windows, from :func:`load_nab`.
    threshold, profile, probation_percent
        As in :func:`nab_score`.

    Returns
    -------
    polars.DataFrame
        One row per series: ``file`` (String), ``threshold`` (Float64), ``score`` (Float64,
        raw), ``tp``, ``tn``, ``fp``, ``fn`` (Int64: scored *rows* by kind, as NAB counts),
        ``total_count`` (Int64: rows in the series), ``windows`` (Int64),
        ``detected_windows`` (Int64).

    Examples
    --------
    >>> corpus = NabCorpus(
    ...     {"s.csv": pl.DataFrame({"value": np.zeros(100)})},
    ...     windows={},
    ...     window_rows={"s.csv": [(40, 59)]},
    ... )
    >>> s = np.zeros(100)
    >>> s[[45, 70]] = 1.0
    >>> nab_file_scores({"s.csv": s}, corpus, 0.5).select("score", "tp", "fp", "fn")
    shape: (1, 4)
    ┌─────────┬─────┬─────┬─────┐
    │ score   ┆ tp  ┆ fp  ┆ fn  │
    │ ---     ┆ --- ┆ --- ┆ --- │
    │ f64     ┆ i64 ┆ i64 ┆ i64 │
    ╞═════════╪═════╪═════╪═════╡
    │ 0.86852 ┆ 1   ┆ 1   ┆ 19  │
    └─────────┴─────┴─────┴─────┘
    """
    cost = _cost(profile)
    checked = _checked(scores, corpus)
    records = []
    for name, rows in _rows_for(corpus, cost, probation_percent).items():
        arr = checked[name]
        raw, _ = score_at(arr, rows, threshold, cost["fnWeight"])
        scored = rows.window != PROBATION
        det = (arr >= threshold) & scored
        inside = rows.window >= 0
        n_win = int(np.unique(rows.window[inside]).size)
        records.append(
            {
                "file": name,
                "threshold": float(threshold),
                "score": raw,
                "tp": int((det & inside).sum()),
                "tn": int((~det & scored & (rows.window == OUTSIDE)).sum()),
                "fp": int((det & (rows.window == OUTSIDE)).sum()),
                "fn": int((~det & inside).sum()),
                "total_count": len(arr),
                "windows": n_win,
                "detected_windows": int(np.unique(rows.window[det & inside]).size),
            }
        )
    schema = {
        "file": pl.String,
        "threshold": pl.Float64,
        "score": pl.Float64,
        **dict.fromkeys(
            ("tp", "tn", "fp", "fn", "total_count", "windows", "detected_windows"), pl.Int64
        ),
    }
    return pl.DataFrame(records, schema=schema)


def nab_series_scores(
    corpus: Mapping[str, pl.DataFrame],
    detector: str | Callable[..., Detector] = "default",
    *,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Run a detector over each series, score-then-learn, a fresh detector per series.

    Each row is fed as ``{"value": value}``.

    Parameters
    ----------
    corpus
        Series name → frame with a ``value`` column.
    detector
        A name in :data:`~eventsim.anomaly.detectors.DETECTORS` or a constructor taking
        ``seed=``.
    seed
        Seed handed to every detector.

    Returns
    -------
    dict[str, numpy.ndarray]
        Series name → float64 scores, one per row.

    Examples
    --------
    >>> f = pl.DataFrame({"value": [1.0, 1.0, 9.0]})
    >>> nab_series_scores({"s": f}, "null")["s"]
    array([0., 0., 0.])
    """
    from eventsim.anomaly.detectors import DETECTORS

    if isinstance(detector, str):
        if detector not in DETECTORS:
            hint = closest(detector, DETECTORS)
            msg = f"detector must be one of {sorted(DETECTORS)}; got {detector!r}{hint}"
            raise ConfigError(msg)
        make = DETECTORS[detector]
    else:
        make = detector
    return {
        name: make(seed=seed).score_learn_many(frame.select(pl.col("value").cast(pl.Float64)))
        for name, frame in corpus.items()
    }


def nab_benchmark(
    folder: str | Path | NabCorpus,
    detector: str | Callable[..., Detector] = "default",
    *,
    results_dir: str | Path | None = None,
    scores: Mapping[str, np.ndarray] | None = None,
    profiles: Sequence[str] | Mapping[str, Mapping[str, float]] | None = None,
    thresholds: Mapping[str, float] | None = None,
    seed: int = 0,
    probation_percent: float = 0.15,
) -> pl.DataFrame:
    """NAB protocol over every series of a folder: one threshold per profile, normalised.

    Scores come from, in order of precedence: ``scores`` (given), ``results_dir`` (a
    detector's published NAB outputs, ``results/<detector>/<group>/<detector>_<file>.csv``,
    ``detector`` naming its folder), or running ``detector`` online on each series
    (:func:`nab_series_scores`).

    Parameters
    ----------
    folder
        A NAB folder (see :func:`load_nab`) or an already loaded corpus.
    detector
        Registry name or constructor (or the results folder name with ``results_dir``).
    results_dir
        NAB ``results`` folder to re-score published outputs from.
    scores
        Precomputed scores, series → array.
    profiles
        Profile names or a name → cost-matrix mapping; default all of :data:`PROFILES`.
    thresholds
        Profile → fixed threshold; profiles absent are optimised (the NAB protocol:
        the threshold maximising the raw score over all series together).
    seed
        Detector seed.
    probation_percent
        NAB's probationary share (0.15).

    Returns
    -------
    polars.DataFrame
        One row per profile: ``profile`` (String), ``score`` (Float64, normalised: null 0,
        perfect 100), ``raw``, ``null``, ``perfect``, ``threshold`` (Float64; ``inf`` means
        never detect), ``optimised`` (Boolean: threshold chosen in hindsight on these series),
        ``windows``, ``detected_windows``, ``false_positives`` (Int64: detected rows outside
        windows), ``series`` (Int64).

    Examples
    --------
    >>> corpus = NabCorpus(
    ...     {"s.csv": pl.DataFrame({"value": np.zeros(100)})},
    ...     windows={},
    ...     window_rows={"s.csv": [(40, 59)]},
    ... )
    >>> perfect = np.zeros(100)
    >>> perfect[40] = 1.0
    >>> nab_benchmark(corpus, scores={"s.csv": perfect}, profiles=["standard"]).select(
    ...     "profile", "score", "raw", "null", "perfect", "threshold"
    ... )
    shape: (1, 6)
    ┌──────────┬───────┬─────┬──────┬─────────┬───────────┐
    │ profile  ┆ score ┆ raw ┆ null ┆ perfect ┆ threshold │
    │ ---      ┆ ---   ┆ --- ┆ ---  ┆ ---     ┆ ---       │
    │ str      ┆ f64   ┆ f64 ┆ f64  ┆ f64     ┆ f64       │
    ╞══════════╪═══════╪═════╪══════╪═════════╪═══════════╡
    │ standard ┆ 100.0 ┆ 1.0 ┆ -1.0 ┆ 1.0     ┆ 1.0       │
    └──────────┴───────┴─────┴──────┴─────────┴───────────┘
    """
    corpus = folder if isinstance(folder, NabCorpus) else load_nab(folder)
    if scores is None:
        if results_dir is not None:
            if not isinstance(detector, str):
                msg = f"with results_dir, detector must name a results folder; got {detector!r}"
                raise ConfigError(msg)
            scores = read_nab_results(results_dir, detector, corpus)
        else:
            scores = nab_series_scores(corpus, detector, seed=seed)
    checked = _checked(scores, corpus)
    if profiles is None:
        profiles = list(PROFILES)
    costs = (
        {p: _cost(p) for p in profiles}
        if not isinstance(profiles, Mapping)
        else {p: _cost(c) for p, c in profiles.items()}
    )
    names = list(corpus)
    records = []
    for pname, cost in costs.items():
        rows = _rows_for(corpus, cost, probation_percent)
        arrays = [checked[n] for n in names]
        sweeps = [rows[n] for n in names]
        fixed = thresholds is not None and pname in thresholds
        if fixed:
            threshold = float(thresholds[pname])  # type: ignore[index]
        else:
            sweep = sweep_thresholds(arrays, sweeps, cost["fnWeight"])
            threshold = float(sweep.threshold[sweep.best()])
        raw = 0.0
        detected = fps = n_windows = 0
        for arr, r in zip(arrays, sweeps, strict=True):
            raw += score_at(arr, r, threshold, cost["fnWeight"])[0]
            det = (arr >= threshold) & (r.window != PROBATION)
            n_windows += int(np.unique(r.window[r.window >= 0]).size)
            detected += int(np.unique(r.window[det & (r.window >= 0)]).size)
            fps += int((det & (r.window == OUTSIDE)).sum())
        null = -cost["fnWeight"] * n_windows
        perfect = cost["tpWeight"] * n_windows
        span = perfect - null
        records.append(
            {
                "profile": pname,
                "score": 100.0 * (raw - null) / span if span else 0.0,
                "raw": raw,
                "null": null,
                "perfect": perfect,
                "threshold": threshold,
                "optimised": not fixed,
                "windows": n_windows,
                "detected_windows": detected,
                "false_positives": fps,
                "series": len(names),
            }
        )
    schema = {
        "profile": pl.String,
        "score": pl.Float64,
        "raw": pl.Float64,
        "null": pl.Float64,
        "perfect": pl.Float64,
        "threshold": pl.Float64,
        "optimised": pl.Boolean,
        "windows": pl.Int64,
        "detected_windows": pl.Int64,
        "false_positives": pl.Int64,
        "series": pl.Int64,
    }
    return pl.DataFrame(records, schema=schema)


def rescore_results(
    folder: str | Path | NabCorpus,
    detector: str,
    results_dir: str | Path | None = None,
    **kwargs: object,
) -> pl.DataFrame:
    """Re-score a detector's published NAB outputs under :func:`nab_benchmark`'s protocol.

    ``results_dir`` defaults to ``<folder>/results``; other keywords go to
    :func:`nab_benchmark`.

    Examples
    --------
    >>> rescore_results  # doctest: +ELLIPSIS
    <function rescore_results at ...>
    """
    if results_dir is None:
        if isinstance(folder, NabCorpus):
            msg = "rescore_results needs results_dir when given a loaded corpus"
            raise ConfigError(msg)
        results_dir = Path(folder) / "results"
    return nab_benchmark(folder, detector, results_dir=results_dir, **kwargs)  # type: ignore[arg-type]
