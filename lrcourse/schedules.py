r"""Learning-rate schedules as pure functions of the step.

A constant learning rate is a compromise: large enough to make progress early, it keeps mini-batch
gradient descent bouncing around the minimum later on. A schedule lowers the rate as training goes.
This module teaches the common schedules the way optax writes them: a *factory* checks its arguments
once and returns a function ``schedule(t)`` of the step ``t`` (counted from 0) with no hidden state,
so it can be plotted, tested and resumed at any step. Every schedule is a closed form, not a
recursion, and long schedules are built by composition (:func:`warmup`, :func:`join`).

- Decay schedules: :func:`constant`, :func:`step_decay`, :func:`multistep_decay`,
  :func:`piecewise_constant`, :func:`exponential_decay`, :func:`inverse_time_decay`,
  :func:`power_decay`, :func:`inverse_sqrt_decay`, :func:`cosine_decay`, :func:`linear_decay`,
  :func:`polynomial_decay`.
- Composition: :func:`warmup` and :func:`join`.
- The 1cycle policy: :func:`one_cycle` and :func:`one_cycle_momentum`.
- Performance scheduling: :class:`ReduceOnPlateau`, the one stateful scheduler, because it reacts to
  a measured metric rather than to the step.
- Using a schedule in PyTorch training code: :func:`to_torch`.

Every schedule accepts an integer ``t`` (and returns a Python ``float``) or a numpy integer array
(and returns a ``float64`` array of the same shape). Where PyTorch has the same schedule, the tests
check ours against ``torch.optim.lr_scheduler`` at float64.

Used in Part III of the book: "Decay schedules", "The 1cycle policy" and "Performance scheduling".
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import torch

from lrcourse._checks import (
    check_choice,
    check_int,
    check_nonnegative,
    check_number,
    check_positive,
    check_sorted,
    check_steps,
    check_unit_interval,
)

__all__ = [
    "ReduceOnPlateau",
    "constant",
    "cosine_decay",
    "exponential_decay",
    "inverse_sqrt_decay",
    "inverse_time_decay",
    "join",
    "linear_decay",
    "multistep_decay",
    "one_cycle",
    "one_cycle_momentum",
    "piecewise_constant",
    "polynomial_decay",
    "power_decay",
    "step_decay",
    "to_torch",
    "warmup",
]

Schedule = Callable[[Any], Any]


# ---------------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------------


def _schedule(formula: Callable[[Any], Any]) -> Schedule:
    """Turn ``formula(t)`` into a schedule: check ``t``, then float in, float out; array in, array out.

    ``formula`` receives an ``int`` or an ``int64`` array and may use any numpy function.
    """

    def schedule(t):
        t = check_steps(t)
        value = formula(t)
        if isinstance(t, np.ndarray):
            # broadcast_to also turns a constant into an array of t's shape
            return np.broadcast_to(np.asarray(value, dtype=np.float64), t.shape).copy()
        return float(value)

    return schedule


def _check_boundaries(name: str, values: Any) -> list[int]:
    """Positive integer steps in strictly increasing order (milestones, boundaries)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of integers, got {values!r}")
    values = [check_int(f"{name}[{i}]", v, minimum=1) for i, v in enumerate(values)]
    return check_sorted(name, values)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r} of type {type(value).__name__}")
    return value


def _check_callable(name: str, value: Any) -> Schedule:
    if not callable(value):
        raise TypeError(f"{name} must be a callable schedule(t), got {value!r} of type {type(value).__name__}")
    return value


# ---------------------------------------------------------------------------------------------------
# Decay schedules
# ---------------------------------------------------------------------------------------------------


def constant(lr: float) -> Schedule:
    r"""The same learning rate at every step.

    .. math::

        \alpha_t = \alpha

    where :math:`\alpha` is ``lr``.

    Source: the baseline of every lecture on schedules; EECS 498 (lecture 11) notes that Adam and
    RMSprop often train well with it.

    Parameters
    ----------
    lr : float
        The learning rate, ``>= 0``.

    Returns
    -------
    callable
        ``schedule(t)`` returning ``lr`` for every step ``t >= 0``.

    Examples
    --------
    >>> s = constant(0.01)
    >>> s(0), s(1000)
    (0.01, 0.01)
    """
    lr = check_nonnegative("lr", lr)
    return _schedule(lambda t: lr)


def step_decay(lr0: float, step_size: int, gamma: float = 0.1) -> Schedule:
    r"""Multiply the rate by ``gamma`` every ``step_size`` steps (PyTorch's ``StepLR``).

    .. math::

        \alpha_t = \alpha_0 \, \gamma^{\lfloor t / s \rfloor}

    where :math:`\alpha_0` is ``lr0``, :math:`\gamma` is ``gamma`` and :math:`s` is ``step_size``.

    Source: EECS 498 lecture 11, whose example is the ResNet recipe of dividing the rate by 10 at
    epochs 30, 60 and 90 (He et al. (2016) themselves divided it by 10 when the error plateaued on
    ImageNet, and at fixed iterations, 32k and 48k, on CIFAR-10).

    Parameters
    ----------
    lr0 : float
        Initial learning rate, ``>= 0``.
    step_size : int
        Steps between two decays, ``>= 1``.
    gamma : float
        Factor applied at each decay, in (0, 1].

    Returns
    -------
    callable
        ``schedule(t)``.

    Examples
    --------
    >>> s = step_decay(0.1, step_size=30)
    >>> [round(s(t), 6) for t in (0, 29, 30, 60, 90)]
    [0.1, 0.1, 0.01, 0.001, 0.0001]
    """
    lr0 = check_nonnegative("lr0", lr0)
    step_size = check_int("step_size", step_size, minimum=1)
    gamma = check_unit_interval("gamma", gamma, low_open=True)
    return _schedule(lambda t: lr0 * gamma ** (t // step_size))


def multistep_decay(lr0: float, milestones: Sequence[int], gamma: float = 0.1) -> Schedule:
    r"""Multiply the rate by ``gamma`` at each milestone step (PyTorch's ``MultiStepLR``).

    .. math::

        \alpha_t = \alpha_0 \, \gamma^{\#\{i \,:\, m_i \le t\}}

    where :math:`\alpha_0` is ``lr0``, :math:`\gamma` is ``gamma`` and :math:`m_i` are the
    ``milestones``.

    Source: EECS 498 lecture 11 (the ResNet recipe: divide by 10 at epochs 30, 60 and 90; He et al.
    (2016) used fixed milestones, 32k and 48k iterations, on CIFAR-10).

    Parameters
    ----------
    lr0 : float
        Initial learning rate, ``>= 0``.
    milestones : sequence of int
        Steps at which the rate drops, positive and strictly increasing.
    gamma : float
        Factor applied at each milestone, in (0, 1].

    Returns
    -------
    callable
        ``schedule(t)``.

    Examples
    --------
    >>> s = multistep_decay(0.1, milestones=[30, 60, 90])
    >>> [round(s(t), 6) for t in (0, 30, 59, 60, 90, 120)]
    [0.1, 0.01, 0.01, 0.001, 0.0001, 0.0001]
    """
    lr0 = check_nonnegative("lr0", lr0)
    milestones = np.asarray(_check_boundaries("milestones", milestones), dtype=np.int64)
    gamma = check_unit_interval("gamma", gamma, low_open=True)
    # number of milestones already passed: searchsorted(..., side="right") counts m_i <= t
    return _schedule(lambda t: lr0 * gamma ** np.searchsorted(milestones, t, side="right"))


def piecewise_constant(boundaries: Sequence[int], values: Sequence[float]) -> Schedule:
    r"""A rate that is constant between boundaries: ``values[i]`` from ``boundaries[i-1]`` on.

    .. math::

        \alpha_t = v_i \quad \text{for } b_{i-1} \le t < b_i,
        \qquad b_{-1} = 0,\; b_n = \infty

    where :math:`b_i` are the ``boundaries`` and :math:`v_i` the ``values``.

    Source: Géron, Hands-On Machine Learning, ch. 11 ("piecewise constant scheduling", e.g. 0.01
    for 5 epochs, then 0.005 for 10, then 0.001). Keras's ``PiecewiseConstantDecay`` switches one
    step later (at :math:`t > b_i`); here a boundary is the first step of the next piece, as in optax.

    Parameters
    ----------
    boundaries : sequence of int
        Steps where the rate changes, positive and strictly increasing.
    values : sequence of float
        Learning rates ``>= 0``, one more than there are boundaries.

    Returns
    -------
    callable
        ``schedule(t)``.

    Examples
    --------
    >>> s = piecewise_constant([5, 15], [0.01, 0.005, 0.001])
    >>> [s(t) for t in (0, 4, 5, 14, 15, 100)]
    [0.01, 0.01, 0.005, 0.005, 0.001, 0.001]
    """
    boundaries = np.asarray(_check_boundaries("boundaries", boundaries), dtype=np.int64)
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"values must be a sequence of learning rates, got {values!r}")
    values = np.array([check_nonnegative(f"values[{i}]", v) for i, v in enumerate(values)], dtype=np.float64)
    if len(values) != len(boundaries) + 1:
        raise ValueError(
            f"values must have len(boundaries) + 1 = {len(boundaries) + 1} entries, got {len(values)}"
        )
    return _schedule(lambda t: values[np.searchsorted(boundaries, t, side="right")])


def exponential_decay(lr0: float, decay_rate: float, decay_steps: int = 1, staircase: bool = False) -> Schedule:
    r"""Multiply the rate by ``decay_rate`` every ``decay_steps`` steps, smoothly or in stairs.

    .. math::

        \alpha_t = \alpha_0 \, r^{t / d}
        \qquad\text{or, with staircase,}\qquad
        \alpha_t = \alpha_0 \, r^{\lfloor t / d \rfloor}

    where :math:`\alpha_0` is ``lr0``, :math:`r` is ``decay_rate`` and :math:`d` is ``decay_steps``.
    With ``decay_steps=1`` this is PyTorch's ``ExponentialLR`` (``gamma=decay_rate``).

    Source: Andrew Ng's lecture "Learning rate decay" (:math:`0.95^{\text{epoch}} \alpha_0`);
    Géron, Hands-On Machine Learning, ch. 11 (exponential scheduling, :math:`\alpha_0 \, 0.1^{t/s}`).

    Parameters
    ----------
    lr0 : float
        Initial learning rate, ``>= 0``.
    decay_rate : float
        Factor per ``decay_steps`` steps, in (0, 1].
    decay_steps : int
        Steps over which the rate is multiplied by ``decay_rate``, ``>= 1``.
    staircase : bool
        If True, the rate only changes every ``decay_steps`` steps (the lecture's "discrete
        staircase").

    Returns
    -------
    callable
        ``schedule(t)``.

    Examples
    --------
    >>> s = exponential_decay(0.2, decay_rate=0.95)
    >>> [round(s(t), 4) for t in range(4)]
    [0.2, 0.19, 0.1805, 0.1715]
    >>> stairs = exponential_decay(0.1, decay_rate=0.1, decay_steps=20, staircase=True)
    >>> [round(stairs(t), 6) for t in (0, 19, 20, 39, 40)]
    [0.1, 0.1, 0.01, 0.01, 0.001]
    """
    lr0 = check_nonnegative("lr0", lr0)
    decay_rate = check_unit_interval("decay_rate", decay_rate, low_open=True)
    decay_steps = check_int("decay_steps", decay_steps, minimum=1)
    staircase = _check_bool("staircase", staircase)

    def formula(t):
        exponent = t // decay_steps if staircase else t / decay_steps
        return lr0 * decay_rate**exponent

    return _schedule(formula)


def inverse_time_decay(lr0: float, decay_rate: float, decay_steps: int = 1, staircase: bool = False) -> Schedule:
    r"""The lecture's learning-rate decay: divide by one plus ``decay_rate`` times the epoch.

    .. math::

        \alpha_t = \frac{\alpha_0}{1 + r \, t / d}
        \qquad(\lfloor t / d \rfloor \text{ in place of } t/d \text{ with staircase})

    where :math:`\alpha_0` is ``lr0``, :math:`r` is ``decay_rate``, :math:`d` is ``decay_steps``
    and :math:`t` is the epoch (or step) number.

    Source: Andrew Ng's lecture "Learning rate decay",
    :math:`\alpha = \alpha_0 / (1 + \mathrm{decay\_rate} \cdot \mathrm{epoch\_num})`. With
    :math:`\alpha_0 = 0.2` and a decay rate of 1 the epochs 1 to 4 get 0.1, 0.0667, 0.05 and 0.04
    (the Korean notes misprint the second as 0.67 and the formula as :math:`1/(1 + 1 \cdot \alpha_0)`).
    The lecture counts epochs from 1, so its first epoch already runs at :math:`\alpha_0 / 2`, while
    ``schedule(0)`` is :math:`\alpha_0`: ``lrcourse.train.fit(schedule_unit="epoch")`` trains its first
    epoch at :math:`\alpha_0`. To reproduce the lecture's table, evaluate at ``epoch_num`` = 1, 2, ...

    Parameters
    ----------
    lr0 : float
        Initial learning rate, ``>= 0``.
    decay_rate : float
        How fast the rate falls, ``>= 0`` (0 keeps it constant).
    decay_steps : int
        Steps that count as one unit of :math:`t`, ``>= 1``.
    staircase : bool
        If True, only whole units of ``decay_steps`` count.

    Returns
    -------
    callable
        ``schedule(t)``.

    Examples
    --------
    >>> s = inverse_time_decay(0.2, decay_rate=1.0)
    >>> [round(s(t), 4) for t in range(5)]
    [0.2, 0.1, 0.0667, 0.05, 0.04]
    """
    lr0 = check_nonnegative("lr0", lr0)
    decay_rate = check_nonnegative("decay_rate", decay_rate)
    decay_steps = check_int("decay_steps", decay_steps, minimum=1)
    staircase = _check_bool("staircase", staircase)

    def formula(t):
        units = t // decay_steps if staircase else t / decay_steps
        return lr0 / (1.0 + decay_rate * units)

    return _schedule(formula)


def power_decay(lr0: float, s: float, c: float = 1.0) -> Schedule:
    r"""Power scheduling: the rate falls as a power of the step, halving after ``s`` steps when c = 1.

    .. math::

        \alpha_t = \frac{\alpha_0}{(1 + t / s)^{c}}

    where :math:`\alpha_0` is ``lr0``, :math:`s` is ``s`` and :math:`c` is ``c``.

    Source: Géron, Hands-On Machine Learning, ch. 11 ("power scheduling"; Keras's legacy
    ``decay`` argument is the case :math:`c = 1`, ``decay = 1/s``).

    Parameters
    ----------
    lr0 : float
        Initial learning rate, ``>= 0``.
    s : float
        Number of steps that sets the time scale, ``> 0``.
    c : float
        The power, ``>= 0`` (usually 1).

    Returns
    -------
    callable
        ``schedule(t)``.

    Examples
    --------
    >>> s = power_decay(0.01, s=20)
    >>> [round(s(t), 6) for t in (0, 20, 40, 60)]
    [0.01, 0.005, 0.003333, 0.0025]
    """
    lr0 = check_nonnegative("lr0", lr0)
    s = check_positive("s", s)
    c = check_nonnegative("c", c)
    return _schedule(lambda t: lr0 / (1.0 + t / s) ** c)


def inverse_sqrt_decay(lr0: float, warmup_steps: int = 1) -> Schedule:
    r"""Hold the rate for ``warmup_steps`` steps, then let it fall as one over the square root of t.

    .. math::

        \alpha_t = \alpha_0 \sqrt{\frac{w}{\max(t, w)}}

    where :math:`\alpha_0` is ``lr0`` and :math:`w` is ``warmup_steps``. This is not the Transformer
    schedule with :func:`warmup` in front: :func:`warmup` restarts the clock, so
    ``warmup(inverse_sqrt_decay(lr0, w), w)`` would hold the peak for another :math:`w` steps and
    then fall as :math:`\sqrt{w / (t - w)}`. The Transformer schedule (Vaswani et al.'s
    :math:`d^{-1/2} \min(t^{-1/2},\, t\, w^{-3/2})` with :math:`\alpha_0 = (d w)^{-1/2}`, and
    :math:`t` the step counted from 0 here, so that step 0 has rate 0) is

    .. math::

        \alpha_t = \alpha_0 \min\left(\frac{t}{w}, \sqrt{\frac{w}{t}}\right),

    which is exactly ``warmup(power_decay(lr0, s=w, c=0.5), w)``: a ramp from 0 for :math:`t < w`,
    then :math:`\alpha_0 / \sqrt{1 + (t - w)/w} = \alpha_0 \sqrt{w / t}`.

    Source: Vaswani et al. (2017), "Attention Is All You Need" (rate proportional to
    :math:`\text{step}^{-1/2}` after a warm-up); Andrew Ng's lecture "Learning rate decay"
    (:math:`k \alpha_0 / \sqrt{t}`, here with :math:`k = \sqrt{w}`); EECS 498 lecture 11.

    Parameters
    ----------
    lr0 : float
        Learning rate up to step ``warmup_steps``, ``>= 0``.
    warmup_steps : int
        Step at which the decay starts, ``>= 1``.

    Returns
    -------
    callable
        ``schedule(t)``.

    Examples
    --------
    >>> s = inverse_sqrt_decay(0.1, warmup_steps=4)
    >>> [s(t) for t in (0, 4, 16, 64)]
    [0.1, 0.1, 0.05, 0.025]
    >>> transformer = warmup(power_decay(0.1, s=100, c=0.5), warmup_steps=100)
    >>> [round(transformer(t), 4) for t in (0, 50, 100, 200, 400, 1000)]
    [0.0, 0.05, 0.1, 0.0707, 0.05, 0.0316]
    """
    lr0 = check_nonnegative("lr0", lr0)
    warmup_steps = check_int("warmup_steps", warmup_steps, minimum=1)
    return _schedule(lambda t: lr0 * np.sqrt(warmup_steps / np.maximum(t, warmup_steps)))


def cosine_decay(lr0: float, total_steps: int, lr_min: float = 0.0) -> Schedule:
    r"""Half a cosine from ``lr0`` down to ``lr_min`` over ``total_steps`` steps, then hold ``lr_min``.

    .. math::

        \alpha_t = \alpha_{\min} + \frac{\alpha_0 - \alpha_{\min}}{2}
        \left(1 + \cos\frac{\pi \min(t, T)}{T}\right)

    where :math:`\alpha_0` is ``lr0``, :math:`\alpha_{\min}` is ``lr_min`` and :math:`T` is
    ``total_steps``. For :math:`t \le T` this is the closed form of PyTorch's ``CosineAnnealingLR``.

    Source: Loshchilov and Hutter (2017), "SGDR: Stochastic Gradient Descent with Warm Restarts"
    (one cycle, no restart); EECS 498 lecture 11.

    Parameters
    ----------
    lr0 : float
        Initial learning rate, ``>= 0``.
    total_steps : int
        Length of the decay, ``>= 1``.
    lr_min : float
        Final learning rate, in [0, ``lr0``].

    Returns
    -------
    callable
        ``schedule(t)``.

    Examples
    --------
    >>> s = cosine_decay(0.1, total_steps=100)
    >>> [round(s(t), 6) for t in (0, 50, 100, 200)]
    [0.1, 0.05, 0.0, 0.0]
    """
    lr0 = check_nonnegative("lr0", lr0)
    total_steps = check_int("total_steps", total_steps, minimum=1)
    lr_min = check_nonnegative("lr_min", lr_min)
    if lr_min > lr0:
        raise ValueError(f"lr_min must be <= lr0 = {lr0!r}, got {lr_min!r}")

    def formula(t):
        progress = np.minimum(t, total_steps) / total_steps
        return lr_min + (lr0 - lr_min) * (1.0 + np.cos(np.pi * progress)) / 2.0

    return _schedule(formula)


def polynomial_decay(lr0: float, total_steps: int, lr_end: float = 0.0, power: float = 1.0) -> Schedule:
    r"""A polynomial ramp from ``lr0`` down to ``lr_end`` over ``total_steps`` steps, then hold ``lr_end``.

    .. math::

        \alpha_t = (\alpha_0 - \alpha_{\text{end}})
        \left(1 - \frac{\min(t, T)}{T}\right)^{p} + \alpha_{\text{end}}

    where :math:`\alpha_0` is ``lr0``, :math:`\alpha_{\text{end}}` is ``lr_end``, :math:`T` is
    ``total_steps`` and :math:`p` is ``power``. With ``lr_end=0`` this is PyTorch's ``PolynomialLR``.

    Source: the "poly" schedule of Chen et al. (2017), DeepLab; optax's ``polynomial_schedule``.

    Parameters
    ----------
    lr0 : float
        Initial learning rate, ``>= 0``.
    total_steps : int
        Length of the decay, ``>= 1``.
    lr_end : float
        Final learning rate, in [0, ``lr0``].
    power : float
        Exponent, ``> 0`` (1 is a straight line).

    Returns
    -------
    callable
        ``schedule(t)``.

    Examples
    --------
    >>> s = polynomial_decay(0.1, total_steps=10, power=2.0)
    >>> [round(s(t), 6) for t in (0, 5, 10, 20)]
    [0.1, 0.025, 0.0, 0.0]
    """
    lr0 = check_nonnegative("lr0", lr0)
    total_steps = check_int("total_steps", total_steps, minimum=1)
    lr_end = check_nonnegative("lr_end", lr_end)
    if lr_end > lr0:
        raise ValueError(f"lr_end must be <= lr0 = {lr0!r}, got {lr_end!r}")
    power = check_positive("power", power)

    def formula(t):
        remaining = 1.0 - np.minimum(t, total_steps) / total_steps
        return (lr0 - lr_end) * remaining**power + lr_end

    return _schedule(formula)


def linear_decay(lr0: float, total_steps: int, lr_end: float = 0.0) -> Schedule:
    r"""A straight line from ``lr0`` down to ``lr_end`` over ``total_steps`` steps, then hold ``lr_end``.

    .. math::

        \alpha_t = \alpha_0 + (\alpha_{\text{end}} - \alpha_0) \frac{\min(t, T)}{T}

    where :math:`\alpha_0` is ``lr0``, :math:`\alpha_{\text{end}}` is ``lr_end`` and :math:`T` is
    ``total_steps``. It is :func:`polynomial_decay` with ``power=1``, and PyTorch's ``LinearLR``
    with ``start_factor=1``, ``end_factor=lr_end/lr0``, ``total_iters=total_steps``.

    Source: EECS 498 lecture 11 (linear decay, common for training Transformers).

    Parameters
    ----------
    lr0 : float
        Initial learning rate, ``>= 0``.
    total_steps : int
        Length of the decay, ``>= 1``.
    lr_end : float
        Final learning rate, in [0, ``lr0``].

    Returns
    -------
    callable
        ``schedule(t)``.

    Examples
    --------
    >>> s = linear_decay(0.1, total_steps=4)
    >>> [round(s(t), 6) for t in range(6)]
    [0.1, 0.075, 0.05, 0.025, 0.0, 0.0]
    """
    return polynomial_decay(lr0, total_steps, lr_end=lr_end, power=1.0)


# ---------------------------------------------------------------------------------------------------
# Composition
# ---------------------------------------------------------------------------------------------------


def join(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    r"""Run schedules one after another; each later schedule restarts its own clock at its boundary.

    .. math::

        \alpha_t = s_i(t - b_{i-1}) \quad \text{for } b_{i-1} \le t < b_i,
        \qquad b_{-1} = 0,\; b_n = \infty

    where :math:`s_i` are the ``schedules`` and :math:`b_i` the ``boundaries``.

    Source: optax's ``join_schedules`` (same semantics). Warm-up followed by cosine decay is
    ``join([ramp, cosine], [w])``.

    Parameters
    ----------
    schedules : sequence of callable
        One more schedule than there are boundaries. For array input every piece must accept
        arrays (all schedules in this module do).
    boundaries : sequence of int
        Steps where the next schedule takes over, positive and strictly increasing.

    Returns
    -------
    callable
        ``schedule(t)``.

    Examples
    --------
    >>> s = join([constant(0.1), linear_decay(0.1, total_steps=10)], boundaries=[5])
    >>> [round(s(t), 6) for t in (0, 4, 5, 10, 15)]
    [0.1, 0.1, 0.1, 0.05, 0.0]
    """
    if isinstance(schedules, (str, bytes)) or not isinstance(schedules, Sequence):
        raise TypeError(f"schedules must be a sequence of callables, got {schedules!r}")
    schedules = [_check_callable(f"schedules[{i}]", s) for i, s in enumerate(schedules)]
    boundaries = _check_boundaries("boundaries", boundaries)
    if len(schedules) != len(boundaries) + 1:
        raise ValueError(
            f"schedules must have len(boundaries) + 1 = {len(boundaries) + 1} entries, got {len(schedules)}"
        )
    edges = np.asarray(boundaries, dtype=np.int64)
    starts = [0] + boundaries  # first step of each piece

    def formula(t):
        piece = np.searchsorted(edges, t, side="right")  # index of the schedule in charge of t
        if not isinstance(t, np.ndarray):
            return schedules[piece](t - starts[piece])
        out = np.empty(t.shape)
        for i, s in enumerate(schedules):
            mask = piece == i
            if mask.any():
                out[mask] = s(t[mask] - starts[i])
        return out

    return _schedule(formula)


def warmup(schedule: Schedule, warmup_steps: int, start_lr: float = 0.0) -> Schedule:
    r"""Ramp linearly from ``start_lr`` up to ``schedule(0)`` over ``warmup_steps``, then run ``schedule``.

    .. math::

        \alpha_t =
        \begin{cases}
        \alpha_{\text{start}} + (s(0) - \alpha_{\text{start}}) \, t / w & t < w \\
        s(t - w) & t \ge w
        \end{cases}

    where :math:`s` is ``schedule``, :math:`w` is ``warmup_steps`` and :math:`\alpha_{\text{start}}`
    is ``start_lr``. It is :func:`join` of a linear ramp and ``schedule`` at boundary :math:`w`.

    Source: Goyal et al. (2017), "Accurate, Large Minibatch SGD" (gradual warm-up); Vaswani et al.
    (2017) (warm-up before inverse square root decay).

    Parameters
    ----------
    schedule : callable
        The schedule to run after the warm-up; it starts at its own step 0.
    warmup_steps : int
        Length of the ramp, ``>= 1``.
    start_lr : float
        Learning rate at step 0, ``>= 0``.

    Returns
    -------
    callable
        ``schedule(t)``.

    Examples
    --------
    >>> s = warmup(cosine_decay(0.1, total_steps=100), warmup_steps=4)
    >>> [round(s(t), 6) for t in range(6)]
    [0.0, 0.025, 0.05, 0.075, 0.1, 0.099975]
    """
    schedule = _check_callable("schedule", schedule)
    warmup_steps = check_int("warmup_steps", warmup_steps, minimum=1)
    start_lr = check_nonnegative("start_lr", start_lr)
    peak = check_nonnegative("schedule(0)", schedule(0))
    ramp = _schedule(lambda t: start_lr + (peak - start_lr) * t / warmup_steps)
    return join([ramp, schedule], [warmup_steps])


# ---------------------------------------------------------------------------------------------------
# The 1cycle policy
# ---------------------------------------------------------------------------------------------------


def _one_cycle_curve(
    total_steps: int,
    pct_start: float,
    anneal_strategy: str,
    three_phase: bool,
    phase_values: list[tuple[float, float]],
) -> Schedule:
    """Anneal from start to end value within each phase, with the phase ends PyTorch's OneCycleLR uses.

    ``phase_values`` holds (start value, end value) for each phase.
    """
    # last step of each phase, as floats, exactly as torch computes them
    ends = [float(pct_start * total_steps) - 1]
    if three_phase:
        ends.append(float(2 * pct_start * total_steps) - 2)
    ends.append(total_steps - 1)
    starts = [0.0] + ends[:-1]
    start_values = [a for a, _ in phase_values]
    end_values = [b for _, b in phase_values]

    def formula(t):
        t = np.minimum(t, total_steps - 1)  # hold the final value after the cycle
        # torch takes the first phase whose end step is >= t, and the last phase otherwise
        phase = np.full(np.shape(t), len(ends) - 1)
        for i in reversed(range(len(ends) - 1)):
            phase = np.where(t <= ends[i], i, phase)
        start, end = np.take(starts, phase), np.take(ends, phase)
        span = end - start
        # pct goes from 0 to 1 within the phase; a phase of zero length (torch divides by zero) is at its end
        pct = np.where(span == 0, 1.0, (t - start) / np.where(span == 0, 1.0, span))
        a, b = np.take(start_values, phase), np.take(end_values, phase)
        if anneal_strategy == "cos":
            # cosine from a (pct = 0) to b (pct = 1)
            return b + (a - b) / 2.0 * (np.cos(np.pi * pct) + 1)
        return (b - a) * pct + a

    return _schedule(formula)


def _check_one_cycle(total_steps, pct_start, anneal_strategy, three_phase):
    total_steps = check_int("total_steps", total_steps, minimum=1)
    pct_start = check_unit_interval("pct_start", pct_start)
    anneal_strategy = check_choice("anneal_strategy", anneal_strategy, ["cos", "linear"])
    three_phase = _check_bool("three_phase", three_phase)
    return total_steps, pct_start, anneal_strategy, three_phase


def one_cycle(
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    anneal_strategy: str = "cos",
    three_phase: bool = False,
) -> Schedule:
    r"""The 1cycle policy: warm up to ``max_lr``, then anneal far below the start (PyTorch's ``OneCycleLR``).

    The rate goes from :math:`\alpha_0 = \alpha_{\max} / \mathrm{div\_factor}` up to
    :math:`\alpha_{\max}` and then down to :math:`\alpha_{\min} = \alpha_0 / \mathrm{final\_div\_factor}`.
    With :math:`T` = ``total_steps`` and :math:`p` = ``pct_start``, the phases end at the steps

    .. math::

        e_1 = pT - 1, \qquad e_2 = T - 1
        \qquad(\text{three phases: } e_1 = pT - 1,\; e_2 = 2pT - 2,\; e_3 = T - 1),

    and within the phase from :math:`e_{k-1}` to :math:`e_k` (with :math:`e_0 = 0`), going from rate
    :math:`a` to rate :math:`b`,

    .. math::

        u_t = \frac{t - e_{k-1}}{e_k - e_{k-1}}, \qquad
        \alpha_t = b + \frac{a - b}{2}\left(1 + \cos \pi u_t\right)
        \quad\text{or}\quad \alpha_t = a + (b - a)\,u_t \;\; (\text{linear}).

    Two phases: :math:`\alpha_0 \to \alpha_{\max} \to \alpha_{\min}`. Three phases:
    :math:`\alpha_0 \to \alpha_{\max} \to \alpha_0 \to \alpha_{\min}`. For every step
    :math:`0 \le t \le T - 1` the value equals PyTorch's; afterwards it holds its value at step
    :math:`T - 1`. That is :math:`\alpha_{\min}` when step :math:`T - 1` lies in the last phase, i.e.
    when :math:`p < 1` (two phases) or :math:`2pT - 2 < T - 1` (three phases). Otherwise it is
    :math:`\alpha_{\max}` if :math:`p = 1` (the whole cycle is the warm-up), and, with three phases and
    :math:`pT - 1 < T - 1 \le 2pT - 2`, a rate on the way back from :math:`\alpha_{\max}` to
    :math:`\alpha_0` (:math:`\alpha_0` itself when :math:`2pT - 2 = T - 1`).
    Since :math:`e_1` need not be an integer, the highest rate reached is :math:`\alpha_{\max}`
    exactly only when :math:`pT` is an integer (then at step :math:`pT - 1`). When :math:`pT = 1`
    the first phase has length zero and PyTorch divides by zero at step 0; here that step gets
    the phase's end value, :math:`\alpha_{\max}`.

    Source: Smith (2018), "A disciplined approach to neural network hyper-parameters: Part 1";
    Smith and Topin (2019), "Super-Convergence"; Géron, Hands-On Machine Learning, ch. 11.

    Parameters
    ----------
    max_lr : float
        Peak learning rate, ``>= 0``.
    total_steps : int
        Length of the cycle, ``>= 1``.
    pct_start : float
        Fraction of the cycle spent increasing the rate, in [0, 1].
    div_factor : float
        ``max_lr / div_factor`` is the starting rate, ``> 0``.
    final_div_factor : float
        The final rate is the starting rate divided by this, ``> 0``.
    anneal_strategy : {"cos", "linear"}
        Shape of each phase.
    three_phase : bool
        If True, come back down to the starting rate symmetrically before the final annihilation phase.

    Returns
    -------
    callable
        ``schedule(t)``.

    Examples
    --------
    >>> s = one_cycle(1.0, total_steps=10, pct_start=0.3, anneal_strategy="linear")
    >>> [round(s(t), 4) for t in range(10)]
    [0.04, 0.52, 1.0, 0.8571, 0.7143, 0.5714, 0.4286, 0.2857, 0.1429, 0.0]
    """
    max_lr = check_nonnegative("max_lr", max_lr)
    total_steps, pct_start, anneal_strategy, three_phase = _check_one_cycle(
        total_steps, pct_start, anneal_strategy, three_phase
    )
    div_factor = check_positive("div_factor", div_factor)
    final_div_factor = check_positive("final_div_factor", final_div_factor)
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    if three_phase:
        phases = [(initial_lr, max_lr), (max_lr, initial_lr), (initial_lr, min_lr)]
    else:
        phases = [(initial_lr, max_lr), (max_lr, min_lr)]
    return _one_cycle_curve(total_steps, pct_start, anneal_strategy, three_phase, phases)


def one_cycle_momentum(
    total_steps: int,
    pct_start: float = 0.3,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    anneal_strategy: str = "cos",
    three_phase: bool = False,
) -> Schedule:
    r"""The momentum that goes with :func:`one_cycle`: low while the rate is high, and back up after.

    Same phases and annealing as :func:`one_cycle`, with values, in the two-phase case,

    .. math::

        \beta_{\max} \to \beta_{\text{base}} \to \beta_{\max}

    and with three phases :math:`\beta_{\max} \to \beta_{\text{base}} \to \beta_{\max} \to \beta_{\max}`,
    where :math:`\beta_{\text{base}}` is ``base_momentum`` and :math:`\beta_{\max}` is
    ``max_momentum``. This equals the momentum (or Adam's :math:`\beta_1`) that PyTorch's
    ``OneCycleLR`` sets with ``cycle_momentum=True`` at every step :math:`0 \le t \le T - 1`
    (:math:`T` = ``total_steps``, :math:`p` = ``pct_start``), and afterwards holds its value at step
    :math:`T - 1`: :math:`\beta_{\max}`, except :math:`\beta_{\text{base}}` when :math:`p = 1`, and,
    with three phases and :math:`pT - 1 < T - 1 < 2pT - 2`, a momentum on the way back up from
    :math:`\beta_{\text{base}}` to :math:`\beta_{\max}`.

    Source: Smith (2018), "A disciplined approach to neural network hyper-parameters: Part 1"
    (cyclical momentum, inverse to the learning rate).

    Parameters
    ----------
    total_steps : int
        Length of the cycle, ``>= 1``.
    pct_start : float
        Fraction of the cycle spent decreasing the momentum, in [0, 1].
    base_momentum : float
        Lowest momentum, in [0, 1).
    max_momentum : float
        Highest momentum, in [``base_momentum``, 1).
    anneal_strategy : {"cos", "linear"}
        Shape of each phase.
    three_phase : bool
        Match ``one_cycle(..., three_phase=True)``.

    Returns
    -------
    callable
        ``momentum(t)``.

    Examples
    --------
    >>> m = one_cycle_momentum(total_steps=10, anneal_strategy="linear")
    >>> [round(m(t), 4) for t in (0, 1, 2, 6, 9)]
    [0.95, 0.9, 0.85, 0.9071, 0.95]
    """
    total_steps, pct_start, anneal_strategy, three_phase = _check_one_cycle(
        total_steps, pct_start, anneal_strategy, three_phase
    )
    base_momentum = check_unit_interval("base_momentum", base_momentum, high_open=True)
    max_momentum = check_unit_interval("max_momentum", max_momentum, high_open=True)
    if max_momentum < base_momentum:
        raise ValueError(f"max_momentum must be >= base_momentum = {base_momentum!r}, got {max_momentum!r}")
    if three_phase:
        phases = [(max_momentum, base_momentum), (base_momentum, max_momentum), (max_momentum, max_momentum)]
    else:
        phases = [(max_momentum, base_momentum), (base_momentum, max_momentum)]
    return _one_cycle_curve(total_steps, pct_start, anneal_strategy, three_phase, phases)


# ---------------------------------------------------------------------------------------------------
# Performance scheduling
# ---------------------------------------------------------------------------------------------------


class ReduceOnPlateau:
    r"""Performance scheduling: cut the rate by ``factor`` when a metric stops improving.

    After each epoch, call :meth:`step` with the validation metric. A metric is an improvement when
    it beats the best so far by the threshold:

    .. math::

        m_t < m^\ast (1 - \theta) \;(\text{min, rel}), \quad
        m_t < m^\ast - \theta \;(\text{min, abs}), \quad
        m_t > m^\ast (1 + \theta) \;(\text{max, rel}), \quad
        m_t > m^\ast + \theta \;(\text{max, abs}),

    where :math:`m^\ast` is the best metric so far and :math:`\theta` is ``threshold``. When more
    than ``patience`` epochs in a row bring no improvement, the rate becomes

    .. math::

        \alpha \leftarrow \max(\gamma \alpha, \alpha_{\min})
        \quad\text{(skipped if it would change } \alpha \text{ by no more than } \epsilon),

    with :math:`\gamma` = ``factor``, :math:`\alpha_{\min}` = ``min_lr`` and :math:`\epsilon` = ``eps``,
    and the count of bad epochs starts again after ``cooldown`` epochs in which bad epochs are
    ignored. The sequence of rates equals PyTorch's ``ReduceLROnPlateau``. Unlike the schedules above
    this one has state, because it depends on the metrics seen; :meth:`state_dict` and
    :meth:`load_state_dict` save and restore it.

    Source: Géron, Hands-On Machine Learning, ch. 11 ("performance scheduling", Keras's
    ``ReduceLROnPlateau(factor=0.5, patience=5)``); PyTorch's ``ReduceLROnPlateau``.

    Parameters
    ----------
    lr0 : float
        Initial learning rate, ``>= 0``.
    mode : {"min", "max"}
        Whether a lower ("min", a loss) or a higher ("max", an accuracy) metric is better.
    factor : float
        Multiplier of the rate at each reduction, in (0, 1).
    patience : int
        Number of epochs without improvement that are tolerated, ``>= 0``.
    threshold : float
        Minimal improvement that counts, ``>= 0``.
    threshold_mode : {"rel", "abs"}
        Whether ``threshold`` is relative to the best metric or absolute.
    cooldown : int
        Epochs after a reduction during which bad epochs are not counted, ``>= 0``.
    min_lr : float
        Lower bound on the rate, ``>= 0``.
    eps : float
        Smallest change of the rate that is applied, ``>= 0``.

    Attributes
    ----------
    lr : float
        The current learning rate.
    best : float
        The best metric so far (``inf`` or ``-inf`` before the first step).
    num_bad_epochs : int
        Epochs since the last improvement (reset by a reduction and during cooldown).
    cooldown_counter : int
        Epochs of cooldown left.
    last_epoch : int
        Number of calls to :meth:`step`.

    Examples
    --------
    >>> plateau = ReduceOnPlateau(0.1, factor=0.5, patience=1)
    >>> [plateau.step(loss) for loss in [1.0, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8]]
    [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]
    """

    _HYPERPARAMETERS = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr", "eps")
    _STATE = ("lr", "best", "num_bad_epochs", "cooldown_counter", "last_epoch")

    def __init__(
        self,
        lr0: float,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        self.lr = check_nonnegative("lr0", lr0)
        self.mode = check_choice("mode", mode, ["min", "max"])
        self.factor = check_unit_interval("factor", factor, low_open=True, high_open=True)
        self.patience = check_int("patience", patience, minimum=0)
        self.threshold = check_nonnegative("threshold", threshold)
        self.threshold_mode = check_choice("threshold_mode", threshold_mode, ["rel", "abs"])
        self.cooldown = check_int("cooldown", cooldown, minimum=0)
        self.min_lr = check_nonnegative("min_lr", min_lr)
        self.eps = check_nonnegative("eps", eps)
        self.best = math.inf if self.mode == "min" else -math.inf  # the worst possible metric
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0

    def _is_better(self, metric: float) -> bool:
        """Whether ``metric`` beats ``self.best`` by the threshold."""
        if self.mode == "min":
            bar = self.best * (1.0 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return metric < bar
        bar = self.best * (1.0 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return metric > bar

    def step(self, metric: float) -> float:
        """Record one epoch's metric and return the (possibly reduced) learning rate."""
        try:
            metric = float(metric)
        except (TypeError, ValueError):
            raise TypeError(f"metric must be a real number, got {metric!r}") from None
        if math.isnan(metric):
            raise ValueError(f"metric must not be NaN, got {metric!r}")
        self.last_epoch += 1

        # an improvement resets the count of bad epochs
        if self._is_better(metric):
            self.best = metric
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1

        # bad epochs during the cooldown after a reduction do not count
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0

        # alpha <- max(factor * alpha, min_lr), unless that changes alpha by eps or less
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.lr * self.factor, self.min_lr)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        return self.lr

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue: the hyperparameters and the counters, as a plain ``dict``."""
        return {name: getattr(self, name) for name in self._HYPERPARAMETERS + self._STATE}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; a missing key or an invalid value raises before anything changes."""
        expected = set(self._HYPERPARAMETERS + self._STATE)
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            keys = sorted(state_dict) if isinstance(state_dict, dict) else state_dict
            raise ValueError(f"state_dict must have exactly the keys {sorted(expected)}, got {keys!r}")
        # validate every value by building a fresh scheduler from it
        fresh = ReduceOnPlateau(state_dict["lr"], **{k: state_dict[k] for k in self._HYPERPARAMETERS})
        best = state_dict["best"]
        if best not in (math.inf, -math.inf):  # +-inf (nothing seen yet) is a valid best
            best = check_number("best", best)
        fresh.best = float(best)
        fresh.num_bad_epochs = check_int("num_bad_epochs", state_dict["num_bad_epochs"], minimum=0)
        fresh.cooldown_counter = check_int("cooldown_counter", state_dict["cooldown_counter"], minimum=0)
        fresh.last_epoch = check_int("last_epoch", state_dict["last_epoch"], minimum=0)
        self.__dict__.update(fresh.__dict__)


# ---------------------------------------------------------------------------------------------------
# PyTorch
# ---------------------------------------------------------------------------------------------------


class _ScheduleLR(torch.optim.lr_scheduler.LRScheduler):
    """A torch scheduler that sets every param group's rate to ``schedule(last_epoch)``."""

    def __init__(self, optimizer: torch.optim.Optimizer, schedule: Schedule) -> None:
        self.schedule = schedule
        super().__init__(optimizer)  # sets last_epoch = 0 and the rates to schedule(0)

    def get_lr(self) -> list[float]:
        # an absolute rate, not a factor of the base rate as in LambdaLR
        return [float(self.schedule(self.last_epoch)) for _ in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return self.get_lr()

    def state_dict(self) -> dict[str, Any]:
        # the schedule is a function: rebuild it in code, save only the step count
        return {key: value for key, value in super().state_dict().items() if key != "schedule"}


def to_torch(schedule: Schedule, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
    r"""Drive a torch optimizer with a schedule: a ``torch.optim.lr_scheduler.LRScheduler``.

    Right after construction every param group's ``lr`` is ``schedule(0)``; after :math:`k` calls of
    ``.step()`` it is ``schedule(k)``:

    .. math::

        \text{lr}_k = s(k)

    where :math:`s` is ``schedule``. The rate is set absolutely (``LambdaLR`` would multiply it by the
    optimizer's initial ``lr``). Call ``scheduler.step()`` after ``optimizer.step()``, once per step
    or once per epoch, whichever unit the schedule counts.

    Source: PyTorch's ``LRScheduler`` protocol (``step``, ``get_last_lr``, ``state_dict``).

    Parameters
    ----------
    schedule : callable
        Any schedule from this module (or a function of the step returning a rate).
    optimizer : torch.optim.Optimizer
        The optimizer whose param groups get the rate.

    Returns
    -------
    torch.optim.lr_scheduler.LRScheduler
        The scheduler; its ``state_dict`` holds the step count but not the schedule.

    Examples
    --------
    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    >>> scheduler = to_torch(step_decay(0.1, step_size=2), opt)
    >>> opt.param_groups[0]["lr"]
    0.1
    >>> for _ in range(2):
    ...     opt.step()
    ...     scheduler.step()
    >>> round(opt.param_groups[0]["lr"], 6)
    0.01
    """
    schedule = _check_callable("schedule", schedule)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer, got {optimizer!r} of type {type(optimizer).__name__}"
        )
    return _ScheduleLR(optimizer, schedule)
