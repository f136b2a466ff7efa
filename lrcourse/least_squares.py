r"""A small least-squares problem for watching mini-batch gradient descent move.

This module teaches why a constant learning rate cannot settle when gradients are noisy. Linear
regression with two weights has a cost whose contours can be drawn, an exact minimizer to measure
the distance to, and mini-batch gradients whose noise comes from the data alone, as in a real
network. :func:`minibatch_gd_path` records every iterate of mini-batch gradient descent under a
learning-rate schedule from :mod:`lrcourse.schedules`, so a constant rate and a decaying one can be
compared on the same problem and the same mini-batches.

Examples are rows here (``X`` has shape ``(m, d)``), as in scikit-learn and PyTorch.

Used in Part III of the book: "Why decay the learning rate".
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from lrcourse._checks import check_choice, check_int, check_nonnegative, check_number

__all__ = [
    "GDPath",
    "cost",
    "gradient",
    "make_problem",
    "minibatch_gd_path",
    "minibatch_gradient_covariance",
    "minimizer",
]


def _check_data(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """``X`` a finite (m, d) float array with m >= 1, ``y`` a finite (m,) array."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must be a 2-D array of shape (m, d) with m, d >= 1, got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got shape {y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise ValueError("X and y must contain only finite numbers")
    return X, y


def _check_weights(w: Any, d: int, name: str = "w") -> np.ndarray:
    w = np.asarray(w, dtype=np.float64)
    if w.ndim < 1 or w.shape[-1] != d:
        raise ValueError(f"{name} must have last dimension {d} (one entry per feature), got shape {w.shape}")
    return w


def make_problem(
    n_samples: int = 512,
    scales: Sequence[float] = (1.0, 0.4),
    w_true: Sequence[float] = (1.0, -1.0),
    noise: float = 1.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""A seeded linear-regression data set whose features have different scales.

    .. math::

        x_{ij} \sim \mathcal{N}(0, s_j^2), \qquad
        y_i = x_i^\top w_{\text{true}} + \sigma \varepsilon_i, \quad \varepsilon_i \sim \mathcal{N}(0, 1)

    where :math:`s_j` are the ``scales`` and :math:`\sigma` is ``noise``. Different scales give the
    cost elongated elliptical contours; the noise makes the examples disagree, so that mini-batch
    gradients scatter around the full gradient even at the minimum.

    Source: the noisy-mini-batch picture of Andrew Ng's lecture "Learning rate decay".

    Parameters
    ----------
    n_samples : int
        Number of examples ``m``, ``>= 1``.
    scales : sequence of float
        Standard deviation of each feature, each ``>= 0``; its length is the number of weights ``d``.
    w_true : sequence of float
        The weights that generate ``y``, one per feature.
    noise : float
        Standard deviation :math:`\sigma` of the label noise, ``>= 0``.
    seed : int
        Seed of ``np.random.default_rng``.

    Returns
    -------
    X : numpy.ndarray
        Features, shape ``(m, d)``.
    y : numpy.ndarray
        Targets, shape ``(m,)``.

    Examples
    --------
    >>> X, y = make_problem(n_samples=4, seed=0)
    >>> X.shape, y.shape
    ((4, 2), (4,))
    >>> X2, y2 = make_problem(n_samples=4, seed=0)
    >>> bool((X == X2).all() and (y == y2).all())
    True
    """
    n_samples = check_int("n_samples", n_samples, minimum=1)
    scales = np.array([check_nonnegative(f"scales[{j}]", s) for j, s in enumerate(scales)], dtype=np.float64)
    w_true = np.array([check_number(f"w_true[{j}]", w) for j, w in enumerate(w_true)], dtype=np.float64)
    if scales.size == 0 or w_true.shape != scales.shape:
        raise ValueError(
            f"w_true must have one entry per scale ({scales.size}), got {w_true.size}; at least one feature"
        )
    noise = check_nonnegative("noise", noise)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, scales.size)) * scales
    y = X @ w_true + noise * rng.standard_normal(n_samples)
    return X, y


def cost(X: Any, y: Any, w: Any) -> np.ndarray | float:
    r"""The mean squared error cost, for one weight vector or a whole grid of them.

    .. math::

        J(w) = \frac{1}{2m} \sum_{i=1}^{m} \left(x_i^\top w - y_i\right)^2
             = \frac{1}{2m}\left(w^\top X^\top X w - 2\, w^\top X^\top y + y^\top y\right)

    The second form is the one computed: it costs :math:`O(d^2)` per weight vector whatever
    :math:`m`, so the cost can be drawn on a fine grid.

    Parameters
    ----------
    X : array_like
        Features, shape ``(m, d)``.
    y : array_like
        Targets, shape ``(m,)``.
    w : array_like
        Weights, shape ``(d,)`` or ``(..., d)`` (for instance a grid ``(rows, cols, d)``).

    Returns
    -------
    float or numpy.ndarray
        :math:`J(w)`; an array of shape ``w.shape[:-1]`` for a batch of weight vectors.

    Examples
    --------
    >>> X = [[1.0, 0.0], [0.0, 2.0]]
    >>> y = [1.0, 2.0]
    >>> cost(X, y, [0.0, 0.0])  # (1 + 4) / (2 * 2)
    1.25
    >>> cost(X, y, [[1.0, 1.0], [0.0, 0.0]]).tolist()
    [0.0, 1.25]
    """
    X, y = _check_data(X, y)
    w = _check_weights(w, X.shape[1])
    m = X.shape[0]
    gram, xty, yty = X.T @ X, X.T @ y, y @ y
    value = (np.einsum("...i,ij,...j->...", w, gram, w) - 2.0 * (w @ xty) + yty) / (2.0 * m)
    # round-off can make the exact minimum a hair below zero
    value = np.maximum(value, 0.0)
    return float(value) if w.ndim == 1 else value


def gradient(X: Any, y: Any, w: Any) -> np.ndarray:
    r"""The gradient of :func:`cost` on the examples given (a mini-batch or the whole set).

    .. math::

        \nabla J(w) = \frac{1}{m} X^\top (X w - y)

    Parameters
    ----------
    X : array_like
        Features, shape ``(m, d)``.
    y : array_like
        Targets, shape ``(m,)``.
    w : array_like
        Weights, shape ``(d,)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(d,)``.

    Examples
    --------
    >>> gradient([[1.0, 0.0], [0.0, 2.0]], [1.0, 2.0], [0.0, 0.0]).tolist()
    [-0.5, -2.0]
    """
    X, y = _check_data(X, y)
    w = _check_weights(w, X.shape[1])
    if w.ndim != 1:
        raise ValueError(f"w must have shape ({X.shape[1]},), got shape {w.shape}")
    return X.T @ (X @ w - y) / X.shape[0]


def minimizer(X: Any, y: Any) -> np.ndarray:
    r"""The exact minimizer of :func:`cost`: the least-squares solution.

    .. math::

        w^\ast = \arg\min_w J(w), \qquad X^\top X\, w^\ast = X^\top y

    (the normal equations; solved with ``numpy.linalg.lstsq``, which also handles a singular
    :math:`X^\top X` by returning the minimum-norm solution).

    Parameters
    ----------
    X : array_like
        Features, shape ``(m, d)``.
    y : array_like
        Targets, shape ``(m,)``.

    Returns
    -------
    numpy.ndarray
        :math:`w^\ast`, shape ``(d,)``.

    Examples
    --------
    >>> minimizer([[1.0, 0.0], [0.0, 2.0], [1.0, 0.0]], [1.0, 2.0, 3.0]).round(6).tolist()
    [2.0, 1.0]
    """
    X, y = _check_data(X, y)
    return np.linalg.lstsq(X, y, rcond=None)[0]


def minibatch_gradient_covariance(X: Any, y: Any, w: Any, batch_size: int) -> np.ndarray:
    r"""Covariance of the gradient of a random mini-batch, drawn without replacement, at ``w``.

    With per-example gradients :math:`g_i = x_i (x_i^\top w - y_i)`, their mean :math:`\bar g` (the
    full gradient) and a mini-batch :math:`B` of :math:`b` distinct examples drawn uniformly at random,
    the mini-batch gradient :math:`\hat g = \frac{1}{b}\sum_{i \in B} g_i` has mean :math:`\bar g` and
    covariance (the finite-population formula of survey sampling)

    .. math::

        \operatorname{Cov}[\hat g] = \frac{m - b}{b\,(m - 1)} \cdot
        \frac{1}{m} \sum_{i=1}^{m} (g_i - \bar g)(g_i - \bar g)^\top .

    It is zero for a full batch (:math:`b = m`) and shrinks roughly like :math:`1/b`. At the minimizer
    :math:`\bar g = 0` but the covariance is not zero when the examples disagree: this is the noise
    that keeps a constant learning rate from settling.

    Source: Cochran, *Sampling Techniques* (variance of a sample mean without replacement); Andrew
    Ng's lecture "Learning rate decay" for why the noise matters.

    Parameters
    ----------
    X : array_like
        Features, shape ``(m, d)``.
    y : array_like
        Targets, shape ``(m,)``.
    w : array_like
        Weights, shape ``(d,)``.
    batch_size : int
        Examples per mini-batch, in [1, m].

    Returns
    -------
    numpy.ndarray
        Shape ``(d, d)``.

    Examples
    --------
    >>> X, y = [[1.0], [-1.0], [2.0]], [0.0, 0.0, 0.0]
    >>> minibatch_gradient_covariance(X, y, [1.0], batch_size=3).tolist()  # full batch: no noise
    [[0.0]]
    >>> minibatch_gradient_covariance(X, y, [1.0], batch_size=1).round(4).tolist()  # g_i = 1, 1, 4
    [[2.0]]
    """
    X, y = _check_data(X, y)
    m, d = X.shape
    w = _check_weights(w, d)
    if w.ndim != 1:
        raise ValueError(f"w must have shape ({d},), got shape {w.shape}")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if batch_size > m:
        raise ValueError(f"batch_size must be <= m = {m}, got {batch_size}")
    # g_i = x_i (x_i^T w - y_i), one row per example
    per_example = X * (X @ w - y)[:, None]
    centred = per_example - per_example.mean(axis=0)
    population = centred.T @ centred / m
    if m == 1:
        return np.zeros((d, d))
    # (m - b) / (b (m - 1)): the finite-population correction
    return (m - batch_size) / (batch_size * (m - 1)) * population


class GDPath(NamedTuple):
    """What :func:`minibatch_gd_path` returns."""

    weights: np.ndarray
    """Every iterate, shape ``(n_steps + 1, d)``: ``weights[0]`` is ``w0``, ``weights[k]`` follows step ``k``."""
    lr: np.ndarray
    """The learning rate used at each step, shape ``(n_steps,)``."""
    epoch: np.ndarray
    """The epoch (from 0) that each step belongs to, shape ``(n_steps,)``."""


def minibatch_gd_path(
    X: Any,
    y: Any,
    w0: Any,
    schedule: Callable[[int], float],
    epochs: int,
    batch_size: int = 16,
    seed: int = 0,
    schedule_unit: str = "step",
) -> GDPath:
    r"""Run mini-batch gradient descent on :func:`cost` and record every iterate.

    At the start of each epoch the examples are shuffled with
    ``rng.permutation(m)``, where ``rng = np.random.default_rng(seed)`` is created once, and cut into
    consecutive mini-batches :math:`B` of ``batch_size`` examples (the last one shorter when
    ``batch_size`` does not divide ``m``). Step :math:`k` (counted from 0 over all epochs) is

    .. math::

        \alpha_k = s(k) \;\text{(per step)} \quad\text{or}\quad \alpha_k = s(e) \;\text{(per epoch } e),
        \qquad
        w_{k+1} = w_k - \alpha_k \, \frac{1}{|B|} X_B^\top (X_B w_k - y_B)

    where :math:`s` is ``schedule``. With ``batch_size >= m`` this is full-batch gradient descent.

    Source: Andrew Ng's lectures "Mini-batch gradient descent" and "Learning rate decay".

    Parameters
    ----------
    X : array_like
        Features, shape ``(m, d)``.
    y : array_like
        Targets, shape ``(m,)``.
    w0 : array_like
        Starting weights, shape ``(d,)``.
    schedule : callable
        ``schedule(t)`` returning the rate ``>= 0`` (any schedule of :mod:`lrcourse.schedules`).
    epochs : int
        Passes over the data, ``>= 1``.
    batch_size : int
        Examples per mini-batch, ``>= 1``.
    seed : int
        Seed of the shuffling.
    schedule_unit : {"step", "epoch"}
        Whether ``schedule`` is called with the step number or with the epoch number.

    Returns
    -------
    GDPath
        ``weights`` (every iterate), ``lr`` (the rate of each step) and ``epoch`` (of each step).

    Examples
    --------
    >>> from lrcourse.schedules import constant
    >>> X, y = [[1.0], [3.0]], [1.0, 3.0]
    >>> path = minibatch_gd_path(X, y, [0.0], constant(0.1), epochs=2, batch_size=2)
    >>> path.weights.round(4).tolist()  # full batch: w <- w - 0.1 * (5w - 5)
    [[0.0], [0.5], [0.75]]
    >>> path.lr.tolist(), path.epoch.tolist()
    ([0.1, 0.1], [0, 1])
    """
    X, y = _check_data(X, y)
    m, d = X.shape
    w = _check_weights(w0, d, "w0")
    if w.ndim != 1:
        raise ValueError(f"w0 must have shape ({d},), got shape {w.shape}")
    if not callable(schedule):
        raise TypeError(f"schedule must be a callable schedule(t), got {schedule!r} of type {type(schedule).__name__}")
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    schedule_unit = check_choice("schedule_unit", schedule_unit, ["step", "epoch"])

    rng = np.random.default_rng(seed)
    starts = range(0, m, batch_size)
    n_steps = epochs * len(starts)
    weights = np.empty((n_steps + 1, d))
    weights[0] = w
    rates = np.empty(n_steps)
    epoch_of = np.repeat(np.arange(epochs), len(starts))
    k = 0
    for epoch in range(epochs):
        order = rng.permutation(m)
        for start in starts:
            batch = order[start : start + batch_size]
            Xb, yb = X[batch], y[batch]
            # alpha_k = s(k), or s(epoch) for a per-epoch schedule
            lr = check_nonnegative("schedule(t)", schedule(k if schedule_unit == "step" else epoch))
            # g = (1/|B|) X_B^T (X_B w - y_B), the mini-batch gradient
            g = Xb.T @ (Xb @ weights[k] - yb) / len(batch)
            # w <- w - alpha g
            weights[k + 1] = weights[k] - lr * g
            rates[k] = lr
            k += 1
    return GDPath(weights=weights, lr=rates, epoch=epoch_of)
