"""lrcourse.init: shapes, the variance each scheme promises, and bad input."""

import numpy as np
import pytest

from lrcourse import init


@pytest.mark.parametrize(
    "fn, variance",
    [
        (init.he, lambda n_in, n_out: 2.0 / n_in),
        (init.xavier, lambda n_in, n_out: 1.0 / n_in),
        (init.glorot, lambda n_in, n_out: 2.0 / (n_in + n_out)),
    ],
)
@pytest.mark.parametrize("fan_in, fan_out", [(400, 300), (50, 2000)])
def test_shape_mean_and_variance(fn, variance, fan_in, fan_out):
    W = fn(fan_in, fan_out, np.random.default_rng(0))
    assert W.shape == (fan_out, fan_in)
    n = W.size
    # The sample variance of n normal draws has relative standard deviation sqrt(2 / n); allow 5 of those.
    assert W.var() == pytest.approx(variance(fan_in, fan_out), rel=5 * np.sqrt(2 / n))
    assert abs(W.mean()) < 5 * np.sqrt(variance(fan_in, fan_out) / n)


def test_he_keeps_relu_signal_scale_through_depth():
    # With He init, E[a^2] is preserved through ReLU layers; with std 0.01 it collapses.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((256, 512))
    a_he, a_small = x, x
    for _ in range(20):
        a_he = np.maximum(0, init.he(256, 256, rng) @ a_he)
        a_small = np.maximum(0, init.random_scaled(256, 256, rng, scale=0.01) @ a_small)
    assert 0.2 < np.mean(a_he**2) / np.mean(x**2) < 5
    assert np.mean(a_small**2) < 1e-20


def test_same_seed_same_weights():
    a = init.he(3, 2, np.random.default_rng(7))
    b = init.he(3, 2, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_zeros_and_random_scaled():
    np.testing.assert_array_equal(init.zeros(3, 2), np.zeros((2, 3)))
    W = init.random_scaled(100, 100, np.random.default_rng(0), scale=10.0)
    assert W.std() == pytest.approx(10.0, rel=0.05)


@pytest.mark.parametrize("fn", [init.he, init.xavier, init.glorot, init.random_scaled])
def test_bad_inputs(fn):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="fan_in must be >= 1, got 0"):
        fn(0, 3, rng)
    with pytest.raises(ValueError, match="fan_out must be >= 1, got -2"):
        fn(3, -2, rng)
    with pytest.raises(TypeError, match="fan_in must be an integer"):
        fn(2.5, 3, rng)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        fn(2, 3, 42)


def test_bad_scale():
    with pytest.raises(ValueError, match="scale must be > 0"):
        init.random_scaled(2, 2, np.random.default_rng(0), scale=0.0)
