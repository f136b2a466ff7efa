r"""Mini-batches (미니배치): shuffle once per epoch, then cut into consecutive pieces.

Examples are **columns**, as in :class:`lrcourse.nn.Network`. Used by :func:`lrcourse.train.fit` and by the
Part II chapter on mini-batch gradient descent; Part I trains with it through :func:`lrcourse.train.fit`.
"""

from __future__ import annotations

import math

import numpy as np

from lrcourse._checks import check_int

__all__ = ["num_mini_batches", "random_mini_batches"]


def num_mini_batches(m: int, batch_size: int) -> int:
    r"""The number of mini-batches in one epoch, :math:`\lceil m / b \rceil` (the last one may be short).

    Examples
    --------
    >>> num_mini_batches(148, 64)
    3
    """
    m = check_int("m", m, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    return math.ceil(m / batch_size)


def random_mini_batches(X, Y, batch_size: int = 64,
                        rng: np.random.Generator | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    r"""Shuffle the columns of ``X`` and ``Y`` with one permutation from ``rng``, then partition them.

    With :math:`m` examples and batch size :math:`b`, mini-batch :math:`t = 1, \dots, \lceil m/b \rceil` holds
    shuffled columns :math:`(t-1)b + 1` to :math:`\min(tb, m)`, so every example appears exactly once per epoch
    and only the last mini-batch can be shorter, with :math:`m - b\lfloor m/b \rfloor` examples when
    :math:`b` does not divide :math:`m`. Source: Andrew Ng, *Improving Deep Neural Networks*, week 2,
    "Mini-batch gradient descent".

    Parameters
    ----------
    X : array_like
        Inputs, shape :math:`(n_x, m)`.
    Y : array_like
        Labels, shape :math:`(n_y, m)` (a row of 0/1 or one-hot columns).
    batch_size : int
        :math:`b \ge 1`; powers of two (64, 128, 256, 512) are customary.
    rng : numpy.random.Generator
        Draws the permutation (one call to ``rng.permutation(m)``). Required.

    Returns
    -------
    list of (X_batch, Y_batch)

    Examples
    --------
    >>> X, Y = np.arange(10.0).reshape(2, 5), np.array([[0, 1, 0, 1, 0]])
    >>> batches = random_mini_batches(X, Y, batch_size=2, rng=np.random.default_rng(0))
    >>> [xb.shape[1] for xb, yb in batches]
    [2, 2, 1]
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {rng!r}")
    X = np.asarray(X)
    Y = np.asarray(Y)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(f"X (n_x, m) and Y (n_y, m) must be 2-D with the same number of columns, "
                         f"got X {X.shape} and Y {Y.shape}")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    m = X.shape[1]
    # one permutation per call: shuffle the examples (columns), keeping each x with its y
    order = rng.permutation(m)
    X_shuffled, Y_shuffled = X[:, order], Y[:, order]
    # consecutive pieces of batch_size columns; the last one gets what is left
    return [(X_shuffled[:, k:k + batch_size], Y_shuffled[:, k:k + batch_size]) for k in range(0, m, batch_size)]
