r"""Diagnostics for training (진단): signal statistics through deep networks, gradient checks, steps to converge.

This module holds the measuring instruments of Part I. :func:`layer_statistics` follows the activations and
their gradients through a deep stack of layers, which is how the chapter "Vanishing and exploding gradients;
initialization" shows what each initialization does. :func:`gradient_check` flattens a dict of parameter
arrays into one vector (:func:`lrcourse.nn.params_to_vector`) and compares backpropagation with a two-sided
numerical derivative for a whole network, reporting the error of each parameter array too, as in the chapter
"Gradient checking". :func:`steps_to_converge` reads off how many steps a cost curve needs to reach a target and stay there,
and :func:`logistic_hessian` gives the curvature whose condition number predicts that count, as in the chapter
"Normalizing inputs".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from lrcourse._checks import check_choice, check_int, check_number, check_positive
from lrcourse.gradcheck import numerical_gradient, relative_error
from lrcourse.nn import params_to_vector, vector_to_params

__all__ = [
    "layer_statistics",
    "gradient_check",
    "GradientCheck",
    "steps_to_converge",
    "logistic_hessian",
]

_ACTIVATIONS = ("linear", "relu", "tanh")


def _activate(Z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(Z, 0.0)
    if activation == "tanh":
        return np.tanh(Z)
    return Z


def _activation_slope(Z: np.ndarray, A: np.ndarray, activation: str) -> np.ndarray:
    # g'(Z) for each activation; ReLU's slope at exactly 0 is taken as 0, as torch does.
    if activation == "relu":
        return (Z > 0).astype(Z.dtype)
    if activation == "tanh":
        return 1.0 - A**2
    return np.ones_like(Z)


def layer_statistics(X, weights: Sequence, activation: str = "relu", biases: Sequence | None = None,
                     seed: int = 0) -> dict:
    r"""Forward a batch through a stack of layers and backpropagate a random signal; return per-layer statistics.

    With examples as columns, layer :math:`l = 1, \dots, L` computes

    .. math::

        Z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}, \qquad A^{[l]} = g(Z^{[l]}), \qquad A^{[0]} = X,

    with the same activation :math:`g` (``"linear"``, ``"relu"`` or ``"tanh"``) in every layer. The cost is a
    fixed random projection of the last activations,

    .. math::

        J = \frac{1}{m} \sum_{i,j} G_{ij} A^{[L]}_{ij}, \qquad G_{ij} \sim \mathcal N(0, 1),

    so that :math:`dA^{[L]} = G / m` is a generic gradient arriving from above, and backpropagation gives

    .. math::

        dZ^{[l]} = dA^{[l]} \odot g'(Z^{[l]}), \qquad dW^{[l]} = dZ^{[l]} A^{[l-1]\top}, \qquad
        dA^{[l-1]} = W^{[l]\top} dZ^{[l]} .

    How the standard deviations of :math:`A^{[l]}` and :math:`dW^{[l]}` change with :math:`l` shows whether a
    deep network's signals vanish or explode. Source: Andrew Ng, *Improving Deep Neural Networks*, week 1,
    "Vanishing / exploding gradients"; Glorot & Bengio (2010), section 4.

    Parameters
    ----------
    X : array_like, shape (n_0, m)
        The input batch, examples as columns.
    weights : sequence of array_like
        :math:`W^{[1]}, \dots, W^{[L]}`, each of shape :math:`(n^{[l]}, n^{[l-1]})`.
    activation : {"relu", "tanh", "linear"}
        The activation of every layer.
    biases : sequence of array_like, optional
        :math:`b^{[l]}` of shape :math:`(n^{[l]}, 1)`; zeros when omitted.
    seed : int
        Seed of the random projection :math:`G`.

    Returns
    -------
    dict
        Arrays of length :math:`L`, entry ``l - 1`` for layer ``l``: ``"activation_mean"`` and
        ``"activation_std"`` (of :math:`A^{[l]}`), ``"activation_grad_std"`` (of :math:`dA^{[l]}`) and
        ``"weight_grad_std"`` (of :math:`dW^{[l]}`).

    Examples
    --------
    >>> stats = layer_statistics(np.ones((2, 3)), [1.5 * np.eye(2)] * 4, activation="linear")
    >>> stats["activation_mean"]  # 1.5, 1.5^2, 1.5^3, 1.5^4
    array([1.5   , 2.25  , 3.375 , 5.0625])
    >>> stats["activation_std"]
    array([0., 0., 0., 0.])
    """
    activation = check_choice("activation", activation, _ACTIVATIONS)
    seed = check_int("seed", seed, minimum=0)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (features, examples), got shape {X.shape}")
    weights = [np.asarray(W, dtype=np.float64) for W in weights]
    if not weights:
        raise ValueError("weights must hold at least one matrix, got an empty sequence")
    if biases is None:
        biases = [np.zeros((W.shape[0], 1)) for W in weights]
    else:
        biases = [np.asarray(b, dtype=np.float64).reshape(-1, 1) for b in biases]
        if len(biases) != len(weights):
            raise ValueError(f"biases must have one entry per layer ({len(weights)}), got {len(biases)}")
    n_prev = X.shape[0]
    for l, (W, b) in enumerate(zip(weights, biases), start=1):
        if W.ndim != 2 or W.shape[1] != n_prev:
            raise ValueError(f"weights[{l - 1}] must have shape (n, {n_prev}), got {W.shape}")
        if b.shape[0] != W.shape[0]:
            raise ValueError(f"biases[{l - 1}] must have {W.shape[0]} entries, got {b.shape[0]}")
        n_prev = W.shape[0]
    m = X.shape[1]

    # Forward: Z[l] = W[l] A[l-1] + b[l],  A[l] = g(Z[l]); keep every Z and A for the backward pass.
    A_list, Z_list = [X], []
    for W, b in zip(weights, biases):
        Z = W @ A_list[-1] + b
        Z_list.append(Z)
        A_list.append(_activate(Z, activation))

    # J = (1/m) sum(G * A[L])  =>  dA[L] = G / m
    G = np.random.default_rng(seed).standard_normal(A_list[-1].shape)
    dA = G / m
    L = len(weights)
    act_grad_std, weight_grad_std = np.empty(L), np.empty(L)
    for l in range(L, 0, -1):
        act_grad_std[l - 1] = dA.std()
        # dZ[l] = dA[l] * g'(Z[l])
        dZ = dA * _activation_slope(Z_list[l - 1], A_list[l], activation)
        # dW[l] = dZ[l] A[l-1]^T
        weight_grad_std[l - 1] = (dZ @ A_list[l - 1].T).std()
        # dA[l-1] = W[l]^T dZ[l]
        dA = weights[l - 1].T @ dZ
    return {
        "activation_mean": np.array([A.mean() for A in A_list[1:]]),
        "activation_std": np.array([A.std() for A in A_list[1:]]),
        "activation_grad_std": act_grad_std,
        "weight_grad_std": weight_grad_std,
    }


@dataclass(frozen=True)
class GradientCheck:
    r"""The result of :func:`gradient_check`.

    Attributes
    ----------
    relative_error : float
        :math:`\lVert g - \hat g \rVert_2 / (\lVert g \rVert_2 + \lVert \hat g \rVert_2)` over the whole
        parameter vector, :math:`g` from backpropagation and :math:`\hat g` the numerical gradient.
    by_key : dict
        The same relative error for each parameter array alone, which locates a bug.
    numerical : dict
        The numerical gradient, shaped like the parameters.
    """

    relative_error: float
    by_key: dict
    numerical: dict


def gradient_check(cost: Callable[[dict], float], params: dict, grads: Mapping[str, np.ndarray],
                   eps: float = 1e-7) -> GradientCheck:
    r"""Compare analytic gradients with the two-sided numerical gradient of ``cost`` over all parameters.

    The parameters are flattened into one vector :math:`\theta` (:func:`lrcourse.nn.params_to_vector`) and each
    component is nudged in turn:

    .. math::

        \hat g_i = \frac{J(\theta + \varepsilon e_i) - J(\theta - \varepsilon e_i)}{2 \varepsilon},
        \qquad
        \text{error} = \frac{\lVert g - \hat g \rVert_2}{\lVert g \rVert_2 + \lVert \hat g \rVert_2} .

    The nudged values are written into the arrays of ``params`` in place before each call ``cost(params)``,
    so a model that reads its parameters from that dict (a network's ``params``) sees them; every array is
    restored to its original values afterwards, even if ``cost`` raises. ``cost`` must be deterministic:
    turn dropout off (``keep_prob = 1``) first. Rule of thumb with :math:`\varepsilon = 10^{-7}`: below
    :math:`10^{-7}` great, around :math:`10^{-5}` suspicious, above :math:`10^{-3}` a bug. Source: Andrew Ng,
    *Improving Deep Neural Networks*, week 1, "Gradient checking" and "Gradient checking implementation notes".

    Parameters
    ----------
    cost : callable
        ``cost(params) -> float``, the cost with the parameters currently in ``params``.
    params : dict of numpy.ndarray
        The point at which to check; float64 arrays, modified during the check and restored after it.
    grads : dict of array_like
        The analytic gradients, with the same keys and shapes as ``params``.
    eps : float
        The step :math:`\varepsilon`, > 0.

    Returns
    -------
    GradientCheck

    Examples
    --------
    >>> params = {"w": np.array([1.0, 2.0]), "b": np.array([0.5])}
    >>> cost = lambda p: float(np.sum(p["w"] ** 2) + 3.0 * p["b"][0])
    >>> good = gradient_check(cost, params, {"w": 2 * params["w"], "b": np.array([3.0])})
    >>> good.relative_error < 1e-7
    True
    >>> bad = gradient_check(cost, params, {"w": 2 * params["w"], "b": np.array([2.0])})
    >>> {key: round(err, 3) for key, err in bad.by_key.items()}
    {'w': 0.0, 'b': 0.2}
    """
    if not callable(cost):
        raise TypeError(f"cost must be callable, got {cost!r}")
    eps = check_positive("eps", eps)
    if not isinstance(params, dict) or not params:
        raise TypeError(f"params must be a non-empty dict of arrays, got {params!r}")
    for key, value in params.items():
        if not isinstance(value, np.ndarray) or value.dtype != np.float64:
            raise TypeError(f"params[{key!r}] must be a float64 numpy array (checked in place), got {value!r}")
    if not isinstance(grads, Mapping) or set(grads) != set(params):
        keys = sorted(grads) if isinstance(grads, Mapping) else grads
        raise ValueError(f"grads must have the keys of params {sorted(params)}, got {keys}")
    for key in params:
        if np.shape(grads[key]) != params[key].shape:
            raise ValueError(f"grads[{key!r}] must have shape {params[key].shape}, got {np.shape(grads[key])}")

    originals = {key: value.copy() for key, value in params.items()}
    analytic = params_to_vector({key: grads[key] for key in params})

    def cost_of_vector(theta: np.ndarray) -> float:
        for key, value in vector_to_params(theta, params).items():
            np.copyto(params[key], value)
        return check_number("cost(params)", cost(params))

    try:
        numerical = numerical_gradient(cost_of_vector, params_to_vector(params), eps=eps)
    finally:
        for key, value in originals.items():
            np.copyto(params[key], value)
    numerical_dict = vector_to_params(numerical, params)
    by_key = {key: relative_error(grads[key], numerical_dict[key]) for key in params}
    return GradientCheck(relative_error(analytic, numerical), by_key, numerical_dict)


def steps_to_converge(costs, threshold: float) -> int | None:
    r"""The number of steps after which a cost curve reaches ``threshold`` and stays there; ``None`` if it does not.

    .. math::

        t^\star = \min \{\, t \ge 1 : J_s \le \text{threshold} \text{ for every } s \ge t \,\}

    where ``costs[t - 1]`` is :math:`J_t`, the cost after step :math:`t`. A run that dips below the threshold
    and then oscillates above it again has not converged; neither has a run whose last cost is above it or
    NaN (diverged).

    Examples
    --------
    >>> steps_to_converge([5.0, 2.0, 0.9, 0.5], 1.0)
    3
    >>> steps_to_converge([5.0, 0.5, 2.0, 0.5, 0.4], 1.0)  # below at step 2, but it comes back up
    4
    >>> steps_to_converge([5.0, 0.5, 2.0], 1.0) is None
    True
    """
    threshold = check_number("threshold", threshold)
    costs = np.asarray(costs, dtype=np.float64)
    if costs.ndim != 1 or costs.size == 0:
        raise ValueError(f"costs must be a non-empty 1-D sequence, got shape {costs.shape}")
    above = np.flatnonzero(~(costs <= threshold))  # NaN counts as above
    if above.size == 0:
        return 1
    last_above = int(above[-1])
    return last_above + 2 if last_above + 1 < costs.size else None


def logistic_hessian(X, w, b: float) -> np.ndarray:
    r"""Hessian of the logistic-regression cost with respect to :math:`(w, b)`, the bias last.

    With examples as columns of ``X`` (shape :math:`(n_x, m)`), :math:`a^{(i)} = \sigma(w^\top x^{(i)} + b)`
    and the mean cross-entropy :math:`J(w, b)`,

    .. math::

        \nabla^2 J = \frac{1}{m} \tilde X S \tilde X^\top, \qquad
        \tilde X = \begin{pmatrix} X \\ \mathbf 1^\top \end{pmatrix}, \qquad
        S = \operatorname{diag}\big(a^{(i)} (1 - a^{(i)})\big).

    Its condition number :math:`\kappa = \lambda_{\max} / \lambda_{\min}` at the minimum sets how many steps
    gradient descent needs there (about :math:`\frac{\kappa}{2} \ln \frac{1}{\epsilon}` at the best constant
    learning rate), and :math:`2 / \lambda_{\max}` is the largest stable learning rate. Source: Andrew Ng,
    *Improving Deep Neural Networks*, week 1, "Normalizing inputs"; the Hessian of logistic regression as in
    Hastie, Tibshirani & Friedman, *The Elements of Statistical Learning*, section 4.4.1.

    Parameters
    ----------
    X : array_like, shape (n_x, m)
        The inputs, examples as columns.
    w : array_like
        The :math:`n_x` weights (any shape with that many entries, e.g. ``(1, n_x)`` like ``W1``).
    b : float
        The bias.

    Returns
    -------
    numpy.ndarray, shape (n_x + 1, n_x + 1)

    Examples
    --------
    >>> H = logistic_hessian(np.array([[1.0, -1.0]]), [0.0], 0.0)  # a = 1/2 everywhere, so S = I / 4
    >>> H
    array([[0.25, 0.  ],
           [0.  , 0.25]])
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 1:
        raise ValueError(f"X must be a 2-D array (n_x, m) with examples as columns, got shape {X.shape}")
    w = np.asarray(w, dtype=np.float64).ravel()
    if w.size != X.shape[0]:
        raise ValueError(f"w must have {X.shape[0]} entries (one per row of X), got {w.size}")
    if np.size(b) != 1:
        raise ValueError(f"b must be a single number (a float or a (1, 1) array like b1), got shape {np.shape(b)}")
    b = check_number("b", float(np.asarray(b, dtype=np.float64).reshape(-1)[0]))
    m = X.shape[1]
    # X_tilde = [X; 1^T]: the bias is a weight on a constant input 1
    X_tilde = np.vstack([X, np.ones((1, m))])
    # a = sigma(w^T x + b), computed without overflow
    z = w @ X + b
    a = np.exp(-np.logaddexp(0.0, -z))
    # H = (1/m) X_tilde S X_tilde^T with S = diag(a (1 - a))
    return (X_tilde * (a * (1.0 - a))) @ X_tilde.T / m
