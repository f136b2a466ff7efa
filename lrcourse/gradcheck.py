r"""Gradient checking (경사 검사): compare backpropagation with a two-sided numerical derivative.

Used by the chapter "Gradient checking" and by the tests of the numpy network.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from lrcourse._checks import check_positive

__all__ = ["numerical_gradient", "relative_error"]


def numerical_gradient(f: Callable[[np.ndarray], float], x, eps: float = 1e-7) -> np.ndarray:
    r"""Two-sided (centred) finite-difference gradient of a scalar function.

    .. math::

        \frac{\partial f}{\partial x_i} \approx
        \frac{f(x + \varepsilon e_i) - f(x - \varepsilon e_i)}{2 \varepsilon}

    with :math:`\varepsilon` = ``eps``. Its error is :math:`O(\varepsilon^2)`, against :math:`O(\varepsilon)`
    for the one-sided difference. Source: Andrew Ng, *Improving Deep Neural Networks*, week 1,
    "Numerical approximation of gradients".

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a float.
    x : array_like
        The point at which to differentiate. It is not modified.
    eps : float
        The step, > 0.

    Returns
    -------
    numpy.ndarray
        The approximate gradient, float64, shaped like ``x``.

    Examples
    --------
    >>> g = numerical_gradient(lambda w: float(np.sum(w ** 3)), np.array([1.0, 2.0]))
    >>> np.round(g, 6)
    array([ 3., 12.])
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {f!r}")
    eps = check_positive("eps", eps)
    point = np.array(x, dtype=np.float64)  # a copy: the caller's array is never touched
    grad = np.zeros_like(point)
    flat, flat_grad = point.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        f_plus = float(f(point))
        flat[i] = original - eps
        f_minus = float(f(point))
        flat[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def relative_error(a, b) -> float:
    r"""Relative distance between two gradients, as used to judge a gradient check.

    .. math::

        \frac{\lVert a - b \rVert_2}{\lVert a \rVert_2 + \lVert b \rVert_2}

    Rule of thumb from the lecture (with :math:`\varepsilon = 10^{-7}`): below about :math:`10^{-7}` is great,
    around :math:`10^{-5}` deserves a look, above :math:`10^{-3}` almost certainly means a bug. Two zero
    vectors give 0.

    Examples
    --------
    >>> relative_error([1.0, 0.0], [1.0, 0.0])
    0.0
    >>> round(relative_error([1.0, 0.0], [0.0, 1.0]), 6)  # sqrt(2) / 2
    0.707107
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    if denominator == 0.0:
        return 0.0
    return float(np.linalg.norm(a - b) / denominator)
