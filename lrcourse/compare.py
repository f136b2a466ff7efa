r"""Comparing training runs fairly: final losses over seeds, learning-rate sensitivity, best loss per budget.

A comparison of optimizers (or schedules) is only as good as its protocol. Each one gets its own small grid
of learning rates, every setting is trained with several seeds, and the result is a mean with a spread, not
one run. This module turns the step-by-step losses of such a grid, an array of shape
``(n_lrs, n_seeds, n_steps)`` such as ``lrcourse.sweep.sweep_mlp(...).loss``, into the numbers that a
comparison reports:

- :func:`final_loss`: the loss at the end of each run, averaged over its last epoch(s), with diverged runs
  marked as ``inf``;
- :func:`lr_sensitivity` and :class:`LRSensitivity`: mean and spread over seeds at every learning rate, the
  best rate, and the range of rates that come close to the best (how forgiving an optimizer is);
- :func:`best_loss_by_budget`: for each training budget (number of epochs), the best mean loss over the grid,
  so that a conclusion can be checked against the budget it was drawn at.

Source: the tuning advice of Ng's *Improving Deep Neural Networks* (week 3: search the learning rate on a log
scale) and the practice of reporting several seeds. Used by the chapter *Comparing optimizers on real data*.

Examples
--------
>>> import numpy as np
>>> loss = np.array([[[2.0, 1.0, 0.8, 0.6], [2.0, 1.2, 1.0, 0.8]],      # lr 0.01: two seeds, 4 steps
...                  [[2.0, 0.5, 0.3, 0.1], [2.0, 0.7, 0.4, 0.3]]])     # lr 0.1
>>> final = final_loss(loss, steps_per_epoch=2)  # mean of each run's last epoch (2 steps)
>>> final
array([[0.7 , 0.9 ],
       [0.2 , 0.35]])
>>> s = lr_sensitivity([0.01, 0.1], final)
>>> float(s.best_lr), round(float(s.best_mean), 3)
(0.1, 0.275)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lrcourse._checks import check_int, check_number, check_positive

__all__ = ["final_loss", "LRSensitivity", "lr_sensitivity", "best_loss_by_budget"]


def _check_loss(loss: Any) -> np.ndarray:
    try:
        arr = np.array(loss, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"loss must be an array of numbers, got {loss!r}") from err
    if arr.ndim != 3 or 0 in arr.shape:
        raise ValueError(f"loss must have shape (n_lrs, n_seeds, n_steps) with no empty axis, got shape {arr.shape}")
    return arr


def _check_epochs(loss: np.ndarray, steps_per_epoch: Any) -> tuple[int, int]:
    steps_per_epoch = check_int("steps_per_epoch", steps_per_epoch, minimum=1)
    n_steps = loss.shape[-1]
    if n_steps % steps_per_epoch:
        raise ValueError(
            f"steps_per_epoch must divide the number of steps {n_steps}, got {steps_per_epoch}"
        )
    return steps_per_epoch, n_steps // steps_per_epoch


def final_loss(loss: Any, steps_per_epoch: int, last_epochs: int = 1) -> np.ndarray:
    r"""The loss at the end of each run: the mean step loss over its last ``last_epochs`` epochs.

    .. math::

        L^{\text{final}}_{ij} = \frac{1}{E S} \sum_{t = T - E S + 1}^{T} \ell_{ij}(t)

    with :math:`\ell_{ij}(t)` = ``loss[i, j, t-1]`` the mini-batch loss of run :math:`(i, j)` at step
    :math:`t`, :math:`T` the number of steps, :math:`S` = ``steps_per_epoch`` and :math:`E` = ``last_epochs``.
    Averaging over an epoch smooths the mini-batch noise; each mini-batch counts once (a short last one as
    much as a full one). A run whose losses
    in that window are not all finite (NaN or infinite: it diverged) gets ``inf``, so that it sorts last and is
    never mistaken for a good run.

    Parameters
    ----------
    loss : array_like, shape (n_lrs, n_seeds, n_steps)
        Step-by-step losses, for example ``sweep_mlp(...).loss``.
    steps_per_epoch : int
        Steps per epoch, ``>= 1``; it must divide ``n_steps``.
    last_epochs : int, default 1
        How many final epochs to average, between 1 and the number of epochs.

    Returns
    -------
    numpy.ndarray, shape (n_lrs, n_seeds)
        The final loss of every run, ``inf`` for diverged runs.

    Examples
    --------
    >>> import numpy as np
    >>> loss = np.array([[[3.0, 2.0, 1.0, 0.5]], [[3.0, 9.0, np.nan, np.nan]]])  # 2 lrs, 1 seed, 4 steps
    >>> final_loss(loss, steps_per_epoch=2)
    array([[0.75],
           [ inf]])
    """
    loss = _check_loss(loss)
    steps_per_epoch, epochs = _check_epochs(loss, steps_per_epoch)
    last_epochs = check_int("last_epochs", last_epochs, minimum=1)
    if last_epochs > epochs:
        raise ValueError(f"last_epochs must be at most the number of epochs {epochs}, got {last_epochs}")
    window = loss[..., -last_epochs * steps_per_epoch:]
    ok = np.all(np.isfinite(window), axis=-1)
    # L_final = mean of the window; a diverged run (any non-finite loss in it) gets +inf
    return np.where(ok, np.mean(np.where(np.isfinite(window), window, 0.0), axis=-1), np.inf)


@dataclass(frozen=True)
class LRSensitivity:
    r"""Final losses over a grid of learning rates and seeds, summarized over the seeds.

    Build it with :func:`lr_sensitivity`. For learning rate :math:`\alpha_i` and seeds :math:`j = 1..n`,

    .. math::

        \bar L_i = \frac{1}{n} \sum_{j} L_{ij}, \qquad
        s_i = \sqrt{\frac{1}{n} \sum_j \bigl(L_{ij} - \bar L_i\bigr)^2},

    the mean and the (population) standard deviation over seeds; both are ``inf`` when a seed diverged.

    Attributes
    ----------
    lrs : numpy.ndarray, shape (n_lrs,)
        The learning rates, increasing.
    final : numpy.ndarray, shape (n_lrs, n_seeds)
        The final loss of every run (``inf`` where it diverged).
    mean, std : numpy.ndarray, shape (n_lrs,)
        :math:`\bar L_i` and :math:`s_i`.
    diverged : numpy.ndarray, shape (n_lrs,)
        How many seeds diverged at each rate.
    """

    lrs: np.ndarray
    final: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    diverged: np.ndarray

    @property
    def best_index(self) -> int:
        """Index of the learning rate with the lowest mean final loss (the smaller rate on a tie)."""
        return int(np.argmin(self.mean))

    @property
    def best_lr(self) -> float:
        """The learning rate with the lowest mean final loss."""
        return float(self.lrs[self.best_index])

    @property
    def best_mean(self) -> float:
        """The lowest mean final loss over the grid."""
        return float(self.mean[self.best_index])

    @property
    def best_std(self) -> float:
        """The spread over seeds at the best learning rate."""
        return float(self.std[self.best_index])

    def good_range(self, factor: float = 2.0, level: float | None = None) -> tuple[float, float]:
        r"""The smallest and largest rate of the unbroken stretch of the grid around the best rate whose
        mean final loss is at most ``factor`` times the best (or at most ``level``, when it is given).

        .. math::

            \{\alpha_i : i_{\text{low}} \le i \le i_{\text{high}}\}, \qquad
            \bar L_i \le c \text{ for all such } i, \qquad
            c = \text{factor} \cdot \min_k \bar L_k \ \text{ or } \ c = \text{level}

        A wide range means an optimizer that forgives a poorly chosen learning rate. ``level`` compares
        optimizers on an absolute scale ("which rates reach a loss below 0.1?"), ``factor`` relative to each
        one's own best.

        Parameters
        ----------
        factor : float, default 2.0
            How much worse than the best still counts as good, ``>= 1``. Ignored when ``level`` is given.
        level : float, optional
            An absolute loss level, ``> 0``, used instead of ``factor`` times the best.

        Returns
        -------
        tuple of float
            ``(low, high)``; both equal the best rate when no neighbour qualifies. With ``level`` below the
            best mean loss, or when every rate diverged, there is no such stretch and the result is
            ``(nan, nan)``.

        Examples
        --------
        >>> import numpy as np
        >>> s = lr_sensitivity([0.001, 0.01, 0.1, 1.0], [[0.9], [0.15], [0.1], [0.5]])
        >>> s.good_range(2.0)
        (0.01, 0.1)
        >>> s.good_range(level=0.6)
        (0.01, 1.0)
        """
        if level is None:
            factor = check_number("factor", factor)
            if factor < 1:
                raise ValueError(f"factor must be >= 1, got {factor!r}")
            limit = factor * self.mean[self.best_index]
        else:
            limit = check_positive("level", level)
        best = self.best_index
        # no stretch when even the best rate diverged (then factor * inf would admit every rate)
        if not (np.isfinite(self.mean[best]) and self.mean[best] <= limit):
            return float("nan"), float("nan")
        low = best
        while low > 0 and self.mean[low - 1] <= limit:
            low -= 1
        high = best
        while high < len(self.lrs) - 1 and self.mean[high + 1] <= limit:
            high += 1
        return float(self.lrs[low]), float(self.lrs[high])

    def good_range_decades(self, factor: float = 2.0, level: float | None = None) -> float:
        r"""The width of :meth:`good_range` in decades, :math:`\log_{10}(\alpha_{\text{high}}/\alpha_{\text{low}})`
        (``nan`` when the range is empty).

        Examples
        --------
        >>> s = lr_sensitivity([0.001, 0.01, 0.1, 1.0], [[0.9], [0.15], [0.1], [0.5]])
        >>> round(s.good_range_decades(2.0), 6)
        1.0
        """
        low, high = self.good_range(factor, level)
        return float(np.log10(high / low))


def lr_sensitivity(lrs: Any, final: Any) -> LRSensitivity:
    r"""Summarize final losses over seeds at each learning rate (mean, spread, diverged runs).

    .. math::

        \bar L_i = \frac{1}{n} \sum_{j=1}^{n} L_{ij}, \qquad
        s_i = \sqrt{\frac{1}{n} \sum_{j=1}^{n} \bigl(L_{ij} - \bar L_i\bigr)^2}

    with :math:`L_{ij}` = ``final[i, j]`` the final loss of the run with learning rate ``lrs[i]`` and seed
    :math:`j`. If any seed diverged (``inf`` or NaN), :math:`\bar L_i` and :math:`s_i` are ``inf``: a rate
    that sometimes blows up is not a safe choice, whatever its other seeds did.

    Parameters
    ----------
    lrs : array_like, shape (n_lrs,)
        Learning rates, positive and strictly increasing.
    final : array_like, shape (n_lrs, n_seeds)
        Final losses, for example from :func:`final_loss`.

    Returns
    -------
    LRSensitivity

    Examples
    --------
    >>> s = lr_sensitivity([0.01, 0.1, 1.0], [[1.0, 1.2], [0.2, 0.4], [0.1, float("inf")]])
    >>> s.mean, s.std, s.diverged
    (array([1.1, 0.3, inf]), array([0.1, 0.1, inf]), array([0, 0, 1]))
    >>> s.best_lr
    0.1
    """
    try:
        lrs = np.array(lrs, dtype=np.float64)
        final = np.array(final, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"lrs and final must be arrays of numbers, got {lrs!r} and {final!r}") from err
    if lrs.ndim != 1 or lrs.size == 0:
        raise ValueError(f"lrs must be a non-empty 1-D sequence, got shape {lrs.shape}")
    for i, lr in enumerate(lrs):
        check_positive(f"lrs[{i}]", float(lr))
    if np.any(np.diff(lrs) <= 0):
        raise ValueError(f"lrs must be strictly increasing, got {lrs.tolist()!r}")
    if final.ndim != 2 or final.shape[0] != lrs.size or final.shape[1] == 0:
        raise ValueError(f"final must have shape ({lrs.size}, n_seeds) with n_seeds >= 1, got shape {final.shape}")
    bad = ~np.isfinite(final)
    diverged = bad.sum(axis=1)
    clean = np.where(bad, 0.0, final)
    # mean and population standard deviation over the seeds (axis 1); inf where any seed diverged
    mean = np.where(diverged > 0, np.inf, clean.mean(axis=1))
    std = np.where(diverged > 0, np.inf, clean.std(axis=1))
    return LRSensitivity(lrs=lrs, final=np.where(bad, np.inf, final), mean=mean, std=std, diverged=diverged)


def best_loss_by_budget(loss: Any, steps_per_epoch: int) -> tuple[np.ndarray, np.ndarray]:
    r"""For each budget of :math:`k` epochs, the best mean loss over the grid and the rate that achieves it.

    With a constant learning rate, the first :math:`k` epochs of a longer run *are* a run with a budget of
    :math:`k` epochs, so one grid answers the question for every budget:

    .. math::

        B_k = \min_i \frac{1}{n} \sum_{j=1}^{n} \bar\ell_{ij}(k), \qquad k = 1, \dots, K,

    where :math:`\bar\ell_{ij}(k)` is the mean step loss of run :math:`(i, j)` during epoch :math:`k`
    (``inf`` if not finite) and :math:`n` the number of seeds.

    Parameters
    ----------
    loss : array_like, shape (n_lrs, n_seeds, n_steps)
        Step-by-step losses of runs with constant learning rates.
    steps_per_epoch : int
        Steps per epoch; it must divide ``n_steps``.

    Returns
    -------
    best : numpy.ndarray, shape (epochs,)
        :math:`B_k` for :math:`k = 1, \dots, K`.
    index : numpy.ndarray of int, shape (epochs,)
        The index :math:`i` of the learning rate that achieves :math:`B_k`.

    Examples
    --------
    >>> import numpy as np
    >>> loss = np.array([[[1.0, 0.9, 0.8, 0.7]], [[1.2, 1.0, 0.4, 0.2]]])  # 2 lrs, 1 seed, 2 epochs of 2 steps
    >>> best, index = best_loss_by_budget(loss, steps_per_epoch=2)
    >>> best, index
    (array([0.95, 0.3 ]), array([0, 1]))
    """
    loss = _check_loss(loss)
    steps_per_epoch, epochs = _check_epochs(loss, steps_per_epoch)
    per_epoch = loss.reshape(*loss.shape[:-1], epochs, steps_per_epoch)
    ok = np.all(np.isfinite(per_epoch), axis=-1)
    epoch_mean = np.where(ok, np.mean(np.where(np.isfinite(per_epoch), per_epoch, 0.0), axis=-1), np.inf)
    # mean over seeds, inf if any seed diverged in that epoch
    over_seeds = np.where(np.all(np.isfinite(epoch_mean), axis=1), np.mean(np.where(np.isfinite(epoch_mean),
                                                                                       epoch_mean, 0.0), axis=1), np.inf)
    index = np.argmin(over_seeds, axis=0)
    return over_seeds[index, np.arange(epochs)], index
