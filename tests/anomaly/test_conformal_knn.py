"""The default detector's episode rule (NAB mode) and per-feature mode (streams)."""

from __future__ import annotations

import numpy as np

from eventsim.anomaly.detectors import ConformalKNN


def _noise(n: int, d: int, seed: int = 0) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    return [{f"f{j}": float(v) for j, v in enumerate(row)} for row in rng.normal(size=(n, d))]


def test_rising_excursion_alarms_once():
    det = ConformalKNN(scales=(1,), min_history=50, refractory=100)
    rows = [{"v": float(v)} for v in np.random.default_rng(1).normal(size=400)]
    rows += [{"v": v} for v in (8.0, 9.0, 10.0, 11.0)]  # each a new maximum
    scores = det.score_learn_many(rows)
    assert scores[400] > 2.0  # the onset is reported
    assert (scores[401:] == 0).all()  # the rest of the rising excursion is not


def test_refractory_zero_reports_every_row():
    det = ConformalKNN(scales=(1,), min_history=50, refractory=0)
    rows = [{"v": float(v)} for v in np.random.default_rng(1).normal(size=400)]
    rows += [{"v": v} for v in (8.0, 9.0, 10.0, 11.0)]
    scores = det.score_learn_many(rows)
    assert scores[400] > 2.0
    assert scores[401] > 0.0  # reported, where the episode rule would give 0


def test_per_feature_sees_a_shift_of_one_feature_among_many():
    rows = _noise(600, 12)
    shifted = [dict(r) for r in _noise(8, 12, seed=5)]
    for r in shifted:
        r["f3"] += 3.0  # a sustained 3-sigma shift of one feature
    joint = ConformalKNN(scales=(1, 4), refractory=0)
    per = ConformalKNN(scales=(1, 4), refractory=0, per_feature=True)
    joint.learn_many(rows)
    per.learn_many(rows)
    s_joint = joint.score_learn_many(shifted)
    s_per = per.score_learn_many(shifted)
    assert s_per.max() > s_joint.max() + 0.5


def test_per_feature_tests_both_tails():
    rows = _noise(600, 4)
    for shift in (-10.0, 10.0):
        det = ConformalKNN(scales=(1, 4), refractory=0, per_feature=True, min_scale=0.5)
        det.learn_many(rows)
        quiet = det.score_learn_many(_noise(4, 4, seed=7))
        moved = [{**r, "f2": r["f2"] + shift} for r in _noise(4, 4, seed=9)]
        assert det.score_learn_many(moved).max() > 4.0 > quiet.max()


def test_tail_shape_scales_the_tail_beyond_a_recurring_extreme():
    # a pattern the residuals do not model recurs at 100-108 sigmas: with an exponential tail
    # fitted to those few values, 4 apart, a next one at 150 is a dozen e-folds out
    def scores(shape):
        rng = np.random.default_rng(1)
        det = ConformalKNN(
            scales=(1,), refractory=0, per_feature=True, min_scale=0.5, tail_shape=shape
        )
        values = rng.normal(0, 1, 250)
        values[40::50] = [100.0, 104.0, 108.0, 106.0, 102.0]
        for v in values:
            det.learn_one({"v": float(v)})
        return [det.score_one({"v": v}) for v in (150.0, 1000.0, 5.0)]

    plain, shaped = scores(0.0), scores(0.1)
    assert plain[0] > 6
    assert shaped[0] < 4  # the next occurrence, under the threshold of 4
    assert shaped[1] > 30  # what is far beyond the pattern still alarms
    assert shaped[2] == plain[2]  # the body of the distribution is unchanged


def test_tail_shape_must_not_be_negative():
    import pytest

    from eventsim.exceptions import ConfigError

    with pytest.raises(ConfigError, match=r"tail_shape must be >= 0; got -0\.1"):
        ConformalKNN(tail_shape=-0.1)
