"""Tests for lrcourse.performance_scheduling.

The rates are checked against torch.optim.lr_scheduler.ReduceLROnPlateau fed the dev losses the run
recorded; the training against a loop written out here from random_mini_batches and loss_and_grads;
early stopping against the stopping rule applied by hand to the recorded dev metrics.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lrcourse.data import Standardizer, load_digits, to_columns, train_dev_test_split
from lrcourse.minibatch import random_mini_batches
from lrcourse.nn import Network
from lrcourse.optim import SGD, Momentum
from lrcourse.performance_scheduling import epoch_seeds, fit_with_plateau
from lrcourse.schedules import ReduceOnPlateau
from lrcourse.train import EarlyStopping


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits()
    X_train, y_train, X_dev, y_dev, _, _ = train_dev_test_split(X[:400], y[:400], seed=0)
    scaler = Standardizer().fit(X_train)
    X_train, Y_train = to_columns(scaler.transform(X_train), y_train, num_classes=10)
    X_dev, Y_dev = to_columns(scaler.transform(X_dev), y_dev, num_classes=10)
    return X_train, Y_train, X_dev, Y_dev


def net_for(seed=0, lambd=1.0):
    return Network([64, 16, 10], output="softmax", seed=seed, lambd=lambd)


def test_epoch_seeds_are_a_prefix_and_depend_on_the_seed():
    assert (epoch_seeds(3, 10)[:4] == epoch_seeds(3, 4)).all()
    assert not (epoch_seeds(3, 4) == epoch_seeds(4, 4)).all()
    assert epoch_seeds(0, 0).shape == (0,)


def test_rates_match_torch_reduce_lr_on_plateau(digits):
    X, Y, X_dev, Y_dev = digits
    plateau = ReduceOnPlateau(1.0, factor=0.5, patience=1, threshold=0.01, cooldown=1)
    history = fit_with_plateau(net_for(), X, Y, Momentum(lr=123.0), plateau, epochs=25, X_dev=X_dev, Y_dev=Y_dev,
                               batch_size=32, seed=1)
    epoch_rates = history.lr[:: history.steps_per_epoch]
    # torch, fed the dev losses this run recorded, gives the rate of every next epoch
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([param], lr=1.0)
    torch_plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, threshold=0.01,
                                                               cooldown=1)
    expected = [1.0]
    for loss in history.dev_cost[:-1]:
        opt.step()
        torch_plateau.step(loss)
        expected.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(epoch_rates, expected, rtol=0, atol=0)
    assert epoch_rates[-1] < 1.0, "the run should have hit at least one plateau"
    # every step of an epoch uses that epoch's rate
    assert (history.lr.reshape(-1, history.steps_per_epoch) == epoch_rates[:, None]).all()


def test_training_matches_a_loop_written_out(digits):
    X, Y, X_dev, Y_dev = digits
    plateau = ReduceOnPlateau(0.5, factor=0.1, patience=0, threshold=0.5)  # cuts after nearly every epoch
    net = net_for(seed=2)
    history = fit_with_plateau(net, X, Y, SGD(lr=0.0), plateau, epochs=4, X_dev=X_dev, Y_dev=Y_dev,
                               batch_size=50, seed=7)

    reference = net_for(seed=2)
    rates = history.lr[:: history.steps_per_epoch]
    losses = []
    for epoch, epoch_seed in enumerate(epoch_seeds(7, 4)):
        rng = np.random.default_rng(int(epoch_seed))
        for X_batch, Y_batch in random_mini_batches(X, Y, 50, rng):
            # each mini-batch carries the penalties of J over all the training examples
            cost, grads = reference.loss_and_grads(X_batch, Y_batch, rng=rng, m=X.shape[1])
            for key in reference.params:
                reference.params[key] -= rates[epoch] * grads[key]
            losses.append(cost)
    np.testing.assert_allclose(history.step_cost, losses, rtol=1e-12)
    for key in net.params:
        np.testing.assert_allclose(net.params[key], reference.params[key], rtol=1e-12, atol=1e-14)
    assert rates[0] == 0.5 and rates[-1] < 0.5


@pytest.mark.parametrize("monitor, mode", [("dev_cost", "min"), ("dev_accuracy", "max")])
def test_early_stopping_follows_its_rule_and_restores_the_best_weights(digits, monitor, mode):
    X, Y, X_dev, Y_dev = digits
    patience = 3

    def run(epochs, early_stopping):
        net = net_for(seed=4, lambd=0.0)
        plateau = ReduceOnPlateau(1.0, mode="min", factor=0.5, patience=1)
        h = fit_with_plateau(net, X, Y, Momentum(lr=1.0), plateau, epochs=epochs, X_dev=X_dev, Y_dev=Y_dev,
                             batch_size=32, seed=3, early_stopping=early_stopping, stop_monitor=monitor)
        return net, h

    stopper = EarlyStopping(patience=patience, mode=mode)
    net, history = run(60, stopper)
    values = history.dev_cost if monitor == "dev_cost" else history.dev_accuracy
    # the rule by hand: stop at the first epoch that is `patience` epochs after the best (first best on ties)
    sign = 1.0 if mode == "min" else -1.0
    best_so_far = np.minimum.accumulate(sign * values)
    improved = np.concatenate([[True], sign * values[1:] < best_so_far[:-1]])
    last_best = np.maximum.accumulate(np.where(improved, np.arange(len(values)), 0))
    stop = int(np.argmax(np.arange(len(values)) - last_best >= patience))
    assert history.stopped_epoch == stop + 1 == len(values) < 60
    assert history.best_epoch == last_best[stop]
    # the restored weights are those after the best epoch: rerun exactly that many epochs
    best_net, _ = run(history.best_epoch + 1, None)
    for key in net.params:
        np.testing.assert_allclose(net.params[key], best_net.params[key], rtol=0, atol=0)


def test_plateau_is_stepped_in_place(digits):
    X, Y, X_dev, Y_dev = digits
    plateau = ReduceOnPlateau(1.0, factor=0.5, patience=0, threshold=1.0)  # nothing counts as an improvement
    history = fit_with_plateau(net_for(), X, Y, SGD(lr=1.0), plateau, epochs=3, X_dev=X_dev, Y_dev=Y_dev)
    # with threshold 1 no value beats best * (1 - 1), not even the first (inf * 0 is nan, as in torch),
    # so every epoch is bad and halves the rate for the next one
    assert plateau.last_epoch == 3 and plateau.lr == 0.125
    assert history.lr.tolist() == [1.0, 0.5, 0.25]  # full batch: one step per epoch


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"plateau": 0.1}, TypeError, "plateau must be an lrcourse.schedules.ReduceOnPlateau, got float"),
        ({"early_stopping": "yes"}, TypeError, "early_stopping must be an EarlyStopping or None, got str"),
        ({"epochs": 0}, ValueError, "epochs must be >= 1, got 0"),
        ({"plateau_monitor": "loss"}, ValueError, "plateau_monitor must be one of"),
        ({"stop_monitor": "loss"}, ValueError, "stop_monitor must be one of"),
        ({"plateau": ReduceOnPlateau(0.1, mode="max")}, ValueError,
         "plateau.mode must be 'min' to watch 'dev_cost', got 'max'"),
        ({"plateau_monitor": "dev_accuracy"}, ValueError,
         "plateau.mode must be 'max' to watch 'dev_accuracy', got 'min'"),
        ({"early_stopping": EarlyStopping(mode="min"), "stop_monitor": "dev_accuracy"}, ValueError,
         "early_stopping.mode must be 'max' to watch 'dev_accuracy', got 'min'"),
        ({"X_dev": None}, ValueError, "X_dev and Y_dev are required"),
        ({"seed": -1}, ValueError, "seed must be >= 0, got -1"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1, got 0"),
        ({"X": np.zeros((5, 7))}, ValueError, "X must"),
        ({"X_dev": np.zeros((3, 5))}, ValueError, "X_dev must"),
        ({"optimizer": "sgd"}, TypeError, "optimizer must have a settable lr and step"),
    ],
)
def test_bad_arguments_raise_before_training(digits, kwargs, error, match):
    X, Y, X_dev, Y_dev = digits
    net = net_for()
    before = {k: v.copy() for k, v in net.params.items()}
    optimizer = SGD(lr=0.01)
    args = {"X": X, "Y": Y, "optimizer": optimizer, "plateau": ReduceOnPlateau(0.1), "epochs": 2,
            "X_dev": X_dev, "Y_dev": Y_dev}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        fit_with_plateau(net, **args)
    assert all((net.params[k] == before[k]).all() for k in before)
    assert optimizer.lr == 0.01  # not yet set to the plateau's rate


def test_a_reused_early_stopping_starts_afresh(digits):
    X, Y, X_dev, Y_dev = digits

    def run(stopper):
        net = net_for(seed=1)
        history = fit_with_plateau(net, X, Y, SGD(lr=0.5), ReduceOnPlateau(0.5, patience=1), epochs=30,
                                   X_dev=X_dev, Y_dev=Y_dev, batch_size=50, seed=3, early_stopping=stopper)
        return net, history

    stopper = EarlyStopping(patience=3)
    run(stopper)
    net_again, again = run(stopper)
    net_fresh, fresh = run(EarlyStopping(patience=3))
    assert (again.stopped_epoch, again.best_epoch) == (fresh.stopped_epoch, fresh.best_epoch)
    for key in net_fresh.params:
        np.testing.assert_array_equal(net_again.params[key], net_fresh.params[key])
