"""lrcourse.sweep: the batched sweep against independent runs of ordinary PyTorch, seeds, chunks, input checks.

``train_mlp`` is a plain nn.Module + autograd + torch.optim loop; ``sweep_mlp`` has its own forward and backward
passes and its own vectorized optimizer updates. Every run of a sweep must follow the path of the matching
``train_mlp`` run to float32 round-off (relative 1e-4), for every optimizer, with and without a schedule.
Small problems (200 digits, 2 epochs of 4 mini-batches, the last one partial) keep the file fast.
"""

import io
import math
import sys

import numpy as np
import pytest
import torch

from lrcourse import sweep as sweep_module
from lrcourse.data import load_digits
from lrcourse.schedules import constant, cosine_decay, piecewise_constant, warmup
from lrcourse.sweep import OPTIMIZERS, SweepResult, TrainResult, sweep_mlp, train_mlp

RTOL = 1e-4
M = 200  # 200 = 3 * 64 + 8: every epoch ends with a partial mini-batch
EPOCHS = 2
STEPS = EPOCHS * math.ceil(M / 64)
SEEDS = (0, 7)
# rates that train without diverging in 8 steps, two per optimizer
LRS = {"sgd": (0.05, 0.3), "momentum": (0.1, 0.5), "rmsprop": (0.001, 0.005), "adam": (0.002, 0.01)}


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits()
    return X[:M], y[:M]


def schedules():
    # warm-up then cosine decay: rises 5x over 3 steps, then falls; exercises lr * s(t) / s(0)
    return {"none": None, "warmup-cosine": warmup(cosine_decay(1.0, total_steps=STEPS - 3, lr_min=0.1),
                                                  warmup_steps=3, start_lr=0.2)}


def sequential(X, y, lrs, seeds, **kwargs):
    runs = [[train_mlp(X, y, lr=lr, seed=seed, device="cpu", **kwargs) for seed in seeds] for lr in lrs]
    loss = np.array([[r.loss for r in row] for row in runs])
    accuracy = np.array([[r.accuracy for r in row] for row in runs])
    return loss, accuracy


# --- the batched runs are the sequential runs ---------------------------------------------------------------


@pytest.mark.parametrize("schedule_name", ["none", "warmup-cosine"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_sweep_equals_sequential_runs(digits, optimizer, schedule_name):
    X, y = digits
    kwargs = dict(hidden=(24, 12), optimizer=optimizer, epochs=EPOCHS, batch_size=64,
                  schedule=schedules()[schedule_name])
    lrs = LRS[optimizer]
    r = sweep_mlp(X, y, lrs=lrs, seeds=SEEDS, device="cpu", **kwargs)
    loss, accuracy = sequential(X, y, lrs, SEEDS, **kwargs)
    assert r.loss.shape == (2, 2, STEPS) and r.accuracy.shape == (2, 2)
    assert np.all(np.isfinite(loss))
    np.testing.assert_allclose(r.loss, loss, rtol=RTOL)
    # a prediction on the edge may flip with round-off: allow one example of M
    np.testing.assert_allclose(r.accuracy, accuracy, rtol=0, atol=1.01 / M)
    # the runs moved: a different rate gives a different path
    assert not np.allclose(r.loss[0], r.loss[1], rtol=1e-3)


@pytest.mark.parametrize("schedule_name", ["none", "warmup-cosine"])
def test_adam_without_the_fused_kernel_equals_sequential_runs(digits, monkeypatch, schedule_name):
    # devices without torch's fused Adam kernel (MPS, older torch) take the written-out update
    X, y = digits
    kwargs = dict(hidden=(24, 12), optimizer="adam", epochs=EPOCHS, batch_size=64,
                  schedule=schedules()[schedule_name])
    fused = []
    monkeypatch.setattr(sweep_module, "_has_fused_adam", lambda device: fused.append(device) or False)
    r = sweep_mlp(X, y, lrs=LRS["adam"], seeds=SEEDS, device="cpu", **kwargs)
    assert fused == [torch.device("cpu")]
    loss, _ = sequential(X, y, LRS["adam"], SEEDS, **kwargs)
    np.testing.assert_allclose(r.loss, loss, rtol=RTOL)


def test_adam_uses_the_fused_kernel_on_the_cpu(monkeypatch):
    monkeypatch.setattr(sweep_module, "_FUSED_ADAM", {"cpu": True})  # probed already: count the steps only
    calls = []
    kernel = torch._fused_adam_
    monkeypatch.setattr(torch, "_fused_adam_", lambda *a, **k: calls.append(1) or kernel(*a, **k))
    X, y = load_digits()
    sweep_mlp(X[:64], y[:64], hidden=(4,), lrs=(0.01,), seeds=(0,), epochs=2, batch_size=32, device="cpu")
    assert len(calls) == 4  # one call per step


@pytest.mark.parametrize("hidden", [(), (8,), (16, 12, 8)])
def test_other_depths_equal_sequential_runs(digits, hidden):
    X, y = digits
    kwargs = dict(hidden=hidden, optimizer="adam", epochs=EPOCHS, batch_size=50)
    r = sweep_mlp(X, y, lrs=(0.003, 0.03), seeds=(1,), device="cpu", **kwargs)
    loss, _ = sequential(X, y, (0.003, 0.03), (1,), **kwargs)
    np.testing.assert_allclose(r.loss, loss, rtol=RTOL)


def test_one_batch_per_epoch_and_batch_of_one(digits):
    X, y = digits[0][:20], digits[1][:20]
    for batch_size in (1, 64):
        kwargs = dict(hidden=(8,), optimizer="momentum", epochs=2, batch_size=batch_size)
        r = sweep_mlp(X, y, lrs=(0.05,), seeds=(3, 4), device="cpu", **kwargs)
        loss, _ = sequential(X, y, (0.05,), (3, 4), **kwargs)
        assert r.steps_per_epoch == math.ceil(20 / batch_size)
        np.testing.assert_allclose(r.loss, loss, rtol=RTOL)


def test_first_loss_is_that_of_the_initial_network(digits):
    # an independent check of what a seed means: He-normal weights drawn layer by layer from
    # torch.Generator().manual_seed(seed), zero biases, then one permutation per epoch
    X, y = digits
    seed = 5
    g = torch.Generator().manual_seed(seed)
    W1 = torch.randn(16, 64, generator=g, dtype=torch.float32) * math.sqrt(2 / 64)
    W2 = torch.randn(10, 16, generator=g, dtype=torch.float32) * math.sqrt(2 / 16)
    batch = torch.randperm(M, generator=g)[:64]
    Xb = torch.as_tensor(X[batch.numpy()], dtype=torch.float32)
    logits = torch.relu(Xb @ W1.T) @ W2.T
    expected = torch.nn.functional.cross_entropy(logits, torch.as_tensor(y[batch.numpy()])).item()
    for r in (train_mlp(X, y, hidden=(16,), seed=seed, epochs=1, device="cpu"),
              sweep_mlp(X, y, hidden=(16,), lrs=(0.01,), seeds=(seed,), epochs=1, device="cpu").run(0, 0)):
        assert r.loss[0] == pytest.approx(expected, rel=1e-5)


def test_training_learns(digits):
    X, y = digits
    r = sweep_mlp(X, y, hidden=(32,), lrs=(0.01,), seeds=(0, 1), epochs=10, device="cpu")
    assert np.all(r.accuracy > 0.9)
    assert np.all(r.epoch_loss()[..., -1] < 0.5 * r.epoch_loss()[..., 0])


# --- schedules ---------------------------------------------------------------------------------------------


def test_schedule_scale_does_not_matter(digits):
    # the rate is lr * s(t) / s(0): a constant schedule of any value is no schedule at all
    X, y = digits
    base = train_mlp(X, y, hidden=(8,), lr=0.01, epochs=1, device="cpu").loss
    for value in (1.0, 123.0):
        np.testing.assert_array_equal(
            train_mlp(X, y, hidden=(8,), lr=0.01, epochs=1, schedule=constant(value), device="cpu").loss, base)
    swept = sweep_mlp(X, y, hidden=(8,), lrs=(0.01,), seeds=(0,), epochs=1, schedule=constant(7.0), device="cpu")
    np.testing.assert_allclose(swept.loss[0, 0], base, rtol=RTOL)


def test_zero_rate_after_a_boundary_freezes_sgd(digits):
    # SGD with s(t) = 1 for t < 2, then 0: the weights stop after two updates
    X, y = digits
    frozen = sweep_mlp(X, y, hidden=(8,), lrs=(0.5,), seeds=(0,), optimizer="sgd", epochs=1, device="cpu",
                       schedule=piecewise_constant([2], [1.0, 0.0]))
    moving = sweep_mlp(X, y, hidden=(8,), lrs=(0.5,), seeds=(0,), optimizer="sgd", epochs=1, device="cpu")
    # the first two losses (and the third, measured after two updates) agree; the fourth differs
    np.testing.assert_allclose(frozen.loss[0, 0, :3], moving.loss[0, 0, :3], rtol=RTOL)
    assert frozen.loss[0, 0, 3] != pytest.approx(moving.loss[0, 0, 3], rel=1e-3)
    # a zero rate from the start of the second epoch: the final accuracy is that of the first epoch's network
    two = sweep_mlp(X, y, hidden=(8,), lrs=(0.5,), seeds=(0,), optimizer="sgd", epochs=2, device="cpu",
                    schedule=piecewise_constant([4], [1.0, 0.0]))
    one = train_mlp(X, y, hidden=(8,), lr=0.5, seed=0, optimizer="sgd", epochs=1, device="cpu")
    assert two.accuracy[0, 0] == pytest.approx(one.accuracy, abs=1.01 / M)


# --- seeds, independence, chunks ---------------------------------------------------------------------------


def test_same_seed_same_result_other_seed_other_result(digits):
    X, y = digits
    kwargs = dict(hidden=(16,), lrs=(0.01, 0.02), epochs=1, device="cpu")
    a = sweep_mlp(X, y, seeds=(3, 4), **kwargs)
    b = sweep_mlp(X, y, seeds=(3, 4), **kwargs)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.accuracy, b.accuracy)
    assert not np.allclose(a.loss[:, 0], a.loss[:, 1], rtol=1e-3)
    # a run depends on its own seed and rate only, not on the rest of the grid
    c = sweep_mlp(X, y, seeds=(4,), **kwargs)
    np.testing.assert_allclose(c.loss[:, 0], a.loss[:, 1], rtol=1e-6)


def test_a_diverging_run_leaves_the_others_alone(digits):
    X, y = digits
    kwargs = dict(hidden=(16,), seeds=(0, 1), optimizer="sgd", epochs=1, device="cpu")
    with np.errstate(all="ignore"):
        both = sweep_mlp(X, y, lrs=(0.1, 1e4), **kwargs)
    alone = sweep_mlp(X, y, lrs=(0.1,), **kwargs)
    assert not np.all(both.loss[1] < 100)  # blown up (or NaN)
    np.testing.assert_allclose(both.loss[0], alone.loss[0], rtol=1e-6)
    np.testing.assert_array_equal(both.accuracy[0], alone.accuracy[0])


def test_no_global_random_state(digits):
    X, y = digits
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    train_mlp(X, y, hidden=(8,), epochs=1, device="cpu")
    sweep_mlp(X, y, hidden=(8,), lrs=(0.01,), seeds=(0,), epochs=1, device="cpu")
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state[1])


@pytest.mark.parametrize("max_chunk", [1, 2, 3, 5])
def test_chunks_give_the_same_result(digits, max_chunk):
    X, y = digits
    kwargs = dict(hidden=(16,), lrs=(0.001, 0.003, 0.01), seeds=(0, 1, 2), epochs=1, device="cpu")
    whole = sweep_mlp(X, y, **kwargs)
    chunked = sweep_mlp(X, y, max_chunk=max_chunk, **kwargs)
    np.testing.assert_allclose(chunked.loss, whole.loss, rtol=1e-6)
    np.testing.assert_array_equal(chunked.accuracy, whole.accuracy)


def test_memory_budget_picks_chunks(digits, monkeypatch):
    X, y = digits
    sizes, batch_size = (64, 16, 10), 64
    per_run = sweep_module._bytes_per_run(sizes, batch_size)
    monkeypatch.setattr(sweep_module, "CPU_MEMORY_BUDGET", 2 * per_run)  # two runs at a time
    calls = []
    real = sweep_module._StackedMLP

    def spy(sizes, inits, lrs, device):
        calls.append(len(inits) * len(lrs))
        return real(sizes, inits, lrs, device)

    monkeypatch.setattr(sweep_module, "_StackedMLP", spy)
    kwargs = dict(hidden=(16,), lrs=(0.001, 0.01), seeds=(0, 1, 2), epochs=1, device="cpu")
    budgeted = sweep_mlp(X, y, **kwargs)
    assert calls == [2, 1, 2, 1]  # per rate: seeds (0, 1), then (2,)
    monkeypatch.setattr(sweep_module, "CPU_MEMORY_BUDGET", 2**30)
    np.testing.assert_allclose(budgeted.loss, sweep_mlp(X, y, **kwargs).loss, rtol=1e-6)


# --- results ---------------------------------------------------------------------------------------------


def test_result_attributes(digits):
    X, y = digits
    r = sweep_mlp(X, y, hidden=(8,), lrs=[0.01, 0.1], seeds=np.array([5, 2, 9]), epochs=2, device="cpu")
    assert isinstance(r, SweepResult)
    np.testing.assert_array_equal(r.lrs, [0.01, 0.1])
    np.testing.assert_array_equal(r.seeds, [5, 2, 9])
    assert (r.steps_per_epoch, r.epochs, r.n_steps, r.optimizer) == (4, 2, 8, "adam")
    # epoch_loss: the mean of each epoch's four step losses, written out
    expected = np.stack([r.loss[..., 0:4].mean(-1), r.loss[..., 4:8].mean(-1)], axis=-1)
    np.testing.assert_allclose(r.epoch_loss(), expected, rtol=1e-12)
    one = r.run(1, 2)
    assert isinstance(one, TrainResult)
    assert (one.lr, one.seed, one.accuracy, one.steps_per_epoch) == (0.1, 9, r.accuracy[1, 2], 4)
    np.testing.assert_array_equal(one.loss, r.loss[1, 2])
    np.testing.assert_allclose(one.epoch_loss(), expected[1, 2], rtol=1e-12)
    assert r.run(-1, -1).seed == 9
    with pytest.raises(IndexError, match="j must index seeds"):
        r.run(0, 3)
    assert np.all((0 <= r.accuracy) & (r.accuracy <= 1))


def test_default_device_and_grid(digits, monkeypatch):
    monkeypatch.setenv("LRCOURSE_DEVICE", "cpu")
    X, y = digits
    r = sweep_mlp(X[:40], y[:40], hidden=(4,), epochs=1)
    assert r.loss.shape == (len(sweep_module.DEFAULT_LRS), len(sweep_module.DEFAULT_SEEDS), 1)
    assert train_mlp(X[:40], y[:40], hidden=(4,), epochs=1).loss.shape == (1,)


# --- the progress bar ------------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("progress, terminal, shown", [
    (None, False, False), (None, True, True), (False, True, False), (True, False, True)])
def test_progress_bar_only_when_asked_or_on_a_terminal(digits, monkeypatch, progress, terminal, shown):
    X, y = digits
    for name in ("LRCOURSE_PROGRESS", "COLAB_RELEASE_TAG", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)
    stream = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    sweep_mlp(X[:40], y[:40], hidden=(4,), lrs=(0.01,), seeds=(0,), epochs=2, device="cpu", progress=progress)
    train_mlp(X[:40], y[:40], hidden=(4,), epochs=2, device="cpu", progress=progress)
    output = stream.getvalue()
    assert ("sweep_mlp" in output and "train_mlp" in output) if shown else output == ""


# --- bad input ---------------------------------------------------------------------------------------------


def _bad_common():
    X, y = np.zeros((10, 3)), np.arange(10) % 2
    return [
        (dict(X=np.zeros(10)), ValueError, r"X must be a 2-D array.*\(10,\)"),
        (dict(X=np.array([["a"] * 3] * 10)), TypeError, "X must be a numeric array"),
        (dict(X=np.full((10, 3), np.nan)), ValueError, "X must hold finite"),
        (dict(X=np.full((10, 3), 1e39)), ValueError, "X must hold finite numbers within float32's range.*1e[+]39"),
        (dict(y=y.astype(float)), TypeError, "y must hold integer class labels, got dtype float64"),
        (dict(y=y[:9]), ValueError, "X has 10 rows, y has 9"),
        (dict(y=y - 1), ValueError, "y must hold labels >= 0, got -1"),
        (dict(y=np.zeros(10, dtype=int)), ValueError, "at least two classes"),
        (dict(hidden=64), TypeError, "hidden must be a sequence"),
        (dict(hidden=(8, 0)), ValueError, r"hidden\[1\] must be >= 1, got 0"),
        (dict(optimizer="adamw"), ValueError, "optimizer must be one of .*'adamw'"),
        (dict(epochs=0), ValueError, "epochs must be >= 1, got 0"),
        (dict(batch_size=2.5), TypeError, "batch_size must be an integer, got 2.5"),
        (dict(schedule=0.1), TypeError, "schedule must be a callable"),
        (dict(schedule=lambda t: float(t)), ValueError, r"schedule\(0\) must be > 0"),
        (dict(schedule=lambda t: 1.0 - t, epochs=3), ValueError, r"schedule\(2\) must be >= 0, got -1.0"),
        (dict(device=3), TypeError, "device must be a torch.device"),
        (dict(device="gpu7"), ValueError, "device must name a torch device, got 'gpu7'"),
        (dict(device="cuda:64"), ValueError, "device names a device that is not available here, got 'cuda:64'"),
        (dict(progress="yes"), TypeError, "progress must be True, False or None, got 'yes'"),
    ], X, y


@pytest.mark.parametrize("case", range(len(_bad_common()[0])))
@pytest.mark.parametrize("fn", ["train_mlp", "sweep_mlp"])
def test_bad_input_names_the_argument_and_value(case, fn):
    cases, X, y = _bad_common()
    change, error, message = cases[case]
    kwargs = dict(X=X, y=y, hidden=(4,), epochs=1, device="cpu")
    kwargs.update(change)
    f = train_mlp if fn == "train_mlp" else sweep_mlp
    if fn == "sweep_mlp":
        kwargs.update(lrs=(0.01,), seeds=(0,))
    with pytest.raises(error, match=message):
        f(**kwargs)


@pytest.mark.parametrize("change, error, message", [
    (dict(lrs=()), ValueError, r"lrs must not be empty"),
    (dict(lrs=0.1), TypeError, r"lrs must be a sequence, got 0.1"),
    (dict(lrs=(0.1, -1.0)), ValueError, r"lrs\[1\] must be >= 0, got -1.0"),
    (dict(lrs=(float("nan"),)), ValueError, r"lrs\[0\] must be a finite number"),
    (dict(seeds=[]), ValueError, r"seeds must not be empty"),
    (dict(seeds=(0, -3)), ValueError, r"seeds\[1\] must be >= 0, got -3"),
    (dict(seeds=(1.5,)), TypeError, r"seeds\[0\] must be an integer, got 1.5"),
    (dict(max_chunk=0), ValueError, r"max_chunk must be >= 1, got 0"),
])
def test_bad_sweep_grid(change, error, message):
    kwargs = dict(X=np.zeros((10, 3)), y=np.arange(10) % 2, hidden=(4,), lrs=(0.01,), seeds=(0,), epochs=1,
                  device="cpu")
    kwargs.update(change)
    with pytest.raises(error, match=message):
        sweep_mlp(**kwargs)


@pytest.mark.parametrize("change, error, message", [
    (dict(lr=-0.1), ValueError, r"lr must be >= 0, got -0.1"),
    (dict(lr="0.1"), TypeError, r"lr must be a real number"),
    (dict(seed=-1), ValueError, r"seed must be >= 0, got -1"),
    (dict(seed=True), TypeError, r"seed must be an integer, got True"),
])
def test_bad_single_run(change, error, message):
    kwargs = dict(X=np.zeros((10, 3)), y=np.arange(10) % 2, hidden=(4,), epochs=1, device="cpu")
    kwargs.update(change)
    with pytest.raises(error, match=message):
        train_mlp(**kwargs)


def test_fused_adam_probe_answers_per_kind_of_device(monkeypatch):
    monkeypatch.setattr(sweep_module, "_FUSED_ADAM", {})
    assert sweep_module._has_fused_adam(torch.device("cpu")) is True  # torch 2.13 has the CPU kernel
    # a torch without the kernel for a device: the probe's error means "no", and the written-out update is used
    monkeypatch.setattr(sweep_module, "_FUSED_ADAM", {})

    def missing(*args, **kwargs):
        raise NotImplementedError("no _fused_adam_ kernel for this backend")

    monkeypatch.setattr(torch, "_fused_adam_", missing)
    assert sweep_module._has_fused_adam(torch.device("cpu")) is False
    X, y = load_digits()
    r = sweep_mlp(X[:64], y[:64], hidden=(4,), lrs=(0.01,), seeds=(0,), epochs=2, batch_size=32, device="cpu")
    one = train_mlp(X[:64], y[:64], hidden=(4,), lr=0.01, seed=0, epochs=2, batch_size=32, device="cpu")
    np.testing.assert_allclose(r.loss[0, 0], one.loss, rtol=RTOL)
