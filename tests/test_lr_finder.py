"""Tests for lrcourse.lr_finder.

- ``gradient_descent_1d`` against the closed form ``w_t = (1 - 2 lr)^t w0``.
- ``lr_range_test``: the ramp and the loss-before-update convention against a model whose loss is
  ``w`` itself (so the losses are ``w0 - cumsum(lr)``); the smoothing against pandas' ``ewm``; the stop
  rule, also for losses that go negative; the exact restoration of model and optimizer (state dicts
  compared tensor by tensor, the train/eval mode module by module, also after an exception); the default optimizer against an explicit ``torch.optim.SGD``; and the suggestion
  against the divergence threshold ``2/L`` (``2(1+mu)/L`` with heavy-ball momentum) of least squares,
  computed here from the Hessian's eigenvalues.
"""

from __future__ import annotations

import copy
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcourse.lr_finder import LRRangeTestResult, gradient_descent_1d, lr_range_test

FAST = settings(max_examples=25, deadline=None)
CPU = torch.device("cpu")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These models are tiny: one thread avoids the cost of thread contention on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ---------------------------------------------------------------------------------------------------
# gradient_descent_1d
# ---------------------------------------------------------------------------------------------------


@FAST
@given(
    lr=st.floats(0.0, 1.2, allow_nan=False),
    w0=st.floats(-5.0, 5.0, allow_nan=False),
    steps=st.integers(0, 60),
)
def test_gradient_descent_1d_matches_closed_form(lr, w0, steps):
    iterates = gradient_descent_1d(lr, w0=w0, steps=steps)
    t = np.arange(steps + 1)
    expected = (1.0 - 2.0 * lr) ** t * w0  # w_t = (1 - 2 lr)^t w0
    assert iterates.shape == (steps + 1,) and iterates.dtype == np.float64
    np.testing.assert_allclose(iterates, expected, rtol=1e-12, atol=1e-300)


def test_gradient_descent_1d_the_five_rates_of_the_article():
    final = {lr: abs(gradient_descent_1d(lr, steps=100)[-1]) for lr in (0.01, 0.1, 0.7, 0.99, 1.01)}
    assert final[0.01] == pytest.approx(0.98**100)  # too slow: still 13% of the way after 100 steps
    assert final[0.1] < 1e-9 and final[0.7] < 1e-9  # both converge
    assert final[0.99] == pytest.approx(final[0.01])  # |1 - 2 * 0.99| = |1 - 2 * 0.01| = 0.98
    assert final[1.01] == pytest.approx(1.02**100) and final[1.01] > 1  # diverges
    signs = np.sign(gradient_descent_1d(0.99, steps=6))
    assert list(signs) == [1, -1, 1, -1, 1, -1, 1]  # above 1/2 it overshoots every step
    assert list(gradient_descent_1d(0.5, w0=3.0, steps=2)) == [3.0, 0.0, 0.0]  # 1/2: one step


def test_gradient_descent_1d_validation():
    with pytest.raises(ValueError, match="lr"):
        gradient_descent_1d(-0.1)
    with pytest.raises(TypeError, match="w0"):
        gradient_descent_1d(0.1, w0="1")
    with pytest.raises(ValueError, match="steps"):
        gradient_descent_1d(0.1, steps=-1)
    with pytest.raises(TypeError, match="steps"):
        gradient_descent_1d(0.1, steps=2.5)


# ---------------------------------------------------------------------------------------------------
# The ramp, the losses, the smoothing, the stop rule
# ---------------------------------------------------------------------------------------------------


class Scalar(torch.nn.Module):
    """One float64 parameter w whose "loss" is w itself: d loss / d w = 1, so SGD does w <- w - lr."""

    def __init__(self, w0: float) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([w0], dtype=torch.float64))

    def forward(self, inputs):
        return self.w * inputs


def _identity_loss(outputs, targets):
    return outputs.sum()


ONE = [(torch.ones(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64))]


def test_ramp_is_exponential_and_loss_is_measured_before_each_update():
    model = Scalar(1000.0)
    result = lr_range_test(model, _identity_loss, ONE, start_lr=1e-4, end_lr=1.0, num_steps=30,
                           optimizer=torch.optim.SGD(model.parameters(), lr=0.5), device=CPU)
    k = np.arange(30)
    expected_lrs = 1e-4 * (1.0 / 1e-4) ** (k / 29)
    np.testing.assert_allclose(result.lrs, expected_lrs, rtol=1e-13)
    # loss_k = w_k = w_0 - (lr_0 + ... + lr_{k-1})
    expected_losses = 1000.0 - np.concatenate([[0.0], np.cumsum(expected_lrs)[:-1]])
    np.testing.assert_allclose(result.losses, expected_losses, rtol=1e-13)
    assert result.lrs[0] == pytest.approx(1e-4) and result.lrs[-1] == pytest.approx(1.0)
    assert not result.diverged


def test_smoothed_is_the_bias_corrected_average_of_pandas():
    rng = np.random.default_rng(0)
    values = iter(rng.uniform(1.0, 2.0, size=40))

    def noisy_loss(outputs, targets):
        return outputs.sum() * 0.0 + next(values)

    model = Scalar(0.0)
    for beta in (0.0, 0.9):
        values = iter(rng.uniform(1.0, 2.0, size=40))
        result = lr_range_test(model, noisy_loss, ONE, num_steps=40, beta=beta, diverge_factor=100.0, device=CPU)
        # pandas' ewm with adjust=True divides by the sum of the weights, i.e. by 1 - beta^(k+1)
        expected = pd.Series(result.losses).ewm(alpha=1.0 - beta, adjust=True).mean().to_numpy()
        np.testing.assert_allclose(result.smoothed, expected, rtol=1e-12)
        assert len(result.losses) == 40


def test_loader_is_cycled_in_order():
    seen = []

    def record(outputs, targets):
        seen.append(int(targets.item()))
        return outputs.sum()

    loader = [(torch.ones(1, dtype=torch.float64), torch.tensor([float(i)])) for i in range(3)]
    lr_range_test(Scalar(100.0), record, loader, num_steps=8, device=CPU)
    assert seen == [0, 1, 2, 0, 1, 2, 0, 1]


def test_stops_when_smoothed_loss_exceeds_factor_times_best():
    # f(w) = w^2 with plain gradient descent: the loss grows once lr > 1 (see gradient_descent_1d)
    model = torch.nn.Linear(1, 1, bias=False).double()
    torch.nn.init.constant_(model.weight, 1.0)
    x, y = torch.ones(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)
    result = lr_range_test(model, torch.nn.MSELoss(), [(x, y)], start_lr=1e-3, end_lr=1e3, num_steps=200,
                           optimizer=torch.optim.SGD(model.parameters()), device=CPU)
    assert result.diverged and len(result.lrs) < 200
    s = result.smoothed
    running_best = np.minimum.accumulate(s)
    assert s[-1] > 4.0 * running_best[-1]  # the step that stopped it
    assert np.all(s[:-1] <= 4.0 * running_best[:-1])  # and no earlier one
    assert result.lrs[-1] > 1.0  # it can only blow up above the threshold lr = 1


def test_stops_on_a_non_finite_loss_without_recording_it():
    calls = []

    def blows_up(outputs, targets):
        calls.append(1)
        return outputs.sum() * (math.inf if len(calls) == 6 else 1.0)

    result = lr_range_test(Scalar(10.0), blows_up, ONE, num_steps=20, device=CPU)
    assert result.diverged and len(result.losses) == 5 and np.all(np.isfinite(result.losses))


def test_a_loss_that_goes_negative_while_falling_runs_to_the_end():
    # loss = w, w_k = 1 - (lr_0 + ... + lr_{k-1}): the raw loss crosses zero at step k = 23, the
    # smoothed one (default beta = 0.95) at k = 30, and both keep falling to the end
    model = Scalar(1.0)
    result = lr_range_test(model, _identity_loss, ONE, start_lr=1e-2, end_lr=1.0, num_steps=40,
                           optimizer=torch.optim.SGD(model.parameters(), lr=0.5), device=CPU)
    lrs = 1e-2 * (1.0 / 1e-2) ** (np.arange(40) / 39)
    expected_losses = 1.0 - np.concatenate([[0.0], np.cumsum(lrs)[:-1]])
    assert expected_losses[-1] < -6.0  # the premise: well below zero at the end
    assert not result.diverged and len(result.losses) == 40
    np.testing.assert_allclose(result.losses, expected_losses, rtol=1e-12)
    assert result.smoothed[-1] < -1.0 and np.all(np.diff(result.smoothed) < 0)
    assert result.lr_at_min_loss == pytest.approx(1.0)  # the loss was still falling at the last rate


def test_a_constant_negative_loss_never_diverges():
    result = lr_range_test(Scalar(0.0), lambda o, t: o.sum() * 0.0 - 5.0, ONE, num_steps=25, device=CPU)
    assert not result.diverged and len(result.losses) == 25
    np.testing.assert_array_equal(result.losses, np.full(25, -5.0))


@pytest.mark.parametrize(
    "values, steps_run",
    [
        # best -2; with c = 4 it stops once the loss rises more than (4 - 1) * |-2| = 6 above it, i.e.
        # above 4: 4.0 itself (a rise of exactly 6) is kept, 10.0 stops it
        ([1.0, 0.5, -1.0, -2.0, -1.0, 4.0, 10.0, 0.0, 0.0, 0.0], 7),
        # best 0: any rise above zero stops it (as v > 4 * 0 did before)
        ([1.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], 4),
        # positive losses: v > 4 * best, unchanged; 8.0 = 4 * 2 is kept, 8.5 stops it
        ([3.0, 2.0, 8.0, 8.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], 4),
    ],
)
def test_stop_rule_measures_the_rise_against_the_magnitude_of_the_best(values, steps_run):
    it = iter(values)
    result = lr_range_test(Scalar(0.0), lambda o, t: o.sum() * 0.0 + next(it), ONE, num_steps=10,
                           beta=0.0, diverge_factor=4.0, device=CPU)  # beta = 0: smoothed = raw
    assert result.diverged and len(result.losses) == steps_run
    np.testing.assert_array_equal(result.losses, values[:steps_run])


def test_first_loss_not_finite_raises():
    with pytest.raises(ValueError, match="not finite"):
        lr_range_test(Scalar(1.0), lambda o, t: o.sum() * math.nan, ONE, device=CPU)


# ---------------------------------------------------------------------------------------------------
# Restoring the model and the optimizer exactly
# ---------------------------------------------------------------------------------------------------


def _assert_same(a, b, where="state"):
    """Recursive equality of state dicts: tensors with torch.equal, everything else with ==."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.device == b.device, where
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _classifier_and_data(seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(64, 6, generator=gen)
    y = (X[:, 0] + X[:, 1] > 0).long()
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(6, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(), torch.nn.Dropout(0.2),
        torch.nn.Linear(16, 2),
    )
    loader = [(X[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    return model, loader


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_model_and_optimizer_are_restored_exactly(kind):
    model, loader = _classifier_and_data()
    loss_fn = torch.nn.CrossEntropyLoss()
    if kind == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for inputs, targets in loader[:2]:  # a little real training, so the optimizer has state to lose
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimizer.step()
    model.eval()
    model_before = copy.deepcopy(model.state_dict())
    optimizer_before = copy.deepcopy(optimizer.state_dict())
    grads_before = [p.grad.clone() for p in model.parameters()]

    result = lr_range_test(model, loss_fn, loader, start_lr=1e-5, end_lr=10.0, num_steps=60,
                           optimizer=optimizer, device=CPU)

    assert np.ptp(result.losses) > 0.1  # the test really trained the model...
    _assert_same(model.state_dict(), model_before, "model")  # ...and put everything back
    _assert_same(optimizer.state_dict(), optimizer_before, "optimizer")
    for p, g in zip(model.parameters(), grads_before):
        assert torch.equal(p.grad, g)
    assert not model.training and not any(m.training for m in model.modules())
    assert optimizer.param_groups[0]["lr"] == optimizer_before["param_groups"][0]["lr"]
    # the restored optimizer still drives the model's own parameters
    assert all(a is b for a, b in zip(optimizer.param_groups[0]["params"], model.parameters()))


def test_model_is_restored_when_a_step_raises():
    model, loader = _classifier_and_data(1)
    before = copy.deepcopy(model.state_dict())
    calls = []

    def fails_later(outputs, targets):
        calls.append(1)
        if len(calls) == 10:
            raise RuntimeError("boom")
        return torch.nn.functional.cross_entropy(outputs, targets)

    with pytest.raises(RuntimeError, match="boom"):
        lr_range_test(model, fails_later, loader, start_lr=1e-3, end_lr=1.0, num_steps=20, device=CPU)
    _assert_same(model.state_dict(), before, "model")
    assert model.training


@pytest.mark.parametrize("raises", [False, True])
def test_train_eval_mode_of_each_submodule_is_restored(raises):
    model, loader = _classifier_and_data(3)  # Linear, BatchNorm1d, ReLU, Dropout, Linear
    model.train()
    model[1].eval()  # e.g. frozen batch-norm statistics
    model[3].eval()
    seen_during = []

    def loss_fn(outputs, targets):
        seen_during.append([m.training for m in model.modules()])
        if raises and len(seen_during) == 5:
            raise RuntimeError("boom")
        return torch.nn.functional.cross_entropy(outputs, targets)

    if raises:
        with pytest.raises(RuntimeError, match="boom"):
            lr_range_test(model, loss_fn, loader, num_steps=20, device=CPU)
    else:
        lr_range_test(model, loss_fn, loader, num_steps=20, device=CPU)
    # the Sequential itself, then its five children, as set above
    assert [m.training for m in model.modules()] == [True, True, False, True, False, True]
    # during the test every submodule trains, as the docstring says
    assert seen_during and all(modes == [True] * 6 for modes in seen_during)


def test_eval_model_with_a_submodule_in_train_mode_is_restored():
    model, loader = _classifier_and_data(4)
    model.eval()
    model[3].train()  # e.g. Monte Carlo dropout
    lr_range_test(model, torch.nn.CrossEntropyLoss(), loader, num_steps=10, device=CPU)
    assert [m.training for m in model.modules()] == [False, False, False, False, True, False]


def test_default_optimizer_is_sgd_with_momentum_09(monkeypatch):
    monkeypatch.setenv("LRCOURSE_DEVICE", "cpu")  # the default device, get_device(), is the CPU here
    model, loader = _classifier_and_data(2)
    twin = copy.deepcopy(model)
    torch.manual_seed(5)
    ours = lr_range_test(model, torch.nn.CrossEntropyLoss(), loader, num_steps=40)
    torch.manual_seed(5)
    explicit = lr_range_test(twin, torch.nn.CrossEntropyLoss(), loader, num_steps=40,
                             optimizer=torch.optim.SGD(twin.parameters(), lr=0.0, momentum=0.9), device="cpu")
    np.testing.assert_array_equal(ours.losses, explicit.losses)


# ---------------------------------------------------------------------------------------------------
# The suggestion, on a problem whose good range is known
# ---------------------------------------------------------------------------------------------------


def _least_squares(seed, n=128, d=4):
    """Linear regression with features of different scales; returns data and the Hessian's largest eigenvalue."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 10 ** rng.uniform(-0.5, 0.5, size=d)
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=n) + rng.normal()
    # MSE(w, b) = (1/n) |A [w; b] - y|^2 with A = [X, 1]  =>  Hessian = (2/n) A^T A
    A = np.column_stack([X, np.ones(n)])
    L = np.linalg.eigvalsh(2.0 / n * A.T @ A).max()
    return torch.tensor(X), torch.tensor(y).unsqueeze(1), L


@FAST
@given(seed=st.integers(0, 10_000), momentum=st.sampled_from([0.0, 0.9]))
def test_suggestion_lies_below_the_divergence_threshold_of_least_squares(seed, momentum):
    X, y, L = _least_squares(seed)
    # gradient descent on a quadratic is stable iff lr < 2/L; heavy-ball momentum mu iff lr < 2(1 + mu)/L
    threshold = 2.0 * (1.0 + momentum) / L
    torch.manual_seed(seed)
    model = torch.nn.Linear(X.shape[1], 1).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0, momentum=momentum)
    result = lr_range_test(model, torch.nn.MSELoss(), [(X, y)], start_lr=1e-7, end_lr=10.0, num_steps=100,
                           optimizer=optimizer, device=CPU)
    assert result.diverged
    # the stated rule...
    assert result.suggestion == pytest.approx(result.lrs[np.argmin(result.smoothed)] / 10.0, rel=1e-15)
    # ...lands in the good range, within a factor of 30 below the threshold
    assert threshold / 30.0 < result.suggestion < threshold
    # and training at the suggested rate converges: the loss after 200 steps is far below the start
    opt = torch.optim.SGD(model.parameters(), lr=result.suggestion, momentum=momentum)
    first = torch.nn.functional.mse_loss(model(X), y).item()
    for _ in range(200):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.05 * first


# ---------------------------------------------------------------------------------------------------
# Result, plot, progress bar, validation
# ---------------------------------------------------------------------------------------------------


def test_result_fields_and_plot():
    import matplotlib.pyplot as plt

    X, y, _ = _least_squares(0)
    model = torch.nn.Linear(4, 1).double()
    result = lr_range_test(model, torch.nn.MSELoss(), [(X, y)], num_steps=50, device=CPU)
    assert isinstance(result, LRRangeTestResult)
    assert len(result.lrs) == len(result.losses) == len(result.smoothed)
    assert np.all(np.diff(result.lrs) > 0)
    ax = result.plot()
    assert ax.get_xscale() == "log" and len(ax.get_lines()) == 4
    plateau = result.smoothed[: np.argmin(result.smoothed) + 1].max()  # the blow-up is cut off above this
    assert ax.get_ylim() == pytest.approx((0.0, 1.5 * plateau))
    fig, ax2 = plt.subplots()
    assert result.plot(ax=ax2, skip_start=5) is ax2
    with pytest.raises(ValueError, match="skip_start"):
        result.plot(skip_start=len(result.lrs))
    plt.close("all")


def test_progress_bar_only_when_asked(capsys, monkeypatch):
    for name in ("LRCOURSE_PROGRESS", "COLAB_RELEASE_TAG", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)
    lr_range_test(Scalar(10.0), _identity_loss, ONE, num_steps=5, device=CPU)  # auto: no terminal here
    assert capsys.readouterr().err == ""
    lr_range_test(Scalar(10.0), _identity_loss, ONE, num_steps=5, device=CPU, progress=False)
    assert capsys.readouterr().err == ""
    lr_range_test(Scalar(10.0), _identity_loss, ONE, num_steps=5, device=CPU, progress=True)
    assert "LR range test" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"start_lr": 0.0}, ValueError, "start_lr"),
        ({"start_lr": -1e-3}, ValueError, "start_lr"),
        ({"start_lr": 1.0, "end_lr": 0.5}, ValueError, "end_lr"),
        ({"end_lr": math.inf}, ValueError, "end_lr"),
        ({"num_steps": 1}, ValueError, "num_steps"),
        ({"num_steps": 10.0}, TypeError, "num_steps"),
        ({"beta": 1.0}, ValueError, "beta"),
        ({"diverge_factor": 1.0}, ValueError, "diverge_factor"),
        ({"optimizer": "sgd"}, TypeError, "optimizer"),
        ({"progress": "yes"}, TypeError, "progress"),
    ],
)
def test_bad_arguments_raise_before_anything_changes(kwargs, error, match):
    model = Scalar(3.0)
    with pytest.raises(error, match=match):
        lr_range_test(model, _identity_loss, ONE, device=CPU, **kwargs)
    assert model.w.item() == 3.0 and model.w.grad is None


def test_bad_model_loss_or_loader_raise():
    with pytest.raises(TypeError, match="model"):
        lr_range_test(lambda x: x, _identity_loss, ONE, device=CPU)
    with pytest.raises(TypeError, match="loss_fn"):
        lr_range_test(Scalar(1.0), "mse", ONE, device=CPU)
    with pytest.raises(TypeError, match="loader"):
        lr_range_test(Scalar(1.0), _identity_loss, 5, device=CPU)
    with pytest.raises(ValueError, match="loader"):
        lr_range_test(Scalar(1.0), _identity_loss, [], device=CPU)
    with pytest.raises(ValueError, match="model"):
        lr_range_test(torch.nn.ReLU(), _identity_loss, ONE, device=CPU)
