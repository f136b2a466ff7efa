r"""From-scratch optimizers in numpy: SGD, momentum, RMSprop and Adam (with AdamW).

This module teaches what an optimizer does to a parameter on each step. Every optimizer is a small
class with one readable update method, and every line of that update sits under a comment with the
equation it implements, so the code reads side by side with the lecture (Andrew Ng, *Improving Deep
Neural Networks*, week 2). Part II of the book uses it in the chapters *Mini-batch gradient descent*,
*Momentum*, *RMSprop*, *Adam* and *Comparing optimizers*.

All optimizers share one interface, named as in ``torch.optim`` so that what a learner knows carries over:

- ``opt.step(params, grads)`` takes two dicts of numpy arrays with the same keys and shapes and updates
  ``params`` in place (the very same array objects). Bad input raises before anything changes.
- ``opt.lr`` can be set between steps (a learning-rate schedule does this); ``opt.t`` counts the steps taken.
- ``opt.state_dict()`` and ``opt.load_state_dict(d)`` save and restore the hyperparameters, ``t`` and the
  per-parameter state (velocities, squared averages), so a run stopped half-way and resumed in a new
  optimizer ends bit-identical to one that never stopped.

The per-parameter state is created on the first step, one entry per key of ``params``, as zero arrays
of the parameter's dtype; after that the optimizer expects the same keys on every step.

Examples
--------
>>> import numpy as np
>>> params = {"W": np.array([[1.0, -2.0]]), "b": np.array([0.5])}
>>> grads = {"W": np.array([[0.2, -0.4]]), "b": np.array([1.0])}
>>> opt = Momentum(lr=0.5, beta=0.9)
>>> opt.step(params, grads)
>>> opt.t
1
>>> params["b"]
array([0.45])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lrcourse._checks import check_beta, check_int, check_nonnegative, check_positive

__all__ = ["Optimizer", "SGD", "Momentum", "RMSprop", "Adam"]


class Optimizer:
    r"""Base class: checks ``params`` and ``grads``, counts steps, keeps per-key state.

    Every optimizer here moves each parameter array against a direction built from its gradients:

    .. math::

        \theta_t \leftarrow \theta_{t-1} - \alpha\, u_t(g_1, \dots, g_t)

    with :math:`\theta` a parameter array, :math:`g_t` its gradient at step :math:`t` (``opt.t``),
    :math:`\alpha` = ``lr`` and :math:`u_t` the direction that each subclass defines (the gradient
    itself, an average of gradients, or a rescaled one).

    A subclass names its hyperparameters in ``_hyperparameter_names`` and its per-parameter state
    arrays in ``_buffer_names``, and writes one method, ``_update(p, g, state)``, that updates a
    single array ``p`` in place from its gradient ``g``. The interface follows ``torch.optim.Optimizer``.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\alpha`, a finite number ``>= 0``. Settable between steps.

    Examples
    --------
    Save half-way, resume in a new optimizer:

    >>> import numpy as np
    >>> params = {"w": np.array([1.0])}
    >>> opt = Momentum(lr=0.1, beta=0.9)
    >>> opt.step(params, {"w": np.array([0.5])})
    >>> saved = opt.state_dict()
    >>> saved["t"], saved["hyperparameters"]
    (1, {'lr': 0.1, 'beta': 0.9})
    >>> resumed = Momentum(lr=1.0)
    >>> resumed.load_state_dict(saved)
    >>> resumed, resumed.t
    (Momentum(lr=0.1, beta=0.9), 1)
    >>> resumed.lr = 0.05  # what a learning-rate schedule does before each step
    >>> resumed.lr = -1.0
    Traceback (most recent call last):
    ...
    ValueError: lr must be >= 0, got -1.0
    """

    _hyperparameter_names: tuple[str, ...] = ("lr",)
    _buffer_names: tuple[str, ...] = ()
    _nonnegative_buffers: tuple[str, ...] = ()  # averages of squared gradients

    def __init__(self, lr: float) -> None:
        self.lr = lr
        self._t = 0
        self.state: dict[Any, dict[str, np.ndarray]] = {}

    # --- hyperparameters and the step count -------------------------------------------------------

    @property
    def lr(self) -> float:
        """The learning rate; setting it checks the new value (a finite number ``>= 0``)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_nonnegative("lr", value)

    def __setattr__(self, name: str, value: Any) -> None:
        # a hyperparameter set after construction (opt.beta = 0.95) gets the constructor's checks, so that a bad
        # value raises here, naming it, instead of corrupting the next steps; during construction (some
        # hyperparameter not set yet) the constructor checks it itself
        names = type(self)._hyperparameter_names
        if name in names and name != "lr" and all(hasattr(self, n) for n in names):
            settings = {n: getattr(self, n) for n in names}
            settings[name] = value
            value = getattr(type(self)(**settings), name)
        super().__setattr__(name, value)

    @property
    def t(self) -> int:
        """The number of steps taken so far (0 before the first step)."""
        return self._t

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._hyperparameter_names)
        return f"{type(self).__name__}({args})"

    # --- the step -----------------------------------------------------------------------------------

    def step(self, params: dict, grads: dict) -> None:
        """Update every array in ``params`` in place from the array of the same key in ``grads``.

        Everything is checked first (types, keys, shapes, agreement with existing state); a bad call
        raises ``TypeError`` or ``ValueError`` and leaves the parameters, the state and ``t`` unchanged.
        """
        self._check_step_arguments(params, grads)
        self._t += 1
        for key, p in params.items():
            if key not in self.state:
                self.state[key] = {name: np.zeros_like(p) for name in self._buffer_names}
            self._update(p, grads[key], self.state[key])

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def _check_step_arguments(self, params: Any, grads: Any) -> None:
        for name, arrays in (("params", params), ("grads", grads)):
            if not isinstance(arrays, dict):
                raise TypeError(f"{name} must be a dict of numpy arrays, got {type(arrays).__name__}")
            for key, value in arrays.items():
                if not isinstance(value, np.ndarray):
                    raise TypeError(f"{name}[{key!r}] must be a numpy array, got {type(value).__name__}")
        if params.keys() != grads.keys():
            raise ValueError(f"grads must have the same keys as params, {_key_difference(grads, params)}")
        for key, p in params.items():
            g = grads[key]
            if p.dtype.kind != "f":
                raise TypeError(f"params[{key!r}] must be a floating-point array, got dtype {p.dtype}")
            if not p.flags.writeable:
                raise ValueError(f"params[{key!r}] must be writeable, got a read-only array")
            if g.dtype.kind not in "iuf":
                raise TypeError(f"grads[{key!r}] must be a real numeric array, got dtype {g.dtype}")
            if g.shape != p.shape:
                raise ValueError(
                    f"grads[{key!r}] must have the shape of params[{key!r}], got {g.shape} and {p.shape}"
                )
        if self.state and params.keys() != self.state.keys():
            raise ValueError(
                f"params must have the keys this optimizer keeps state for, {_key_difference(params, self.state)}"
            )
        for key, p in params.items():
            for name, buffer in self.state.get(key, {}).items():
                if buffer.shape != p.shape:
                    raise ValueError(
                        f"params[{key!r}] must have the shape of its saved state {name!r}, "
                        f"got {p.shape} and {buffer.shape}"
                    )

    # --- saving and resuming --------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """Return the hyperparameters, ``t`` and copies of the state arrays, as a plain dict.

        The parameters themselves are not included (as in ``torch.optim``): save them separately.
        """
        return {
            "optimizer": type(self).__name__,
            "hyperparameters": {name: getattr(self, name) for name in self._hyperparameter_names},
            "t": self._t,
            "state": {key: {name: a.copy() for name, a in bufs.items()} for key, bufs in self.state.items()},
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` returned (its arrays are copied, not shared).

        The dict is checked completely before anything is replaced: a dict from another optimizer
        class, a missing or unexpected entry, or an invalid value raises ``ValueError`` (``TypeError``
        for a value of the wrong kind) and leaves this optimizer as it was.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        _check_entries("state_dict", state_dict, ("optimizer", "hyperparameters", "t", "state"))
        kind = state_dict["optimizer"]
        if kind != type(self).__name__:
            raise ValueError(f"state_dict['optimizer'] must be {type(self).__name__!r}, got {kind!r}")
        hyper = state_dict["hyperparameters"]
        if not isinstance(hyper, dict):
            raise TypeError(f"state_dict['hyperparameters'] must be a dict, got {type(hyper).__name__}")
        _check_entries("state_dict['hyperparameters']", hyper, self._hyperparameter_names)
        checked = type(self)(**hyper)  # the constructor validates every hyperparameter
        t = check_int("state_dict['t']", state_dict["t"], minimum=0)
        state = state_dict["state"]
        if not isinstance(state, dict):
            raise TypeError(f"state_dict['state'] must be a dict, got {type(state).__name__}")
        for key, bufs in state.items():
            where = f"state_dict['state'][{key!r}]"
            if not isinstance(bufs, dict):
                raise TypeError(f"{where} must be a dict, got {type(bufs).__name__}")
            _check_entries(where, bufs, self._buffer_names)
            for name, a in bufs.items():
                if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
                    raise TypeError(f"{where}[{name!r}] must be a floating-point numpy array, got {a!r}")
            if len({a.shape for a in bufs.values()}) > 1:
                raise ValueError(f"{where} arrays must share one shape, got {[a.shape for a in bufs.values()]}")
            for name, a in bufs.items():
                if not np.all(np.isfinite(a)):
                    raise ValueError(f"{where}[{name!r}] must hold finite numbers, got NaN or inf")
                if name in self._nonnegative_buffers and np.any(a < 0):
                    raise ValueError(f"{where}[{name!r}] must be >= 0 (an average of squares), got {float(a.min())!r}")
        if t == 0 and state:
            raise ValueError(f"state_dict['t'] is 0 but state_dict['state'] holds buffers for {list(state)}: a state "
                             "comes from at least one step")
        # Everything is valid: replace hyperparameters, step count and state.
        for name in self._hyperparameter_names:
            setattr(self, name, getattr(checked, name))
        self._t = t
        self.state = {key: {name: a.copy() for name, a in bufs.items()} for key, bufs in state.items()}


def _key_difference(got: dict, expected: dict) -> str:
    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    return f"got missing keys {missing} and unexpected keys {unexpected}"


def _check_entries(where: str, d: dict, expected: tuple[str, ...]) -> None:
    missing = [k for k in expected if k not in d]
    unexpected = [k for k in d if k not in expected]
    if missing or unexpected:
        raise ValueError(
            f"{where} must have the entries {list(expected)}, got missing {missing}, unexpected {unexpected}"
        )


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r} of type {type(value).__name__}")
    return bool(value)


class SGD(Optimizer):
    r"""Plain (mini-batch) gradient descent, with optional L2 weight decay.

    .. math::

        g_t &\leftarrow g_t + \lambda\, \theta_{t-1} \\
        \theta_t &\leftarrow \theta_{t-1} - \alpha\, g_t

    with :math:`\theta` a parameter array, :math:`g_t` its gradient, :math:`\alpha` = ``lr`` and
    :math:`\lambda` = ``weight_decay`` (the first line is skipped when it is 0). Adding
    :math:`\lambda \theta` to the gradient is the gradient of the L2 penalty
    :math:`\tfrac{\lambda}{2} \lVert\theta\rVert^2`; the lecture writes the same penalty as
    :math:`\tfrac{\lambda}{2m} \lVert W\rVert_F^2`, i.e. :math:`\lambda_{\text{here}} = \lambda_{\text{lecture}} / m`.

    Source: Ng, *Improving Deep Neural Networks*, week 2 (mini-batch gradient descent) and week 1
    (L2 regularization). Same update as ``torch.optim.SGD(lr=lr, weight_decay=weight_decay)``.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\alpha`, ``>= 0``.
    weight_decay : float, default 0.0
        L2 coefficient :math:`\lambda`, ``>= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> params, grads = {"w": np.array([1.0])}, {"w": np.array([0.5])}
    >>> SGD(lr=0.1).step(params, grads)
    >>> params["w"]  # 1 - 0.1 * 0.5
    array([0.95])
    """

    _hyperparameter_names = ("lr", "weight_decay")

    def __init__(self, lr: float, weight_decay: float = 0.0) -> None:
        super().__init__(lr)
        self.weight_decay = check_nonnegative("weight_decay", weight_decay)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        if self.weight_decay != 0:
            # g_t <- g_t + lambda theta_{t-1}        (L2 penalty, a new array: the caller's grads stay as they were)
            g = g + self.weight_decay * p
        # theta_t <- theta_{t-1} - alpha g_t
        p -= self.lr * g


class Momentum(Optimizer):
    r"""Gradient descent with momentum, in the lecture's exponentially-weighted-average form.

    .. math::

        v_t &\leftarrow \beta\, v_{t-1} + (1 - \beta)\, g_t \\
        \theta_t &\leftarrow \theta_{t-1} - \alpha\, v_t

    with :math:`v_0 = 0`, :math:`\alpha` = ``lr`` and :math:`\beta` = ``beta``. The velocity
    :math:`v_t` is an exponentially weighted average of the gradients over roughly
    :math:`1/(1-\beta)` steps; no bias correction is applied (as in the lecture), so the first steps are short.

    Source: Polyak (1964), *Some methods of speeding up the convergence of iteration methods*;
    Qian (1999), *On the momentum term in gradient descent learning algorithms*; the form here is
    Ng's lecture (week 2, "Gradient descent with momentum").

    Note (lecture vs torch): ``torch.optim.SGD(momentum=beta)`` keeps the buffer
    :math:`b_t = \beta b_{t-1} + g_t` (with :math:`b_1 = g_1`) and steps :math:`\alpha' b_t`.
    Since :math:`v_t = (1-\beta) b_t`, this class equals ``torch.optim.SGD(lr=lr * (1 - beta),
    momentum=beta)``: the same path, with the learning rate scaled by :math:`1-\beta`.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\alpha`, ``>= 0``.
    beta : float, default 0.9
        Averaging coefficient :math:`\beta`, in [0, 1). ``beta=0`` is plain SGD.

    Examples
    --------
    >>> import numpy as np
    >>> params, grads = {"w": np.array([1.0])}, {"w": np.array([0.5])}
    >>> opt = Momentum(lr=0.1, beta=0.9)
    >>> opt.step(params, grads)
    >>> opt.state["w"]["v"]  # (1 - 0.9) * 0.5
    array([0.05])
    >>> params["w"].round(6)  # 1 - 0.1 * 0.05
    array([0.995])
    """

    _hyperparameter_names = ("lr", "beta")
    _buffer_names = ("v",)

    def __init__(self, lr: float, beta: float = 0.9) -> None:
        super().__init__(lr)
        self.beta = check_beta("beta", beta)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        v = state["v"]
        # v_t <- beta v_{t-1} + (1 - beta) g_t
        v[...] = self.beta * v + (1 - self.beta) * g
        # theta_t <- theta_{t-1} - alpha v_t
        p -= self.lr * v


class RMSprop(Optimizer):
    r"""RMSprop: divide each gradient by a running root mean square of its recent values.

    .. math::

        s_t &\leftarrow \beta\, s_{t-1} + (1 - \beta)\, g_t^2 \\
        \theta_t &\leftarrow \theta_{t-1} - \alpha\, \frac{g_t}{\sqrt{s_t} + \epsilon}

    with :math:`s_0 = 0`, squares and square roots taken elementwise, :math:`\alpha` = ``lr``,
    :math:`\beta` = ``beta`` and :math:`\epsilon` = ``eps``. Directions with large, oscillating
    gradients are damped and flat directions sped up. There is no bias correction, so the first step
    is :math:`\alpha\, g_1 / (\lvert g_1 \rvert \sqrt{1-\beta})`, about :math:`3.2\,\alpha` in size for
    :math:`\beta = 0.9`.

    Source: Tieleman & Hinton (2012), *Lecture 6.5, rmsprop*, Coursera "Neural Networks for Machine
    Learning"; the form here is Ng's lecture (week 2, "RMSprop").

    Note (placement of eps): the lecture and ``torch.optim.RMSprop`` add :math:`\epsilon` outside the
    square root, as here, and this class equals ``torch.optim.RMSprop(lr=lr, alpha=beta, eps=eps)``.
    Keras and TensorFlow 1 write :math:`\sqrt{s_t + \epsilon}`, which differs when :math:`s_t` is tiny.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\alpha`, ``>= 0``.
    beta : float, default 0.9
        Averaging coefficient :math:`\beta` of the squared gradients, in [0, 1) (torch calls it ``alpha``).
    eps : float, default 1e-8
        :math:`\epsilon > 0`, keeps the division finite.

    Examples
    --------
    >>> import numpy as np
    >>> params, grads = {"w": np.array([1.0])}, {"w": np.array([0.5])}
    >>> RMSprop(lr=0.01, beta=0.9).step(params, grads)
    >>> params["w"].round(6)  # 1 - 0.01 * 0.5 / sqrt(0.1 * 0.25)
    array([0.968377])
    """

    _hyperparameter_names = ("lr", "beta", "eps")
    _buffer_names = ("s",)
    _nonnegative_buffers = ("s",)

    def __init__(self, lr: float, beta: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta = check_beta("beta", beta)
        self.eps = check_positive("eps", eps)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        s = state["s"]
        # s_t <- beta s_{t-1} + (1 - beta) g_t^2
        s[...] = self.beta * s + (1 - self.beta) * g**2
        # theta_t <- theta_{t-1} - alpha g_t / (sqrt(s_t) + eps)
        p -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    r"""Adam: momentum and RMSprop together, with bias correction; optionally AdamW.

    .. math::

        m_t &\leftarrow \beta_1\, m_{t-1} + (1 - \beta_1)\, g_t \\
        v_t &\leftarrow \beta_2\, v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \hat m_t &\leftarrow m_t / (1 - \beta_1^t) \\
        \hat v_t &\leftarrow v_t / (1 - \beta_2^t) \\
        \theta_t &\leftarrow \theta_{t-1} - \alpha\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    with :math:`m_0 = v_0 = 0`, :math:`t` the step number (``opt.t``, starting at 1), :math:`\alpha` =
    ``lr``, :math:`\beta_1` = ``beta1``, :math:`\beta_2` = ``beta2`` and :math:`\epsilon` = ``eps``.
    Since :math:`\hat m_1 = g_1` and :math:`\hat v_1 = g_1^2`, the first step is
    :math:`\alpha\, g_1 / (\lvert g_1 \rvert + \epsilon) \approx \alpha \operatorname{sign}(g_1)`.

    Weight decay :math:`\lambda` = ``weight_decay`` comes in one of two ways:

    - ``decoupled=False`` (L2, as ``torch.optim.Adam``): :math:`g_t \leftarrow g_t + \lambda \theta_{t-1}`
      before the moments, so the penalty is rescaled by :math:`1/\sqrt{\hat v_t}` like the gradient.
    - ``decoupled=True`` (AdamW, as ``torch.optim.AdamW``): :math:`\theta_{t-1} \leftarrow
      (1 - \alpha\lambda)\, \theta_{t-1}` before the Adam step, a decay that the adaptive scaling does not touch.

    Source: Kingma & Ba (2015), *Adam: A Method for Stochastic Optimization*; Ng's lecture (week 2,
    "Adam optimization algorithm"); for ``decoupled=True``, Loshchilov & Hutter (2019),
    *Decoupled Weight Decay Regularization*.

    Note (placement of eps): the lecture, the paper's Algorithm 1 and ``torch.optim.Adam`` all add
    :math:`\epsilon` to :math:`\sqrt{\hat v_t}` (outside the root, after bias correction), as here.
    TensorFlow/Keras add it to the uncorrected :math:`\sqrt{v_t}` (the paper's "epsilon hat" form), so
    their :math:`\epsilon` is effectively larger by :math:`1/\sqrt{1-\beta_2^t}` in the early steps.

    Parameters
    ----------
    lr : float, default 1e-3
        Learning rate :math:`\alpha`, ``>= 0``.
    beta1 : float, default 0.9
        Averaging coefficient of the gradients (momentum), in [0, 1).
    beta2 : float, default 0.999
        Averaging coefficient of the squared gradients (RMSprop), in [0, 1).
    eps : float, default 1e-8
        :math:`\epsilon > 0`.
    weight_decay : float, default 0.0
        :math:`\lambda \ge 0`.
    decoupled : bool, default False
        ``False``: L2 added to the gradient (Adam). ``True``: decoupled weight decay (AdamW).

    Examples
    --------
    >>> import numpy as np
    >>> params, grads = {"w": np.array([1.0])}, {"w": np.array([0.5])}
    >>> opt = Adam(lr=0.1)
    >>> opt.step(params, grads)
    >>> params["w"].round(6)  # about 1 - 0.1 * sign(0.5)
    array([0.9])
    >>> opt.t
    1
    """

    _hyperparameter_names = ("lr", "beta1", "beta2", "eps", "weight_decay", "decoupled")
    _buffer_names = ("m", "v")
    _nonnegative_buffers = ("v",)

    def __init__(
        self,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled: bool = False,
    ) -> None:
        super().__init__(lr)
        self.beta1 = check_beta("beta1", beta1)
        self.beta2 = check_beta("beta2", beta2)
        self.eps = check_positive("eps", eps)
        self.weight_decay = check_nonnegative("weight_decay", weight_decay)
        self.decoupled = _check_bool("decoupled", decoupled)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        m, v, t = state["m"], state["v"], self.t
        if self.decoupled:
            # theta_{t-1} <- (1 - alpha lambda) theta_{t-1}          (AdamW: decay outside the adaptive step)
            p *= 1 - self.lr * self.weight_decay
        elif self.weight_decay != 0:
            # g_t <- g_t + lambda theta_{t-1}                        (L2 penalty inside the gradient)
            g = g + self.weight_decay * p
        # m_t <- beta1 m_{t-1} + (1 - beta1) g_t
        m[...] = self.beta1 * m + (1 - self.beta1) * g
        # v_t <- beta2 v_{t-1} + (1 - beta2) g_t^2
        v[...] = self.beta2 * v + (1 - self.beta2) * g**2
        # m_hat_t <- m_t / (1 - beta1^t)
        m_hat = m / (1 - self.beta1**t)
        # v_hat_t <- v_t / (1 - beta2^t)
        v_hat = v / (1 - self.beta2**t)
        # theta_t <- theta_{t-1} - alpha m_hat_t / (sqrt(v_hat_t) + eps)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
