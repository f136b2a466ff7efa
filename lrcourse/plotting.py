r"""Plots the chapters share: the decision regions of a classifier on a planar data set.

Used by the chapters "Train/dev/test sets, bias and variance" and "Regularization" (Part I), which compare
underfitting, overfitting and regularized networks by drawing what each one predicts over the plane.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from lrcourse._checks import check_int, check_nonnegative

__all__ = ["decision_grid", "plot_decision_boundary"]


def _as_function(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """A network becomes 'columns in, one value per column out'; a callable is used as it is."""
    from lrcourse.nn import Network

    if isinstance(model, Network):
        if model.layer_dims[0] != 2:
            raise ValueError(f"model must take 2 inputs to be drawn on the plane, got layer_dims={model.layer_dims}")
        if model.output == "sigmoid":
            return lambda cols: model.predict_proba(cols)[0]
        return lambda cols: np.argmax(model.predict_proba(cols), axis=0).astype(float)
    if callable(model):
        return model
    raise TypeError(f"model must be an lrcourse.nn.Network or a callable, got {type(model).__name__}")


def decision_grid(model: Any, X, resolution: int = 200,
                  margin: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Evaluate a model on a regular grid covering the points ``X`` (rows, shape ``(m, 2)``) plus a margin.

    The grid spans :math:`[\min_i x_1^{(i)} - \text{margin}, \max_i x_1^{(i)} + \text{margin}]` and the same for
    :math:`x_2`, with ``resolution`` points per axis. ``model`` is a :class:`lrcourse.nn.Network` with two inputs
    (a sigmoid network gives :math:`P(y = 1 \mid x)`, a softmax network the predicted class) or any function
    that maps a ``(2, k)`` array of columns to ``k`` values.

    Returns
    -------
    xx, yy, zz : numpy.ndarray
        Each ``(resolution, resolution)``; ``zz[i, j]`` is the model's value at ``(xx[i, j], yy[i, j])``.

    Examples
    --------
    >>> xx, yy, zz = decision_grid(lambda cols: cols[0] + cols[1], np.array([[0.0, 0.0], [1.0, 1.0]]), 3, 0.0)
    >>> zz
    array([[0. , 0.5, 1. ],
           [0.5, 1. , 1.5],
           [1. , 1.5, 2. ]])
    """
    f = _as_function(model)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2 or X.shape[0] < 1:
        raise ValueError(f"X must be rows of 2-D points, shape (m, 2), got {X.shape}")
    resolution = check_int("resolution", resolution, minimum=2)
    margin = check_nonnegative("margin", margin)
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    values = np.asarray(f(np.vstack([xx.ravel(), yy.ravel()])), dtype=np.float64).reshape(xx.shape)
    return xx, yy, values


def plot_decision_boundary(ax, model: Any, X, y, resolution: int = 200, margin: float = 0.5,
                           title: str | None = None, s: float = 12.0):
    r"""Shade the plane by the model's output and overlay the labelled points; return the axes.

    For a sigmoid network the shading is :math:`P(y = 1 \mid x)` from 0 (blue) to 1 (red) with the boundary
    :math:`P = 0.5` drawn in black; for a softmax network each predicted class gets its own colour. Any other
    ``model`` (a callable of the columns) is read as giving :math:`P(y = 1 \mid x)`. ``X`` holds rows
    ``(m, 2)`` and ``y`` their integer labels ``(m,)``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from lrcourse.nn import Network
    >>> fig, ax = plt.subplots()
    >>> ax = plot_decision_boundary(ax, Network([2, 4, 1]), np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0, 1]))
    >>> plt.close(fig)
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must hold one label per row of X, got X {X.shape} and y {y.shape}")
    xx, yy, zz = decision_grid(model, X, resolution, margin)
    probabilities = not (hasattr(model, "output") and model.output == "softmax")
    if probabilities:
        ax.contourf(xx, yy, zz, levels=np.linspace(0.0, 1.0, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(xx, yy, zz, levels=[0.5], colors="black", linewidths=1.0)
    else:
        ax.contourf(xx, yy, zz, levels=np.arange(-0.5, zz.max() + 1.0), cmap="tab10", alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r" if probabilities else "tab10", s=s, edgecolors="k",
               linewidths=0.4, vmin=0, vmax=max(1, int(y.max())) if probabilities else 9)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return ax
