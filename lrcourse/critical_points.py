r"""Local minima, saddle points and plateaus: where gradient descent slows down in high dimensions.

A point where the gradient vanishes is a *critical point*. In one or two dimensions we picture most of
them as local minima; in the millions of dimensions of a neural network, almost all of them are saddle
points, and the flat regions around them (plateaus) are what slows training down (Dauphin et al., 2014;
Ng, *Improving Deep Neural Networks*, week 2, "The problem of local optima"). This module gives

- :func:`fraction_positive_definite`, a Monte Carlo estimate of how often a random symmetric
  matrix (a random Hessian) has only positive eigenvalues, i.e. how rare a minimum is among the critical
  points of a random function as the dimension grows;
- :class:`Plateau`, a two-dimensional landscape with a single minimum inside a flat plateau, on which
  plain gradient descent crawls and Adam does not.

The saddle itself is :func:`lrcourse.landscapes.saddle`. Used by the chapter *Adam*.

Examples
--------
>>> f = Plateau()
>>> f.value([0.0, 0.0]), round(f.value([4.0, 3.0]), 6)
(0.0, 0.999996)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lrcourse._checks import check_int, check_positive
from lrcourse.landscapes import Landscape

__all__ = ["fraction_positive_definite", "Plateau"]


def fraction_positive_definite(n: int, samples: int = 10_000, seed: int = 0) -> float:
    r"""The fraction of random symmetric ``n`` by ``n`` matrices whose eigenvalues are all positive.

    Each matrix is :math:`H = (A + A^\top)/2` with the entries of :math:`A` drawn independently from
    :math:`\mathcal N(0, 1)` (the Gaussian orthogonal ensemble up to scale). Read :math:`H` as the Hessian
    at a critical point of a random function: the point is a local minimum only when every one of the
    :math:`n` curvatures is positive,

    .. math::

        \hat p_n = \frac{1}{S} \sum_{s=1}^{S} \mathbf{1}\bigl[\lambda_{\min}(H_s) > 0\bigr],

    with :math:`S` = ``samples``. If each curvature were positive or negative by an independent coin flip,
    :math:`p_n` would be :math:`2^{-n}`; the eigenvalues of a random symmetric matrix repel each other, so
    the true :math:`p_n` falls even faster. Either way, in high dimension almost every critical point is a
    saddle point.

    Source: Dauphin et al. (2014), *Identifying and attacking the saddle point problem in high-dimensional
    non-convex optimization*, and the random-matrix results it builds on (Bray & Dean, 2007).

    Parameters
    ----------
    n : int
        The dimension, ``>= 1``.
    samples : int, default 10000
        The number of random matrices :math:`S`, ``>= 1``.
    seed : int, default 0
        Seed of the ``numpy.random.default_rng`` that draws them, ``>= 0``.

    Returns
    -------
    float
        The estimate :math:`\hat p_n`, in [0, 1].

    Examples
    --------
    >>> round(fraction_positive_definite(1, samples=100_000, seed=0), 2)  # 1-by-1: positive half the time
    0.5
    >>> fraction_positive_definite(4, samples=100_000, seed=0) < 2.0**-4
    True
    """
    n = check_int("n", n, minimum=1)
    samples = check_int("samples", samples, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    positive = 0
    chunk = max(1, 200_000 // (n * n))  # bounded memory: at most about 200k numbers at a time
    for start in range(0, samples, chunk):
        size = min(chunk, samples - start)
        A = rng.standard_normal((size, n, n))
        # H = (A + A^T) / 2, a random symmetric matrix
        H = 0.5 * (A + np.swapaxes(A, 1, 2))
        # a minimum needs the smallest eigenvalue (curvature) to be positive
        positive += int(np.count_nonzero(np.linalg.eigvalsh(H)[:, 0] > 0))
    return positive / samples


class Plateau(Landscape):
    r"""A round well in a flat plateau: :math:`f(\theta) = 1 - \exp\bigl(-\lVert\theta\rVert^2 / (2w^2)\bigr)`.

    .. math::

        f(\theta) = 1 - e^{-\lVert\theta\rVert^2 / (2 w^2)}, \qquad
        \nabla f(\theta) = \frac{\theta}{w^2}\, e^{-\lVert\theta\rVert^2 / (2 w^2)}

    with :math:`w` = ``width``. The minimum is the origin (:math:`f = 0`, curvature :math:`1/w^2`); a few
    widths away the cost is almost 1 and the gradient almost 0, a plateau. Gradient descent moves by
    :math:`\alpha \lVert\nabla f\rVert`, tiny on the plateau, and its learning rate cannot simply be raised
    because it must stay below :math:`2 w^2` to settle in the well. Adam divides by the root mean square
    of the recent gradients and so moves about :math:`\alpha` per coordinate per step on the plateau too.

    Source: the plateau picture of Ng's lecture (*Improving Deep Neural Networks*, week 2, "The problem of
    local optima"); the Gaussian-well form is ours.

    Parameters
    ----------
    width : float, default 1.0
        The width :math:`w > 0` of the well.

    Examples
    --------
    >>> import numpy as np
    >>> f = Plateau(width=1.0)
    >>> f.grad(np.array([1.0, 0.0])).round(6)  # (1, 0) * exp(-1/2)
    array([0.606531, 0.      ])
    >>> f.minimum
    array([0., 0.])
    """

    def __init__(self, width: float = 1.0) -> None:
        self.width = check_positive("width", width)
        self.dim = 2
        self.minimum = np.zeros(2)

    def __repr__(self) -> str:
        return f"Plateau(width={self.width!r})"

    def _value(self, x: np.ndarray) -> Any:
        # f = 1 - exp(-||theta||^2 / (2 w^2))
        return 1.0 - np.exp(-np.sum(x**2, axis=-1) / (2 * self.width**2))

    def _grad(self, x: np.ndarray) -> np.ndarray:
        # grad f = theta / w^2 * exp(-||theta||^2 / (2 w^2))
        bump = np.exp(-np.sum(x**2, axis=-1, keepdims=True) / (2 * self.width**2))
        return x / self.width**2 * bump
