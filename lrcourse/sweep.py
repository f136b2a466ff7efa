r"""Batched hyperparameter sweeps: many training runs of a small network in one vectorized pass.

One training run says little: another seed (other initial weights, another mini-batch order) can make any
learning rate or optimizer look best. Comparing fairly means many runs, a grid of learning rates times a few
seeds, and training them one after the other is slow because a small network leaves the hardware idle: each
step of each run pays Python and kernel-launch overhead for a few thousand multiply-adds. This module trains
the :math:`K` runs of a grid *together*: the :math:`K` copies of every weight matrix are stacked into one
tensor, the forward and backward passes are batched matrix products (``torch.bmm``), and the optimizer
update is one vectorized expression over all copies, each with its own learning rate. The arithmetic of
every run is unchanged, so each run of the sweep follows the same path as the same run trained alone.

- :func:`train_mlp`: one run, written as ordinary PyTorch (an ``nn.Module``, autograd and ``torch.optim``).
  It is the reference that the batched code is tested against.
- :func:`sweep_mlp`: ``len(lrs) * len(seeds)`` runs at once, with hand-written forward and backward passes
  and optimizer updates (the lecture's equations, vectorized over the runs).
- :class:`TrainResult` and :class:`SweepResult`: the loss at every step and the final training accuracy.

The network, the data order and the optimizers, shared by both functions:

- A multilayer perceptron ``n_features -> hidden[0] -> ... -> n_classes`` with ReLU hidden units, trained
  on the mean cross-entropy of softmax outputs. Weights start He-normal,
  :math:`W^{[l]}_{ij} \sim \mathcal N(0, 2/n^{[l-1]})`, biases at zero.
- ``seed`` fixes everything random: a ``torch.Generator`` seeded with it draws the weights (layer by layer,
  on the CPU, so the device does not matter) and then one random permutation of the examples per epoch. The
  last mini-batch of an epoch holds the remaining ``m mod batch_size`` examples when that is not zero.
- ``optimizer`` is one of ``"sgd"``, ``"momentum"``, ``"rmsprop"``, ``"adam"``, with the defaults of
  :mod:`lrcourse.optim` (see :data:`OPTIMIZERS` for each one's update and its ``torch.optim`` equivalent).
- ``schedule`` (optional) is a schedule from :mod:`lrcourse.schedules`, used for its *shape*: at step
  :math:`t` (counted from 0 over the whole run) the rate is :math:`\alpha \cdot s(t) / s(0)` with
  :math:`\alpha` the run's ``lr``. So ``lr`` is always the rate at the first step; pass
  ``lr=schedule(0)`` to follow the schedule's own values.

Runs go on :func:`lrcourse.get_device` unless ``device`` says otherwise. Used by Part II ("Comparing
optimizers": mean and spread over seeds, learning-rate sensitivity) and Part III (schedules, 1cycle).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lrcourse._checks import check_choice, check_int, check_nonnegative
from lrcourse._progress import progress_bar, show_progress
from lrcourse.device import resolve_device

__all__ = [
    "DEFAULT_LRS",
    "DEFAULT_SEEDS",
    "OPTIMIZERS",
    "SweepResult",
    "TrainResult",
    "sweep_mlp",
    "train_mlp",
]

#: The optimizers, their update (lecture notation, :math:`\alpha_t` the rate at step :math:`t`, :math:`g_t`
#: the mini-batch gradient) and what ``train_mlp`` builds in ``torch.optim``:
#:
#: - ``"sgd"``: :math:`\theta \leftarrow \theta - \alpha_t g_t`; ``SGD(lr)``.
#: - ``"momentum"``, the lecture's form with :math:`\beta = 0.9`: :math:`v \leftarrow \beta v + (1-\beta) g_t`,
#:   :math:`\theta \leftarrow \theta - \alpha_t v`; ``SGD(lr * (1 - beta), momentum=beta)``, which takes the
#:   same steps (torch's buffer is :math:`v / (1-\beta)`).
#: - ``"rmsprop"`` with :math:`\beta = 0.9`, :math:`\epsilon = 10^{-8}`:
#:   :math:`s \leftarrow \beta s + (1-\beta) g_t^2`, :math:`\theta \leftarrow \theta - \alpha_t g_t /
#:   (\sqrt{s} + \epsilon)`; ``RMSprop(lr, alpha=beta, eps=eps)``.
#: - ``"adam"`` with :math:`\beta_1 = 0.9`, :math:`\beta_2 = 0.999`, :math:`\epsilon = 10^{-8}` and bias
#:   correction; ``Adam(lr, betas=(beta1, beta2), eps=eps)``.
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")

#: Learning rates of :func:`sweep_mlp` when none are given: 7 rates, 2 per decade, from 1e-4 to 1e-1.
DEFAULT_LRS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
#: Seeds of :func:`sweep_mlp` when none are given: 5 seeds.
DEFAULT_SEEDS = (0, 1, 2, 3, 4)

MOMENTUM_BETA = 0.9
RMSPROP_BETA = 0.9
ADAM_BETA1, ADAM_BETA2 = 0.9, 0.999
EPS = 1e-8

#: Memory (bytes) that the stacked runs of one chunk may use on the CPU; on a CUDA device the budget is half
#: of the free memory. ``max_chunk`` overrides it.
CPU_MEMORY_BUDGET = 2**30


# ---------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------


class _StepLosses:
    """What the results of :func:`train_mlp` and :func:`sweep_mlp` share: a loss per step, in epochs."""

    loss: np.ndarray
    steps_per_epoch: int

    @property
    def n_steps(self) -> int:
        """Number of training steps of every run, ``epochs * steps_per_epoch``."""
        return self.loss.shape[-1]

    @property
    def epochs(self) -> int:
        """Number of passes over the training set."""
        return self.n_steps // self.steps_per_epoch

    def epoch_loss(self) -> np.ndarray:
        """Mean of the step losses within each epoch (each mini-batch counts once): shape ``(epochs,)`` for
        one run, ``(len(lrs), len(seeds), epochs)`` for a sweep."""
        return self.loss.reshape(*self.loss.shape[:-1], self.epochs, self.steps_per_epoch).mean(axis=-1)


@dataclass(frozen=True, eq=False)
class TrainResult(_StepLosses):
    r"""What one training run (:func:`train_mlp`) leaves behind.

    Attributes
    ----------
    loss : numpy.ndarray
        Shape ``(n_steps,)``: the mean cross-entropy of the mini-batch at each step, measured in the forward
        pass of that step (before its update).
    accuracy : float
        Fraction of the training examples that the final network classifies correctly.
    lr : float
        The run's learning rate (its rate at step 0 when there is a schedule).
    seed : int
        The seed of the initial weights and of the mini-batch order.
    optimizer : str
        One of :data:`OPTIMIZERS`.
    steps_per_epoch : int
        Mini-batches per epoch, :math:`\lceil m / \mathrm{batch\_size} \rceil`.

    Examples
    --------
    >>> r = TrainResult(loss=np.array([2.3, 2.1, 1.9, 1.8]), accuracy=0.5, lr=0.01, seed=0,
    ...                 optimizer="adam", steps_per_epoch=2)
    >>> r.n_steps, r.epochs
    (4, 2)
    >>> r.epoch_loss()
    array([2.2 , 1.85])
    """

    loss: np.ndarray
    accuracy: float
    lr: float
    seed: int
    optimizer: str
    steps_per_epoch: int



@dataclass(frozen=True, eq=False)
class SweepResult(_StepLosses):
    r"""What a sweep (:func:`sweep_mlp`) leaves behind: one row per learning rate, one column per seed.

    Attributes
    ----------
    loss : numpy.ndarray
        Shape ``(len(lrs), len(seeds), n_steps)``: ``loss[i, j]`` is the step-by-step mini-batch loss of the run
        with ``lrs[i]`` and ``seeds[j]``, as :attr:`TrainResult.loss`.
    accuracy : numpy.ndarray
        Shape ``(len(lrs), len(seeds))``: the final training accuracy of each run.
    lrs : numpy.ndarray
        The learning rates, shape ``(len(lrs),)``.
    seeds : numpy.ndarray
        The seeds, shape ``(len(seeds),)``.
    optimizer : str
        One of :data:`OPTIMIZERS`.
    steps_per_epoch : int
        Mini-batches per epoch.

    Examples
    --------
    Mean and spread over seeds, for a plot with one band per learning rate:

    >>> loss = np.array([[[2.0, 1.0], [4.0, 3.0]]])  # 1 rate, 2 seeds, 2 steps
    >>> r = SweepResult(loss=loss, accuracy=np.array([[0.9, 0.7]]), lrs=np.array([0.01]),
    ...                 seeds=np.array([0, 1]), optimizer="sgd", steps_per_epoch=1)
    >>> r.loss.mean(axis=1), r.loss.std(axis=1)
    (array([[3., 2.]]), array([[1., 1.]]))
    >>> r.run(0, 1).loss
    array([4., 3.])
    """

    loss: np.ndarray
    accuracy: np.ndarray
    lrs: np.ndarray
    seeds: np.ndarray
    optimizer: str
    steps_per_epoch: int


    def run(self, i: int, j: int) -> TrainResult:
        """The run with ``lrs[i]`` and ``seeds[j]``, as the :class:`TrainResult` that :func:`train_mlp` returns."""
        i = check_int("i", i)
        j = check_int("j", j)
        if not -len(self.lrs) <= i < len(self.lrs):
            raise IndexError(f"i must index lrs (length {len(self.lrs)}), got {i}")
        if not -len(self.seeds) <= j < len(self.seeds):
            raise IndexError(f"j must index seeds (length {len(self.seeds)}), got {j}")
        return TrainResult(loss=self.loss[i, j].copy(), accuracy=float(self.accuracy[i, j]),
                           lr=float(self.lrs[i]), seed=int(self.seeds[j]), optimizer=self.optimizer,
                           steps_per_epoch=self.steps_per_epoch)


# ---------------------------------------------------------------------------------------------------
# Argument checks (all before any work)
# ---------------------------------------------------------------------------------------------------


def _check_data(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray, int]:
    X = np.asarray(X)
    y = np.asarray(y)
    if X.dtype.kind not in "fiu":
        raise TypeError(f"X must be a numeric array, got dtype {X.dtype}")
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must be a 2-D array of shape (m, n_features) with m, n_features >= 1, got shape {X.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(X.astype(np.float32))  # the runs are in float32: 1e39 is inf there
    if not np.all(finite):
        raise ValueError(f"X must hold finite numbers within float32's range (about 3.4e38), got "
                         f"{float(X[~finite].ravel()[0])!r}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of labels, got shape {y.shape}")
    if len(y) != len(X):
        raise ValueError(f"y must have one label per row of X: X has {len(X)} rows, y has {len(y)} labels")
    if y.min() < 0:
        raise ValueError(f"y must hold labels >= 0, got {y.min()}")
    n_classes = int(y.max()) + 1
    if n_classes < 2:
        raise ValueError(f"y must hold at least two classes (labels 0 and 1 at least), got max label {y.max()}")
    return X.astype(np.float32), y.astype(np.int64), n_classes


def _check_hidden(hidden: Any) -> tuple[int, ...]:
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise TypeError(f"hidden must be a sequence of layer widths such as (64,), got {hidden!r}")
    return tuple(check_int(f"hidden[{i}]", h, minimum=1) for i, h in enumerate(hidden))


def _check_values(name: str, values: Any, check: Callable[[str, Any], Any]) -> list:
    if isinstance(values, np.ndarray):
        values = values.tolist() if values.ndim == 1 else values
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence, got {values!r}")
    if len(values) == 0:
        raise ValueError(f"{name} must not be empty, got {values!r}")
    return [check(f"{name}[{i}]", v) for i, v in enumerate(values)]


def _check_seed(name: str, seed: Any) -> int:
    return check_int(name, seed, minimum=0)


def _schedule_factors(schedule: Any, n_steps: int) -> np.ndarray:
    """``s(t) / s(0)`` for every step, or ones without a schedule."""
    if schedule is None:
        return np.ones(n_steps)
    if not callable(schedule):
        raise TypeError(f"schedule must be a callable schedule(t) or None, got {schedule!r}")
    values = np.array([check_nonnegative(f"schedule({t})", schedule(t)) for t in range(n_steps)])
    if values[0] == 0:
        raise ValueError("schedule(0) must be > 0 (the rates are lr * schedule(t) / schedule(0)), got 0.0")
    return values / values[0]


def _check_common(X, y, hidden, optimizer, epochs, batch_size, schedule, device, progress):
    X, y, n_classes = _check_data(X, y)
    hidden = _check_hidden(hidden)
    optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    steps_per_epoch = math.ceil(len(X) / batch_size)
    factors = _schedule_factors(schedule, epochs * steps_per_epoch)
    device = resolve_device(device)
    progress = show_progress(progress)
    sizes = (X.shape[1], *hidden, n_classes)
    return X, y, sizes, optimizer, epochs, batch_size, steps_per_epoch, factors, device, progress


# ---------------------------------------------------------------------------------------------------
# What a seed fixes: initial weights, then the mini-batch order (the same for both functions)
# ---------------------------------------------------------------------------------------------------


def _initial_parameters(sizes: Sequence[int], generator: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """He-normal weights of shape ``(fan_out, fan_in)`` and zero biases, layer by layer, float32 on the CPU."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        W = torch.randn(fan_out, fan_in, generator=generator, dtype=torch.float32) * math.sqrt(2.0 / fan_in)
        params.append((W, torch.zeros(fan_out, dtype=torch.float32)))
    return params


def _epoch_order(m: int, generator: torch.Generator) -> torch.Tensor:
    """The order in which one epoch visits the ``m`` examples."""
    return torch.randperm(m, generator=generator)


# ---------------------------------------------------------------------------------------------------
# One run: ordinary PyTorch
# ---------------------------------------------------------------------------------------------------


def _torch_optimizer(name: str, params, lr: float) -> tuple[torch.optim.Optimizer, float]:
    """The ``torch.optim`` optimizer for ``name`` and the factor that turns our rate into its ``lr``."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr), 1.0
    if name == "momentum":
        # lecture: v <- beta v + (1 - beta) g, theta <- theta - lr v; torch: b <- beta b + g, theta <- theta - lr' b
        # with b = v / (1 - beta), so lr' = lr (1 - beta)
        scale = 1.0 - MOMENTUM_BETA
        return torch.optim.SGD(params, lr=lr * scale, momentum=MOMENTUM_BETA), scale
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=RMSPROP_BETA, eps=EPS), 1.0
    return torch.optim.Adam(params, lr=lr, betas=(ADAM_BETA1, ADAM_BETA2), eps=EPS), 1.0


def _linear(W: torch.Tensor, b: torch.Tensor, device: torch.device) -> nn.Linear:
    # built on the meta device so that nn.Linear's own random initialization draws nothing from torch's
    # global generator; the seeded weights are copied in
    layer = nn.Linear(W.shape[1], W.shape[0], device="meta").to_empty(device=device)
    with torch.no_grad():
        layer.weight.copy_(W)
        layer.bias.copy_(b)
    return layer


def train_mlp(X, y, hidden: Sequence[int] = (64,), lr: float = 0.01, seed: int = 0, optimizer: str = "adam",
              epochs: int = 5, batch_size: int = 64, schedule: Callable | None = None, device=None,
              progress: bool | None = None) -> TrainResult:
    r"""Train one multilayer perceptron with mini-batch gradient descent, in ordinary PyTorch.

    The network maps a row :math:`x` to class scores through ReLU hidden layers,

    .. math::

        a^{[0]} = x, \qquad a^{[l]} = \max(0,\, W^{[l]} a^{[l-1]} + b^{[l]}), \qquad
        z^{[L]} = W^{[L]} a^{[L-1]} + b^{[L]},

    and each step lowers the mean cross-entropy of the softmax over a mini-batch :math:`B` of the rows,

    .. math::

        J_B = -\frac{1}{|B|} \sum_{i \in B} \log \frac{e^{z^{[L]}_{y_i}(x_i)}}{\sum_k e^{z^{[L]}_k(x_i)}},

    with the learning rate :math:`\alpha_t = \text{lr} \cdot s(t) / s(0)` at step :math:`t` for a schedule
    :math:`s` (:math:`\alpha_t = \text{lr}` without one). The code is a plain ``nn.Sequential`` of
    ``nn.Linear`` and ``nn.ReLU``, ``F.cross_entropy``, ``loss.backward()`` and a ``torch.optim`` optimizer
    (see :data:`OPTIMIZERS`): the reference that :func:`sweep_mlp` is tested against. The module docstring says
    what ``seed`` fixes.

    Source: Andrew Ng, *Improving Deep Neural Networks*, week 2 (mini-batch gradient descent, momentum,
    RMSprop, Adam, learning-rate decay).

    Parameters
    ----------
    X : array_like
        Training inputs, shape ``(m, n_features)``, one example per row (converted to float32).
    y : array_like of int
        Class labels ``0 .. n_classes - 1``, shape ``(m,)``; ``n_classes`` is ``max(y) + 1``.
    hidden : sequence of int, default (64,)
        Widths of the hidden layers (``()`` gives softmax regression).
    lr : float, default 0.01
        The learning rate, ``>= 0`` (the rate at step 0 when there is a schedule).
    seed : int, default 0
        Seed of the initial weights and of the mini-batch order, ``>= 0``.
    optimizer : {"sgd", "momentum", "rmsprop", "adam"}, default "adam"
        The update rule, see :data:`OPTIMIZERS`.
    epochs : int, default 5
        Passes over the training set, ``>= 1``.
    batch_size : int, default 64
        Examples per mini-batch, ``>= 1``.
    schedule : callable or None, default None
        A schedule ``s(t)`` from :mod:`lrcourse.schedules` (any callable of the step returning a rate
        ``>= 0``, with ``s(0) > 0``); only its shape :math:`s(t)/s(0)` is used.
    device : torch.device, str or None, default None
        Where to train; ``None`` means :func:`lrcourse.get_device`.
    progress : bool or None, default None
        Show a tqdm progress bar over the epochs. ``None`` shows it when a person is watching: standard error
        is a terminal, or the notebook runs in Colab or was opened from a Jupyter server; the environment
        variable ``LRCOURSE_PROGRESS`` (``0`` or ``1``) overrides that. Tests and executed notebooks show none.

    Returns
    -------
    TrainResult
        ``.loss`` of shape ``(epochs * steps_per_epoch,)`` and the final training ``.accuracy``.

    Examples
    --------
    >>> from lrcourse.data import load_digits
    >>> X, y = load_digits()
    >>> r = train_mlp(X[:256], y[:256], hidden=(32,), lr=0.01, epochs=3, batch_size=64, device="cpu")
    >>> r.loss.shape, r.steps_per_epoch
    ((12,), 4)
    >>> bool(r.loss[-1] < r.loss[0]), r.accuracy > 0.8
    (True, True)
    """
    lr = check_nonnegative("lr", lr)
    seed = _check_seed("seed", seed)
    X, y, sizes, optimizer, epochs, batch_size, steps_per_epoch, factors, device, progress = _check_common(
        X, y, hidden, optimizer, epochs, batch_size, schedule, device, progress)
    m = len(X)

    generator = torch.Generator().manual_seed(seed)
    layers: list[nn.Module] = []
    for W, b in _initial_parameters(sizes, generator):
        layers += [_linear(W, b, device), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])  # no ReLU after the output layer
    opt, lr_scale = _torch_optimizer(optimizer, model.parameters(), lr)

    X_t = torch.as_tensor(X, device=device)
    y_t = torch.as_tensor(y, device=device)
    losses = torch.empty(epochs * steps_per_epoch, device=device)
    t = 0
    with progress_bar(progress, epochs, f"train_mlp {optimizer} lr={lr:g}", unit="epoch") as bar:
        for _ in range(epochs):
            order = _epoch_order(m, generator).to(device)
            for start in range(0, m, batch_size):
                batch = order[start:start + batch_size]
                for group in opt.param_groups:
                    group["lr"] = lr * float(factors[t]) * lr_scale
                loss = F.cross_entropy(model(X_t[batch]), y_t[batch])
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses[t] = loss.detach()
                t += 1
            bar.update()
    with torch.no_grad():
        accuracy = (model(X_t).argmax(dim=1) == y_t).sum().item() / m
    return TrainResult(loss=losses.cpu().numpy().astype(np.float64), accuracy=accuracy, lr=lr, seed=seed,
                       optimizer=optimizer, steps_per_epoch=steps_per_epoch)


# ---------------------------------------------------------------------------------------------------
# Many runs at once: stacked parameters, batched products, vectorized updates
# ---------------------------------------------------------------------------------------------------


class _StackedMLP:
    r"""``S * L`` copies of the network (S seeds by L learning rates), all parameters in one flat tensor.

    Layout, chosen so that every product is one ``torch.bmm`` on contiguous memory:

    - Activations are columns, as in the lecture: the mini-batch of run ``r`` is ``A[r]`` of shape
      ``(units, batch)``, and the ``R = S * L`` runs are the leading (batch) dimension of ``torch.bmm``.
    - The L runs of one seed see the same mini-batch, so the first layer of those L runs is *one* matrix product:
      their weights stacked along the output units, ``(L * n1, n0)``, times the shared batch ``(n0, batch)``.
      This turns L small products into one larger, faster one. Its output, ``(S, L * n1, batch)``, is the same
      memory as ``(S * L, n1, batch)``, the per-run layout of the layers after it.
    - Parameter ``p`` of every run lives in block ``flat[offset : offset + S * L * size]`` of the flat
      parameter tensor, viewed as ``(S, L, *shape)``; gradients and optimizer state are tensors of the same
      length. ``lr_of`` holds each entry's base learning rate, so an update is one expression over ``flat``.
    """

    def __init__(self, sizes, inits, lrs, device):
        S, L = len(inits), len(lrs)
        self.S, self.L, self.R, self.sizes = S, L, S * L, tuple(sizes)
        shapes = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            shapes += [(fan_out, fan_in), (fan_out, 1)]
        numels = [S * L * math.prod(shape) for shape in shapes]
        n = sum(numels)
        flat = torch.empty(n, dtype=torch.float32)
        lr_of = torch.empty(n, dtype=torch.float32)
        lrs_t = torch.tensor(lrs, dtype=torch.float32)
        offset = 0
        self._blocks = []
        for k, (shape, numel) in enumerate(zip(shapes, numels)):
            block = flat[offset:offset + numel].view(S, L, *shape)
            for s, init in enumerate(inits):
                block[s] = init[k // 2][k % 2].view(shape)  # the same start for every rate of seed s
            lr_of[offset:offset + numel].view(S, L, -1)[...] = lrs_t.view(1, L, 1)
            self._blocks.append((offset, numel, shape))
            offset += numel
        self.flat = flat.to(device)
        self.lr_of = lr_of.to(device)
        self.grad = torch.zeros_like(self.flat)
        self.params = self._views(self.flat)
        self.grads = self._views(self.grad)
        self._work: dict[int, dict[str, list[torch.Tensor]]] = {}

    def _views(self, flat: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per layer ``(W, b)``: the first layer as ``(S, L * n1, n0)`` and ``(S, L * n1, 1)``, the others as
        ``(R, fan_out, fan_in)`` and ``(R, fan_out, 1)`` (the same memory)."""
        views = []
        for k in range(0, len(self._blocks), 2):
            pair = []
            for offset, numel, (rows, cols) in self._blocks[k:k + 2]:
                lead = (self.S, self.L * rows) if k == 0 else (self.R, rows)
                pair.append(flat[offset:offset + numel].view(*lead, cols))
            views.append(tuple(pair))
        return views

    def _buffers(self, batch: int) -> dict[str, list[torch.Tensor]]:
        """Work tensors for a mini-batch of ``batch`` columns, made once per batch size and then reused, so that
        the training loop allocates no large tensor (fresh memory costs page faults and cache misses)."""
        if batch not in self._work:
            widths = self.sizes[1:]
            self._work[batch] = {
                "Z": [self.flat.new_empty(self.R, w, batch) for w in widths],
                "dZ": [self.flat.new_empty(self.R, w, batch) for w in widths[:-1]],
            }
        return self._work[batch]

    def forward(self, X_cols: torch.Tensor, buffers: dict | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Class scores ``(R, n_classes, batch)`` for columns ``X_cols`` of shape ``(S, n0, batch)`` or
        ``(n0, batch)`` (shared by all seeds), and the hidden activations (for the backward pass). With
        ``buffers`` (from :meth:`_buffers`) the results are written there."""
        batch = X_cols.shape[-1]
        if X_cols.dim() == 2:
            X_cols = X_cols.expand(self.S, *X_cols.shape)
        Z_out = buffers["Z"] if buffers else [None] * len(self.params)
        (W1, b1), *rest = self.params
        # z^[1] = W^[1] a^[0] + b^[1]: the L runs of a seed share a^[0], one product per seed
        Z = self._product(b1, W1, X_cols, Z_out[0]).view(self.R, -1, batch)
        hidden = []
        for (W, b), out in zip(rest, Z_out[1:]):
            # a^[l-1] = relu(z^[l-1])
            A = Z.clamp_(min=0)
            hidden.append(A)
            # z^[l] = W^[l] a^[l-1] + b^[l], one product per run
            Z = self._product(b, W, A, out)
        return Z, hidden

    @staticmethod
    def _product(b, W, A, out):
        if out is None:
            return torch.baddbmm(b, W, A)
        return torch.baddbmm(b, W, A, out=out.view(W.shape[0], W.shape[1], A.shape[-1]))

    def backward(self, dZ: torch.Tensor, hidden: list[torch.Tensor], X_rows: torch.Tensor, buffers: dict) -> None:
        """Fill ``self.grad`` from ``dZ = dJ/dz^[L]`` of shape ``(R, n_classes, batch)``; ``X_rows`` is the
        mini-batch as rows, ``(S, batch, n0)``."""
        for l in range(len(self.params) - 1, 0, -1):
            (W, _), (gW, gb) = self.params[l], self.grads[l]
            A_prev, dZ_prev = hidden[l - 1], buffers["dZ"][l - 1]
            # dW^[l] = dZ^[l] a^[l-1]^T,  db^[l] = sum over the batch of dZ^[l]
            torch.bmm(dZ, A_prev.transpose(1, 2), out=gW)
            torch.sum(dZ, dim=2, keepdim=True, out=gb)
            # dZ^[l-1] = (W^[l]^T dZ^[l]) * relu'(z^[l-1]), where relu' = 1 exactly where a^[l-1] > 0
            # (threshold_backward is torch's own ReLU backward: one pass, no boolean mask to convert)
            torch.bmm(W.transpose(1, 2), dZ, out=dZ_prev)
            dZ = torch.ops.aten.threshold_backward.grad_input(dZ_prev, A_prev, 0.0, grad_input=dZ_prev)
        gW1, gb1 = self.grads[0]
        dZ = dZ.view(self.S, -1, dZ.shape[-1])
        # dW^[1] = dZ^[1] a^[0]^T, one product per seed again
        torch.bmm(dZ, X_rows, out=gW1)
        torch.sum(dZ, dim=2, keepdim=True, out=gb1)


def _loss_and_dZ(Z: torch.Tensor, Y_onehot: torch.Tensor, S: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cross-entropy per run, ``(R,)``, and its gradient ``(softmax(z) - y) / batch`` with respect to
    the scores ``Z`` of shape ``(R, classes, batch)``; ``Y_onehot`` is ``(S, classes, batch)``. Overwrites ``Z``."""
    R, classes, batch = Z.shape
    Y4 = Y_onehot.unsqueeze(1)
    # log p = z - logsumexp(z), over the classes
    log_p = torch.log_softmax(Z, dim=1).view(S, R // S, classes, batch)
    # J = -(1/batch) sum_i log p_{y_i}
    loss = (log_p * Y4).sum(dim=(2, 3)).view(R).mul_(-1.0 / batch)
    # dJ/dz = (softmax(z) - one_hot(y)) / batch
    dZ = torch.exp(log_p, out=Z.view(S, R // S, classes, batch)).sub_(Y4).div_(batch)
    return loss, dZ.view(R, classes, batch)


class _Updater:
    """The optimizer updates of :data:`OPTIMIZERS`, vectorized over every parameter of every run.

    The rate of an entry at step t is ``lr_of * factor_t`` (its run's rate times the schedule's shape), so
    one ``addcmul_`` applies R different learning rates at once.
    """

    def __init__(self, name: str, flat: torch.Tensor, fused: bool | None = None):
        self.name = name
        self.t = 0
        self.state = [torch.zeros_like(flat) for _ in range({"sgd": 0, "momentum": 1, "rmsprop": 1, "adam": 2}[name])]
        self.tmp = torch.empty_like(flat) if name == "rmsprop" else None
        # Adam: torch's fused kernel (the one behind ``torch.optim.Adam(fused=True)``) does the moment updates,
        # the bias corrections and the division in one pass instead of seven; it takes one rate for all
        # entries, so it writes the step of rate 1 into ``direction`` and ``step`` applies each run's rate.
        if fused is None:
            fused = name == "adam" and _has_fused_adam(flat.device)
        self.fused = fused
        if fused:
            self.direction = torch.empty_like(flat)
            self.t_tensor = torch.zeros((), dtype=torch.float32, device=flat.device)

    def step(self, theta: torch.Tensor, g: torch.Tensor, lr_of: torch.Tensor, factor: float) -> None:
        """One update of every run; may overwrite ``g``, which the next backward pass fills again."""
        self.t += 1
        if self.name == "sgd":
            # theta <- theta - alpha g
            theta.addcmul_(lr_of, g, value=-factor)
        elif self.name == "momentum":
            (v,) = self.state
            # v <- beta v + (1 - beta) g
            v.mul_(MOMENTUM_BETA).add_(g, alpha=1 - MOMENTUM_BETA)
            # theta <- theta - alpha v
            theta.addcmul_(lr_of, v, value=-factor)
        elif self.name == "rmsprop":
            (s,) = self.state
            # s <- beta s + (1 - beta) g^2
            s.mul_(RMSPROP_BETA).addcmul_(g, g, value=1 - RMSPROP_BETA)
            # theta <- theta - alpha g / (sqrt(s) + eps)
            denom = torch.sqrt(s, out=self.tmp).add_(EPS)
            theta.addcmul_(lr_of, torch.div(g, denom, out=self.tmp), value=-factor)
        elif self.fused:
            m, v = self.state
            # the same update as below, by torch's fused Adam kernel: with the parameter tensor at zero and a
            # rate of 1 it leaves -m_hat / (sqrt(v_hat) + eps) there
            self.t_tensor.fill_(self.t)
            self.direction.zero_()
            torch._fused_adam_([self.direction], [g], [m], [v], [], [self.t_tensor], lr=1.0, beta1=ADAM_BETA1,
                               beta2=ADAM_BETA2, weight_decay=0.0, eps=EPS, amsgrad=False, maximize=False)
            # theta <- theta + alpha (-m_hat / (sqrt(v_hat) + eps))
            theta.addcmul_(lr_of, self.direction, value=factor)
        else:
            m, v = self.state
            # m <- beta1 m + (1 - beta1) g
            m.lerp_(g, 1 - ADAM_BETA1)
            # v <- beta2 v + (1 - beta2) g^2
            v.mul_(ADAM_BETA2).addcmul_(g, g, value=1 - ADAM_BETA2)
            # m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)
            bias1 = 1 - ADAM_BETA1**self.t
            bias2_sqrt = math.sqrt(1 - ADAM_BETA2**self.t)
            # theta <- theta - alpha m_hat / (sqrt(v_hat) + eps), computed as
            # theta - (alpha sqrt(1 - beta2^t) / (1 - beta1^t)) m / (sqrt(v) + eps sqrt(1 - beta2^t)) (one pass fewer)
            # (g is not needed any more this step: its memory holds the temporaries)
            denom = torch.sqrt(v, out=g).add_(EPS * bias2_sqrt)
            theta.addcmul_(lr_of, torch.div(m, denom, out=g), value=-factor * bias2_sqrt / bias1)


_FUSED_ADAM: dict[str, bool] = {}


def _has_fused_adam(device: torch.device) -> bool:
    """Whether torch's fused Adam kernel runs on ``device``'s kind (CUDA; the CPU from torch 2.4; MPS in some
    versions): tried once per kind on a one-element tensor, the answer kept."""
    if device.type not in _FUSED_ADAM:
        try:
            one = torch.zeros(1, device=device)
            torch._fused_adam_([one], [one.clone()], [one.clone()], [one.clone()], [], [torch.ones((), device=device)],
                               lr=1.0, beta1=ADAM_BETA1, beta2=ADAM_BETA2, weight_decay=0.0, eps=EPS, amsgrad=False,
                               maximize=False)
            _FUSED_ADAM[device.type] = True
        except (AttributeError, NotImplementedError, RuntimeError):
            _FUSED_ADAM[device.type] = False
    return _FUSED_ADAM[device.type]


def _bytes_per_run(sizes: Sequence[int], batch_size: int) -> int:
    """A generous estimate of the memory one stacked run needs while training (float32)."""
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    units = sum(sizes[1:])
    # parameters, gradient, rate, two optimizer states, one temporary; activations and their gradients
    return 4 * (6 * n_params + 4 * batch_size * units)


def _chunk_shape(max_chunk: int, n_lrs: int, n_seeds: int) -> tuple[int, int]:
    """Rates and seeds per chunk: all seeds and as many rates as fit, else fewer seeds and one rate."""
    if max_chunk >= n_seeds:
        return min(n_lrs, max_chunk // n_seeds), n_seeds
    return 1, max_chunk


def _memory_budget(device: torch.device) -> int:
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free // 2
    return CPU_MEMORY_BUDGET


def sweep_mlp(X, y, hidden: Sequence[int] = (64,), lrs: Sequence[float] = DEFAULT_LRS,
              seeds: Sequence[int] = DEFAULT_SEEDS, optimizer: str = "adam", epochs: int = 5,
              batch_size: int = 64, schedule: Callable | None = None, device=None,
              progress: bool | None = None, max_chunk: int | None = None) -> SweepResult:
    r"""Train ``len(lrs) * len(seeds)`` copies of the network of :func:`train_mlp` together.

    Run :math:`(i, j)` uses learning rate ``lrs[i]`` and seed ``seeds[j]`` and is the same computation as
    ``train_mlp(X, y, hidden, lr=lrs[i], seed=seeds[j], ...)``: the same initial weights, the same mini-batches
    in the same order, the same rates :math:`\alpha_{i,t} = \text{lrs}[i] \cdot s(t)/s(0)` and the same update
    (:data:`OPTIMIZERS`), so its losses agree with that run's to float32 round-off. The :math:`K` runs are
    stacked: the copies of each weight matrix form one tensor, and for every layer :math:`l`

    .. math::

        Z^{[l]}_k = W^{[l]}_k A^{[l-1]}_k + b^{[l]}_k, \qquad
        dW^{[l]}_k = dZ^{[l]}_k A^{[l-1]\top}_k, \qquad k = 1, \dots, K,

    is one batched product (``torch.bmm``) over :math:`k`, with the backward pass written out as in the lecture
    and the optimizer update applied to all :math:`K` runs in one vectorized expression, each run with its own
    rate. This saves the per-step overhead that dominates small networks (the arithmetic is the same).

    Source: the grid search over learning rates of Andrew Ng, *Improving Deep Neural Networks*, week 3
    ("Tuning process", "Using an appropriate scale": sample the rate on a log scale), with several seeds per rate.

    Parameters
    ----------
    X, y, hidden, optimizer, epochs, batch_size, schedule, device, progress
        As in :func:`train_mlp`.
    lrs : sequence of float, default DEFAULT_LRS
        The learning rates, each ``>= 0`` (rates at step 0 with a schedule). Default: 7 rates, 2 per decade,
        ``(1e-4, 3e-4, ..., 1e-1)``.
    seeds : sequence of int, default DEFAULT_SEEDS
        The seeds, each ``>= 0``. Default: ``(0, 1, 2, 3, 4)``.
    max_chunk : int or None, default None
        Train at most this many runs at a time (chunks are whole blocks of rates times seeds). ``None`` picks
        the largest chunk that fits a memory budget: 1 GiB on the CPU, half the free memory on a CUDA device.
        The chunking does not change the results.

    Returns
    -------
    SweepResult
        ``.loss`` of shape ``(len(lrs), len(seeds), n_steps)`` and ``.accuracy`` of shape
        ``(len(lrs), len(seeds))``, with ``.lrs``, ``.seeds`` and ``.steps_per_epoch``.

    Examples
    --------
    >>> from lrcourse.data import load_digits
    >>> X, y = load_digits()
    >>> r = sweep_mlp(X[:256], y[:256], hidden=(32,), lrs=[1e-3, 1e-2], seeds=[0, 1, 2], epochs=3,
    ...               device="cpu")
    >>> r.loss.shape, r.accuracy.shape
    ((2, 3, 12), (2, 3))
    >>> one = train_mlp(X[:256], y[:256], hidden=(32,), lr=1e-2, seed=2, epochs=3, device="cpu")
    >>> bool(np.allclose(r.loss[1, 2], one.loss, rtol=1e-4))
    True
    >>> mean, spread = r.loss.mean(axis=1), r.loss.std(axis=1)  # over seeds: one band per rate
    >>> mean.shape
    (2, 12)
    """
    lrs = _check_values("lrs", lrs, check_nonnegative)
    seeds = _check_values("seeds", seeds, _check_seed)
    X, y, sizes, optimizer, epochs, batch_size, steps_per_epoch, factors, device, progress = _check_common(
        X, y, hidden, optimizer, epochs, batch_size, schedule, device, progress)
    if max_chunk is None:
        max_chunk = max(1, _memory_budget(device) // _bytes_per_run(sizes, batch_size))
    else:
        max_chunk = check_int("max_chunk", max_chunk, minimum=1)
    m, n_steps = len(X), epochs * steps_per_epoch
    n_lrs, n_seeds = len(lrs), len(seeds)
    chunk_lrs, chunk_seeds = _chunk_shape(max_chunk, n_lrs, n_seeds)
    chunks = [(i, j) for i in range(0, n_lrs, chunk_lrs) for j in range(0, n_seeds, chunk_seeds)]

    X_rows = torch.as_tensor(X, device=device)
    y_t = torch.as_tensor(y, device=device)
    n_classes = sizes[-1]
    Y_cols = F.one_hot(y_t, n_classes).T.to(torch.float32).contiguous()  # (n_classes, m), one column per example
    loss = np.empty((n_lrs, n_seeds, n_steps))
    accuracy = np.empty((n_lrs, n_seeds))
    with progress_bar(progress, len(chunks) * epochs, f"sweep_mlp {optimizer} K={n_lrs * n_seeds}",
                      unit="epoch") as bar:
        for i0, j0 in chunks:
            chunk_lr = lrs[i0:i0 + chunk_lrs]
            chunk_seed = seeds[j0:j0 + chunk_seeds]
            L, S = len(chunk_lr), len(chunk_seed)
            generators = [torch.Generator().manual_seed(seed) for seed in chunk_seed]
            inits = [_initial_parameters(sizes, g) for g in generators]
            net = _StackedMLP(sizes, inits, chunk_lr, device)
            updater = _Updater(optimizer, net.flat)
            losses = torch.empty(n_steps, net.R, device=device)
            t = 0
            for _ in range(epochs):
                # every seed's order for this epoch, (S, m); all runs of a seed share it
                order = torch.stack([_epoch_order(m, g) for g in generators]).to(device)
                for start in range(0, m, batch_size):
                    batch = order[:, start:start + batch_size]
                    buffers = net._buffers(batch.shape[1])
                    Xb = X_rows[batch]  # (S, batch, n0)
                    Z, hidden_acts = net.forward(Xb.transpose(1, 2), buffers)
                    losses[t], dZ = _loss_and_dZ(Z, Y_cols[:, batch].transpose(0, 1), S)
                    net.backward(dZ, hidden_acts, Xb, buffers)
                    updater.step(net.flat, net.grad, net.lr_of, float(factors[t]))
                    t += 1
                bar.update()
            loss[i0:i0 + L, j0:j0 + S] = losses.cpu().numpy().reshape(n_steps, S, L).transpose(2, 1, 0)
            accuracy[i0:i0 + L, j0:j0 + S] = _accuracy(net, X_rows, y_t).reshape(S, L).T
    return SweepResult(loss=loss, accuracy=accuracy, lrs=np.array(lrs, dtype=np.float64),
                       seeds=np.array(seeds, dtype=np.int64), optimizer=optimizer, steps_per_epoch=steps_per_epoch)


def _accuracy(net: _StackedMLP, X_rows: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """Fraction of correctly classified rows for each of the ``R`` runs, in blocks of rows whose activations
    take about 4 MiB (small blocks stay in the CPU's cache and bound the memory on any device)."""
    widest = max(net.sizes[1:])
    rows = max(16, (4 * 2**20) // (4 * net.R * widest))
    correct = torch.zeros(net.R, dtype=torch.int64, device=X_rows.device)
    for start in range(0, len(X_rows), rows):
        block = X_rows[start:start + rows].T
        Z, _ = net.forward(block, net._buffers(block.shape[1]))
        # max(...).indices is the first largest score, as argmax, and faster across a strided dimension
        correct += (Z.max(dim=1).indices == y[start:start + rows]).sum(dim=1)
    # to the CPU first: MPS has no float64
    return correct.cpu().numpy() / len(X_rows)
