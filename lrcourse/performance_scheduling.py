r"""Performance scheduling: a training loop whose learning rate reacts to the dev set, with early stopping.

A schedule of :mod:`lrcourse.schedules` decides the rate in advance, as a function of time. Performance
scheduling decides it from what training shows: after every epoch the dev loss (or accuracy) is measured,
and when it has stopped improving for a while the rate is cut (:class:`lrcourse.schedules.ReduceOnPlateau`).
The same measurement can end training when it stops improving for longer, keeping the best weights seen
(:class:`lrcourse.train.EarlyStopping`). :func:`fit_with_plateau` runs the two together around
:func:`lrcourse.train.fit`, one epoch at a time, and returns the usual :class:`lrcourse.train.History`.

Used in Part III of the book: "Performance scheduling and early stopping".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lrcourse._checks import check_choice, check_int
from lrcourse.nn import Network
from lrcourse.schedules import ReduceOnPlateau
from lrcourse.train import MONITORS, EarlyStopping, History, _check_columns, fit

__all__ = ["epoch_seeds", "fit_with_plateau"]


def epoch_seeds(seed: int, epochs: int) -> np.ndarray:
    r"""The seed of each epoch's shuffle in :func:`fit_with_plateau`.

    .. math::

        s_e = \mathrm{np.random.default\_rng(seed).integers}(0, 2^{31} - 1, \text{size}=E)[e],
        \quad e = 0, \dots, E - 1

    Epoch :math:`e` is ``fit(..., epochs=1, seed=s_e)``, so the mini-batch order of every epoch follows from
    ``seed`` alone, and a run stopped early has shuffled exactly like the first epochs of a longer one.

    Parameters
    ----------
    seed : int
        The run's seed, ``>= 0``.
    epochs : int
        Number of epochs, ``>= 0``.

    Returns
    -------
    numpy.ndarray
        ``int64`` array of shape ``(epochs,)``.

    Examples
    --------
    >>> a, b = epoch_seeds(0, 5), epoch_seeds(0, 3)
    >>> bool((a[:3] == b).all()), a.shape
    (True, (5,))
    """
    seed = check_int("seed", seed, minimum=0)
    epochs = check_int("epochs", epochs, minimum=0)
    return np.random.default_rng(seed).integers(0, 2**31 - 1, size=epochs, dtype=np.int64)


def _concatenate(histories: list[History], stopped_epoch: int | None, best_epoch: int | None) -> History:
    def cat(name):
        return np.concatenate([getattr(h, name) for h in histories])

    return History(step_cost=cat("step_cost"), lr=cat("lr"), epoch_cost=cat("epoch_cost"),
                   epoch_accuracy=cat("epoch_accuracy"), dev_cost=cat("dev_cost"), dev_accuracy=cat("dev_accuracy"),
                   steps_per_epoch=histories[0].steps_per_epoch, stopped_epoch=stopped_epoch, best_epoch=best_epoch)


def fit_with_plateau(
    net: Network,
    X: Any,
    Y: Any,
    optimizer: Any,
    plateau: ReduceOnPlateau,
    epochs: int,
    X_dev: Any,
    Y_dev: Any,
    batch_size: int | None = None,
    seed: int = 0,
    plateau_monitor: str = "dev_cost",
    early_stopping: EarlyStopping | None = None,
    stop_monitor: str = "dev_cost",
) -> History:
    r"""Train ``net`` one epoch at a time, cutting the rate on a plateau and optionally stopping early.

    For each epoch :math:`e = 0, 1, \dots` (at most ``epochs``):

    1. set the optimizer's rate to the plateau scheduler's, :math:`\alpha_e` = ``plateau.lr``;
    2. train one epoch, ``fit(net, X, Y, optimizer, epochs=1, batch_size, seed=s_e, X_dev, Y_dev)``, with
       :math:`s_e` from :func:`epoch_seeds`;
    3. feed the ``plateau_monitor`` value :math:`m_e` to ``plateau.step``, which sets the next rate:

       .. math::

           \alpha_{e+1} = \begin{cases}
           \max(\gamma\,\alpha_e, \alpha_{\min}) & \text{after more than } p \text{ epochs without improvement} \\
           \alpha_e & \text{otherwise}
           \end{cases}

       (:class:`lrcourse.schedules.ReduceOnPlateau`, with :math:`\gamma` its ``factor`` and :math:`p` its
       ``patience``);
    4. feed the ``stop_monitor`` value to ``early_stopping.step(value, net.params)``; when it returns True,
       training ends, with the best weights restored if the early stopper says so.

    ``early_stopping`` is reset first, as in :func:`lrcourse.train.fit`; ``plateau`` is not (it may continue
    a schedule). If a watched value stops being finite (the run diverged), training ends there, with the best
    weights restored when early stopping keeps them. Every argument is checked before the optimizer's rate is
    touched.

    Source: Géron, *Hands-On Machine Learning*, ch. 11 (performance scheduling, Keras's
    ``ReduceLROnPlateau``); EECS 498 lecture 11 (early stopping on validation accuracy, keep the best
    checkpoint); Andrew Ng, *Improving Deep Neural Networks*, week 1 (early stopping).

    Parameters
    ----------
    net : lrcourse.nn.Network
        Trained in place.
    X, Y : array_like
        Training data, examples as columns.
    optimizer : lrcourse.optim.Optimizer
        Its ``lr`` is overwritten with ``plateau.lr`` before every epoch.
    plateau : lrcourse.schedules.ReduceOnPlateau
        The performance scheduler; its ``mode`` must fit ``plateau_monitor`` ("min" for a cost, "max" for an
        accuracy). It is stepped in place, so after the call it holds the final rate and counters.
    epochs : int
        Maximum number of epochs, ``>= 1``.
    X_dev, Y_dev : array_like
        Dev data, examples as columns.
    batch_size : int or None
        Mini-batch size; None means the full batch.
    seed : int
        Seed of the run (see :func:`epoch_seeds`).
    plateau_monitor : {"dev_cost", "dev_accuracy", "epoch_cost", "epoch_accuracy"}
        The value the plateau scheduler watches.
    early_stopping : lrcourse.train.EarlyStopping or None
        Stepped once per epoch with the ``stop_monitor`` value.
    stop_monitor : {"dev_cost", "dev_accuracy", "epoch_cost", "epoch_accuracy"}
        The value early stopping watches.

    Returns
    -------
    lrcourse.train.History
        All epochs run, as if from one call of :func:`lrcourse.train.fit`; ``lr`` holds the rate of every step,
        ``stopped_epoch`` and ``best_epoch`` are set when early stopping was used.

    Examples
    --------
    >>> from lrcourse.optim import SGD
    >>> X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
    >>> Y = np.array([[0.0, 0.0, 0.0, 1.0]])  # AND
    >>> net = Network([2, 4, 1], seed=0)
    >>> plateau = ReduceOnPlateau(1.0, factor=0.5, patience=2)
    >>> history = fit_with_plateau(net, X, Y, SGD(lr=1.0), plateau, epochs=30, X_dev=X, Y_dev=Y)
    >>> history.epoch_cost.shape, history.lr.shape, bool(history.lr[-1] <= 1.0)
    ((30,), (30,), True)
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be an lrcourse.nn.Network, got {type(net).__name__}")
    if not isinstance(plateau, ReduceOnPlateau):
        raise TypeError(f"plateau must be an lrcourse.schedules.ReduceOnPlateau, got {type(plateau).__name__}")
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise TypeError(f"early_stopping must be an EarlyStopping or None, got {type(early_stopping).__name__}")
    epochs = check_int("epochs", epochs, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    plateau_monitor = check_choice("plateau_monitor", plateau_monitor, MONITORS)
    stop_monitor = check_choice("stop_monitor", stop_monitor, MONITORS)
    wanted = "min" if plateau_monitor.endswith("cost") else "max"
    if plateau.mode != wanted:
        raise ValueError(f"plateau.mode must be {wanted!r} to watch {plateau_monitor!r}, got {plateau.mode!r}")
    if early_stopping is not None:
        wanted = "min" if stop_monitor.endswith("cost") else "max"
        if early_stopping.mode != wanted:
            raise ValueError(
                f"early_stopping.mode must be {wanted!r} to watch {stop_monitor!r}, got {early_stopping.mode!r}")
    if X_dev is None or Y_dev is None:
        raise ValueError("X_dev and Y_dev are required: performance scheduling watches the dev set")
    # what fit would check at the first epoch, checked before anything changes (the optimizer's rate included)
    X, Y = _check_columns("X", X, "Y", Y, net)
    X_dev, Y_dev = _check_columns("X_dev", X_dev, "Y_dev", Y_dev, net)
    if not (hasattr(optimizer, "step") and hasattr(optimizer, "lr")):
        raise TypeError(f"optimizer must have a settable lr and step(params, grads), got {type(optimizer).__name__}")
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
    if early_stopping is not None:
        early_stopping.reset()  # as in fit: a stopper used before starts afresh

    histories: list[History] = []
    stopped_epoch = None
    for epoch, epoch_seed in enumerate(epoch_seeds(seed, epochs)):
        # alpha_e: the rate the plateau scheduler holds now
        optimizer.lr = plateau.lr
        h = fit(net, X, Y, optimizer, epochs=1, batch_size=batch_size, seed=int(epoch_seed), X_dev=X_dev, Y_dev=Y_dev)
        histories.append(h)
        values = {"dev_cost": h.dev_cost, "dev_accuracy": h.dev_accuracy, "epoch_cost": h.epoch_cost,
                  "epoch_accuracy": h.epoch_accuracy}
        watched = [values[plateau_monitor][-1]] + ([] if early_stopping is None else [values[stop_monitor][-1]])
        if not np.all(np.isfinite(watched)):
            # the run diverged: stop here, with the best weights seen so far when early stopping keeps them
            if early_stopping is not None:
                early_stopping.stopped = True
                if early_stopping.restore_best:
                    early_stopping.restore(net.params)
            stopped_epoch = epoch + 1
            break
        # alpha_{e+1} = max(gamma alpha_e, alpha_min) after more than `patience` bad epochs
        plateau.step(values[plateau_monitor][-1])
        if early_stopping is not None and early_stopping.step(values[stop_monitor][-1], net.params):
            stopped_epoch = epoch + 1
            break
    best_epoch = None if early_stopping is None else early_stopping.best_epoch
    return _concatenate(histories, stopped_epoch, best_epoch)
