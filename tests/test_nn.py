"""lrcourse.nn against torch autograd at float64, the numerical gradient, and closed forms.

The torch network is written here from the same parameter values (nothing of lrcourse's forward or backward
is reused): linear layers, torch activations, torch's own losses, and for dropout the same Bernoulli masks,
rebuilt from a generator seeded like the one handed to lrcourse (one ``rng.random(shape) < keep_prob`` per
hidden layer with keep_prob < 1, in layer order).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lrcourse import init as lr_init
from lrcourse.gradcheck import numerical_gradient, relative_error
from lrcourse.nn import (
    Network,
    activation_backward,
    backward_layer,
    cross_entropy,
    cross_entropy_from_logits,
    forward_layer,
    max_norm,
    mc_dropout_predict,
    params_to_vector,
    relu,
    sigmoid,
    softmax,
    tanh,
    vector_to_params,
)

RTOL, ATOL = 1e-10, 1e-12


def make_data(n_x=4, m=7, n_out=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_x, m))
    if n_out == 1:
        Y = (rng.random((1, m)) < 0.5).astype(float)
    else:
        labels = rng.integers(0, n_out, size=m)
        Y = np.eye(n_out)[:, labels]
    return X, Y


def torch_cost_and_grads(net, X, Y, mask_seed=None, l1=0.0):
    """The same network written directly in torch; returns (cost, {key: grad})."""
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in net.params.items()}
    A = torch.tensor(X, dtype=torch.float64)
    Yt = torch.tensor(Y, dtype=torch.float64)
    m = X.shape[1]
    mask_rng = None if mask_seed is None else np.random.default_rng(mask_seed)
    for l in range(1, net.L + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        if l < net.L:
            A = torch.relu(Z) if net.hidden == "relu" else torch.tanh(Z)
            p = net.keep_prob[l - 1]
            if mask_rng is not None and p < 1.0:
                D = torch.tensor(mask_rng.random(tuple(A.shape)) < p, dtype=torch.float64)
                A = A * D / p
        else:
            logits = Z
    if net.output == "sigmoid":
        J = F.binary_cross_entropy_with_logits(logits, Yt, reduction="mean")
    else:
        # rows are classes, columns are examples: cross_entropy wants (m, C)
        J = F.cross_entropy(logits.T, Yt.T.argmax(dim=1), reduction="mean")
    weights = [params[f"W{l}"] for l in range(1, net.L + 1)]
    J = J + net.lambd / (2 * m) * sum((W ** 2).sum() for W in weights)
    J = J + l1 / m * sum(W.abs().sum() for W in weights)
    J.backward()
    return J.item(), {k: v.grad.numpy() for k, v in params.items()}


OPTIONS = [
    dict(hidden="relu", output="sigmoid"),
    dict(hidden="tanh", output="sigmoid"),
    dict(hidden="relu", output="softmax"),
    dict(hidden="tanh", output="softmax"),
    dict(hidden="relu", output="sigmoid", lambd=0.7),
    dict(hidden="tanh", output="softmax", lambd=2.0),
    dict(hidden="relu", output="sigmoid", l1=0.3),
    dict(hidden="tanh", output="softmax", l1=0.5, lambd=0.1),
    dict(hidden="relu", output="sigmoid", keep_prob=0.7),
    dict(hidden="tanh", output="softmax", keep_prob=(0.6, 1.0)),
    dict(hidden="relu", output="softmax", keep_prob=(0.5, 0.8), lambd=0.3),
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_gradients_match_torch_autograd(options):
    n_out = 3 if options["output"] == "softmax" else 1
    X, Y = make_data(n_out=n_out, m=9)
    net = Network([4, 5, 6, n_out], seed=3, init="xavier", **options)
    dropping = any(p < 1 for p in net.keep_prob)
    cost, grads = net.loss_and_grads(X, Y, rng=np.random.default_rng(11) if dropping else None)
    t_cost, t_grads = torch_cost_and_grads(net, X, Y, mask_seed=11 if dropping else None, l1=net.l1)
    assert cost == pytest.approx(t_cost, rel=RTOL, abs=ATOL)
    assert list(grads) == list(net.params)
    for k in net.params:
        assert grads[k].shape == net.params[k].shape
        np.testing.assert_allclose(grads[k], t_grads[k], rtol=RTOL, atol=ATOL, err_msg=k)


@pytest.mark.parametrize("options", [o for o in OPTIONS if o.get("keep_prob", 1.0) == 1.0][:6] + [OPTIONS[-1]],
                         ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_gradients_match_numerical_gradient(options):
    n_out = 3 if options["output"] == "softmax" else 1
    X, Y = make_data(n_x=3, n_out=n_out, m=6, seed=1)
    net = Network([3, 4, 3, n_out], seed=5, **options)
    # nonzero biases keep every ReLU input away from its kink at 0 (an all-dropped unit would sit on it)
    rng = np.random.default_rng(8)
    for l in range(1, net.L + 1):
        net.params[f"b{l}"] += rng.normal(scale=0.5, size=net.params[f"b{l}"].shape)
    dropping = any(p < 1 for p in net.keep_prob)
    # with dropout, a fresh generator with the same seed gives the same masks at every evaluation,
    # which makes J a well-defined function of the parameters
    fresh = (lambda: np.random.default_rng(2)) if dropping else (lambda: None)
    _, grads = net.loss_and_grads(X, Y, rng=fresh())
    theta = params_to_vector(net.params)

    def J(vector):
        probe = Network([3, 4, 3, n_out], seed=5, **options)
        probe.params = vector_to_params(vector, net.params)
        return probe.loss_and_grads(X, Y, rng=fresh())[0]

    numeric = numerical_gradient(J, theta, eps=1e-6)
    assert relative_error(params_to_vector(grads), numeric) < 1e-7


def test_cost_closed_forms():
    AL = np.array([[0.9, 0.2, 0.6]])
    Y = np.array([[1.0, 0.0, 1.0]])
    expected = -(np.log(0.9) + np.log(0.8) + np.log(0.6)) / 3
    assert cross_entropy(AL, Y) == pytest.approx(expected, rel=1e-14)
    P = np.array([[0.7, 0.1], [0.2, 0.3], [0.1, 0.6]])
    Yc = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    assert cross_entropy(P, Yc) == pytest.approx(-(np.log(0.7) + np.log(0.6)) / 2, rel=1e-14)
    # torch's losses on probabilities
    t = F.binary_cross_entropy(torch.tensor(AL), torch.tensor(Y)).item()
    assert cross_entropy(AL, Y) == pytest.approx(t, rel=1e-12)
    t = F.nll_loss(torch.log(torch.tensor(P.T)), torch.tensor([0, 2])).item()
    assert cross_entropy(P, Yc) == pytest.approx(t, rel=1e-12)
    # a saturated output gives a large finite cost, not inf
    assert np.isfinite(cross_entropy(np.array([[1.0]]), np.array([[0.0]])))


def test_cost_includes_l2_and_l1_terms():
    X, Y = make_data(m=5)
    net = Network([4, 3, 1], lambd=0.5, l1=0.2, seed=1)
    AL = net.forward(X)
    W1, W2 = net.params["W1"], net.params["W2"]
    l2 = 0.5 / (2 * 5) * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    l1 = 0.2 / 5 * (np.abs(W1).sum() + np.abs(W2).sum())
    assert net.cost(AL, Y) == pytest.approx(cross_entropy(AL, Y) + l2 + l1, rel=1e-13)
    assert net.cost(AL, Y, penalty=False) == pytest.approx(cross_entropy(AL, Y), rel=1e-14)


def test_activations_against_torch():
    Z = np.linspace(-40, 40, 33).reshape(3, 11)
    tZ = torch.tensor(Z)
    np.testing.assert_allclose(relu(Z), torch.relu(tZ).numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(tanh(Z), torch.tanh(tZ).numpy(), rtol=1e-15)
    np.testing.assert_allclose(sigmoid(Z), torch.sigmoid(tZ).numpy(), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(softmax(Z), torch.softmax(tZ, dim=0).numpy(), rtol=1e-13, atol=1e-300)
    rng = np.random.default_rng(0)
    dA = rng.normal(size=Z.shape)
    for name, fn in [("relu", torch.relu), ("tanh", torch.tanh), ("sigmoid", torch.sigmoid),
                     ("softmax", lambda z: torch.softmax(z, dim=0))]:
        tz = torch.tensor(Z / 10, requires_grad=True)
        (fn(tz) * torch.tensor(dA)).sum().backward()
        np.testing.assert_allclose(activation_backward(dA, Z / 10, name), tz.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_one_layer_forward_and_backward_against_torch():
    rng = np.random.default_rng(4)
    A_prev, W, b = rng.normal(size=(3, 5)), rng.normal(size=(2, 3)), rng.normal(size=(2, 1))
    dA = rng.normal(size=(2, 5))
    A, cache = forward_layer(A_prev, W, b, "tanh")
    dA_prev, dW, db = backward_layer(dA, cache, "tanh")
    tA, tW, tb = (torch.tensor(v, requires_grad=True) for v in (A_prev, W, b))
    out = torch.tanh(tW @ tA + tb)
    np.testing.assert_allclose(A, out.detach().numpy(), rtol=1e-14)
    # the lecture's dW, db carry 1/m: they are gradients of the mean over the m examples
    (out * torch.tensor(dA)).sum().div(5).backward()
    np.testing.assert_allclose(dW, tW.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(dA_prev / 5, tA.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["zeros", "random", "xavier", "he", "glorot"])
def test_init_by_name(name):
    dims = [5, 4, 3, 1]
    net = Network(dims, init=name, seed=7, init_scale=0.5)
    rng = np.random.default_rng(7)
    for l in range(1, len(dims)):
        if name == "random":
            expected = lr_init.random_scaled(dims[l - 1], dims[l], rng, scale=0.5)
        else:
            expected = getattr(lr_init, name)(dims[l - 1], dims[l], rng)
        np.testing.assert_array_equal(net.params[f"W{l}"], expected)
        np.testing.assert_array_equal(net.params[f"b{l}"], np.zeros((dims[l], 1)))


def test_he_scale_closed_form():
    net = Network([400, 300, 1], init="he", seed=0)
    assert net.params["W1"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert net.num_parameters == 400 * 300 + 300 + 300 + 1


def test_dropout_only_when_training_and_mask_statistics():
    X, _ = make_data(m=4)
    net = Network([4, 50, 1], keep_prob=0.5, seed=0)
    np.testing.assert_array_equal(net.forward(X), net.forward(X))  # no dropout at test time
    assert not np.allclose(net.forward(X, train=True, rng=np.random.default_rng(0)), net.forward(X))
    with pytest.raises(TypeError, match="rng"):
        net.forward(X, train=True)
    # keep_prob = 1: training forward equals the test forward and draws nothing
    plain = Network([4, 50, 1], keep_prob=1.0, seed=0)
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(plain.forward(X, train=True, rng=rng), plain.forward(X))
    assert rng.random() == np.random.default_rng(0).random()


def test_predict_and_accuracy():
    net = Network([2, 1], output="sigmoid", seed=0)
    net.params["W1"][:] = [[1.0, 0.0]]
    X = np.array([[-1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(net.predict(X), [0, 1, 1])
    assert net.accuracy(X, np.array([[0.0, 1.0, 0.0]])) == pytest.approx(2 / 3)
    assert net.accuracy(X, np.array([0, 1, 0])) == pytest.approx(2 / 3)
    assert net.accuracy(X, np.array([0, 1, 0]), AL=np.array([[0.2, 0.9, 0.4]])) == 1.0  # from a given output
    soft = Network([2, 3], output="softmax", seed=0)
    soft.params["W1"][:] = [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]
    Xs = np.array([[5.0, 0.0, -5.0], [0.0, 5.0, -5.0]])
    np.testing.assert_array_equal(soft.predict(Xs), [0, 1, 2])
    assert soft.accuracy(Xs, np.eye(3)) == 1.0


def test_max_norm_closed_form():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(6, 4)) * 3
    params = {"W1": W.copy(), "b1": np.full((6, 1), 100.0)}
    max_norm(params, c=2.0)
    norms = np.linalg.norm(W, axis=1)
    for i in range(6):
        expected = W[i] if norms[i] <= 2.0 else W[i] * 2.0 / norms[i]
        np.testing.assert_allclose(params["W1"][i], expected, rtol=1e-14)
    assert np.all(np.linalg.norm(params["W1"], axis=1) <= 2.0 + 1e-12)
    np.testing.assert_array_equal(params["b1"], 100.0)  # biases untouched
    # torch's renorm does the same per row (dim 0) with max norm 2
    np.testing.assert_allclose(params["W1"], torch.renorm(torch.tensor(W), p=2, dim=0, maxnorm=2.0).numpy(),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="c"):
        max_norm(params, c=0.0)


def test_mc_dropout_predict():
    X, _ = make_data(m=6)
    net = Network([4, 20, 1], keep_prob=0.6, seed=2)
    mean, std = mc_dropout_predict(net, X, n_samples=30, rng=np.random.default_rng(5))
    rng = np.random.default_rng(5)
    samples = np.stack([net.forward(X, train=True, rng=rng) for _ in range(30)])
    np.testing.assert_allclose(mean, samples.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(std, samples.std(axis=0), rtol=1e-12)
    assert np.all(std > 0)
    # without dropout every sample is the same network: zero spread
    _, std0 = mc_dropout_predict(Network([4, 20, 1], seed=2), X, 5, np.random.default_rng(0))
    np.testing.assert_allclose(std0, 0.0, atol=1e-15)


def test_vector_round_trip():
    net = Network([3, 4, 2], output="softmax", seed=0)
    theta = params_to_vector(net.params)
    assert theta.shape == (net.num_parameters,)
    back = vector_to_params(theta, net.params)
    for k in net.params:
        np.testing.assert_array_equal(back[k], net.params[k])
    with pytest.raises(ValueError, match="theta"):
        vector_to_params(theta[:-1], net.params)


def test_bad_inputs_raise_with_names():
    with pytest.raises(ValueError, match="hidden"):
        Network([2, 3, 1], hidden="sigmoid")
    with pytest.raises(ValueError, match="output"):
        Network([2, 3, 1], output="relu")
    with pytest.raises(ValueError, match="init"):
        Network([2, 3, 1], init="orthogonal")
    with pytest.raises(ValueError, match="lambd"):
        Network([2, 3, 1], lambd=-1.0)
    with pytest.raises(ValueError, match="l1"):
        Network([2, 3, 1], l1=-0.1)
    with pytest.raises(ValueError, match="keep_prob"):
        Network([2, 3, 1], keep_prob=0.0)
    with pytest.raises(ValueError, match="keep_prob"):
        Network([2, 3, 3, 1], keep_prob=(0.5,))
    with pytest.raises(ValueError, match=r"layer_dims\[1\]"):
        Network([2, 0, 1])
    with pytest.raises(ValueError, match="layer_dims"):
        Network([2])
    with pytest.raises(ValueError, match="sigmoid"):
        Network([2, 3, 2], output="sigmoid")
    with pytest.raises(ValueError, match="softmax"):
        Network([2, 3, 1], output="softmax")
    net = Network([2, 3, 1])
    with pytest.raises(ValueError, match="X"):
        net.forward(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="Y"):
        net.loss_and_grads(np.zeros((2, 4)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="activation"):
        activation_backward(np.ones(2), np.ones(2), "gelu")


def test_mini_batch_costs_and_gradients_with_the_training_set_size_add_up_to_J():
    # J = (1/m) sum_i L_i + lambda/(2m) sum ||W||^2 + lambda_1/m sum |W|: for a partition of the m columns into
    # mini-batches B, sum_B (|B|/m) J_B = J exactly when each J_B carries J's penalties (m, not |B|)
    rng = np.random.default_rng(3)
    m = 10
    X, labels = rng.normal(size=(3, m)), rng.integers(0, 2, size=m)
    Y = np.eye(2)[labels].T
    net = Network([3, 5, 2], hidden="tanh", output="softmax", seed=0, lambd=0.7, l1=0.2)
    J, grads = net.loss_and_grads(X, Y)
    parts = [slice(0, 4), slice(4, 8), slice(8, 10)]  # the last one smaller, as fit's last mini-batch
    with_m = [(net.loss_and_grads(X[:, s], Y[:, s], m=m), (s.stop - s.start) / m) for s in parts]
    assert sum(w * cost for (cost, _), w in with_m) == pytest.approx(J, rel=1e-12)
    for key in grads:
        np.testing.assert_allclose(sum(w * g[key] for (_, g), w in with_m), grads[key], rtol=1e-12, atol=1e-15)
    # by default each mini-batch's penalty is divided by its own size: m/|B| times too strong on average
    default = [(net.loss_and_grads(X[:, s], Y[:, s]), (s.stop - s.start) / m) for s in parts]
    penalty = net.penalty(m)
    excess = sum(w * (m / (s.stop - s.start) - 1) for (_, w), s in zip(default, parts)) * penalty
    assert sum(w * cost for (cost, _), w in default) == pytest.approx(J + excess, rel=1e-12)
    with pytest.raises(ValueError, match="m must be >= 10, got 4"):  # m counts at least the batch itself
        net.loss_and_grads(X, Y, m=4)


@pytest.mark.parametrize("output, n_out", [("sigmoid", 1), ("softmax", 3)])
def test_cost_is_exact_where_the_output_saturates(output, n_out):
    # weights so large that the output probabilities round to 0 and 1: the cost comes from the logits and equals
    # torch's with-logits losses; the clipped probability cost would cap each example's loss near 34.5
    rng = np.random.default_rng(5)
    X = rng.normal(size=(2, 6))
    labels = rng.integers(0, n_out if n_out > 1 else 2, size=6)
    Y = (labels[None, :] * 1.0) if n_out == 1 else np.eye(n_out)[labels].T
    net = Network([2, 4, n_out], hidden="relu", output=output, seed=1, init="random", init_scale=60.0)
    J, grads = net.loss_and_grads(X, Y)
    Z = torch.tensor(net.logits(X))
    if n_out == 1:
        expected = F.binary_cross_entropy_with_logits(Z, torch.tensor(Y)).item()
    else:
        expected = F.cross_entropy(Z.T, torch.tensor(labels)).item()
    assert expected > 40  # saturated: far beyond what clipped probabilities can give
    assert J == pytest.approx(expected, rel=1e-12)
    assert cross_entropy_from_logits(net.logits(X), Y) == pytest.approx(expected, rel=1e-12)
    # and the gradients are those of this cost: a numerical gradient of J agrees
    def J_of(params):
        probe = Network([2, 4, n_out], hidden="relu", output=output, seed=1)
        probe.params.update(params)
        return probe.loss_and_grads(X, Y)[0]
    numeric = numerical_gradient(lambda v: J_of({**net.params, "W2": v}), net.params["W2"], 1e-6)
    assert relative_error(grads["W2"], numeric) < 1e-6
