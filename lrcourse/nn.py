r"""A from-scratch, fully connected numpy network (신경망) in the lecture's notation.

Examples are **columns**: ``X`` has shape :math:`(n_x, m)`, layer :math:`l` has weights :math:`W^{[l]}` of shape
:math:`(n^{[l]}, n^{[l-1]})` and a bias :math:`b^{[l]}` of shape :math:`(n^{[l]}, 1)`. An :math:`L`-layer network
computes, for :math:`l = 1, \dots, L`,

.. math::

    Z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}, \qquad A^{[l]} = g^{[l]}(Z^{[l]}), \qquad A^{[0]} = X,

with ReLU or tanh hidden layers and a sigmoid (binary) or softmax (multi-class) output layer. The cost is the
cross-entropy plus optional L2 and L1 penalties; hidden layers may use inverted dropout. Backpropagation
follows the lecture's formulas and is checked against torch autograd and against
:func:`lrcourse.gradcheck.numerical_gradient` in the tests.

- The pieces, for teaching: :func:`relu`, :func:`tanh`, :func:`sigmoid`, :func:`softmax`,
  :func:`activation_backward`, :func:`forward_layer`, :func:`linear_backward`, :func:`backward_layer`,
  :func:`cross_entropy`.
- The network: :class:`Network` (``forward``, ``cost``, ``loss_and_grads``, ``predict``, ``accuracy``).
- Regularization helpers: :func:`max_norm` and :func:`mc_dropout_predict`.
- Flattening for gradient checking: :func:`params_to_vector` and :func:`vector_to_params`.

Source: Andrew Ng, *Neural Networks and Deep Learning* (week 4) and *Improving Deep Neural Networks*
(week 1). Used by every chapter of Part I ("Train/dev/test sets, bias and variance", "Regularization",
"Normalizing inputs", "Vanishing and exploding gradients; initialization", "Gradient checking") and by the
training loop :mod:`lrcourse.train`.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

from lrcourse import init as _init
from lrcourse._checks import check_choice, check_int, check_nonnegative, check_positive, check_unit_interval
from lrcourse.regularization import dropout

__all__ = [
    "Network",
    "activation_backward",
    "backward_layer",
    "cross_entropy",
    "cross_entropy_from_logits",
    "forward_layer",
    "linear_backward",
    "max_norm",
    "mc_dropout_predict",
    "params_to_vector",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
    "vector_to_params",
]

HIDDEN_ACTIVATIONS = ("relu", "tanh")
OUTPUT_ACTIVATIONS = ("sigmoid", "softmax")
INITS = ("zeros", "random", "xavier", "he", "glorot")
_EPS = 1e-15  # probabilities are clipped to [_EPS, 1 - _EPS] inside the logarithms of the cost


# ---------------------------------------------------------------------------------------------------
# Activations and their derivatives
# ---------------------------------------------------------------------------------------------------


def relu(Z) -> np.ndarray:
    r"""Rectified linear unit, :math:`g(z) = \max(0, z)`, elementwise.

    .. math::

        g(z) = \max(0, z), \qquad g'(z) = \mathbb 1[z > 0]

    Examples
    --------
    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    return np.maximum(0.0, np.asarray(Z, dtype=np.float64))


def tanh(Z) -> np.ndarray:
    r"""Hyperbolic tangent, elementwise.

    .. math::

        g(z) = \tanh z, \qquad g'(z) = 1 - \tanh^2 z

    Near :math:`z = 0` it is almost linear (:math:`\tanh z \approx z`), which is why small weights make a tanh
    network close to a linear function.

    Examples
    --------
    >>> np.round(tanh(np.array([0.0, 0.01])), 6)
    array([0.  , 0.01])
    """
    return np.tanh(np.asarray(Z, dtype=np.float64))


def sigmoid(Z) -> np.ndarray:
    r"""Logistic sigmoid, elementwise, computed without overflow for large :math:`|z|`.

    .. math::

        \sigma(z) = \frac{1}{1 + e^{-z}}, \qquad \sigma'(z) = \sigma(z)\,(1 - \sigma(z))

    Examples
    --------
    >>> sigmoid(np.array([0.0, -1000.0, 1000.0]))
    array([0.5, 0. , 1. ])
    """
    Z = np.asarray(Z, dtype=np.float64)
    out = np.empty_like(Z)
    pos = Z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-Z[pos]))
    ez = np.exp(Z[~pos])  # for z < 0, e^z / (1 + e^z) never overflows
    out[~pos] = ez / (1.0 + ez)
    return out


def softmax(Z) -> np.ndarray:
    r"""Softmax over each column (each example), shifted by the column maximum for stability.

    .. math::

        a_i = \frac{e^{z_i}}{\sum_{j=1}^{C} e^{z_j}} = \frac{e^{z_i - \max_j z_j}}{\sum_j e^{z_j - \max_j z_j}}

    Examples
    --------
    >>> A = softmax(np.array([[1.0, 1000.0], [1.0, 1000.0]]))
    >>> A
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """
    Z = np.asarray(Z, dtype=np.float64)
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


_FORWARD = {"relu": relu, "tanh": tanh, "sigmoid": sigmoid, "softmax": softmax}


def activation_backward(dA, Z, activation: str) -> np.ndarray:
    r"""Chain rule through an activation: :math:`dZ = dA \odot g'(Z)` (softmax: through its Jacobian).

    .. math::

        dZ = dA \odot g'(Z) \quad\text{(relu, tanh, sigmoid)}, \qquad
        dZ_{:,k} = a_k \odot \left(dA_{:,k} - (a_k^\top dA_{:,k})\,\mathbf 1\right) \quad\text{(softmax)}

    where :math:`a_k` is the softmax of column :math:`k` of ``Z``. Here ``dA`` means
    :math:`\partial J / \partial A` and ``dZ`` means :math:`\partial J / \partial Z`, as in the lecture.

    Examples
    --------
    >>> activation_backward(np.ones(3), np.array([-1.0, 0.5, 2.0]), "relu")
    array([0., 1., 1.])
    """
    check_choice("activation", activation, tuple(_FORWARD))
    dA = np.asarray(dA, dtype=np.float64)
    Z = np.asarray(Z, dtype=np.float64)
    if dA.shape != Z.shape:
        raise ValueError(f"dA and Z must have the same shape, got {dA.shape} and {Z.shape}")
    if activation == "relu":
        return dA * (Z > 0)
    if activation == "tanh":
        return dA * (1.0 - np.tanh(Z) ** 2)
    if activation == "sigmoid":
        s = sigmoid(Z)
        return dA * s * (1.0 - s)
    A = softmax(Z)
    return A * (dA - np.sum(dA * A, axis=0, keepdims=True))


# ---------------------------------------------------------------------------------------------------
# One layer, forward and backward
# ---------------------------------------------------------------------------------------------------


def forward_layer(A_prev, W, b, activation: str) -> tuple[np.ndarray, tuple]:
    r"""One layer forward: the linear part, then the activation.

    .. math::

        Z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}, \qquad A^{[l]} = g^{[l]}(Z^{[l]})

    Returns ``(A, cache)`` with ``cache = (A_prev, W, b, Z)``, everything :func:`backward_layer` needs.

    Examples
    --------
    >>> A, cache = forward_layer(np.array([[1.0], [2.0]]), np.array([[1.0, -1.0]]), np.array([[0.5]]), "relu")
    >>> A  # max(0, 1 - 2 + 0.5)
    array([[0.]])
    """
    check_choice("activation", activation, tuple(_FORWARD))
    A_prev = np.asarray(A_prev, dtype=np.float64)
    if A_prev.ndim != 2 or W.ndim != 2 or W.shape[1] != A_prev.shape[0]:
        raise ValueError(f"W of shape (n[l], n[l-1]) needs A_prev of shape (n[l-1], m), got W {W.shape} "
                         f"and A_prev {A_prev.shape}")
    if b.shape != (W.shape[0], 1):
        raise ValueError(f"b must have shape {(W.shape[0], 1)}, got {b.shape}")
    Z = W @ A_prev + b
    return _FORWARD[activation](Z), (A_prev, W, b, Z)


def linear_backward(dZ, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Backward through :math:`Z = W A^{[l-1]} + b` over a batch of :math:`m` examples.

    .. math::

        dW^{[l]} = \frac{1}{m}\, dZ^{[l]} A^{[l-1]\top}, \qquad
        db^{[l]} = \frac{1}{m} \sum_{i=1}^{m} dZ^{[l](i)}, \qquad
        dA^{[l-1]} = W^{[l]\top} dZ^{[l]}

    The :math:`1/m` sits here because the lecture's ``dZ`` is the derivative of the per-example loss,
    not of the averaged cost. Returns ``(dA_prev, dW, db)``.

    Examples
    --------
    >>> A_prev, W, b = np.ones((2, 4)), np.ones((1, 2)), np.zeros((1, 1))
    >>> dA_prev, dW, db = linear_backward(np.ones((1, 4)), (A_prev, W, b, None))
    >>> dW, db
    (array([[1., 1.]]), array([[1.]]))
    """
    A_prev, W, _b, _Z = cache
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = W.T @ dZ
    return dA_prev, dW, db


def backward_layer(dA, cache: tuple, activation: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""One layer backward: through the activation (:func:`activation_backward`), then the linear part
    (:func:`linear_backward`).

    .. math::

        dZ^{[l]} = dA^{[l]} \odot g^{[l]\prime}(Z^{[l]}), \qquad
        (dA^{[l-1]}, dW^{[l]}, db^{[l]}) = \mathrm{linear\_backward}(dZ^{[l]})

    Examples
    --------
    >>> A, cache = forward_layer(np.array([[1.0], [2.0]]), np.array([[1.0, 1.0]]), np.zeros((1, 1)), "relu")
    >>> dA_prev, dW, db = backward_layer(np.ones_like(A), cache, "relu")
    >>> dW  # d relu(w1 x1 + w2 x2) / dw = x when the unit is active
    array([[1., 2.]])
    """
    dZ = activation_backward(dA, cache[3], activation)
    return linear_backward(dZ, cache)


def _output_and_labels(name: str, A: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
    """``A`` (probabilities or logits) and ``Y`` as float64 arrays of one 2-D shape ``(n[L], m)``."""
    A = np.asarray(A, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if A.ndim != 2 or A.shape != Y.shape:
        raise ValueError(f"{name} and Y must be 2-D arrays of the same shape (n[L], m), got {A.shape} and {Y.shape}")
    return A, Y


def cross_entropy(AL, Y) -> float:
    r"""Cross-entropy cost (교차 엔트로피) averaged over the :math:`m` examples (columns).

    For one output row (sigmoid, binary labels) and for :math:`C` rows (softmax, one-hot labels):

    .. math::

        J = -\frac{1}{m} \sum_{i=1}^{m} \left[ y^{(i)} \log a^{(i)} + (1 - y^{(i)}) \log(1 - a^{(i)}) \right],
        \qquad
        J = -\frac{1}{m} \sum_{i=1}^{m} \sum_{k=1}^{C} y_k^{(i)} \log a_k^{(i)}

    Probabilities are clipped to :math:`[10^{-15}, 1 - 10^{-15}]` inside the logarithms so that a saturated
    output gives a large finite cost instead of ``inf``; such a cost is then too small (at most about 34.5 per
    example). :func:`cross_entropy_from_logits` is exact there, and :class:`Network` uses it.

    Examples
    --------
    >>> round(cross_entropy(np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]])), 6)  # log 2
    0.693147
    """
    AL, Y = _output_and_labels("AL", AL, Y)
    m = AL.shape[1]
    P = np.clip(AL, _EPS, 1.0 - _EPS)
    if AL.shape[0] == 1:
        return float(-np.sum(Y * np.log(P) + (1.0 - Y) * np.log(1.0 - P)) / m)
    return float(-np.sum(Y * np.log(P)) / m)


def cross_entropy_from_logits(ZL, Y) -> float:
    r"""The cross-entropy of :func:`cross_entropy` computed from the output layer's pre-activations
    :math:`Z^{[L]}` (the logits), exactly and without overflow, even where the sigmoid or softmax saturates.

    One output row (sigmoid): :math:`\log(1 + e^{-z})` and :math:`\log(1 + e^{z})` written as
    :math:`\max(z, 0) - z y + \log(1 + e^{-|z|})`; :math:`C` rows (softmax): :math:`-\sum_k y_k (z_k -
    \log\sum_j e^{z_j})` with the largest :math:`z_j` subtracted first. The gradient with respect to
    :math:`Z^{[L]}` is :math:`(A^{[L]} - Y)/m`, the :math:`dZ^{[L]}` of the backward pass, so this is the cost
    that those gradients belong to. PyTorch: ``binary_cross_entropy_with_logits`` and ``cross_entropy``.

    Examples
    --------
    >>> round(cross_entropy_from_logits(np.array([[0.0, 40.0]]), np.array([[1.0, 0.0]])), 6)  # (log 2 + 40) / 2
    20.346574
    """
    Z, Y = _output_and_labels("ZL", ZL, Y)
    m = Z.shape[1]
    if Z.shape[0] == 1:
        # -[y log s(z) + (1 - y) log(1 - s(z))] = max(z, 0) - z y + log(1 + exp(-|z|))
        return float(np.sum(np.maximum(Z, 0.0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))) / m)
    shifted = Z - Z.max(axis=0, keepdims=True)
    log_softmax = shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
    return float(-np.sum(Y * log_softmax) / m)


# ---------------------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------------------


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {rng!r}")
    return rng


class Network:
    r"""An :math:`L`-layer fully connected network with the lecture's notation and options.

    Forward pass, for :math:`l = 1, \dots, L` (with inverted dropout on hidden layers when training):

    .. math::

        Z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}, \qquad
        A^{[l]} = g^{[l]}(Z^{[l]}), \qquad
        A^{[l]} \leftarrow \frac{A^{[l]} \odot D^{[l]}}{p^{[l]}} \quad (l < L,\ D^{[l]} \sim \text{Bernoulli}(p^{[l]}))

    Cost, with :math:`\lambda` = ``lambd`` (L2, "weight decay") and :math:`\lambda_1` = ``l1``:

    .. math::

        J = \frac{1}{m} \sum_{i=1}^{m} \mathcal L(a^{[L](i)}, y^{(i)})
          + \frac{\lambda}{2m} \sum_{l=1}^{L} \lVert W^{[l]} \rVert_F^2
          + \frac{\lambda_1}{m} \sum_{l=1}^{L} \sum_{i,j} |W^{[l]}_{ij}|

    Backward pass: :math:`dZ^{[L]} = A^{[L]} - Y` (sigmoid with binary cross-entropy, softmax with
    categorical cross-entropy), then for :math:`l = L, \dots, 1`

    .. math::

        dW^{[l]} = \frac{1}{m} dZ^{[l]} A^{[l-1]\top} + \frac{\lambda}{m} W^{[l]} + \frac{\lambda_1}{m}
        \operatorname{sign}(W^{[l]}), \quad
        db^{[l]} = \frac{1}{m} \sum_i dZ^{[l](i)}, \quad
        dA^{[l-1]} = W^{[l]\top} dZ^{[l]},

    with :math:`dA^{[l-1]} \leftarrow dA^{[l-1]} \odot D^{[l-1]} / p^{[l-1]}` where dropout was applied and
    :math:`dZ^{[l-1]} = dA^{[l-1]} \odot g^{[l-1]\prime}(Z^{[l-1]})`. Biases are not penalized.
    Source: Andrew Ng, *Improving Deep Neural Networks*, week 1; Srivastava et al. (2014) for dropout.

    Parameters
    ----------
    layer_dims : sequence of int
        :math:`[n_x, n^{[1]}, \dots, n^{[L]}]`, at least two entries, each >= 1. A sigmoid output needs
        :math:`n^{[L]} = 1`, a softmax output :math:`n^{[L]} \ge 2`.
    hidden : {"relu", "tanh"}
        Activation of the hidden layers.
    output : {"sigmoid", "softmax"}
        Activation of the output layer.
    init : {"zeros", "random", "xavier", "he", "glorot"}
        Weight initialization, from :mod:`lrcourse.init` (``"random"`` is :func:`lrcourse.init.random_scaled`
        with ``init_scale``). Biases start at zero.
    seed : int
        Seed of the generator that draws the initial weights, layer by layer.
    lambd : float
        L2 coefficient :math:`\lambda \ge 0` (``lambda`` is a Python keyword, hence the lecture's spelling).
    keep_prob : float or sequence of float
        Probability :math:`p` of keeping a hidden unit, in (0, 1]: one value for every hidden layer, or one
        per hidden layer. 1 means no dropout. Dropout is applied only in ``forward(..., train=True)`` and in
        :meth:`loss_and_grads`, never in :meth:`predict`.
    l1 : float
        L1 coefficient :math:`\lambda_1 \ge 0`.
    init_scale : float
        The scale of ``init="random"`` (10 in the course's initialization exercise).

    Examples
    --------
    >>> net = Network([2, 3, 1], hidden="tanh", seed=0)
    >>> sorted(net.params), net.params["W1"].shape, net.params["b2"].shape
    (['W1', 'W2', 'b1', 'b2'], (3, 2), (1, 1))
    >>> X, Y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[1.0, 0.0]])
    >>> cost, grads = net.loss_and_grads(X, Y)
    >>> sorted(grads) == sorted(net.params)
    True
    >>> net.predict(X).shape
    (2,)
    >>> Network([2, 3, 1], keep_prob=1.5)
    Traceback (most recent call last):
    ...
    ValueError: keep_prob must be in (0, 1], got 1.5
    """

    def __init__(
        self,
        layer_dims: Sequence[int],
        hidden: str = "relu",
        output: str = "sigmoid",
        init: str = "he",
        seed: int = 0,
        lambd: float = 0.0,
        keep_prob: float | Sequence[float] = 1.0,
        l1: float = 0.0,
        init_scale: float = 10.0,
    ) -> None:
        if isinstance(layer_dims, (str, bytes)) or not isinstance(layer_dims, Sequence):
            raise TypeError(f"layer_dims must be a sequence of integers, got {layer_dims!r}")
        dims = [check_int(f"layer_dims[{i}]", n, minimum=1) for i, n in enumerate(layer_dims)]
        if len(dims) < 2:
            raise ValueError(f"layer_dims must have at least 2 entries [n_x, ..., n_L], got {list(layer_dims)!r}")
        self.hidden = check_choice("hidden", hidden, HIDDEN_ACTIVATIONS)
        self.output = check_choice("output", output, OUTPUT_ACTIVATIONS)
        if output == "sigmoid" and dims[-1] != 1:
            raise ValueError(f"a sigmoid output needs layer_dims[-1] == 1, got layer_dims={dims!r}")
        if output == "softmax" and dims[-1] < 2:
            raise ValueError(f"a softmax output needs layer_dims[-1] >= 2, got layer_dims={dims!r}")
        self.init = check_choice("init", init, INITS)
        seed = check_int("seed", seed, minimum=0)
        self.init_scale = check_positive("init_scale", init_scale)
        self.lambd = check_nonnegative("lambd", lambd)
        self.l1 = check_nonnegative("l1", l1)
        self.keep_prob = self._check_keep_prob(keep_prob, len(dims) - 2)
        self.layer_dims = dims
        self.seed = seed
        self.params = self._initialize(np.random.default_rng(seed))

    @staticmethod
    def _check_keep_prob(keep_prob: Any, n_hidden: int) -> tuple[float, ...]:
        if isinstance(keep_prob, numbers.Real) and not isinstance(keep_prob, bool):
            return (check_unit_interval("keep_prob", keep_prob, low_open=True),) * n_hidden
        if isinstance(keep_prob, (str, bytes)) or not isinstance(keep_prob, Sequence):
            raise TypeError(f"keep_prob must be a number or a sequence of numbers, got {keep_prob!r}")
        if len(keep_prob) != n_hidden:
            raise ValueError(f"keep_prob must have one value per hidden layer ({n_hidden}), got {list(keep_prob)!r}")
        return tuple(check_unit_interval(f"keep_prob[{i}]", p, low_open=True) for i, p in enumerate(keep_prob))

    def _initialize(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        params = {}
        for l in range(1, len(self.layer_dims)):
            fan_in, fan_out = self.layer_dims[l - 1], self.layer_dims[l]
            if self.init == "random":
                W = _init.random_scaled(fan_in, fan_out, rng, scale=self.init_scale)
            else:
                W = getattr(_init, self.init)(fan_in, fan_out, rng)
            params[f"W{l}"] = W
            params[f"b{l}"] = np.zeros((fan_out, 1))
        return params

    # --- properties ---------------------------------------------------------------------------------

    @property
    def L(self) -> int:
        """The number of layers with parameters, :math:`L` (the input layer is not counted)."""
        return len(self.layer_dims) - 1

    @property
    def num_parameters(self) -> int:
        """The total number of weights and biases."""
        return int(sum(p.size for p in self.params.values()))

    def __repr__(self) -> str:
        return (f"Network({self.layer_dims!r}, hidden={self.hidden!r}, output={self.output!r}, init={self.init!r}, "
                f"lambd={self.lambd!r}, keep_prob={self.keep_prob!r}, l1={self.l1!r})")

    # --- checks -------------------------------------------------------------------------------------

    def _check_X(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] != self.layer_dims[0]:
            raise ValueError(f"X must have shape (n_x, m) = ({self.layer_dims[0]}, m) with examples as columns, "
                             f"got {X.shape}")
        return X

    def _check_Y(self, Y: Any, m: int) -> np.ndarray:
        Y = np.asarray(Y, dtype=np.float64)
        expected = (self.layer_dims[-1], m)
        if Y.shape != expected:
            raise ValueError(f"Y must have shape (n[L], m) = {expected} (binary labels as a row, one-hot columns "
                             f"for softmax), got {Y.shape}")
        return Y

    # --- forward, cost, backward --------------------------------------------------------------------

    def _forward(self, X: np.ndarray, train: bool, rng: np.random.Generator | None) -> tuple[np.ndarray, list]:
        """Forward pass keeping the caches; each cache is ``(A_prev, W, b, Z, mask)``."""
        dropping = train and any(p < 1.0 for p in self.keep_prob)
        if dropping:
            _check_rng(rng)
        caches = []
        A = X
        for l in range(1, self.L + 1):
            activation = self.output if l == self.L else self.hidden
            A, (A_prev, W, b, Z) = forward_layer(A, self.params[f"W{l}"], self.params[f"b{l}"], activation)
            mask = None
            # inverted dropout on hidden layer l: A <- A * D / p (a layer with p = 1 draws no random numbers)
            if l < self.L and dropping and self.keep_prob[l - 1] < 1.0:
                A, mask = dropout(A, self.keep_prob[l - 1], rng)
            caches.append((A_prev, W, b, Z, mask))
        return A, caches

    def forward(self, X, train: bool = False, rng: np.random.Generator | None = None) -> np.ndarray:
        r"""The output :math:`A^{[L]}`, shape :math:`(n^{[L]}, m)`.

        With ``train=True`` hidden layers apply inverted dropout with masks drawn from ``rng`` (required when
        some ``keep_prob < 1``), layer by layer in order; repeated calls give Monte Carlo dropout samples.
        """
        if not isinstance(train, bool):
            raise TypeError(f"train must be True or False, got {train!r}")
        return self._forward(self._check_X(X), train, rng)[0]

    def penalty(self, m: int) -> float:
        r"""The regularization part of the cost for :math:`m` examples.

        .. math::

            \frac{\lambda}{2m} \sum_l \lVert W^{[l]} \rVert_F^2 + \frac{\lambda_1}{m} \sum_l \sum_{i,j} |W^{[l]}_{ij}|
        """
        m = check_int("m", m, minimum=1)
        weights = [self.params[f"W{l}"] for l in range(1, self.L + 1)]
        total = 0.0
        if self.lambd:
            total += self.lambd / (2 * m) * sum(float(np.sum(W * W)) for W in weights)
        if self.l1:
            total += self.l1 / m * sum(float(np.sum(np.abs(W))) for W in weights)
        return total

    def cost(self, AL, Y, penalty: bool = True, m: int | None = None) -> float:
        r"""Cross-entropy of the probabilities ``AL`` against ``Y`` (:func:`cross_entropy`, clipped where the
        output saturates) plus, when ``penalty``, the L2 and L1 terms (:meth:`penalty`) for ``m`` examples
        (default: the number of columns; see :meth:`loss_and_grads` for a mini-batch). :meth:`loss_and_grads`
        and :func:`lrcourse.train.fit` compute the cost from the logits instead, exact even where the output
        saturates (:func:`cross_entropy_from_logits`)."""
        AL = np.asarray(AL, dtype=np.float64)
        Y = self._check_Y(Y, AL.shape[1] if AL.ndim == 2 else -1)
        m = Y.shape[1] if m is None else check_int("m", m, minimum=1)
        J = cross_entropy(AL, Y)
        return J + self.penalty(m) if penalty else J

    def logits(self, X) -> np.ndarray:
        r"""The output layer's pre-activations :math:`Z^{[L]} = W^{[L]} A^{[L-1]} + b^{[L]}`, shape
        :math:`(n^{[L]}, m)`, without dropout: what :func:`cross_entropy_from_logits` takes."""
        return self._forward(self._check_X(X), False, None)[1][-1][3]

    def loss_and_grads(self, X, Y, rng: np.random.Generator | None = None,
                       m: int | None = None) -> tuple[float, dict[str, np.ndarray]]:
        r"""The cost :math:`J` and its gradients, keyed like :attr:`params` (``"dW1"`` is stored as ``"W1"``).

        Dropout (when some ``keep_prob < 1``) is applied with masks drawn from ``rng``, and the cost returned
        is the cost of that thinned network. The gradients can go straight to any :mod:`lrcourse.optim`
        optimizer: ``optimizer.step(net.params, grads)``.

        ``m`` is the number of training examples of the cost :math:`J` that the penalties belong to, the
        :math:`m` of :math:`\lambda / 2m`; by default the number of columns of ``X``, right when ``X`` is the
        whole training set. For a mini-batch :math:`B` of a training set of :math:`m` examples, pass that
        :math:`m`: the cost returned is then :math:`\frac{1}{|B|}\sum_{i \in B} \mathcal L^{(i)}` plus the
        penalties of :math:`J`; averaged over the mini-batches of an epoch with weights :math:`|B|/m`, these costs
        and their gradients give :math:`J` and its gradients exactly (:func:`lrcourse.train.fit` does this). Dividing by
        :math:`|B|` instead would regularize :math:`m / |B|` times more strongly than the :math:`J` reported.
        """
        X = self._check_X(X)
        Y = self._check_Y(Y, X.shape[1])
        m = X.shape[1] if m is None else check_int("m", m, minimum=X.shape[1])
        AL, caches = self._forward(X, True, rng)
        # the cost of the logits Z[L], exact where the output saturates: the cost that dZ[L] = A[L] - Y belongs to
        J = cross_entropy_from_logits(caches[-1][3], Y) + self.penalty(m)
        grads = {}
        # output layer: dZ[L] = A[L] - Y for sigmoid + binary CE and for softmax + categorical CE
        dZ = AL - Y
        for l in range(self.L, 0, -1):
            A_prev, W, b, Z, _mask = caches[l - 1]
            if l < self.L:
                # dZ[l] = dA[l] * g'(Z[l]), dA[l] already carries the dropout mask of layer l
                dZ = activation_backward(dA, Z, self.hidden)
            dA, dW, db = linear_backward(dZ, (A_prev, W, b, Z))
            # dW[l] += lambda/m W[l] (L2) + lambda_1/m sign(W[l]) (L1)
            if self.lambd:
                dW = dW + self.lambd / m * W
            if self.l1:
                dW = dW + self.l1 / m * np.sign(W)
            grads[f"W{l}"], grads[f"b{l}"] = dW, db
            if l > 1:
                prev_mask = caches[l - 2][4]
                if prev_mask is not None:
                    # backprop through inverted dropout: dA[l-1] <- dA[l-1] * D[l-1] / p[l-1]
                    dA = dA * prev_mask / self.keep_prob[l - 2]
        return J, {k: grads[k] for k in self.params}

    # --- predictions --------------------------------------------------------------------------------

    def predict_proba(self, X) -> np.ndarray:
        """The output probabilities :math:`A^{[L]}` without dropout, shape :math:`(n^{[L]}, m)`."""
        return self.forward(X, train=False)

    def _labels(self, AL: np.ndarray) -> np.ndarray:
        if self.output == "sigmoid":
            return (AL[0] > 0.5).astype(np.int64)
        return np.argmax(AL, axis=0).astype(np.int64)

    def predict(self, X) -> np.ndarray:
        """Predicted labels, shape ``(m,)``: :math:`a > 0.5` for a sigmoid output, the arg max for softmax."""
        return self._labels(self.predict_proba(X))

    def accuracy(self, X, Y, AL=None) -> float:
        """Fraction of examples whose predicted label matches ``Y`` (a (1, m) row of 0/1, one-hot (C, m)
        columns, or integer labels of shape (m,)). ``AL``, if given, is ``forward(X)`` already computed."""
        Y = np.asarray(Y)
        pred = self.predict(X) if AL is None else self._labels(np.asarray(AL))
        if Y.ndim == 1:
            labels = Y
        elif Y.ndim == 2 and Y.shape[0] == 1:
            labels = Y[0]
        elif Y.ndim == 2:
            labels = np.argmax(Y, axis=0)
        else:
            raise ValueError(f"Y must be labels (m,), a (1, m) row or one-hot (C, m), got shape {Y.shape}")
        if labels.shape != pred.shape:
            raise ValueError(f"Y has {labels.shape[0]} examples but X has {pred.shape[0]}")
        return float(np.mean(pred == labels.astype(np.int64)))


# ---------------------------------------------------------------------------------------------------
# Regularization helpers
# ---------------------------------------------------------------------------------------------------


def max_norm(params: dict, c: float) -> None:
    r"""Max-norm regularization: clip each unit's incoming weight vector to norm at most ``c``, in place.

    Row :math:`i` of :math:`W^{[l]}` holds the weights :math:`w_i` coming into unit :math:`i` of layer
    :math:`l`. After every training step,

    .. math::

        w_i \leftarrow w_i \cdot \min\left(1, \frac{c}{\lVert w_i \rVert_2}\right).

    Biases are left alone. Source: Srivastava et al. (2014); Géron, *Hands-On Machine Learning*, ch. 11.

    Examples
    --------
    >>> params = {"W1": np.array([[3.0, 4.0], [0.3, 0.4]]), "b1": np.zeros((2, 1))}
    >>> max_norm(params, c=1.0)
    >>> params["W1"]
    array([[0.6, 0.8],
           [0.3, 0.4]])
    """
    c = check_positive("c", c)
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays like Network.params, got {type(params).__name__}")
    for key, W in params.items():
        if key.startswith("W"):
            norms = np.linalg.norm(W, axis=1, keepdims=True)
            W *= np.minimum(1.0, c / np.maximum(norms, np.finfo(np.float64).tiny))


def mc_dropout_predict(net: Network, X, n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    r"""Monte Carlo dropout: average the predicted probabilities of ``n_samples`` thinned networks.

    .. math::

        \hat p = \frac{1}{T} \sum_{t=1}^{T} A^{[L]}_t, \qquad
        \hat\sigma = \sqrt{\frac{1}{T} \sum_{t=1}^{T} \left(A^{[L]}_t - \hat p\right)^2}

    where :math:`A^{[L]}_t` is ``net.forward(X, train=True, rng=rng)`` with a fresh dropout mask and
    :math:`T` = ``n_samples``. The spread :math:`\hat\sigma` is a rough measure of the model's uncertainty.
    Source: Gal & Ghahramani (2016); Géron, *Hands-On Machine Learning*, ch. 11.

    Returns
    -------
    mean, std : numpy.ndarray
        Both of shape :math:`(n^{[L]}, m)`.

    Examples
    --------
    >>> net = Network([2, 8, 1], keep_prob=0.5, seed=0)
    >>> mean, std = mc_dropout_predict(net, np.ones((2, 3)), 20, np.random.default_rng(0))
    >>> mean.shape, bool(np.all(std >= 0))
    ((1, 3), True)
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be an lrcourse.nn.Network, got {type(net).__name__}")
    n_samples = check_int("n_samples", n_samples, minimum=1)
    _check_rng(rng)
    samples = np.stack([net.forward(X, train=True, rng=rng) for _ in range(n_samples)])
    return samples.mean(axis=0), samples.std(axis=0)


# ---------------------------------------------------------------------------------------------------
# Flattening, for gradient checking
# ---------------------------------------------------------------------------------------------------


def params_to_vector(params: dict) -> np.ndarray:
    r"""Concatenate every array of ``params`` (in the dict's order) into one vector :math:`\theta`.

    Examples
    --------
    >>> params_to_vector({"W1": np.array([[1.0, 2.0]]), "b1": np.array([[3.0]])})
    array([1., 2., 3.])
    """
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
    return np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in params.values()])


def vector_to_params(theta, like: dict) -> dict[str, np.ndarray]:
    r"""Split a vector :math:`\theta` back into arrays shaped like the arrays of ``like`` (the inverse of
    :func:`params_to_vector`). The result holds new arrays.

    Examples
    --------
    >>> like = {"W1": np.zeros((1, 2)), "b1": np.zeros((1, 1))}
    >>> vector_to_params(np.array([1.0, 2.0, 3.0]), like)
    {'W1': array([[1., 2.]]), 'b1': array([[3.]])}
    """
    theta = np.asarray(theta, dtype=np.float64)
    if not isinstance(like, dict):
        raise TypeError(f"like must be a dict of arrays, got {type(like).__name__}")
    total = sum(np.size(p) for p in like.values())
    if theta.ndim != 1 or theta.size != total:
        raise ValueError(f"theta must be a vector of {total} entries, got shape {theta.shape}")
    out, start = {}, 0
    for key, p in like.items():
        shape = np.shape(p)
        out[key] = theta[start:start + int(np.prod(shape))].reshape(shape).copy()
        start += int(np.prod(shape))
    return out
