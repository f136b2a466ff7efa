r"""Regularization (정규화) pieces shared by the numpy network and the chapters: inverted dropout.

Used by the chapter "Regularization" (Part I).
"""

from __future__ import annotations

import numpy as np

from lrcourse._checks import check_unit_interval

__all__ = ["dropout"]


def dropout(a, keep_prob: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    r"""Inverted dropout (역 드롭아웃): zero each unit with probability ``1 - keep_prob``, scale the rest up.

    .. math::

        d \sim \text{Bernoulli}(p), \qquad \tilde a = \frac{a \odot d}{p}

    with :math:`p` = ``keep_prob``. Dividing by :math:`p` keeps the expected value of each unit unchanged,
    :math:`\mathbb E[\tilde a] = a`, so nothing needs rescaling at test time, when dropout is off.
    Source: Srivastava et al. (2014); Andrew Ng, *Improving Deep Neural Networks*, week 1, "Dropout regularization".

    Parameters
    ----------
    a : array_like
        Activations.
    keep_prob : float
        Probability of keeping a unit, in (0, 1]. 1 means no dropout.
    rng : numpy.random.Generator
        Source of the random mask.

    Returns
    -------
    out : numpy.ndarray
        The dropped and rescaled activations.
    mask : numpy.ndarray
        The boolean mask ``d`` (True where a unit was kept); backpropagation multiplies the incoming
        gradient by ``mask / keep_prob``.

    Examples
    --------
    >>> out, mask = dropout(np.ones((2, 4)), keep_prob=0.5, rng=np.random.default_rng(1))
    >>> sorted(set(out.ravel().tolist()))
    [0.0, 2.0]
    >>> bool(np.all(out == mask / 0.5))
    True
    """
    keep_prob = check_unit_interval("keep_prob", keep_prob, low_open=True)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {rng!r}")
    a = np.asarray(a, dtype=np.float64)
    mask = rng.random(a.shape) < keep_prob
    return a * mask / keep_prob, mask
