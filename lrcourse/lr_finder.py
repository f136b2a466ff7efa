r"""Finding a learning rate: the one-dimensional picture and the LR range test.

The learning rate is the hyperparameter that matters most, and a grid search over it trains the model
once per candidate. Smith (2017) replaced the grid by a single short run, the *LR range test* (학습률 범위
테스트): train for a few hundred steps while the rate grows exponentially from tiny to huge, record the
loss at each rate, and read a good rate off the curve, just below where the loss turns up.

- :func:`gradient_descent_1d`: gradient descent on :math:`f(w) = w^2`, where the effect of the rate can
  be derived exactly (too slow, fast, oscillating, diverging).
- :func:`lr_range_test`: the range test for a PyTorch model, which leaves the model and the optimizer
  exactly as it found them; it returns an :class:`LRRangeTestResult` with the rates, the raw and
  smoothed losses, a suggested rate and a plot.

Used in Part III of the book: "Finding the learning rate: the LR range test" and "The 1cycle policy".
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np
import torch

from lrcourse._checks import check_beta, check_int, check_nonnegative, check_number, check_positive
from lrcourse._progress import progress_bar, show_progress
from lrcourse.device import resolve_device

__all__ = ["LRRangeTestResult", "gradient_descent_1d", "lr_range_test"]


# ---------------------------------------------------------------------------------------------------
# The one-dimensional picture
# ---------------------------------------------------------------------------------------------------


def gradient_descent_1d(lr: float, w0: float = 1.0, steps: int = 100) -> np.ndarray:
    r"""Gradient descent on :math:`f(w) = w^2`: the iterates :math:`w_0, w_1, \dots, w_T`.

    With :math:`f'(w) = 2w` one step is

    .. math::

        w_{t+1} = w_t - \alpha f'(w_t) = (1 - 2\alpha)\, w_t,
        \qquad\text{so}\qquad w_t = (1 - 2\alpha)^t\, w_0,

    where :math:`\alpha` is ``lr``, :math:`w_0` is ``w0`` and :math:`T` is ``steps``. The iterates shrink
    when :math:`|1 - 2\alpha| < 1`, that is :math:`0 < \alpha < 1`; they change sign at every step when
    :math:`\alpha > 1/2`; :math:`\alpha = 1/2` lands on the minimum in one step; and for
    :math:`\alpha > 1` they grow without bound. (The closed form is what the tests check; the function
    itself runs the loop, as an optimizer would.)

    Source: the one-dimensional demonstration in the article on the 1cycle policy (rates 0.01, 0.1, 0.7,
    0.99 and 1.01), after Smith (2018), "A disciplined approach to neural network hyper-parameters".

    Parameters
    ----------
    lr : float
        Learning rate :math:`\alpha`, ``>= 0``.
    w0 : float
        Starting point.
    steps : int
        Number of steps :math:`T`, ``>= 0``.

    Returns
    -------
    numpy.ndarray
        ``steps + 1`` float64 values, :math:`w_0` first.

    Examples
    --------
    >>> gradient_descent_1d(0.25, w0=1.0, steps=3)
    array([1.   , 0.5  , 0.25 , 0.125])
    >>> gradient_descent_1d(0.5, steps=2)
    array([1., 0., 0.])
    >>> gradient_descent_1d(0.75, steps=3)
    array([ 1.   , -0.5  ,  0.25 , -0.125])
    """
    lr = check_nonnegative("lr", lr)
    w0 = check_number("w0", w0)
    steps = check_int("steps", steps, minimum=0)
    iterates = np.empty(steps + 1, dtype=np.float64)
    w = w0
    iterates[0] = w
    for t in range(steps):
        grad = 2.0 * w  # f'(w) = 2 w
        # w_{t+1} <- w_t - alpha * f'(w_t)
        w = w - lr * grad
        iterates[t + 1] = w
    return iterates


# ---------------------------------------------------------------------------------------------------
# The LR range test
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LRRangeTestResult:
    r"""What :func:`lr_range_test` measured, and the rate it suggests.

    Attributes
    ----------
    lrs : numpy.ndarray
        The rate used at each step that was run, increasing.
    losses : numpy.ndarray
        The loss of the mini-batch at each step, measured before that step's update.
    smoothed : numpy.ndarray
        The bias-corrected exponentially weighted average of ``losses``.
    lr_at_min_loss : float
        The rate at which ``smoothed`` is lowest.
    suggestion : float
        ``lr_at_min_loss / 10``: the suggested rate (see :func:`lr_range_test` for the rule).
    diverged : bool
        Whether the test stopped early because the loss blew up.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    lr_at_min_loss: float
    suggestion: float
    diverged: bool

    def plot(self, ax: Any = None, skip_start: int = 0) -> Any:
        """Draw the raw and smoothed loss against the rate (log scale), with the suggestion marked.

        The vertical axis stops at 1.5 times the highest smoothed loss before its minimum, so the
        final blow-up leaves the frame instead of squashing the rest of the curve.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure is made when omitted.
        skip_start : int
            Leave out the first ``skip_start`` steps, whose loss says little.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.
        """
        skip_start = check_int("skip_start", skip_start, minimum=0)
        if skip_start >= len(self.lrs):
            raise ValueError(f"skip_start must be < the {len(self.lrs)} steps recorded, got {skip_start!r}")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        part = slice(skip_start, None)
        ax.plot(self.lrs[part], self.losses[part], color="0.7", lw=1, label="loss (raw)")
        ax.plot(self.lrs[part], self.smoothed[part], color="tab:blue", lw=2, label="loss (smoothed)")
        ax.axvline(self.lr_at_min_loss, color="tab:red", ls=":", lw=1.5,
                   label=f"minimum of the smoothed loss, lr = {self.lr_at_min_loss:.3g}")
        ax.axvline(self.suggestion, color="tab:green", ls="--", lw=1.5,
                   label=f"suggestion (minimum / 10), lr = {self.suggestion:.3g}")
        ax.set_xscale("log")
        # keep the blow-up at the end from flattening the rest: show up to 1.5 times the highest
        # smoothed loss before the minimum (the plateau of the small rates)
        shown = self.smoothed[part]
        lowest = min(float(np.min(self.losses[part])), float(np.min(shown)))
        plateau = float(np.max(shown[: int(np.argmin(shown)) + 1]))
        ax.set_ylim(min(0.0, lowest), 1.5 * plateau if plateau > 0 else None)
        ax.set(xlabel="learning rate (log scale)", ylabel="training loss", title="LR range test")
        ax.legend(loc="best", fontsize="small")
        return ax


def _to_device(batch: Any, device: torch.device) -> Any:
    """Move the tensors of a batch (a tensor, or a tuple or list of them) to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, (tuple, list)):
        return type(batch)(_to_device(part, device) for part in batch)
    return batch


def _cycle(loader: Iterable) -> Iterable:
    """Batches of ``loader`` without end: start it again each time it runs out."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError(f"loader must yield at least one batch, got an empty {type(loader).__name__}")


def lr_range_test(
    model: torch.nn.Module,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    loader: Iterable,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    optimizer: torch.optim.Optimizer | None = None,
    beta: float = 0.95,
    diverge_factor: float = 4.0,
    device: torch.device | str | None = None,
    progress: bool | None = None,
) -> LRRangeTestResult:
    r"""The LR range test: train briefly with an exponentially growing rate and watch the loss.

    At step :math:`k = 0, 1, \dots, K-1` the rate is

    .. math::

        \alpha_k = \alpha_{\text{start}}
        \left(\frac{\alpha_{\text{end}}}{\alpha_{\text{start}}}\right)^{k / (K - 1)},

    evenly spaced on a log scale from ``start_lr`` to ``end_lr`` (:math:`K` is ``num_steps``). Each step
    takes the next mini-batch from ``loader`` (starting it again when it runs out), records its loss
    :math:`\ell_k` before the update, and smooths it with the lecture's bias-corrected exponentially
    weighted average,

    .. math::

        v_k = \beta v_{k-1} + (1 - \beta)\, \ell_k, \quad v_{-1} = 0, \qquad
        \hat v_k = \frac{v_k}{1 - \beta^{k+1}} .

    The test stops early once the loss is not finite or the smoothed loss has risen above its best so
    far, :math:`b_k = \min_{j \le k} \hat v_j`, by more than :math:`c - 1` times that best's magnitude,

    .. math::

        \hat v_k - b_k > (c - 1)\, |b_k| ,

    with :math:`c` = ``diverge_factor``. For a positive best this is :math:`\hat v_k > c\, b_k` (fastai's
    rule); measuring the rise against :math:`|b_k|` keeps the rule meaningful for losses that go
    negative (a log-likelihood, a regularized or shifted objective), where :math:`c\, b_k` would lie
    *below* :math:`b_k` and stop the test at once. When :math:`b_k = 0` any rise above zero stops it.

    During the test every submodule is in training mode (``model.train()``), since the range test
    measures training steps: batch normalization uses the batch statistics and dropout is active, even
    for submodules you had put in eval mode. Afterwards the model (parameters and buffers, its device,
    the train/eval mode of each submodule separately, gradients included) and the optimizer (state and
    param groups, rates included) are restored exactly to what they were, even if a step raises; what
    does change is the position of the random number generators used by the loader's shuffling and by
    dropout.

    **The suggestion rule.** The suggested rate is the rate at the minimum of the smoothed loss divided
    by ten,

    .. math::

        \alpha_{\text{suggested}} = \frac{1}{10}\, \alpha_{k^\ast},
        \qquad k^\ast = \arg\min_k \hat v_k ,

    the rule of thumb of Géron's *Hands-On Machine Learning* (ch. 11): the best rate is about ten times
    lower than the point where the loss starts to climb. The minimum of the smoothed loss sits where the
    loss stops improving, close to the largest stable rate: on a least-squares problem trained with plain
    gradient descent, whose divergence threshold is :math:`2/L` (:math:`L` the largest eigenvalue of the
    Hessian), the tests check that the suggestion lies between :math:`2/(30L)` and :math:`2/L`.

    Source: Smith (2017), "Cyclical Learning Rates for Training Neural Networks" (the range test);
    the exponential ramp and divergence stop as in fastai's learning-rate finder; Géron, *Hands-On
    Machine Learning*, ch. 11 (the rule); Andrew Ng's lecture on bias correction (the smoothing).

    Parameters
    ----------
    model : torch.nn.Module
        The model, in the state you would start training from.
    loss_fn : callable
        ``loss_fn(model(inputs), targets)`` returns a scalar tensor (e.g. ``torch.nn.CrossEntropyLoss()``).
    loader : iterable
        Yields ``(inputs, targets)`` batches, such as a ``torch.utils.data.DataLoader`` or a list of pairs.
    start_lr, end_lr : float
        First and last rate of the ramp, ``0 < start_lr < end_lr``.
    num_steps : int
        Length of the ramp, ``>= 2``.
    optimizer : torch.optim.Optimizer, optional
        The optimizer you will train with, over the model's parameters; every param group gets the rate
        :math:`\alpha_k`. Default: ``torch.optim.SGD(model.parameters(), lr=start_lr, momentum=0.9)``,
        the optimizer of the 1cycle policy. Momentum matters: on a quadratic, heavy-ball momentum
        :math:`\mu` stays stable up to :math:`2(1+\mu)/L` rather than :math:`2/L`.
    beta : float
        Smoothing coefficient of the average, in [0, 1) (0 means no smoothing).
    diverge_factor : float
        Stop when the smoothed loss exceeds its minimum so far by more than ``diverge_factor - 1`` times
        that minimum's magnitude (for positive losses: exceeds this multiple of its minimum), ``> 1``.
    device : torch.device or str, optional
        Where to run; default :func:`lrcourse.get_device`. The model is moved there for the test and
        back afterwards; batches are moved there at each step.
    progress : bool, optional
        Show a tqdm progress bar over the ramp. ``None`` (default) shows it when a person is watching:
        standard error is a terminal, or the notebook runs in Colab or was opened from a Jupyter server;
        the environment variable ``LRCOURSE_PROGRESS`` (``0`` or ``1``) overrides that. Stored notebook
        outputs and test logs never contain one.

    Returns
    -------
    LRRangeTestResult
        ``.lrs``, ``.losses``, ``.smoothed``, ``.lr_at_min_loss``, ``.suggestion``, ``.diverged`` and
        ``.plot(ax=None)``.

    Examples
    --------
    Least squares :math:`(w - 3)^2` has Hessian :math:`L = 2`, so plain gradient descent diverges beyond
    :math:`2/L = 1`:

    >>> import torch
    >>> w = torch.nn.Linear(1, 1, bias=False)
    >>> x, y = torch.ones(4, 1), torch.full((4, 1), 3.0)
    >>> before = w.weight.detach().clone()
    >>> result = lr_range_test(w, torch.nn.MSELoss(), [(x, y)], start_lr=1e-4, end_lr=100.0,
    ...                        num_steps=60, optimizer=torch.optim.SGD(w.parameters()), device="cpu")
    >>> result.diverged, 0.02 < result.suggestion < 1.0
    (True, True)
    >>> torch.equal(w.weight, before)
    True
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {model!r} of type {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {loss_fn!r} of type {type(loss_fn).__name__}")
    if not isinstance(loader, Iterable) or isinstance(loader, torch.Tensor):
        raise TypeError(f"loader must be an iterable of (inputs, targets) batches, got {type(loader).__name__}")
    start_lr = check_positive("start_lr", start_lr)
    end_lr = check_positive("end_lr", end_lr)
    if end_lr <= start_lr:
        raise ValueError(f"end_lr must be > start_lr = {start_lr!r}, got {end_lr!r}")
    num_steps = check_int("num_steps", num_steps, minimum=2)
    beta = check_beta("beta", beta)
    diverge_factor = check_positive("diverge_factor", diverge_factor)
    if diverge_factor <= 1:
        raise ValueError(f"diverge_factor must be > 1, got {diverge_factor!r}")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer or None, got {optimizer!r} of type {type(optimizer).__name__}"
        )
    show = show_progress(progress)
    device = resolve_device(device)
    parameters = list(model.parameters())
    if not parameters:
        raise ValueError("model must have parameters to train, got a model without any")

    # Save everything the test will change, as deep copies (state_dict() returns references).
    home = parameters[0].device
    # the mode of every submodule, not just the top one: model.train(flag) would set them all to flag
    modes = {module: module.training for module in model.modules()}
    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None
    saved_grads = [None if p.grad is None else p.grad.detach().clone() for p in parameters]

    # lr_k = start_lr * (end_lr / start_lr) ** (k / (K - 1))
    lrs = start_lr * (end_lr / start_lr) ** (np.arange(num_steps) / (num_steps - 1))
    losses: list[float] = []
    smoothed: list[float] = []
    diverged = False

    bar = progress_bar(show, num_steps, "LR range test", unit="step")
    try:
        model.to(device)
        model.train()
        if optimizer is None:
            optimizer = torch.optim.SGD(model.parameters(), lr=start_lr, momentum=0.9)
        else:
            # reloading puts the optimizer's buffers (momentum, Adam's averages) on the model's new device
            optimizer.load_state_dict(copy.deepcopy(saved_optimizer))
        batches = _cycle(loader)
        v = 0.0
        best = math.inf
        for k, lr in enumerate(lrs):
            inputs, targets = _to_device(next(batches), device)
            for group in optimizer.param_groups:
                group["lr"] = float(lr)
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            value = float(loss.item())
            if not math.isfinite(value):
                diverged = True
                break
            loss.backward()
            optimizer.step()

            # v_k <- beta v_{k-1} + (1 - beta) loss_k;  v_hat_k = v_k / (1 - beta^(k+1))
            v = beta * v + (1.0 - beta) * value
            v_hat = v / (1.0 - beta ** (k + 1))
            losses.append(value)
            smoothed.append(v_hat)
            bar.update(1)
            bar.set_postfix(lr=f"{lr:.2e}", loss=f"{v_hat:.4f}")

            # stop once the smoothed loss has risen above its best so far by (c - 1) |best|;
            # for best > 0 this is v_hat > c * best, and it still works once the loss is negative
            best = min(best, v_hat)
            if v_hat - best > (diverge_factor - 1.0) * abs(best):
                diverged = True
                break
    finally:
        bar.close()
        # load_state_dict copies the saved values into the existing tensors; then move them home
        model.load_state_dict(saved_model)
        model.to(home)
        for module, mode in modes.items():
            module.training = mode
        for p, grad in zip(parameters, saved_grads):
            p.grad = grad
        if saved_optimizer is not None:
            optimizer.load_state_dict(saved_optimizer)

    if not losses:
        raise ValueError(f"the loss was not finite at the first step (lr = {start_lr!r}): nothing to suggest")
    steps_run = len(losses)
    smoothed_array = np.asarray(smoothed, dtype=np.float64)
    lr_at_min_loss = float(lrs[int(np.argmin(smoothed_array))])
    return LRRangeTestResult(
        lrs=lrs[:steps_run].copy(),
        losses=np.asarray(losses, dtype=np.float64),
        smoothed=smoothed_array,
        lr_at_min_loss=lr_at_min_loss,
        suggestion=lr_at_min_loss / 10.0,
        diverged=diverged,
    )
