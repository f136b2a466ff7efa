"""lrcourse.landscapes: values and gradients against torch autograd, paths against closed forms and torch.optim.

The gradients written by hand in the module are compared with torch's automatic differentiation of the
same functions written here again in torch, at float64. Paths are compared with closed forms of the linear
recursions that gradient descent and momentum follow on a quadratic, and with torch.optim optimizers run
through the reference torch loop below (which differentiates the torch function, not the module's gradient).
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcourse.landscapes import (
    Quadratic,
    Rosenbrock,
    optimize_path,
    ravine,
    saddle,
    steps_to_tolerance,
    torch_path,
)
from lrcourse.optim import SGD, Adam, Momentum, RMSprop

RTOL, ATOL = 1e-12, 1e-12
STEPS_ROSENBROCK = 80  # later steps amplify round-off (RMSprop oscillates across the valley)


# --- the functions written again in torch --------------------------------------------------------------


def torch_quadratic(A, c):
    A, c = torch.tensor(A, dtype=torch.float64), torch.tensor(c, dtype=torch.float64)
    return lambda x: 0.5 * (x - c) @ A @ (x - c)


def torch_rosenbrock(a, b):
    return lambda x: (a - x[0]) ** 2 + b * (x[1] - x[0] ** 2) ** 2


def autograd(f_torch, x):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    value = f_torch(t)
    value.backward()
    return value.item(), t.grad.numpy()


def random_symmetric(rng, d):
    M = rng.normal(size=(d, d))
    return M + M.T


CASES = {
    "quadratic_3d": lambda rng: (
        Quadratic(A := random_symmetric(rng, 3), center=(c := rng.normal(size=3))),
        torch_quadratic(A, c),
    ),
    "ravine": lambda rng: (ravine(flat=0.7, steep=12.0), torch_quadratic(np.diag([0.7, 12.0]), np.zeros(2))),
    "saddle": lambda rng: (saddle(up=2.0, down=0.5), torch_quadratic(np.diag([2.0, -0.5]), np.zeros(2))),
    "rosenbrock": lambda rng: (Rosenbrock(), torch_rosenbrock(1.0, 100.0)),
    "rosenbrock_shifted": lambda rng: (Rosenbrock(a=-0.5, b=3.0), torch_rosenbrock(-0.5, 3.0)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_value_and_gradient_match_torch_autograd(name):
    rng = np.random.default_rng(0)
    f, f_torch = CASES[name](rng)
    for x in rng.normal(scale=2.0, size=(25, f.dim)):
        value, grad = autograd(f_torch, x)
        assert f.value(x) == pytest.approx(value, rel=RTOL, abs=ATOL)
        np.testing.assert_allclose(f.grad(x), grad, rtol=RTOL, atol=1e-10)
        assert f(x) == f.value(x)


@pytest.mark.parametrize("name", list(CASES))
def test_batched_points_agree_with_single_points(name):
    rng = np.random.default_rng(1)
    f, f_torch = CASES[name](rng)
    points = rng.normal(size=(4, 5, f.dim))
    values, grads = f.value(points), f.grad(points)
    assert values.shape == (4, 5) and grads.shape == (4, 5, f.dim)
    for i in range(4):
        for j in range(5):
            value, grad = autograd(f_torch, points[i, j])
            assert values[i, j] == pytest.approx(value, rel=RTOL, abs=ATOL)
            np.testing.assert_allclose(grads[i, j], grad, rtol=RTOL, atol=1e-10)


def test_grid_matches_closed_form():
    f = ravine(flat=1.5, steep=8.0)
    X, Y, Z = f.grid((-3.0, 1.0), (-2.0, 2.0), num=7)
    assert X.shape == Y.shape == Z.shape == (7, 7)
    np.testing.assert_allclose(X[0], np.linspace(-3.0, 1.0, 7))
    np.testing.assert_allclose(Y[:, 0], np.linspace(-2.0, 2.0, 7))
    np.testing.assert_allclose(Z, 0.5 * (1.5 * X**2 + 8.0 * Y**2), rtol=RTOL)


def test_minimum_and_curvatures():
    assert ravine(flat=2.0, steep=30.0).curvatures.tolist() == [2.0, 30.0]
    np.testing.assert_array_equal(ravine().minimum, [0.0, 0.0])
    assert saddle().minimum is None
    np.testing.assert_allclose(Rosenbrock(a=2.0).minimum, [2.0, 4.0])
    assert Rosenbrock(a=2.0).value([2.0, 4.0]) == 0.0
    f = Quadratic([[2.0, 1.0], [1.0, 2.0]], center=[1.0, -1.0])
    np.testing.assert_allclose(f.curvatures, [1.0, 3.0])
    assert f.value(f.minimum) == 0.0


# --- paths against closed forms ----------------------------------------------------------------------


diag_entries = st.floats(min_value=-2.0, max_value=20.0)
start_coords = st.floats(min_value=-5.0, max_value=5.0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(diag_entries, min_size=2, max_size=2),
    st.floats(min_value=0.0, max_value=0.19),
    st.lists(start_coords, min_size=2, max_size=2),
    st.integers(min_value=0, max_value=30),
)
def test_gradient_descent_on_a_quadratic_is_a_matrix_power(curvatures, lr, x0, steps):
    # theta_t - c = (I - lr A)^t (theta_0 - c), for every t
    rng = np.random.default_rng(2)
    Q, _ = np.linalg.qr(rng.normal(size=(2, 2)))
    A = Q @ np.diag(curvatures) @ Q.T
    A = 0.5 * (A + A.T)
    c = np.array([0.5, -1.0])
    path = optimize_path(Quadratic(A, center=c).grad, x0, SGD(lr=lr), steps=steps)
    assert path.shape == (steps + 1, 2)
    M = np.eye(2) - lr * A
    for t in range(steps + 1):
        expected = c + np.linalg.matrix_power(M, t) @ (np.array(x0) - c)
        np.testing.assert_allclose(path[t], expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.99])
def test_momentum_on_a_quadratic_is_a_matrix_power(beta):
    # The state (v_t, theta_t) follows a linear recursion:
    #   v_t     = beta v_{t-1} + (1 - beta) A theta_{t-1}
    #   theta_t = theta_{t-1} - lr v_t = -lr beta v_{t-1} + (I - lr (1 - beta) A) theta_{t-1}
    A, lr, x0, steps = np.diag([1.0, 10.0]), 0.15, np.array([-4.0, 1.5]), 60
    I = np.eye(2)
    M = np.block([[beta * I, (1 - beta) * A], [-lr * beta * I, I - lr * (1 - beta) * A]])
    path = optimize_path(ravine(flat=1.0, steep=10.0), x0, Momentum(lr=lr, beta=beta), steps=steps)
    for t in range(steps + 1):
        expected = np.linalg.matrix_power(M, t) @ np.concatenate([np.zeros(2), x0])
        np.testing.assert_allclose(path[t], expected[2:], rtol=1e-10, atol=1e-12)


def test_torch_path_gradient_descent_is_a_matrix_power():
    A, lr, x0 = np.diag([1.0, 10.0]), 0.18, np.array([-4.0, 1.5])
    path = torch_path(ravine(), x0, lambda ps: torch.optim.SGD(ps, lr=lr), steps=25)
    for t in range(26):
        np.testing.assert_allclose(path[t], np.linalg.matrix_power(np.eye(2) - lr * A, t) @ x0, rtol=1e-12)


# --- paths against torch.optim, driven by torch autograd of the torch function ---------------------------


def reference_torch_loop(f_torch, x0, make_optimizer, steps):
    theta = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([theta])
    out = [theta.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        f_torch(theta).backward()
        opt.step()
        out.append(theta.detach().clone())
    return torch.stack(out).numpy()


OPTIMIZERS = {
    "momentum": (lambda: Momentum(lr=0.02, beta=0.9), lambda ps: torch.optim.SGD(ps, lr=0.02 * 0.1, momentum=0.9)),
    "rmsprop": (lambda: RMSprop(lr=0.01, beta=0.9), lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9)),
    "adam": (lambda: Adam(lr=0.02), lambda ps: torch.optim.Adam(ps, lr=0.02, foreach=False)),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_paths_on_rosenbrock_match_torch(name):
    make_ours, make_torch = OPTIMIZERS[name]
    x0 = [-1.2, 1.0]
    expected = reference_torch_loop(torch_rosenbrock(1.0, 100.0), x0, make_torch, steps=STEPS_ROSENBROCK)
    ours = optimize_path(Rosenbrock(), x0, make_ours(), steps=STEPS_ROSENBROCK)
    theirs = torch_path(Rosenbrock(), x0, make_torch, steps=STEPS_ROSENBROCK)
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(theirs, expected, rtol=1e-9, atol=1e-11)
    assert np.abs(ours[-1] - ours[0]).max() > 0.1  # the optimizer really moved


def test_path_does_not_touch_the_start_array():
    x0 = np.array([1.0, 2.0])
    optimize_path(ravine(), x0, SGD(lr=0.1), steps=5)
    torch_path(ravine(), x0, lambda ps: torch.optim.SGD(ps, lr=0.1), steps=5)
    np.testing.assert_array_equal(x0, [1.0, 2.0])


def test_zero_steps_return_the_start():
    np.testing.assert_array_equal(optimize_path(ravine(), [1.0, 2.0], SGD(lr=0.1), steps=0), [[1.0, 2.0]])


@pytest.mark.parametrize("runner", ["numpy", "torch"])
def test_stop_norm_stops_a_diverging_run(runner):
    # lr * steep = 3: y_t = (1 - 3)^t = (-2)^t, so |y_t| first exceeds 100 at t = 7 (128).
    f, x0 = ravine(flat=1.0, steep=10.0), [0.0, 1.0]
    if runner == "numpy":
        path = optimize_path(f, x0, SGD(lr=0.3), steps=50, stop_norm=100.0)
    else:
        path = torch_path(f, x0, lambda ps: torch.optim.SGD(ps, lr=0.3), steps=50, stop_norm=100.0)
    assert path.shape == (8, 2)
    np.testing.assert_allclose(path[:, 1], (-2.0) ** np.arange(8))


def test_steps_to_tolerance_closed_form():
    # From (1, 0) with lr * flat = 0.5, f(theta_t) = 0.5 * 0.25**t: first <= 1e-4 at t = 7 (0.5 / 16384 = 3.05e-5).
    f = ravine(flat=1.0, steep=10.0)
    path = optimize_path(f, [1.0, 0.0], SGD(lr=0.5), steps=20)
    assert steps_to_tolerance(f, path, 1e-4) == 7
    assert steps_to_tolerance(f, path[:7], 1e-4) is None
    g = Rosenbrock()
    assert steps_to_tolerance(g, np.array([[0.0, 0.0], [1.0, 1.0]]), 1e-9) == 1


# --- input checks --------------------------------------------------------------------------------------


def test_quadratic_rejects_bad_matrices():
    with pytest.raises(ValueError, match="A must be a square matrix"):
        Quadratic([[1.0, 2.0]])
    with pytest.raises(ValueError, match="A must be symmetric"):
        Quadratic([[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="A must contain finite"):
        Quadratic([[1.0, np.nan], [np.nan, 1.0]])
    with pytest.raises(ValueError, match="center must be 2 finite numbers"):
        Quadratic(np.eye(2), center=[1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: ravine(flat=0.0), r"^flat must be > 0, got 0\.0$"),
        (lambda: ravine(steep=-1.0), r"^steep must be > 0, got -1\.0$"),
        (lambda: saddle(up=0.0), r"^up must be > 0, got 0\.0$"),
        (lambda: saddle(down=float("nan")), "^down must be a finite number, got nan$"),
        (lambda: Rosenbrock(b=0.0), r"^b must be > 0, got 0\.0$"),
        (lambda: Rosenbrock(a=float("inf")), "^a must be a finite number, got inf$"),
    ],
)
def test_factories_reject_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_points_must_have_the_right_number_of_coordinates():
    with pytest.raises(ValueError, match=r"x must have 2 coordinates on its last axis, got shape \(3,\)"):
        ravine().value([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="x must have 2 coordinates"):
        Rosenbrock().grad(1.0)
    with pytest.raises(TypeError, match="x must be an array of numbers"):
        ravine().grad(["a", "b"])


def test_grid_checks():
    with pytest.raises(ValueError, match="xlim must have low < high"):
        ravine().grid((1.0, -1.0), (-1.0, 1.0))
    with pytest.raises(ValueError, match="ylim must be a pair"):
        ravine().grid((-1.0, 1.0), 3.0)
    with pytest.raises(ValueError, match="num must be >= 2"):
        ravine().grid((-1.0, 1.0), (-1.0, 1.0), num=1)
    with pytest.raises(ValueError, match="grid needs a 2-D landscape, got dim=3"):
        Quadratic(np.eye(3)).grid((-1.0, 1.0), (-1.0, 1.0))


def test_path_checks():
    f = ravine()
    with pytest.raises(TypeError, match="optimizer must be an lrcourse.optim optimizer"):
        optimize_path(f, [1.0, 1.0], torch.optim.SGD([torch.zeros(1)], lr=0.1), steps=3)
    with pytest.raises(ValueError, match="steps must be >= 0, got -1"):
        optimize_path(f, [1.0, 1.0], SGD(lr=0.1), steps=-1)
    with pytest.raises(ValueError, match="x0 must be a 1-D array of finite numbers"):
        optimize_path(f, [[1.0, 1.0]], SGD(lr=0.1), steps=3)
    with pytest.raises(ValueError, match="x0 must be a 1-D array of finite numbers"):
        optimize_path(f, [np.nan, 1.0], SGD(lr=0.1), steps=3)
    with pytest.raises(TypeError, match="grad must be a callable"):
        optimize_path("ravine", [1.0, 1.0], SGD(lr=0.1), steps=3)
    with pytest.raises(ValueError, match=r"grad must return an array of shape \(2,\), got shape \(3,\)"):
        optimize_path(lambda x: np.zeros(3), [1.0, 1.0], SGD(lr=0.1), steps=3)
    with pytest.raises(ValueError, match="stop_norm must be > 0"):
        optimize_path(f, [1.0, 1.0], SGD(lr=0.1), steps=3, stop_norm=0.0)
    with pytest.raises(TypeError, match="make_optimizer must return a torch.optim.Optimizer"):
        torch_path(f, [1.0, 1.0], lambda ps: SGD(lr=0.1), steps=3)
    with pytest.raises(TypeError, match="make_optimizer must be a callable"):
        torch_path(f, [1.0, 1.0], None, steps=3)


def test_steps_to_tolerance_checks():
    path = np.zeros((3, 2))
    with pytest.raises(ValueError, match="landscape must have a minimum"):
        steps_to_tolerance(saddle(), path, 1e-3)
    with pytest.raises(ValueError, match="tol must be > 0"):
        steps_to_tolerance(ravine(), path, 0.0)
    with pytest.raises(ValueError, match="path must have shape"):
        steps_to_tolerance(ravine(), np.zeros(2), 1e-3)
    with pytest.raises(TypeError, match="landscape must be a Landscape"):
        steps_to_tolerance(lambda x: x, path, 1e-3)
