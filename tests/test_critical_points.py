"""lrcourse.critical_points: the plateau against torch autograd, the Monte Carlo fraction against integrals.

The plateau's value and hand-written gradient are checked against torch.autograd at float64 on random points.
The fraction of positive-definite random symmetric matrices is checked against independent answers: 1/2 for
n = 1 (a symmetric Gaussian is positive half the time) and, for n = 2, the probability written as a double
integral and evaluated by scipy's quadrature.
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from lrcourse.critical_points import Plateau, fraction_positive_definite
from lrcourse.landscapes import optimize_path, steps_to_tolerance
from lrcourse.optim import SGD, Adam

coordinate = st.floats(min_value=-6.0, max_value=6.0, allow_nan=False)


# --- Plateau ----------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(x=coordinate, y=coordinate, width=st.floats(min_value=0.3, max_value=3.0))
def test_plateau_value_and_gradient_match_torch_autograd(x, y, width):
    f = Plateau(width=width)
    theta = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
    value = 1 - torch.exp(-(theta**2).sum() / (2 * width**2))
    value.backward()
    point = np.array([x, y])
    assert f.value(point) == pytest.approx(value.item(), rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(f.grad(point), theta.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_plateau_works_on_paths_and_grids():
    f = Plateau(width=2.0)
    points = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, -2.0]])
    # at distance w from the centre: 1 - exp(-1/2)
    np.testing.assert_allclose(f.value(points), [0.0, 1 - math.exp(-0.5), 1 - math.exp(-0.5)], rtol=1e-14)
    assert f.grad(points).shape == (3, 2)
    X, Y, Z = f.grid((-1, 1), (-2, 2), num=5)
    assert Z.shape == (5, 5) and Z[2, 2] == 0.0
    np.testing.assert_array_equal(f.minimum, [0.0, 0.0])


def test_plateau_curvature_at_the_minimum_is_one_over_width_squared():
    # f ~ ||theta||^2 / (2 w^2) near 0, so the gradient is ~ theta / w^2
    f = Plateau(width=0.5)
    np.testing.assert_allclose(f.grad(np.array([1e-6, -2e-6])), [4e-6, -8e-6], rtol=1e-9)


def test_adam_crosses_the_plateau_where_gradient_descent_crawls():
    f = Plateau()
    start = [3.5, 2.5]
    gd = optimize_path(f, start, SGD(lr=1.0), steps=300)
    adam = optimize_path(f, start, Adam(lr=0.1), steps=300)
    assert steps_to_tolerance(f, gd, tol=1e-2) is None
    assert steps_to_tolerance(f, adam, tol=1e-2) < 50


@pytest.mark.parametrize("width", [0.0, -1.0, float("nan"), float("inf")])
def test_plateau_rejects_a_bad_width(width):
    with pytest.raises(ValueError, match="width"):
        Plateau(width=width)


def test_plateau_rejects_a_width_of_the_wrong_type():
    with pytest.raises(TypeError, match="width"):
        Plateau(width="1")


def test_plateau_rejects_points_of_the_wrong_dimension():
    with pytest.raises(ValueError, match="x must have 2 coordinates"):
        Plateau().value([1.0, 2.0, 3.0])


# --- fraction_positive_definite -----------------------------------------------------------------------


def _tolerance(p, samples):
    return 5 * math.sqrt(p * (1 - p) / samples)  # five binomial standard errors


def test_one_by_one_matrices_are_positive_half_the_time():
    samples = 100_000
    assert abs(fraction_positive_definite(1, samples=samples, seed=3) - 0.5) < _tolerance(0.5, samples)


def test_two_by_two_fraction_matches_the_double_integral():
    # H = [[a, b], [b, c]] with a, c ~ N(0, 1) and b = (A12 + A21) / 2 ~ N(0, 1/2). H is positive definite
    # iff a > 0, c > 0 and b^2 < a c; for b ~ N(0, 1/2), P(|b| < s) = erf(s). So
    # p_2 = int_0^inf int_0^inf phi(a) phi(c) erf(sqrt(a c)) da dc (the tails beyond 9 are below 1e-17).
    exact, _ = integrate.dblquad(
        lambda c, a: math.exp(-(a * a + c * c) / 2) / (2 * math.pi) * math.erf(math.sqrt(a * c)),
        0, 9, 0, 9, epsabs=1e-10,
    )
    samples = 100_000
    estimate = fraction_positive_definite(2, samples=samples, seed=1)
    assert abs(estimate - exact) < _tolerance(exact, samples)


def test_minima_become_rarer_than_coin_flips_as_the_dimension_grows():
    fractions = [fraction_positive_definite(n, samples=20_000, seed=0) for n in (2, 3, 4)]
    assert fractions[0] > fractions[1] > fractions[2]
    for n, p in zip((2, 3, 4), fractions):
        assert p < 2.0**-n
    assert fraction_positive_definite(12, samples=2_000, seed=0) == 0.0


def test_fraction_is_reproducible_and_a_multiple_of_one_over_samples():
    a = fraction_positive_definite(3, samples=12_345, seed=7)
    assert a == fraction_positive_definite(3, samples=12_345, seed=7)
    assert a * 12_345 == pytest.approx(round(a * 12_345), abs=1e-9)
    assert 0.0 <= a <= 1.0


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        ({"n": 0}, ValueError, "^n must be >= 1, got 0$"),
        ({"n": 2.0}, TypeError, "^n must be an integer, got 2.0"),
        ({"n": 2, "samples": 0}, ValueError, "^samples must be >= 1, got 0$"),
        ({"n": 2, "samples": True}, TypeError, "^samples must be an integer, got True"),
        ({"n": 2, "seed": -1}, ValueError, "^seed must be >= 0, got -1$"),
    ],
)
def test_fraction_rejects_bad_arguments(kwargs, error, name):
    with pytest.raises(error, match=name):
        fraction_positive_definite(**kwargs)
