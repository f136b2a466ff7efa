"""lrcourse.diagnostics against torch autograd at float64 and against closed forms."""

import numpy as np
import pytest
import torch

from lrcourse.diagnostics import (
    gradient_check,
    layer_statistics,
    logistic_hessian,
    steps_to_converge,
)


def _torch_statistics(X, weights, biases, activation, G):
    """The same forward pass and cost written with torch; gradients from autograd."""
    g = {"relu": torch.relu, "tanh": torch.tanh, "linear": lambda z: z}[activation]
    Ws = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W in weights]
    A = torch.tensor(X, dtype=torch.float64)
    activations = []
    for W, b in zip(Ws, biases):
        A = g(W @ A + torch.tensor(b, dtype=torch.float64))
        A.retain_grad()
        activations.append(A)
    cost = (torch.tensor(G) * A).sum() / X.shape[1]
    cost.backward()
    return {
        "activation_mean": np.array([a.mean().item() for a in activations]),
        "activation_std": np.array([a.std(unbiased=False).item() for a in activations]),
        "activation_grad_std": np.array([a.grad.std(unbiased=False).item() for a in activations]),
        "weight_grad_std": np.array([W.grad.std(unbiased=False).item() for W in Ws]),
    }


@pytest.mark.parametrize("activation", ["relu", "tanh", "linear"])
def test_layer_statistics_match_torch_autograd(activation):
    rng = np.random.default_rng(1)
    dims = [5, 7, 6, 6, 3]
    X = rng.standard_normal((dims[0], 11))
    weights = [rng.standard_normal((n, n_prev)) * 0.7 for n_prev, n in zip(dims, dims[1:])]
    biases = [rng.standard_normal((n, 1)) * 0.1 for n in dims[1:]]
    ours = layer_statistics(X, weights, activation=activation, biases=biases, seed=3)
    G = np.random.default_rng(3).standard_normal((dims[-1], 11))  # the documented projection
    theirs = _torch_statistics(X, weights, biases, activation, G)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-10, atol=1e-14, err_msg=key)


def test_deep_linear_network_grows_and_shrinks_geometrically():
    # A[l] = (c I)^l x exactly; the gradient reaching layer l has been multiplied by c^(L-l).
    x = np.array([[1.0], [-2.0]])
    L = 12
    for c in (1.5, 0.5):
        stats = layer_statistics(x, [c * np.eye(2)] * L, activation="linear")
        layers = np.arange(1, L + 1)
        np.testing.assert_allclose(stats["activation_mean"], c**layers * x.mean(), rtol=1e-12)
        np.testing.assert_allclose(stats["activation_std"], c**layers * x.std(), rtol=1e-12)
        ratio = stats["activation_grad_std"][:-1] / stats["activation_grad_std"][1:]
        np.testing.assert_allclose(ratio, c, rtol=1e-12)


def test_zero_weights_give_zero_signals_and_gradients():
    X = np.random.default_rng(0).standard_normal((4, 8))
    for activation in ("relu", "tanh"):
        stats = layer_statistics(X, [np.zeros((4, 4))] * 5, activation=activation)
        assert np.all(stats["activation_std"] == 0.0)
        assert np.all(stats["weight_grad_std"] == 0.0)


def test_layer_statistics_bad_inputs():
    X = np.ones((2, 3))
    with pytest.raises(ValueError, match="activation must be one of"):
        layer_statistics(X, [np.eye(2)], activation="sigmoid")
    with pytest.raises(ValueError, match=r"weights\[1\] must have shape \(n, 2\), got \(2, 3\)"):
        layer_statistics(X, [np.eye(2), np.ones((2, 3))])
    with pytest.raises(ValueError, match="weights must hold at least one"):
        layer_statistics(X, [])
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        layer_statistics(np.ones(3), [np.eye(3)])
    with pytest.raises(ValueError, match="biases must have one entry per layer"):
        layer_statistics(X, [np.eye(2)], biases=[np.zeros((2, 1))] * 2)


def _two_layer_problem(seed=0):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal((4, 1)),
              "W2": rng.standard_normal((1, 4)), "b2": rng.standard_normal((1, 1))}
    X, y = rng.standard_normal((3, 6)), rng.integers(0, 2, (1, 6)).astype(float)

    def cost(p):
        # A small tanh-sigmoid network with cross-entropy plus an L2 term, written in numpy.
        A1 = np.tanh(p["W1"] @ X + p["b1"])
        AL = 1 / (1 + np.exp(-(p["W2"] @ A1 + p["b2"])))
        ce = -np.mean(y * np.log(AL) + (1 - y) * np.log(1 - AL))
        return float(ce + 0.3 / (2 * 6) * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2)))

    def torch_grads(p):
        t = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
        A1 = torch.tanh(t["W1"] @ torch.tensor(X) + t["b1"])
        AL = torch.sigmoid(t["W2"] @ A1 + t["b2"])
        yt = torch.tensor(y)
        ce = -(yt * torch.log(AL) + (1 - yt) * torch.log(1 - AL)).mean()
        (ce + 0.3 / 12 * ((t["W1"] ** 2).sum() + (t["W2"] ** 2).sum())).backward()
        return {k: v.grad.numpy() for k, v in t.items()}

    return params, cost, torch_grads(params)


def test_gradient_check_passes_with_autograd_gradients_and_restores_params():
    params, cost, grads = _two_layer_problem()
    before = {k: v.copy() for k, v in params.items()}
    ids = {k: id(v) for k, v in params.items()}
    result = gradient_check(cost, params, grads)
    assert result.relative_error < 1e-7
    assert all(err < 1e-7 for err in result.by_key.values())
    for key in params:
        np.testing.assert_array_equal(params[key], before[key])
        assert id(params[key]) == ids[key]
        np.testing.assert_allclose(result.numerical[key], grads[key], rtol=1e-5, atol=1e-8)


def test_gradient_check_locates_a_planted_bug():
    params, cost, grads = _two_layer_problem()
    grads = dict(grads, W2=grads["W2"] * 1.1)  # a 10 % error in one array only
    result = gradient_check(cost, params, grads)
    assert result.relative_error > 1e-3
    assert max(result.by_key, key=result.by_key.get) == "W2"
    # ||0.1 g|| / (||1.1 g|| + ||g||) = 0.1 / 2.1, up to the O(eps^2) error of the numerical gradient.
    assert result.by_key["W2"] == pytest.approx(0.1 / 2.1, rel=1e-5)
    assert all(result.by_key[k] < 1e-7 for k in ("W1", "b1", "b2"))


def test_gradient_check_restores_params_when_cost_raises():
    params = {"w": np.array([1.0, 2.0])}
    calls = []

    def cost(p):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return float(np.sum(p["w"]))

    with pytest.raises(RuntimeError, match="boom"):
        gradient_check(cost, params, {"w": np.ones(2)})
    np.testing.assert_array_equal(params["w"], [1.0, 2.0])


def test_gradient_check_bad_inputs():
    params = {"w": np.array([1.0, 2.0])}
    cost = lambda p: float(np.sum(p["w"]))  # noqa: E731
    with pytest.raises(ValueError, match="eps"):
        gradient_check(cost, params, {"w": np.ones(2)}, eps=-1.0)
    with pytest.raises(TypeError, match="cost must be callable"):
        gradient_check(None, params, {"w": np.ones(2)})
    with pytest.raises(ValueError, match="grads must have the keys of params"):
        gradient_check(cost, params, {"v": np.ones(2)})
    with pytest.raises(ValueError, match=r"grads\['w'\] must have shape \(2,\), got \(3,\)"):
        gradient_check(cost, params, {"w": np.ones(3)})
    with pytest.raises(TypeError, match=r"params\['w'\] must be a float64 numpy array"):
        gradient_check(cost, {"w": np.array([1, 2])}, {"w": np.ones(2)})
    with pytest.raises(TypeError, match="cost\\(params\\) must be a real number"):
        gradient_check(lambda p: "x", params, {"w": np.ones(2)})


def test_steps_to_converge():
    assert steps_to_converge([3.0, 2.0, 1.0], 3.0) == 1
    assert steps_to_converge([3.0, 2.0, 1.0], 1.5) == 3
    assert steps_to_converge([3.0, np.nan, 1.0], 1.5) == 3
    assert steps_to_converge([3.0, 1.0, 2.0, 1.0, 1.0], 1.5) == 4  # dipped at step 2, left again at step 3
    assert steps_to_converge([3.0, 1.0, 2.0], 1.5) is None
    assert steps_to_converge([1.0, np.nan], 1.5) is None
    assert steps_to_converge([np.nan, np.inf], 1.0) is None
    with pytest.raises(ValueError, match="costs must be a non-empty 1-D"):
        steps_to_converge(np.ones((2, 2)), 1.0)
    with pytest.raises(ValueError, match="costs must be a non-empty 1-D"):
        steps_to_converge([], 1.0)
    with pytest.raises(ValueError, match="threshold"):
        steps_to_converge([1.0], np.nan)


def test_logistic_hessian_matches_torch():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((3, 20)) * np.array([[1.0], [5.0], [0.2]]) + 1.0
    y = rng.integers(0, 2, 20).astype(float)
    w, b = rng.standard_normal(3), 0.3
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def cost(theta):
        z = theta[:3] @ Xt + theta[3]
        return torch.nn.functional.binary_cross_entropy_with_logits(z, yt)

    expected = torch.autograd.functional.hessian(cost, torch.tensor(np.r_[w, b])).numpy()
    np.testing.assert_allclose(logistic_hessian(X, w.reshape(1, 3), np.array([[b]])), expected, rtol=1e-12)
    # the labels do not enter the Hessian of logistic regression
    np.testing.assert_allclose(logistic_hessian(X, w, b), expected, rtol=1e-12)


def test_logistic_hessian_bad_inputs():
    with pytest.raises(ValueError, match="w must have 2 entries"):
        logistic_hessian(np.ones((2, 3)), [1.0], 0.0)
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        logistic_hessian(np.ones(3), [1.0], 0.0)
    with pytest.raises(ValueError, match="b must be a finite number"):
        logistic_hessian(np.ones((1, 3)), [1.0], np.nan)
    with pytest.raises(ValueError, match="b must be a single number"):
        logistic_hessian(np.ones((1, 3)), [1.0], [0.0, 1.0])


def test_gradient_check_reads_a_network_params_in_place():
    from lrcourse.nn import Network

    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 10)), rng.integers(0, 2, (1, 10)).astype(float)
    net = Network([3, 5, 1], hidden="tanh", lambd=0.5, seed=1)
    _, grads = net.loss_and_grads(X, Y)
    result = gradient_check(lambda p: net.cost(net.forward(X), Y), net.params, grads)
    assert result.relative_error < 1e-7
    # without the L2 term in the cost, only the weights disagree
    result = gradient_check(lambda p: net.cost(net.forward(X), Y, penalty=False), net.params, grads)
    assert result.by_key["W1"] > 1e-4 and result.by_key["W2"] > 1e-4
    assert result.by_key["b1"] < 1e-7 and result.by_key["b2"] < 1e-7
