"""lrcourse.ewa against pandas' exponentially weighted mean and closed forms."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrcourse.ewa import effective_window, ewa

betas = st.floats(min_value=0.0, max_value=0.99)
series = st.lists(st.floats(min_value=-100, max_value=100), min_size=1, max_size=60)


@given(series, betas)
def test_uncorrected_matches_pandas_started_at_zero(x, beta):
    # pandas' adjust=False recursion y_t = (1 - a) y_{t-1} + a x_t with a = 1 - beta, seeded with v_0 = 0.
    expected = pd.Series([0.0] + x).ewm(alpha=1 - beta, adjust=False).mean().to_numpy()[1:]
    np.testing.assert_allclose(ewa(x, beta), expected, rtol=1e-10, atol=1e-9)


@given(series, st.floats(min_value=0.01, max_value=0.99))
def test_bias_corrected_matches_pandas_adjusted_mean(x, beta):
    # adjust=True is the weighted mean sum beta^i x_{t-i} / sum beta^i, which is exactly v_t / (1 - beta^t).
    expected = pd.Series(x).ewm(alpha=1 - beta, adjust=True).mean().to_numpy()
    np.testing.assert_allclose(ewa(x, beta, bias_correction=True), expected, rtol=1e-9, atol=1e-8)


@given(st.floats(min_value=-50, max_value=50), betas, st.integers(min_value=1, max_value=40))
def test_bias_corrected_average_of_a_constant_is_that_constant(c, beta, n):
    np.testing.assert_allclose(ewa([c] * n, beta, bias_correction=True), np.full(n, c), rtol=1e-9, atol=1e-9)


def test_lecture_bias_correction_example():
    # Lecture: with beta = 0.98 and a constant theta, v_1 = 0.02 theta and
    # v_2 = 0.98 * 0.02 theta + 0.02 theta = 0.0396 theta (the notes misprint 0.396), far below theta;
    # dividing by the correction factor 1 - beta^t (0.02, then 1 - 0.98^2 = 0.0396) gives theta back.
    theta = 10.0
    v = ewa([theta, theta], 0.98)
    v_hat = ewa([theta, theta], 0.98, bias_correction=True)
    assert v[0] == pytest.approx(0.02 * theta, rel=1e-12)
    assert v[1] == pytest.approx(0.0396 * theta, rel=1e-12)
    assert v_hat[0] == pytest.approx(theta, rel=1e-12)
    assert v_hat[1] == pytest.approx(theta, rel=1e-12)


@pytest.mark.parametrize("bias_correction", [False, True])
def test_empty_series_matches_pandas(bias_correction):
    # pandas' ewm of an empty Series / DataFrame is empty, with the same shape (adjust=True is the
    # bias-corrected average, adjust=False the uncorrected one, as in the tests above).
    series = pd.Series([], dtype=np.float64).ewm(alpha=0.1, adjust=bias_correction).mean().to_numpy()
    frame = pd.DataFrame(np.empty((0, 3))).ewm(alpha=0.1, adjust=bias_correction).mean().to_numpy()
    for x, expected in [([], series), (np.empty(0, dtype=np.int64), series), (np.empty((0, 3)), frame)]:
        out = ewa(x, 0.9, bias_correction=bias_correction)
        assert isinstance(out, np.ndarray) and out.dtype == np.float64
        assert out.shape == expected.shape
    assert series.shape == (0,) and frame.shape == (0, 3)
    # more axes: the shape of the input, whatever it is
    assert ewa(np.empty((0, 2, 4)), 0.5, bias_correction=bias_correction).shape == (0, 2, 4)


def test_time_along_first_axis_of_2d_input():
    x = np.arange(12.0).reshape(6, 2)
    out = ewa(x, 0.7)
    np.testing.assert_allclose(out[:, 1], ewa(x[:, 1], 0.7))


@pytest.mark.parametrize("beta, window", [(0.9, 10.0), (0.98, 50.0), (0.5, 2.0)])
def test_effective_window(beta, window):
    assert effective_window(beta) == pytest.approx(window)
    # The 1/e argument: beta ** (1 / (1 - beta)) is close to 1/e for beta near 1.
    if beta >= 0.9:
        assert beta ** effective_window(beta) == pytest.approx(np.exp(-1), rel=0.06)


@pytest.mark.parametrize("beta", [-0.1, 1.0, 1.5, float("nan")])
def test_bad_beta(beta):
    with pytest.raises(ValueError, match="beta"):
        ewa([1.0], beta)
    with pytest.raises(ValueError, match="beta"):
        effective_window(beta)


def test_bad_inputs():
    with pytest.raises(TypeError, match="beta"):
        ewa([1.0], "0.9")
    with pytest.raises(TypeError, match="bias_correction"):
        ewa([1.0], 0.9, bias_correction="yes")
    with pytest.raises(ValueError, match="x must be a sequence"):
        ewa(3.0, 0.9)
