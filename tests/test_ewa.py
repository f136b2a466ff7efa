"""lrcourse.ewa against pandas' exponentially weighted mean and closed forms."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
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
    # Lecture: with beta = 0.98, v_2 carries the factor 1 - 0.98^2 = 0.0396 (the notes misprint 0.396).
    x = [10.0, 10.0]
    v = ewa(x, 0.98)
    assert v[1] == pytest.approx(10.0 * (1 - 0.98**2))
    assert 1 - 0.98**2 == pytest.approx(0.0396)


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
