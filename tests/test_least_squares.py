"""Tests for lrcourse.least_squares.

The cost and its gradient are checked against PyTorch autograd at float64, the minimizer against
torch.linalg.lstsq, and every iterate of mini-batch gradient descent against torch.optim.SGD fed the
same mini-batches (the shuffling contract in the docstring) and the same rates.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcourse import least_squares as L
from lrcourse.schedules import constant, inverse_time_decay

FAST = settings(max_examples=25, deadline=None)


def torch_cost(X, y, w):
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    return 0.5 * torch.mean((X @ w - y) ** 2)


@pytest.fixture
def problem():
    return L.make_problem(n_samples=50, scales=(1.0, 0.4, 2.0), w_true=(1.0, -1.0, 0.5), noise=0.7, seed=3)


def test_make_problem_is_seeded_and_shaped(problem):
    X, y = problem
    assert X.shape == (50, 3) and y.shape == (50,)
    X2, y2 = L.make_problem(n_samples=50, scales=(1.0, 0.4, 2.0), w_true=(1.0, -1.0, 0.5), noise=0.7, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = L.make_problem(n_samples=50, scales=(1.0, 0.4, 2.0), w_true=(1.0, -1.0, 0.5), noise=0.7, seed=4)
    assert not np.array_equal(X, X3)


def test_make_problem_without_noise_is_exactly_linear():
    X, y = L.make_problem(n_samples=30, w_true=(2.0, -3.0), noise=0.0, seed=1)
    np.testing.assert_allclose(y, 2.0 * X[:, 0] - 3.0 * X[:, 1], atol=1e-12)


def test_make_problem_feature_scales():
    X, _ = L.make_problem(n_samples=20000, scales=(1.0, 0.4), seed=0)
    np.testing.assert_allclose(X.std(axis=0), [1.0, 0.4], rtol=0.03)


def test_cost_matches_torch_for_one_vector_and_a_grid(problem):
    X, y = problem
    rng = np.random.default_rng(0)
    grid = rng.standard_normal((4, 5, 3))
    ours = L.cost(X, y, grid)
    assert ours.shape == (4, 5)
    for i in range(4):
        for j in range(5):
            expected = torch_cost(X, y, torch.as_tensor(grid[i, j])).item()
            assert ours[i, j] == pytest.approx(expected, rel=1e-10, abs=1e-12)
    single = L.cost(X, y, grid[0, 0])
    assert isinstance(single, float) and single == pytest.approx(ours[0, 0], rel=1e-12)


def test_gradient_matches_torch_autograd(problem):
    X, y = problem
    w = torch.tensor([0.3, -0.2, 1.1], dtype=torch.float64, requires_grad=True)
    torch_cost(X, y, w).backward()
    np.testing.assert_allclose(L.gradient(X, y, w.detach().numpy()), w.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_minimizer_matches_torch_lstsq_and_zeroes_the_gradient(problem):
    X, y = problem
    expected = torch.linalg.lstsq(torch.as_tensor(X), torch.as_tensor(y).unsqueeze(1)).solution.squeeze(1)
    w_star = L.minimizer(X, y)
    np.testing.assert_allclose(w_star, expected.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(L.gradient(X, y, w_star), 0.0, atol=1e-12)


def torch_minibatch_path(X, y, w0, rates_of, epochs, batch_size, seed, unit):
    """The same run written with torch.optim.SGD; the batches follow the documented shuffling."""
    m = X.shape[0]
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.0)
    rng = np.random.default_rng(seed)
    path, k = [w.detach().clone()], 0
    for epoch in range(epochs):
        order = rng.permutation(m)
        for start in range(0, m, batch_size):
            batch = torch.as_tensor(order[start : start + batch_size])
            opt.param_groups[0]["lr"] = rates_of(k if unit == "step" else epoch)
            opt.zero_grad()
            (0.5 * torch.mean((Xt[batch] @ w - yt[batch]) ** 2)).backward()
            opt.step()
            path.append(w.detach().clone())
            k += 1
    return torch.stack(path).numpy()


@pytest.mark.parametrize("batch_size", [1, 7, 16, 50, 64])
@pytest.mark.parametrize("unit", ["step", "epoch"])
def test_minibatch_path_matches_torch_sgd(problem, batch_size, unit):
    X, y = problem
    w0 = [2.0, 2.0, -1.0]

    def rates_of(t):  # the lecture's inverse-time decay, written out here
        return 0.3 / (1.0 + 0.5 * t)

    path = L.minibatch_gd_path(X, y, w0, inverse_time_decay(0.3, decay_rate=0.5), epochs=3,
                               batch_size=batch_size, seed=5, schedule_unit=unit)
    expected = torch_minibatch_path(X, y, w0, rates_of, 3, batch_size, 5, unit)
    assert path.weights.shape == expected.shape
    np.testing.assert_allclose(path.weights, expected, rtol=1e-12, atol=1e-13)
    steps_per_epoch = -(-50 // batch_size)
    assert path.lr.shape == (3 * steps_per_epoch,)
    assert path.epoch.tolist() == [e for e in range(3) for _ in range(steps_per_epoch)]
    k = np.arange(3 * steps_per_epoch)
    np.testing.assert_allclose(path.lr, rates_of(k if unit == "step" else path.epoch))


def test_zero_rate_never_moves(problem):
    X, y = problem
    path = L.minibatch_gd_path(X, y, [1.0, 2.0, 3.0], constant(0.0), epochs=2, batch_size=8)
    assert (path.weights == [1.0, 2.0, 3.0]).all()


def test_same_seed_same_path_other_seed_other_path(problem):
    X, y = problem
    a = L.minibatch_gd_path(X, y, [0.0, 0.0, 0.0], constant(0.1), epochs=2, batch_size=8, seed=1)
    b = L.minibatch_gd_path(X, y, [0.0, 0.0, 0.0], constant(0.1), epochs=2, batch_size=8, seed=1)
    c = L.minibatch_gd_path(X, y, [0.0, 0.0, 0.0], constant(0.1), epochs=2, batch_size=8, seed=2)
    assert np.array_equal(a.weights, b.weights)
    assert not np.array_equal(a.weights, c.weights)


@FAST
@given(seed=st.integers(0, 10_000), lr=st.floats(0.01, 0.9))
def test_full_batch_descent_lowers_the_cost_every_step(seed, lr):
    # For a quadratic, gradient descent with rate below 2 / (largest curvature) lowers J at every step
    # unless it is already at the minimum.
    X, y = L.make_problem(n_samples=40, scales=(1.0, 0.5), seed=seed)
    curvature = np.linalg.eigvalsh(X.T @ X / 40).max()
    path = L.minibatch_gd_path(X, y, [3.0, -3.0], constant(lr / curvature), epochs=20, batch_size=40)
    costs = L.cost(X, y, path.weights)
    assert (np.diff(costs) <= 1e-12).all()
    assert costs[-1] < costs[0]


def test_decaying_rate_converges_to_the_minimizer():
    # Robbins-Monro: sum of rates infinite, sum of squares finite, so SGD converges to w*.
    X, y = L.make_problem(n_samples=64, seed=0)
    w_star = L.minimizer(X, y)
    path = L.minibatch_gd_path(X, y, [3.0, 3.0], inverse_time_decay(0.5, decay_rate=0.05), epochs=400,
                               batch_size=4, seed=0)
    assert np.linalg.norm(path.weights[-1] - w_star) < 0.05


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_samples": 0}, ValueError, "n_samples must be >= 1, got 0"),
        ({"noise": -1.0}, ValueError, "noise must be >= 0, got -1.0"),
        ({"scales": (1.0, -0.5)}, ValueError, r"scales\[1\] must be >= 0, got -0.5"),
        ({"w_true": (1.0,)}, ValueError, "w_true must have one entry per scale"),
        ({"seed": 1.5}, TypeError, "seed must be an integer, got 1.5"),
    ],
)
def test_make_problem_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        L.make_problem(**kwargs)


def test_shape_checks(problem):
    X, y = problem
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        L.cost(X[:, 0], y, [0.0])
    with pytest.raises(ValueError, match=r"y must have shape \(50,\)"):
        L.gradient(X, y[:-1], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="w must have last dimension 3"):
        L.cost(X, y, [0.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        L.minimizer(np.full((3, 2), np.nan), np.zeros(3))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"schedule": 0.1}, TypeError, "schedule must be a callable schedule"),
        ({"epochs": 0}, ValueError, "epochs must be >= 1, got 0"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1, got 0"),
        ({"schedule_unit": "batch"}, ValueError, r"schedule_unit must be one of \['step', 'epoch'\], got 'batch'"),
        ({"w0": [0.0, 0.0]}, ValueError, "w0 must have last dimension 3"),
        ({"schedule": lambda t: -0.1}, ValueError, r"schedule\(t\) must be >= 0, got -0.1"),
    ],
)
def test_minibatch_path_rejects_bad_arguments(problem, kwargs, error, match):
    X, y = problem
    args = {"w0": [0.0, 0.0, 0.0], "schedule": constant(0.1), "epochs": 1}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        L.minibatch_gd_path(X, y, **args)


@pytest.mark.parametrize("batch_size", [1, 2, 3, 6])
def test_minibatch_gradient_covariance_by_enumerating_every_batch(batch_size):
    # Every batch of `batch_size` distinct examples is equally likely: average over all of them.
    from itertools import combinations

    X, y = L.make_problem(n_samples=6, scales=(1.0, 0.5), noise=1.0, seed=2)
    w = np.array([0.4, -0.3])
    grads = np.array([L.gradient(X[list(B)], y[list(B)], w) for B in combinations(range(6), batch_size)])
    expected = np.cov(grads.T, bias=True)
    np.testing.assert_allclose(L.minibatch_gradient_covariance(X, y, w, batch_size), expected, atol=1e-12)
    np.testing.assert_allclose(grads.mean(axis=0), L.gradient(X, y, w), atol=1e-12)


def test_minibatch_gradient_covariance_rejects_a_batch_larger_than_the_data(problem):
    X, y = problem
    with pytest.raises(ValueError, match="batch_size must be <= m = 50, got 51"):
        L.minibatch_gradient_covariance(X, y, [0.0, 0.0, 0.0], 51)
