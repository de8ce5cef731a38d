"""NAB scorer: reproduces the published per-file scores; null → 0, perfect → 100."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventsim.anomaly import PROFILES, NabCorpus, load_nab, nab_benchmark, nab_score
from eventsim.anomaly.nab import nab_file_scores
from eventsim.anomaly.nab_data import read_nab_results
from eventsim.exceptions import ConfigError

REFERENCE = ["numenta", "randomCutForest", "twitterADVec", "windowedGaussian", "null"]


@pytest.fixture(scope="module")
def nab(shared_data):
    root = shared_data / "nab-sample"
    return root, load_nab(root)


@pytest.mark.parametrize("detector", REFERENCE)
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_reproduces_published_file_scores(nab, detector, profile):
    root, corpus = nab
    thresholds = json.loads((root / "results" / "thresholds.json").read_text())
    scores = read_nab_results(root / "results", detector, corpus)
    mine = nab_file_scores(scores, corpus, thresholds[detector][profile]["threshold"], profile)
    published = pl.read_csv(root / "results" / detector / f"{detector}_{profile}_scores.csv")
    joined = published.join(mine, left_on="File", right_on="file", how="inner")
    assert joined.height == 6
    np.testing.assert_allclose(joined["score"], joined["Score"], rtol=0, atol=1e-9)
    for theirs, ours in [("TP", "tp"), ("TN", "tn"), ("FP", "fp"), ("FN", "fn")]:
        assert joined[ours].to_list() == joined[theirs].to_list()
    assert joined["total_count"].to_list() == joined["Total_Count"].to_list()


def test_per_row_contributions_match_published_columns(nab):
    root, corpus = nab
    from eventsim.anomaly._nab_sweep import score_at, sweep_rows

    name = "realKnownCause/nyc_taxi.csv"
    path = root / "results" / "numenta" / "realKnownCause" / "numenta_nyc_taxi.csv"
    published = pl.read_csv(path)
    rows = sweep_rows(corpus[name].height, corpus.window_rows[name], PROFILES["standard"])
    _, contrib = score_at(published["anomaly_score"].to_numpy(), rows, 0.5421876907348634, 1.0)
    np.testing.assert_allclose(contrib, published["S(t)_standard"], atol=1e-9)


def test_null_is_0_and_perfect_is_100(nab):
    _, corpus = nab
    null = {n: np.zeros(f.height) for n, f in corpus.items()}
    perfect = {}
    for n, f in corpus.items():
        s = np.zeros(f.height)
        s[[first for first, _ in corpus.window_rows[n]]] = 1.0
        perfect[n] = s
    assert nab_benchmark(corpus, scores=null)["score"].to_list() == [0.0, 0.0, 0.0]
    assert nab_benchmark(corpus, scores=perfect)["score"].to_list() == [100.0] * 3
    bench = nab_benchmark(corpus, "null")
    assert bench["null"].to_list() == [-15.0, -15.0, -30.0]
    assert bench["perfect"].to_list() == [15.0, 15.0, 15.0]


def test_rescored_rcf_on_the_sample(nab):
    root, corpus = nab
    bench = nab_benchmark(corpus, "randomCutForest", results_dir=root / "results")
    got = dict(zip(bench["profile"], bench["score"], strict=True))
    assert got == pytest.approx(
        {"standard": 72.349149, "reward_low_FP_rate": 69.049149, "reward_low_FN_rate": 74.899432},
        abs=1e-5,
    )


@pytest.mark.slow
def test_default_beats_rcf_standard_and_low_fn(nab):
    root, corpus = nab
    ours = nab_benchmark(corpus, "default")
    rcf = nab_benchmark(corpus, "randomCutForest", results_dir=root / "results")
    for profile in ("standard", "reward_low_FN_rate"):
        a = ours.filter(pl.col("profile") == profile)["score"][0]
        b = rcf.filter(pl.col("profile") == profile)["score"][0]
        assert a > b


def test_nab_score_hand_made():
    s = np.zeros(100)  # probation: 15 rows; window rows 40..59 (20 rows)
    assert nab_score(s, [(40, 59)], 0.5) == -1.0
    s[40] = 1.0
    assert nab_score(s, [(40, 59)], 0.5) == 1.0
    s[41:60] = 1.0  # later detections in the same window are free
    assert nab_score(s, [(40, 59)], 0.5) == 1.0
    s[5] = 1.0  # inside the probationary period: ignored
    assert nab_score(s, [(40, 59)], 0.5) == 1.0
    s[20] = 1.0  # FP before any window: full fpWeight
    assert nab_score(s, [(40, 59)], 0.5) == pytest.approx(1.0 - 0.11)
    assert nab_score(s, [(40, 59)], 0.5, "reward_low_FP_rate") == pytest.approx(1.0 - 0.22)
    late = np.zeros(100)
    late[59] = 1.0  # last row of the window: sigmoid of -1/20
    expected = (2 / (1 + np.exp(5 * -0.05)) - 1) / (2 / (1 + np.exp(-5)) - 1)
    assert nab_score(late, [(40, 59)], 0.5) == pytest.approx(expected)
    just_after = np.zeros(100)
    just_after[60] = 1.0  # FP right after a window is nearly free
    assert -0.11 < nab_score(just_after, [(40, 59)], 0.5) + 1.0 < 0.0


def test_unknown_profile_is_named():
    with pytest.raises(ConfigError, match="did you mean 'standard'"):
        nab_score(np.zeros(10), [], 0.5, "standrd")


@given(
    st.lists(st.integers(0, 5), min_size=60, max_size=120),
    st.sampled_from(sorted(PROFILES)),
)
def test_threshold_sweep_matches_brute_force(levels, profile):
    scores = np.asarray(levels, dtype=float) / 5
    n = len(scores)
    windows = [(30, 40), (50, min(58, n - 1))]
    corpus = NabCorpus(
        {"a": pl.DataFrame({"value": scores})}, windows={}, window_rows={"a": windows}
    )
    bench = nab_benchmark(corpus, scores={"a": scores}, profiles=[profile])
    candidates = [np.inf, *np.unique(scores)]
    brute = max(nab_score(scores, windows, t, profile) for t in candidates)
    assert bench["raw"][0] == pytest.approx(brute, abs=1e-12)
    assert nab_score(scores, windows, bench["threshold"][0], profile) == pytest.approx(brute)
