r"""Weight initialization (가중치 초기화): scaling random weights so signals neither vanish nor explode.

Every function returns a weight matrix of shape ``(fan_out, fan_in)``, the lecture's :math:`W^{[l]}` of shape
:math:`(n^{[l]}, n^{[l-1]})`, drawn from the ``numpy.random.Generator`` passed in. Used by the chapter
"Vanishing and exploding gradients; initialization" and by the numpy network.
"""

from __future__ import annotations

import numpy as np

from lrcourse._checks import check_int, check_positive

__all__ = ["he", "xavier", "glorot", "zeros", "random_scaled"]


def _check(fan_in, fan_out, rng) -> tuple[int, int]:
    fan_in = check_int("fan_in", fan_in, minimum=1)
    fan_out = check_int("fan_out", fan_out, minimum=1)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {rng!r}")
    return fan_in, fan_out


def he(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    r"""He initialization for ReLU layers: :math:`W \sim \mathcal N(0, 2 / n^{[l-1]})`.

    .. math::

        W_{ij} = z_{ij} \sqrt{\frac{2}{\mathrm{fan\_in}}}, \qquad z_{ij} \sim \mathcal N(0, 1)

    Source: He et al., "Delving Deep into Rectifiers" (2015).

    Examples
    --------
    >>> W = he(1000, 500, np.random.default_rng(0))
    >>> W.shape, round(float(W.std()), 2)
    ((500, 1000), 0.04)
    """
    fan_in, fan_out = _check(fan_in, fan_out, rng)
    return rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)


def xavier(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    r"""Xavier initialization as taught in the lecture for tanh layers: :math:`W \sim \mathcal N(0, 1 / n^{[l-1]})`.

    .. math::

        W_{ij} = z_{ij} \sqrt{\frac{1}{\mathrm{fan\_in}}}, \qquad z_{ij} \sim \mathcal N(0, 1)

    Source: Andrew Ng, *Improving Deep Neural Networks*, week 1, "Weight initialization for deep networks";
    see :func:`glorot` for the variant of Glorot & Bengio (2010) that averages both fans.

    Examples
    --------
    >>> W = xavier(400, 300, np.random.default_rng(0))
    >>> W.shape, round(float(W.std()), 3)
    ((300, 400), 0.05)
    """
    fan_in, fan_out = _check(fan_in, fan_out, rng)
    return rng.standard_normal((fan_out, fan_in)) * np.sqrt(1.0 / fan_in)


def glorot(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    r"""Glorot (normal) initialization: :math:`W \sim \mathcal N(0, 2 / (n^{[l-1]} + n^{[l]}))`.

    .. math::

        W_{ij} = z_{ij} \sqrt{\frac{2}{\mathrm{fan\_in} + \mathrm{fan\_out}}}, \qquad z_{ij} \sim \mathcal N(0, 1)

    Source: Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural networks" (2010).

    Examples
    --------
    >>> W = glorot(300, 100, np.random.default_rng(0))
    >>> W.shape, round(float(W.std()), 3)
    ((100, 300), 0.071)
    """
    fan_in, fan_out = _check(fan_in, fan_out, rng)
    return rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / (fan_in + fan_out))


def zeros(fan_in: int, fan_out: int, rng: np.random.Generator | None = None) -> np.ndarray:
    r"""All-zero weights, the classic mistake: every unit of a layer computes the same thing forever.

    ``rng`` is accepted (and ignored) so that every initializer has the same signature.

    Examples
    --------
    >>> zeros(3, 2)
    array([[0., 0., 0.],
           [0., 0., 0.]])
    """
    fan_in = check_int("fan_in", fan_in, minimum=1)
    fan_out = check_int("fan_out", fan_out, minimum=1)
    return np.zeros((fan_out, fan_in))


def random_scaled(fan_in: int, fan_out: int, rng: np.random.Generator, scale: float = 10.0) -> np.ndarray:
    r"""Standard normal weights times a fixed ``scale``, ignoring the layer's width.

    .. math::

        W_{ij} = \text{scale} \cdot z_{ij}, \qquad z_{ij} \sim \mathcal N(0, 1)

    With a large scale (the course's exercise uses 10) the activations saturate or explode; with a tiny one
    (0.01) they vanish in deep networks.

    Examples
    --------
    >>> W = random_scaled(2000, 100, np.random.default_rng(0), scale=0.01)
    >>> W.shape, round(float(W.std()), 3)
    ((100, 2000), 0.01)
    """
    fan_in, fan_out = _check(fan_in, fan_out, rng)
    scale = check_positive("scale", scale)
    return rng.standard_normal((fan_out, fan_in)) * scale
