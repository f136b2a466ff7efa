r"""The training loop (학습 루프) for :class:`lrcourse.nn.Network`, and early stopping (조기 종료).

:func:`fit` runs mini-batch gradient descent with any :mod:`lrcourse.optim` optimizer and, optionally, an
:mod:`lrcourse.schedules` learning-rate schedule, and records the cost of every step and of every epoch in a
:class:`History`. :class:`EarlyStopping` watches a metric once per epoch and keeps the best weights.

Used by the chapters of Part I ("Train/dev/test sets, bias and variance", "Regularization", "Normalizing
inputs", "Vanishing and exploding gradients; initialization") and by the later assignments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from lrcourse._checks import check_choice, check_int, check_nonnegative, check_positive
from lrcourse.minibatch import random_mini_batches
from lrcourse.nn import Network, cross_entropy_from_logits, max_norm as _max_norm

__all__ = ["EarlyStopping", "History", "fit"]

MONITORS = ("dev_cost", "dev_accuracy", "epoch_cost", "epoch_accuracy")


class EarlyStopping:
    r"""Stop when a monitored metric has not improved for ``patience`` epochs; keep the best weights.

    With ``mode="min"`` a value :math:`v_t` is an improvement when :math:`v_t < v^\ast - \delta` (``"max"``:
    :math:`v_t > v^\ast + \delta`), where :math:`v^\ast` is the best value so far and :math:`\delta` =
    ``min_delta``; the first value always counts as one. Each improvement saves a copy of the parameters
    and resets the wait counter; each other value adds one to it, and when it reaches ``patience``,
    :meth:`step` returns True (and, with ``restore_best``, copies the best parameters back into the dict in
    place). Source: Andrew Ng, *Improving Deep Neural Networks*, week 1, "Other regularization methods";
    Prechelt, "Early stopping - but when?" (1998).

    Parameters
    ----------
    patience : int
        Number of epochs without improvement to tolerate, >= 1.
    min_delta : float
        Smallest change that counts as an improvement, >= 0.
    mode : {"min", "max"}
        ``"min"`` for a cost, ``"max"`` for an accuracy.
    restore_best : bool
        Copy the best parameters back when stopping.

    Attributes
    ----------
    best : float or None
        The best value seen.
    best_epoch : int or None
        The index (counted from 0, one per call of :meth:`step`) at which ``best`` was seen.
    wait : int
        Calls since the last improvement.
    stopped : bool
        Whether :meth:`step` has returned True.

    Examples
    --------
    >>> es = EarlyStopping(patience=2, mode="min")
    >>> params = {"w": np.array([0.0])}
    >>> for epoch, dev_cost in enumerate([1.0, 0.5, 0.6, 0.7, 0.4]):
    ...     params["w"][0] = epoch  # pretend training changed the weights
    ...     if es.step(dev_cost, params):
    ...         break
    >>> epoch, es.best, es.best_epoch, params["w"]  # weights from epoch 1 restored
    (3, 0.5, 1, array([1.]))
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0, mode: str = "min",
                 restore_best: bool = True) -> None:
        self.patience = check_int("patience", patience, minimum=1)
        self.min_delta = check_nonnegative("min_delta", min_delta)
        self.mode = check_choice("mode", mode, ("min", "max"))
        if not isinstance(restore_best, bool):
            raise TypeError(f"restore_best must be True or False, got {restore_best!r}")
        self.restore_best = restore_best
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far."""
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_params: dict[str, np.ndarray] | None = None
        self.wait = 0
        self.epoch = -1
        self.stopped = False

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience!r}, min_delta={self.min_delta!r}, mode={self.mode!r}, "
                f"restore_best={self.restore_best!r})")

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def step(self, metric: float, params: dict | None = None) -> bool:
        """Record this epoch's ``metric``; return True when training should stop.

        ``params`` (a dict of arrays, e.g. ``net.params``) is copied on every improvement and, when
        stopping with ``restore_best``, overwritten in place with the best copy.
        """
        metric = float(metric)
        if not np.isfinite(metric):
            raise ValueError(f"metric must be a finite number, got {metric!r}")
        if params is not None and not isinstance(params, dict):
            raise TypeError(f"params must be a dict of arrays (net.params), got {type(params).__name__}")
        self.epoch += 1
        if self._improved(metric):
            # a new best: remember it and a copy of the weights that produced it
            self.best, self.best_epoch, self.wait = metric, self.epoch, 0
            if params is not None:
                self.best_params = {k: np.array(v, copy=True) for k, v in params.items()}
            return False
        self.wait += 1
        if self.wait < self.patience:
            return False
        self.stopped = True
        if self.restore_best:
            self.restore(params)
        return True

    def restore(self, params: dict | None) -> None:
        """Copy the best parameters seen back into ``params``, array by array, in place."""
        if params is None or self.best_params is None:
            return
        for k, v in self.best_params.items():
            params[k][...] = v


@dataclass
class History:
    r"""What :func:`fit` recorded.

    Attributes
    ----------
    step_cost : numpy.ndarray
        The mini-batch cost at each optimizer step (before the step, with dropout if any), with the penalties
        of :math:`J` over the whole training set.
    lr : numpy.ndarray
        The learning rate used at each step.
    epoch_cost : numpy.ndarray
        The full training cost :math:`J` (cross-entropy plus penalties, no dropout) after each epoch.
    epoch_accuracy : numpy.ndarray
        Training accuracy after each epoch.
    dev_cost : numpy.ndarray or None
        Dev-set cross-entropy (without the penalty terms) after each epoch, if dev data were given.
    dev_accuracy : numpy.ndarray or None
        Dev-set accuracy after each epoch, if dev data were given.
    steps_per_epoch : int
        :math:`\lceil m / b \rceil`, or 1 for full-batch training.
    stopped_epoch : int or None
        The number of epochs run when early stopping ended training, else None.
    best_epoch : int or None
        The epoch index (from 0) of the best monitored value, when early stopping was used.
    """

    step_cost: np.ndarray
    lr: np.ndarray
    epoch_cost: np.ndarray
    epoch_accuracy: np.ndarray
    dev_cost: np.ndarray | None = None
    dev_accuracy: np.ndarray | None = None
    steps_per_epoch: int = 1
    stopped_epoch: int | None = None
    best_epoch: int | None = None


def _check_columns(name_X: str, X: Any, name_Y: str, Y: Any, net: Network) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != net.layer_dims[0]:
        raise ValueError(f"{name_X} must have shape (n_x, m) = ({net.layer_dims[0]}, m), examples as columns, "
                         f"got {X.shape}")
    if Y.ndim != 2 or Y.shape != (net.layer_dims[-1], X.shape[1]):
        raise ValueError(f"{name_Y} must have shape (n[L], m) = ({net.layer_dims[-1]}, {X.shape[1]}), "
                         f"got {Y.shape}")
    return X, Y


def _outputs(net: Network, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The output :math:`A^{[L]}` and the logits :math:`Z^{[L]}` of ``net`` on ``X`` (no dropout)."""
    AL, caches = net._forward(X, False, None)
    return AL, caches[-1][3]


def fit(net: Network, X, Y, optimizer, epochs: int, batch_size: int | None = None,
        schedule: Callable[[int], float] | None = None, seed: int = 0, X_dev=None, Y_dev=None,
        early_stopping: EarlyStopping | None = None, schedule_unit: str = "step",
        monitor: str = "dev_cost", max_norm: float | None = None) -> History:
    r"""Train ``net`` in place with mini-batch gradient descent and return the :class:`History`.

    Each epoch draws one permutation for the mini-batches (:func:`lrcourse.minibatch.random_mini_batches`,
    full batch and unshuffled when ``batch_size`` is None), and for each mini-batch :math:`t`:

    .. math::

        \alpha_t = \text{schedule}(t), \qquad (J_t, g_t) = \mathrm{net.loss\_and\_grads}(X^{\{t\}}, Y^{\{t\}}),
        \qquad \theta \leftarrow \text{optimizer.step}(\theta, g_t)

    (with ``schedule_unit="epoch"`` the schedule is a function of the epoch index instead of the step). Each
    mini-batch cost carries the penalties of :math:`J` over all :math:`m` training examples
    (:meth:`lrcourse.nn.Network.loss_and_grads` with ``m``), so the steps are unbiased estimates of the :math:`J`
    that is reported. One generator, ``np.random.default_rng(seed)``, draws both the shuffles and the dropout
    masks, so a run is reproducible. After each epoch the full training cost, and the dev cost and accuracy if
    ``X_dev`` and ``Y_dev`` are given, are recorded (costs from the logits, exact where the output saturates)
    and ``early_stopping`` (if any) sees the ``monitor`` value. ``early_stopping`` is reset first, so one object
    can serve several runs; its ``mode`` must suit the monitor (``"max"`` for an accuracy). If the monitored
    value stops being finite (the run diverged), training stops there, with the best weights restored.

    Parameters
    ----------
    net : lrcourse.nn.Network
        Trained in place.
    X, Y : array_like
        Training data, examples as columns: :math:`(n_x, m)` and :math:`(n^{[L]}, m)`.
    optimizer : lrcourse.optim.Optimizer
        Anything with a settable ``lr`` and ``step(params, grads)``.
    epochs : int
        Passes over the training set, >= 1.
    batch_size : int or None
        Mini-batch size; None means the full batch.
    schedule : callable or None
        ``schedule(t) -> lr`` (an :mod:`lrcourse.schedules` function); sets ``optimizer.lr`` before each step.
    seed : int
        Seed of the shuffles and dropout masks.
    X_dev, Y_dev : array_like or None
        Dev data, both or neither.
    early_stopping : EarlyStopping or None
        Checked once per epoch with the ``monitor`` value.
    schedule_unit : {"step", "epoch"}
        What the schedule is a function of.
    monitor : {"dev_cost", "dev_accuracy", "epoch_cost", "epoch_accuracy"}
        The value early stopping watches.
    max_norm : float or None
        If given, :func:`lrcourse.nn.max_norm` with this ``c`` after every step.

    Examples
    --------
    >>> from lrcourse.optim import Adam
    >>> X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
    >>> Y = np.array([[0.0, 1.0, 1.0, 0.0]])  # XOR
    >>> net = Network([2, 8, 1], hidden="tanh", seed=1)
    >>> history = fit(net, X, Y, Adam(lr=0.05), epochs=300)
    >>> history.step_cost.shape, bool(history.epoch_cost[-1] < 0.05), net.accuracy(X, Y)
    ((300,), True, 1.0)
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be an lrcourse.nn.Network, got {type(net).__name__}")
    X, Y = _check_columns("X", X, "Y", Y, net)
    if not (hasattr(optimizer, "step") and hasattr(optimizer, "lr")):
        raise TypeError(f"optimizer must have a settable lr and step(params, grads), got {type(optimizer).__name__}")
    epochs = check_int("epochs", epochs, minimum=1)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
    if schedule is not None and not callable(schedule):
        raise TypeError(f"schedule must be a callable schedule(t), got {schedule!r}")
    seed = check_int("seed", seed, minimum=0)
    if (X_dev is None) != (Y_dev is None):
        raise ValueError("X_dev and Y_dev must be given together, got only "
                         + ("X_dev" if X_dev is not None else "Y_dev"))
    has_dev = X_dev is not None
    if has_dev:
        X_dev, Y_dev = _check_columns("X_dev", X_dev, "Y_dev", Y_dev, net)
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise TypeError(f"early_stopping must be an EarlyStopping or None, got {type(early_stopping).__name__}")
    schedule_unit = check_choice("schedule_unit", schedule_unit, ("step", "epoch"))
    monitor = check_choice("monitor", monitor, MONITORS)
    if early_stopping is not None and monitor.startswith("dev") and not has_dev:
        raise ValueError(f"monitor={monitor!r} needs X_dev and Y_dev")
    if early_stopping is not None:
        wanted = "max" if monitor.endswith("accuracy") else "min"
        if early_stopping.mode != wanted:
            raise ValueError(f"early_stopping must have mode={wanted!r} to watch monitor={monitor!r}, got "
                             f"mode={early_stopping.mode!r}")
    if max_norm is not None:
        max_norm = check_positive("max_norm", max_norm)

    if early_stopping is not None:
        early_stopping.reset()  # a stopper used before starts afresh: no best value or weights of another run
    rng = np.random.default_rng(seed)
    m = X.shape[1]
    steps_per_epoch = 1 if batch_size is None else -(-m // batch_size)
    step_cost, lrs, epoch_cost, epoch_acc, dev_cost, dev_acc = [], [], [], [], [], []
    stopped_epoch = None
    t = 0
    for epoch in range(epochs):
        batches = [(X, Y)] if batch_size is None else random_mini_batches(X, Y, batch_size, rng)
        for X_batch, Y_batch in batches:
            # alpha_t = schedule(t) (or schedule(epoch)), set before the step
            if schedule is not None:
                optimizer.lr = schedule(t if schedule_unit == "step" else epoch)
            # the penalties are those of J over all m examples, so the mini-batch cost and gradients are
            # unbiased estimates of J's
            cost, grads = net.loss_and_grads(X_batch, Y_batch, rng=rng, m=m)
            optimizer.step(net.params, grads)
            if max_norm is not None:
                _max_norm(net.params, max_norm)
            step_cost.append(cost)
            lrs.append(optimizer.lr)
            t += 1
        # end of epoch: full training cost J (with penalties, no dropout, from the logits), then the dev metrics
        AL, ZL = _outputs(net, X)
        epoch_cost.append(cross_entropy_from_logits(ZL, Y) + net.penalty(m))
        epoch_acc.append(net.accuracy(X, Y, AL=AL))
        if has_dev:
            AL_dev, ZL_dev = _outputs(net, X_dev)
            dev_cost.append(cross_entropy_from_logits(ZL_dev, Y_dev))
            dev_acc.append(net.accuracy(X_dev, Y_dev, AL=AL_dev))
        if early_stopping is not None:
            value = {"dev_cost": dev_cost, "dev_accuracy": dev_acc, "epoch_cost": epoch_cost,
                     "epoch_accuracy": epoch_acc}[monitor][-1]
            if not np.isfinite(value):
                # the run diverged: stop here, with the best weights seen so far
                early_stopping.stopped = True
                if early_stopping.restore_best:
                    early_stopping.restore(net.params)
                stopped_epoch = epoch + 1
                break
            if early_stopping.step(value, net.params):
                stopped_epoch = epoch + 1
                break
    return History(
        step_cost=np.array(step_cost), lr=np.array(lrs), epoch_cost=np.array(epoch_cost),
        epoch_accuracy=np.array(epoch_acc),
        dev_cost=np.array(dev_cost) if has_dev else None, dev_accuracy=np.array(dev_acc) if has_dev else None,
        steps_per_epoch=steps_per_epoch, stopped_epoch=stopped_epoch,
        best_epoch=None if early_stopping is None else early_stopping.best_epoch,
    )
