"""lrcourse.gradcheck against derivatives written in closed form."""

import numpy as np
import pytest

from lrcourse.gradcheck import numerical_gradient, relative_error


def test_matches_closed_form_gradient():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)

    def f(v):
        return float(np.sin(v).sum() + v @ A @ v)

    exact = np.cos(x) + (A + A.T) @ x
    assert relative_error(numerical_gradient(f, x), exact) < 1e-8


def test_matrix_input_keeps_shape_and_leaves_input_untouched():
    X = np.arange(6.0).reshape(2, 3)
    before = X.copy()
    g = numerical_gradient(lambda W: float(np.sum(W**2)), X)
    assert g.shape == (2, 3)
    np.testing.assert_allclose(g, 2 * X, atol=1e-6)
    np.testing.assert_array_equal(X, before)


def test_two_sided_error_shrinks_like_eps_squared():
    # f = x^3 at x = 1: the centred difference is 3 + eps^2 exactly, so the error is eps^2.
    for eps in (1e-1, 1e-2):
        g = numerical_gradient(lambda v: float(v[0] ** 3), np.array([1.0]), eps=eps)
        assert g[0] - 3.0 == pytest.approx(eps**2, rel=1e-6)


def test_relative_error_closed_forms():
    assert relative_error([3.0, 4.0], [3.0, 4.0]) == 0.0
    assert relative_error([0.0], [0.0]) == 0.0
    # ||a - b|| / (||a|| + ||b||) with a = (1, 0), b = (-1, 0) is 2 / 2.
    assert relative_error([1.0, 0.0], [-1.0, 0.0]) == pytest.approx(1.0)
    assert relative_error([2.0], [1.0]) == pytest.approx(1 / 3)


def test_bad_inputs():
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(lambda v: 0.0, np.zeros(2), eps=0.0)
    with pytest.raises(TypeError, match="f must be callable"):
        numerical_gradient(3.0, np.zeros(2))
    with pytest.raises(ValueError, match=r"same shape, got \(2,\) and \(3,\)"):
        relative_error(np.zeros(2), np.zeros(3))
