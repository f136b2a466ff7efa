"""lrcourse.train: fit against a torch.optim loop at float64, History shapes, schedules, early stopping.

The torch reference builds the same network from the same initial weights and visits the same mini-batches
(one ``np.random.default_rng(seed).permutation(m)`` per epoch, as documented), with torch's loss, autograd
and ``torch.optim.SGD``. Early stopping is checked against metric sequences whose outcome is worked out by hand.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lrcourse import schedules
from lrcourse.data import make_moons, to_columns
from lrcourse.nn import Network, cross_entropy
from lrcourse.optim import SGD, Adam
from lrcourse.train import EarlyStopping, History, fit


def moons(m=60, seed=0):
    X, y = make_moons(m, noise=0.15, seed=seed)
    return to_columns(X, y)


def torch_sgd_loop(start, X, Y, lr, epochs, batch_size, seed, cost, after_step=None):
    """The reference for fit: plain SGD in torch at float64, with fit's documented draws from one
    ``np.random.default_rng(seed)`` (each epoch's permutation, then whatever ``cost(params, xb, yb, rng)`` draws).
    ``after_step(params)`` runs after every step. Returns the step costs and the final parameters (numpy)."""
    params = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    opt = torch.optim.SGD(list(params.values()), lr=lr)
    rng = np.random.default_rng(seed)
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    m = X.shape[1]
    costs = []
    for _ in range(epochs):
        order = rng.permutation(m)
        for k in range(0, m, batch_size):
            idx = torch.tensor(order[k:k + batch_size])
            J = cost(params, Xt[:, idx], Yt[:, idx], rng)
            opt.zero_grad()
            J.backward()
            opt.step()
            if after_step is not None:
                with torch.no_grad():
                    after_step(params)
            costs.append(J.item())
    return costs, {k: v.detach().numpy() for k, v in params.items()}


def test_fit_matches_a_torch_sgd_loop():
    X, Y = moons(50)
    net = Network([2, 6, 4, 1], hidden="tanh", seed=2, lambd=0.4)
    start = {k: v.copy() for k, v in net.params.items()}
    history = fit(net, X, Y, SGD(lr=0.3), epochs=4, batch_size=16, seed=9)

    def cost(params, xb, yb, rng):
        A = torch.tanh(params["W1"] @ xb + params["b1"])
        A = torch.tanh(params["W2"] @ A + params["b2"])
        logits = params["W3"] @ A + params["b3"]
        # the mini-batch's mean loss plus the penalty of J, lambda / 2m with m = 50 training examples
        return F.binary_cross_entropy_with_logits(logits, yb) + 0.4 / (2 * 50) * sum(
            (params[f"W{l}"] ** 2).sum() for l in (1, 2, 3))

    costs, final = torch_sgd_loop(start, X, Y, lr=0.3, epochs=4, batch_size=16, seed=9, cost=cost)
    np.testing.assert_allclose(history.step_cost, costs, rtol=1e-10)
    for k, v in final.items():
        np.testing.assert_allclose(net.params[k], v, rtol=1e-10, atol=1e-12, err_msg=k)


def test_small_problem_reaches_low_cost_and_history_shapes():
    X, Y = moons(80)
    Xd, Yd = moons(40, seed=1)
    net = Network([2, 16, 16, 1], seed=0)
    h = fit(net, X, Y, Adam(lr=0.02), epochs=60, batch_size=32, X_dev=Xd, Y_dev=Yd, seed=1)
    assert isinstance(h, History)
    n_steps = 60 * math.ceil(80 / 32)
    assert h.steps_per_epoch == 3
    assert h.step_cost.shape == h.lr.shape == (n_steps,)
    assert h.epoch_cost.shape == h.epoch_accuracy.shape == h.dev_cost.shape == h.dev_accuracy.shape == (60,)
    assert h.stopped_epoch is None
    assert h.epoch_cost[-1] < 0.1 < h.epoch_cost[0]
    assert net.accuracy(X, Y) > 0.95
    # the recorded epoch and dev values are the network's cost after the last epoch
    assert h.epoch_cost[-1] == pytest.approx(net.cost(net.forward(X), Y), rel=1e-12)
    assert h.dev_cost[-1] == pytest.approx(cross_entropy(net.forward(Xd), Yd), rel=1e-12)
    np.testing.assert_array_equal(h.lr, 0.02)


def test_full_batch_is_one_step_per_epoch_and_deterministic():
    X, Y = moons(30)
    runs = []
    for _ in range(2):
        net = Network([2, 5, 1], seed=3, keep_prob=0.8)
        runs.append((fit(net, X, Y, SGD(lr=0.1), epochs=7, seed=4), net.params))
    (h1, p1), (h2, p2) = runs
    assert h1.step_cost.shape == (7,) and h1.steps_per_epoch == 1 and h1.dev_cost is None
    np.testing.assert_array_equal(h1.step_cost, h2.step_cost)
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])


def test_schedule_sets_lr_each_step_and_each_epoch():
    X, Y = moons(40)
    sched = schedules.exponential_decay(0.1, decay_rate=0.9)
    opt = SGD(lr=1.0)
    h = fit(Network([2, 4, 1], seed=0), X, Y, opt, epochs=3, batch_size=16, schedule=sched)
    n = 3 * 3
    np.testing.assert_allclose(h.lr, 0.1 * 0.9 ** np.arange(n), rtol=1e-14)
    assert opt.lr == pytest.approx(0.1 * 0.9 ** (n - 1))
    h = fit(Network([2, 4, 1], seed=0), X, Y, SGD(lr=1.0), epochs=3, batch_size=16, schedule=sched,
            schedule_unit="epoch")
    np.testing.assert_allclose(h.lr, 0.1 * 0.9 ** np.repeat(np.arange(3), 3), rtol=1e-14)


def test_max_norm_is_applied_after_each_step():
    X, Y = moons(40)
    net = Network([2, 8, 1], seed=0, init="random", init_scale=3.0)
    fit(net, X, Y, SGD(lr=0.5), epochs=3, max_norm=0.7)
    for key in ("W1", "W2"):
        assert np.all(np.linalg.norm(net.params[key], axis=1) <= 0.7 + 1e-12)


def test_max_norm_after_every_mini_batch_step_matches_torch_renorm():
    # each step, then every unit's incoming weight vector (a row of W) rescaled to norm <= c (torch.renorm);
    # applying it once at the end, or once per epoch, gives other weights and other step costs
    X, Y = moons(40)
    c = 0.7
    net = Network([2, 8, 1], hidden="tanh", seed=0, init="random", init_scale=3.0)
    start = {k: v.copy() for k, v in net.params.items()}
    history = fit(net, X, Y, SGD(lr=0.5), epochs=3, batch_size=16, seed=4, max_norm=c)

    def cost(params, xb, yb, rng):
        A = torch.tanh(params["W1"] @ xb + params["b1"])
        return F.binary_cross_entropy_with_logits(params["W2"] @ A + params["b2"], yb)

    def renorm(params):
        for key in ("W1", "W2"):
            params[key].copy_(torch.renorm(params[key], p=2, dim=0, maxnorm=c))

    costs, final = torch_sgd_loop(start, X, Y, lr=0.5, epochs=3, batch_size=16, seed=4, cost=cost,
                                  after_step=renorm)
    # torch.renorm scales by maxnorm / (norm + 1e-7), not maxnorm / norm: agreement to about 1e-7
    np.testing.assert_allclose(history.step_cost, costs, rtol=1e-6)
    for key, value in final.items():
        np.testing.assert_allclose(net.params[key], value, rtol=1e-6, atol=1e-7, err_msg=key)


# --- early stopping against hand-worked sequences -------------------------------------------------------


def run(es, values):
    """Feed values one by one with params that record the index; return (stop index or None, params)."""
    params = {"w": np.zeros(2)}
    for i, v in enumerate(values):
        params["w"][:] = i
        if es.step(v, params):
            return i, params
    return None, params


def test_early_stopping_patience_mode_min():
    es = EarlyStopping(patience=3)
    # best 3.9 at index 4; 4.0, 3.95, 4.2 do not improve; stop at index 7 with the weights of index 4
    stop, params = run(es, [5.0, 4.0, 4.5, 4.2, 3.9, 4.0, 3.95, 4.2, 1.0])
    assert stop == 7 and es.best == 3.9 and es.best_epoch == 4 and es.stopped
    np.testing.assert_array_equal(params["w"], 4.0)


def test_early_stopping_min_delta():
    es = EarlyStopping(patience=3, min_delta=0.1)
    # 0.95, 0.92, 0.91 are better but not by more than 0.1: no improvement over 1.0, stop at index 3
    stop, params = run(es, [1.0, 0.95, 0.92, 0.91, 0.5])
    assert stop == 3 and es.best == 1.0 and es.best_epoch == 0
    np.testing.assert_array_equal(params["w"], 0.0)
    es = EarlyStopping(patience=2, min_delta=0.1)
    # 0.85 beats 1.0 by 0.15: improvement; 0.8 does not beat 0.85 by 0.1; 0.7 does (0.15)
    stop, _ = run(es, [1.0, 0.85, 0.8, 0.7, 0.69, 0.65])
    assert stop == 5 and es.best == 0.7 and es.best_epoch == 3


def test_early_stopping_mode_max_and_no_restore():
    es = EarlyStopping(patience=2, mode="max", restore_best=False)
    # an equal value is not an improvement: 0.6 at index 2 waits, 0.59 at index 3 stops
    stop, params = run(es, [0.5, 0.6, 0.6, 0.59, 0.7])
    assert stop == 3 and es.best == 0.6 and es.best_epoch == 1
    np.testing.assert_array_equal(params["w"], 3.0)  # not restored
    es = EarlyStopping(patience=5, mode="max")
    stop, _ = run(es, [0.1, 0.2, 0.3])
    assert stop is None and not es.stopped and es.wait == 0


def test_early_stopping_restores_in_place():
    es = EarlyStopping(patience=1)
    params = {"W1": np.ones((2, 2))}
    arr = params["W1"]
    es.step(1.0, params)
    params["W1"] += 5.0
    assert es.step(2.0, params)
    assert params["W1"] is arr
    np.testing.assert_array_equal(arr, 1.0)


def test_fit_with_early_stopping_keeps_the_best_dev_weights():
    X, Y = moons(40)
    Xd, Yd = moons(200, seed=7)
    net = Network([2, 64, 64, 1], seed=0)
    es = EarlyStopping(patience=5)
    h = fit(net, X, Y, Adam(lr=0.03), epochs=300, X_dev=Xd, Y_dev=Yd, early_stopping=es)
    assert h.stopped_epoch is not None and h.stopped_epoch == len(h.dev_cost) < 300
    assert h.best_epoch == es.best_epoch == int(np.argmin(h.dev_cost))
    assert h.stopped_epoch == es.best_epoch + 1 + 5
    assert cross_entropy(net.forward(Xd), Yd) == pytest.approx(h.dev_cost.min(), rel=1e-12)


def test_bad_inputs_raise_with_names():
    X, Y = moons(20)
    net = Network([2, 3, 1])
    with pytest.raises(ValueError, match="epochs"):
        fit(net, X, Y, SGD(lr=0.1), epochs=0)
    with pytest.raises(ValueError, match="batch_size"):
        fit(net, X, Y, SGD(lr=0.1), epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="schedule_unit"):
        fit(net, X, Y, SGD(lr=0.1), epochs=1, schedule_unit="batch")
    with pytest.raises(TypeError, match="schedule"):
        fit(net, X, Y, SGD(lr=0.1), epochs=1, schedule=0.1)
    with pytest.raises(ValueError, match="X"):
        fit(net, X.T, Y, SGD(lr=0.1), epochs=1)
    with pytest.raises(ValueError, match="Y"):
        fit(net, X, Y[:, :5], SGD(lr=0.1), epochs=1)
    with pytest.raises(ValueError, match="Y_dev"):
        fit(net, X, Y, SGD(lr=0.1), epochs=1, X_dev=X)
    with pytest.raises(ValueError, match="monitor"):
        fit(net, X, Y, SGD(lr=0.1), epochs=1, early_stopping=EarlyStopping())
    with pytest.raises(ValueError, match="monitor"):
        fit(net, X, Y, SGD(lr=0.1), epochs=1, monitor="loss")
    with pytest.raises(TypeError, match="optimizer"):
        fit(net, X, Y, "adam", epochs=1)
    with pytest.raises(TypeError, match="net"):
        fit("net", X, Y, SGD(lr=0.1), epochs=1)
    with pytest.raises(ValueError, match="max_norm"):
        fit(net, X, Y, SGD(lr=0.1), epochs=1, max_norm=-1.0)
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="min_delta"):
        EarlyStopping(min_delta=-0.1)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="best")
    with pytest.raises(ValueError, match="metric"):
        EarlyStopping().step(float("nan"))


def test_mini_batch_steps_estimate_the_full_cost_J_with_its_penalties():
    # with a zero rate nothing moves, so the epoch's mini-batch costs, weighted by |B|/m, must add up to the J
    # that fit reports after the epoch (penalties included): the steps minimize the J that is reported
    X, y = make_moons(50, noise=0.2, seed=0)
    X, Y = to_columns(X, y)
    net = Network([2, 6, 1], hidden="relu", seed=0, lambd=2.0, l1=0.5)
    history = fit(net, X, Y, SGD(lr=0.0), epochs=1, batch_size=16, seed=0)
    sizes = np.array([16, 16, 16, 2])
    assert len(history.step_cost) == 4
    assert np.sum(sizes / 50 * history.step_cost) == pytest.approx(history.epoch_cost[0], rel=1e-12)


def test_a_reused_early_stopping_starts_afresh():
    X, Y = moons(16)  # a small training set, so the dev cost turns up and the run stops
    Xd, Yd = moons(40, seed=1)

    def run(stopper):
        net = Network([2, 32, 32, 1], seed=3)
        return net, fit(net, X, Y, Adam(lr=0.05), epochs=300, X_dev=Xd, Y_dev=Yd, early_stopping=stopper, seed=1)

    stopper = EarlyStopping(patience=4)
    run(stopper)  # leaves a best value, a best epoch and best weights behind
    net_again, again = run(stopper)
    net_fresh, fresh = run(EarlyStopping(patience=4))
    assert fresh.stopped_epoch is not None and fresh.stopped_epoch > 5
    assert (again.stopped_epoch, again.best_epoch) == (fresh.stopped_epoch, fresh.best_epoch)
    for key in net_fresh.params:
        np.testing.assert_array_equal(net_again.params[key], net_fresh.params[key])


@pytest.mark.parametrize("monitor, mode", [("dev_accuracy", "min"), ("epoch_accuracy", "min"),
                                           ("dev_cost", "max"), ("epoch_cost", "max")])
def test_early_stopping_mode_must_suit_the_monitor(monitor, mode):
    X, Y = moons(40)
    net = Network([2, 4, 1], seed=0)
    before = {k: v.copy() for k, v in net.params.items()}
    wanted = "min" if mode == "max" else "max"
    with pytest.raises(ValueError, match=f"early_stopping must have mode='{wanted}' to watch monitor='{monitor}', "
                                         f"got mode='{mode}'"):
        fit(net, X, Y, SGD(lr=0.1), epochs=3, X_dev=X, Y_dev=Y, monitor=monitor,
            early_stopping=EarlyStopping(patience=2, mode=mode))
    for key in before:
        np.testing.assert_array_equal(net.params[key], before[key])


def test_a_diverging_run_stops_and_gets_its_best_weights_back():
    X, Y = moons(60)
    net = Network([2, 16, 16, 1], seed=0)
    stopper = EarlyStopping(patience=10)
    with np.errstate(all="ignore"):  # a huge rate: the cost grows, then overflows to nan in the third epoch
        history = fit(net, X, Y, SGD(lr=1e20), epochs=20, X_dev=X, Y_dev=Y, early_stopping=stopper)
    assert history.stopped_epoch == 3 and np.all(np.isfinite(history.dev_cost[:2]))
    assert not np.isfinite(history.dev_cost[-1])
    assert stopper.best_epoch == 0 and history.best_epoch == 0  # the first epoch had the lowest finite cost
    for key, value in net.params.items():
        assert np.all(np.isfinite(value)), key
        np.testing.assert_array_equal(value, stopper.best_params[key])


def test_fit_with_dropout_matches_a_torch_loop_with_fresh_masks_every_step():
    # the documented order of fit's one generator: each epoch's permutation, then for every mini-batch the
    # dropout masks of the hidden layers, layer by layer, as rng.random(shape) < keep_prob (inverted dropout)
    X, Y = moons(50)
    keep = 0.7
    net = Network([2, 6, 4, 1], hidden="relu", seed=2, keep_prob=keep)
    start = {k: v.copy() for k, v in net.params.items()}
    history = fit(net, X, Y, SGD(lr=0.3), epochs=3, batch_size=16, seed=9)

    def cost(params, xb, yb, rng):
        A = torch.relu(params["W1"] @ xb + params["b1"])
        A = A * torch.tensor(rng.random(tuple(A.shape)) < keep) / keep
        A = torch.relu(params["W2"] @ A + params["b2"])
        A = A * torch.tensor(rng.random(tuple(A.shape)) < keep) / keep
        return F.binary_cross_entropy_with_logits(params["W3"] @ A + params["b3"], yb)

    costs, final = torch_sgd_loop(start, X, Y, lr=0.3, epochs=3, batch_size=16, seed=9, cost=cost)
    np.testing.assert_allclose(history.step_cost, costs, rtol=1e-10)
    for k, v in final.items():
        np.testing.assert_allclose(net.params[k], v, rtol=1e-10, atol=1e-12, err_msg=k)
