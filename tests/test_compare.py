"""lrcourse.compare against plain-Python reference computations (statistics.fmean/pstdev, explicit loops)
and hand-worked examples, plus its input checks."""

import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcourse.compare import LRSensitivity, best_loss_by_budget, final_loss, lr_sensitivity


def reference_final(loss, steps_per_epoch, last_epochs):
    """Explicit loops: the mean of each run's last window, inf if anything in it is not finite."""
    out = []
    for row in loss:
        out_row = []
        for run in row:
            window = list(run[len(run) - last_epochs * steps_per_epoch:])
            out_row.append(statistics.fmean(window) if all(math.isfinite(x) for x in window) else math.inf)
        out.append(out_row)
    return np.array(out)


losses = st.integers(min_value=1, max_value=4).flatmap(
    lambda n_lrs: st.integers(min_value=1, max_value=4).flatmap(
        lambda n_seeds: st.integers(min_value=1, max_value=3).flatmap(
            lambda spe: st.integers(min_value=1, max_value=4).flatmap(
                lambda epochs: st.tuples(
                    st.lists(
                        st.lists(
                            st.lists(st.one_of(st.floats(0.0, 5.0), st.just(math.nan), st.just(math.inf)),
                                     min_size=spe * epochs, max_size=spe * epochs),
                            min_size=n_seeds, max_size=n_seeds),
                        min_size=n_lrs, max_size=n_lrs),
                    st.just(spe), st.just(epochs))))))


# --- final_loss -----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(data=losses, pick=st.integers(min_value=1, max_value=4))
def test_final_loss_matches_explicit_loops(data, pick):
    loss, spe, epochs = data
    last = min(pick, epochs)
    np.testing.assert_allclose(final_loss(loss, spe, last_epochs=last), reference_final(loss, spe, last),
                               rtol=1e-12)


def test_final_loss_hand_worked():
    loss = [[[4.0, 3.0, 2.0, 1.0, 0.5, 0.25]]]  # 3 epochs of 2 steps
    assert final_loss(loss, 2)[0, 0] == pytest.approx(0.375)
    assert final_loss(loss, 2, last_epochs=2)[0, 0] == pytest.approx((2 + 1 + 0.5 + 0.25) / 4)
    assert final_loss(loss, 3)[0, 0] == pytest.approx((1 + 0.5 + 0.25) / 3)


def test_a_run_that_diverged_earlier_but_recovered_in_the_window_counts_as_finite():
    loss = [[[np.nan, 5.0, 1.0, 1.0]]]
    assert final_loss(loss, 2)[0, 0] == 1.0


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"loss": np.ones((2, 3)), "steps_per_epoch": 1}, ValueError, "loss must have shape"),
        ({"loss": np.ones((2, 0, 4)), "steps_per_epoch": 1}, ValueError, "loss must have shape"),
        ({"loss": [[["a"]]], "steps_per_epoch": 1}, TypeError, "loss"),
        ({"loss": np.ones((1, 1, 6)), "steps_per_epoch": 4}, ValueError, "steps_per_epoch must divide"),
        ({"loss": np.ones((1, 1, 6)), "steps_per_epoch": 0}, ValueError, "steps_per_epoch"),
        ({"loss": np.ones((1, 1, 6)), "steps_per_epoch": 2.0}, TypeError, "steps_per_epoch"),
        ({"loss": np.ones((1, 1, 6)), "steps_per_epoch": 2, "last_epochs": 4}, ValueError, "last_epochs"),
        ({"loss": np.ones((1, 1, 6)), "steps_per_epoch": 2, "last_epochs": 0}, ValueError, "last_epochs"),
    ],
)
def test_final_loss_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        final_loss(**kwargs)


# --- lr_sensitivity --------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(min_value=1, max_value=6).flatmap(
        lambda n_seeds: st.lists(st.lists(st.one_of(st.floats(0.0, 10.0), st.just(math.inf)),
                                          min_size=n_seeds, max_size=n_seeds), min_size=1, max_size=7))
)
def test_lr_sensitivity_matches_statistics_module(rows):
    lrs = [10.0 ** (k - 3) for k in range(len(rows))]
    s = lr_sensitivity(lrs, rows)
    for i, row in enumerate(rows):
        if all(math.isfinite(x) for x in row):
            assert s.mean[i] == pytest.approx(statistics.fmean(row), rel=1e-12, abs=1e-12)
            assert s.std[i] == pytest.approx(statistics.pstdev(row), rel=1e-9, abs=1e-12)
            assert s.diverged[i] == 0
        else:
            assert s.mean[i] == math.inf and s.std[i] == math.inf
            assert s.diverged[i] == sum(not math.isfinite(x) for x in row)
    means = [statistics.fmean(r) if all(math.isfinite(x) for x in r) else math.inf for r in rows]
    assert s.best_mean == pytest.approx(min(means), rel=1e-12)
    assert means[s.best_index] == pytest.approx(min(means), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(means=st.lists(st.floats(0.01, 10.0), min_size=1, max_size=8), factor=st.floats(1.0, 5.0))
def test_good_range_is_the_unbroken_stretch_around_the_best(means, factor):
    lrs = [2.0**k for k in range(len(means))]
    s = lr_sensitivity(lrs, [[m] for m in means])
    low, high = s.good_range(factor)
    i, j = lrs.index(low), lrs.index(high)
    best = means.index(min(means))
    assert i <= best <= j
    limit = factor * min(means)
    assert all(m <= limit for m in means[i: j + 1])
    assert i == 0 or means[i - 1] > limit
    assert j == len(means) - 1 or means[j + 1] > limit
    assert s.good_range_decades(factor) == pytest.approx(math.log10(high / low))


def test_hand_worked_sensitivity():
    s = lr_sensitivity([1e-3, 1e-2, 1e-1, 1.0], [[2.0, 2.2], [0.5, 0.7], [0.3, 0.5], [math.nan, 0.1]])
    assert isinstance(s, LRSensitivity)
    np.testing.assert_allclose(s.mean[:3], [2.1, 0.6, 0.4])
    np.testing.assert_allclose(s.std[:3], [0.1, 0.1, 0.1])
    assert s.mean[3] == math.inf and s.final[3, 0] == math.inf and list(s.diverged) == [0, 0, 0, 1]
    assert (s.best_lr, s.best_mean, s.best_std) == (0.1, pytest.approx(0.4), pytest.approx(0.1))
    assert s.good_range(1.5) == (0.01, 0.1)
    assert s.good_range(1.0) == (0.1, 0.1)
    assert s.good_range_decades(1.0) == 0.0


def test_no_good_range_when_every_rate_diverged():
    s = lr_sensitivity([0.01, 0.1, 1.0], [[math.inf, 1.0], [math.nan, 1.0], [math.inf, math.inf]])
    assert list(s.mean) == [math.inf] * 3
    for low, high in (s.good_range(2.0), s.good_range(level=5.0)):
        assert math.isnan(low) and math.isnan(high)
    assert math.isnan(s.good_range_decades(2.0))


@pytest.mark.parametrize(
    "lrs, final, error, match",
    [
        ([0.1, 0.01], [[1.0], [1.0]], ValueError, "strictly increasing"),
        ([0.0, 0.1], [[1.0], [1.0]], ValueError, r"lrs\[0\]"),
        ([[0.1]], [[1.0]], ValueError, "lrs must be a non-empty 1-D"),
        ([], np.ones((0, 1)), ValueError, "lrs must be a non-empty 1-D"),
        ([0.1, 1.0], [1.0, 2.0], ValueError, "final must have shape"),
        ([0.1, 1.0], [[1.0]], ValueError, "final must have shape"),
        ([0.1], [["x"]], TypeError, "final"),
    ],
)
def test_lr_sensitivity_rejects_bad_input(lrs, final, error, match):
    with pytest.raises(error, match=match):
        lr_sensitivity(lrs, final)


def test_good_range_rejects_a_factor_below_one():
    s = lr_sensitivity([0.1, 1.0], [[1.0], [2.0]])
    with pytest.raises(ValueError, match="factor"):
        s.good_range(0.5)


# --- best_loss_by_budget ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(data=losses)
def test_best_loss_by_budget_matches_explicit_loops(data):
    loss, spe, epochs = data
    best, index = best_loss_by_budget(loss, spe)
    assert best.shape == index.shape == (epochs,)
    for k in range(epochs):
        candidates = []
        for row in loss:
            per_seed = []
            for run in row:
                window = run[k * spe:(k + 1) * spe]
                per_seed.append(statistics.fmean(window) if all(math.isfinite(x) for x in window) else math.inf)
            candidates.append(statistics.fmean(per_seed) if all(math.isfinite(x) for x in per_seed) else math.inf)
        assert best[k] == pytest.approx(min(candidates), rel=1e-12) or best[k] == min(candidates) == math.inf
        assert candidates[index[k]] == pytest.approx(best[k], rel=1e-12) or best[k] == math.inf


def test_best_loss_by_budget_can_switch_learning_rate():
    slow = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5]
    fast_then_stuck = [0.7, 0.6, 0.6, 0.6, 0.6, 0.6]
    best, index = best_loss_by_budget([[slow], [fast_then_stuck]], steps_per_epoch=2)
    np.testing.assert_allclose(best, [0.65, 0.6, 0.55])
    assert list(index) == [1, 1, 0]


def test_best_loss_by_budget_rejects_bad_input():
    with pytest.raises(ValueError, match="steps_per_epoch must divide"):
        best_loss_by_budget(np.ones((1, 1, 5)), 2)


@settings(max_examples=60, deadline=None)
@given(means=st.lists(st.floats(0.01, 10.0), min_size=1, max_size=8), level=st.floats(0.01, 10.0))
def test_good_range_with_an_absolute_level(means, level):
    lrs = [2.0**k for k in range(len(means))]
    s = lr_sensitivity(lrs, [[m] for m in means])
    low, high = s.good_range(level=level)
    best = means.index(min(means))
    if min(means) > level:
        assert math.isnan(low) and math.isnan(high) and math.isnan(s.good_range_decades(level=level))
        return
    i, j = lrs.index(low), lrs.index(high)
    assert i <= best <= j
    assert all(m <= level for m in means[i: j + 1])
    assert i == 0 or means[i - 1] > level
    assert j == len(means) - 1 or means[j + 1] > level


def test_good_range_rejects_a_bad_level():
    s = lr_sensitivity([0.1, 1.0], [[1.0], [2.0]])
    with pytest.raises(ValueError, match="level"):
        s.good_range(level=0.0)
