r"""Exponentially weighted averages (지수 가중 이동 평균), the building block of momentum, RMSprop and Adam.

Used by the chapter "Exponentially weighted averages" and, through the optimizers, by every chapter of Part II.
"""

from __future__ import annotations

import numpy as np

from lrcourse._checks import check_beta

__all__ = ["ewa", "effective_window"]


def ewa(x, beta: float, bias_correction: bool = False) -> np.ndarray:
    r"""Exponentially weighted average of a sequence, with optional bias correction.

    .. math::

        v_0 = 0, \qquad v_t = \beta\, v_{t-1} + (1 - \beta)\, x_t, \qquad
        \hat v_t = \frac{v_t}{1 - \beta^t} \quad (t = 1, 2, \ldots)

    where :math:`x_t` is ``x[t-1]``, :math:`\beta` is ``beta`` and :math:`\hat v_t` is returned instead of
    :math:`v_t` when ``bias_correction`` is true. Source: Andrew Ng, *Improving Deep Neural Networks*,
    week 2, "Exponentially weighted averages" and "Bias correction".

    Parameters
    ----------
    x : array_like
        The sequence, one value per time step (1-D), or an array whose first axis is time.
    beta : float
        Weight of the past, in [0, 1). The average covers roughly the last ``1 / (1 - beta)`` values.
    bias_correction : bool
        Divide by :math:`1 - \beta^t` so that the early values are not pulled towards ``v_0 = 0``.

    Returns
    -------
    numpy.ndarray
        The averages :math:`v_1, \ldots, v_T` (float64), same shape as ``x``. An empty series
        (:math:`T = 0`) gives an empty array of that shape, with or without bias correction.

    Examples
    --------
    >>> ewa([1.0, 1.0, 1.0], beta=0.5)
    array([0.5  , 0.75 , 0.875])
    >>> ewa([1.0, 1.0, 1.0], beta=0.5, bias_correction=True)
    array([1., 1., 1.])
    >>> ewa([], beta=0.9)
    array([], dtype=float64)
    """
    beta = check_beta("beta", beta)
    if not isinstance(bias_correction, (bool, np.bool_)):
        raise TypeError(f"bias_correction must be a bool, got {bias_correction!r}")
    values = np.asarray(x, dtype=np.float64)
    if values.ndim == 0:
        raise ValueError(f"x must be a sequence (at least 1-D), got the scalar {x!r}")
    out = np.empty_like(values)
    v = np.zeros(values.shape[1:])  # v_0 = 0, one per series (values[0] would fail when T = 0)
    for t in range(values.shape[0]):
        # v_t <- beta * v_{t-1} + (1 - beta) * x_t   (one number of memory per series)
        v = beta * v + (1.0 - beta) * values[t]
        # v_hat_t <- v_t / (1 - beta^t), with t counted from 1
        out[t] = v / (1.0 - beta ** (t + 1)) if bias_correction else v
    return out


def effective_window(beta: float) -> float:
    r"""Roughly how many recent values an average with this ``beta`` covers: :math:`1 / (1 - \beta)`.

    A value seen :math:`k` steps ago has weight :math:`(1-\beta)\beta^k`, and
    :math:`\beta^{1/(1-\beta)} \approx 1/e`, so after :math:`1/(1-\beta)` steps a value's weight has
    dropped to about a third of the newest one's.

    Examples
    --------
    >>> round(effective_window(0.9), 6), round(effective_window(0.98), 6), effective_window(0.5)
    (10.0, 50.0, 2.0)
    """
    beta = check_beta("beta", beta)
    return 1.0 / (1.0 - beta)
