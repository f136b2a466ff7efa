r"""Small test functions (cost landscapes) and the paths that optimizers take on them.

Part II of the book draws every optimizer on the same pictures: the contours of a two-dimensional cost
and the path of points :math:`\theta_0, \theta_1, \dots` that an optimizer visits. This module gives

- the landscapes, each with its value and its gradient written out by hand: :class:`Quadratic`
  (and :func:`ravine`, the elongated bowl of the lecture where plain gradient descent zig-zags, and
  :func:`saddle`) and :class:`Rosenbrock` (a curved, banana-shaped valley);
- :func:`optimize_path`, which runs any :mod:`lrcourse.optim` optimizer on a landscape and returns the
  visited points, and :func:`torch_path`, which does the same with a ``torch.optim`` optimizer, so that
  a from-scratch optimizer and torch's can be drawn (and compared) on the same picture;
- :func:`steps_to_tolerance`, how many steps a path needs to bring the cost under a threshold.

Points are numpy arrays whose last axis holds the coordinates, so ``f.value`` and ``f.grad`` work on a
single point of shape ``(d,)``, on a path of shape ``(steps + 1, d)`` and on a grid of shape ``(n, n, d)``
alike. :meth:`Landscape.grid` returns the arrays that ``matplotlib``'s ``contour`` expects.

Used by the chapters *Momentum*, *RMSprop*, *Adam* and *Comparing optimizers*.

Examples
--------
>>> import numpy as np
>>> from lrcourse.optim import SGD
>>> f = ravine(flat=1.0, steep=10.0)
>>> f.value(np.array([2.0, 1.0]))  # (1 * 2**2 + 10 * 1**2) / 2
7.0
>>> path = optimize_path(f.grad, [2.0, 1.0], SGD(lr=0.15), steps=3)
>>> path.shape
(4, 2)
>>> path[1]  # x shrinks by 1 - 0.15 * 1, y flips sign: 1 - 0.15 * 10 = -0.5
array([ 1.7, -0.5])
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from lrcourse._checks import check_int, check_number, check_positive
from lrcourse.optim import Optimizer

__all__ = [
    "Landscape",
    "Quadratic",
    "Rosenbrock",
    "ravine",
    "saddle",
    "optimize_path",
    "torch_path",
    "steps_to_tolerance",
]


class Landscape:
    r"""Base class: a differentiable cost :math:`f : \mathbb{R}^d \to \mathbb{R}` with its gradient.

    A subclass sets ``dim`` and writes ``_value(x)`` and ``_grad(x)`` for an array ``x`` whose last axis
    has ``dim`` entries; the public :meth:`value` and :meth:`grad` check the input first.

    Attributes
    ----------
    dim : int
        The number of coordinates :math:`d`.
    minimum : numpy.ndarray or None
        The point where :math:`f` is smallest, or ``None`` if it has no minimum (a saddle).
    """

    dim: int = 2
    minimum: np.ndarray | None = None

    def value(self, x: Any) -> np.ndarray | float:
        """The cost at ``x`` (shape ``(..., dim)``): a float for one point, an array of shape ``(...)`` otherwise."""
        x = self._check_points(x)
        out = self._value(x)
        return float(out) if np.ndim(out) == 0 else out

    def grad(self, x: Any) -> np.ndarray:
        """The gradient at ``x`` (shape ``(..., dim)``), an array of the same shape."""
        return self._grad(self._check_points(x))

    def __call__(self, x: Any) -> np.ndarray | float:
        return self.value(x)

    def grid(
        self, xlim: Sequence[float], ylim: Sequence[float], num: int = 201
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Values on a ``num`` by ``num`` grid, as ``(X, Y, Z)`` for ``plt.contour(X, Y, Z)`` (2-D only).

        Parameters
        ----------
        xlim, ylim : pair of float
            The ranges ``(low, high)`` of the first and second coordinate, ``low < high``.
        num : int, default 201
            Points per axis, ``>= 2``.

        Returns
        -------
        X, Y, Z : numpy.ndarray
            Arrays of shape ``(num, num)``; ``Z[i, j]`` is the cost at ``(X[i, j], Y[i, j])``.
        """
        if self.dim != 2:
            raise ValueError(f"grid needs a 2-D landscape, got dim={self.dim}")
        num = check_int("num", num, minimum=2)
        axes = []
        for name, lim in (("xlim", xlim), ("ylim", ylim)):
            if not isinstance(lim, (tuple, list, np.ndarray)) or len(lim) != 2:
                raise ValueError(f"{name} must be a pair (low, high), got {lim!r}")
            low, high = check_number(name, lim[0]), check_number(name, lim[1])
            if not low < high:
                raise ValueError(f"{name} must have low < high, got {lim!r}")
            axes.append(np.linspace(low, high, num))
        X, Y = np.meshgrid(*axes)
        return X, Y, self._value(np.stack([X, Y], axis=-1))

    def _check_points(self, x: Any) -> np.ndarray:
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"x must be an array of numbers, got {x!r}") from err
        if arr.ndim == 0 or arr.shape[-1] != self.dim:
            raise ValueError(f"x must have {self.dim} coordinates on its last axis, got shape {arr.shape}")
        return arr

    def _value(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _grad(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Quadratic(Landscape):
    r"""A quadratic bowl (or saddle) :math:`f(\theta) = \tfrac12 (\theta - c)^\top A\, (\theta - c)`.

    .. math::

        f(\theta) = \tfrac{1}{2} (\theta - c)^\top A\, (\theta - c), \qquad
        \nabla f(\theta) = A\, (\theta - c)

    with :math:`A` = ``A`` a symmetric matrix and :math:`c` = ``center``. The eigenvalues of :math:`A` are
    the curvatures along its eigenvectors. When all are positive, :math:`c` is the minimum, and gradient
    descent with learning rate :math:`\alpha` is stable only if :math:`\alpha < 2/\lambda_{\max}`; the ratio
    :math:`\lambda_{\max}/\lambda_{\min}` (the condition number) says how elongated the bowl is. With a
    negative eigenvalue, :math:`c` is a saddle point and ``minimum`` is ``None``.

    Source: the lecture's picture of an elongated cost (Ng, *Improving Deep Neural Networks*, week 2,
    "Gradient descent with momentum"); the stability bound is the standard analysis of gradient descent
    on a quadratic.

    Parameters
    ----------
    A : array_like, shape (d, d)
        Symmetric matrix of finite numbers.
    center : array_like, shape (d,), optional
        The stationary point :math:`c` (default: the origin).

    Examples
    --------
    >>> import numpy as np
    >>> f = Quadratic([[2.0, 0.0], [0.0, 8.0]], center=[1.0, 0.0])
    >>> f.grad(np.array([2.0, 1.0]))  # A (theta - c)
    array([2., 8.])
    >>> f.curvatures
    array([2., 8.])
    >>> f.minimum
    array([1., 0.])
    """

    def __init__(self, A: Any, center: Any = None) -> None:
        A = np.array(A, dtype=np.float64)
        if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
            raise ValueError(f"A must be a square matrix, got shape {A.shape}")
        if not np.all(np.isfinite(A)):
            raise ValueError(f"A must contain finite numbers only, got {A.tolist()!r}")
        if not np.allclose(A, A.T, rtol=1e-12, atol=1e-12):
            raise ValueError(f"A must be symmetric, got {A.tolist()!r}")
        self.dim = A.shape[0]
        center = np.zeros(self.dim) if center is None else np.array(center, dtype=np.float64)
        if center.shape != (self.dim,) or not np.all(np.isfinite(center)):
            raise ValueError(f"center must be {self.dim} finite numbers, got {center.tolist()!r}")
        self.A = A
        self.center = center
        #: The eigenvalues of A in increasing order: the curvatures of the bowl.
        self.curvatures = np.linalg.eigvalsh(A)
        self.minimum = center.copy() if self.curvatures[0] > 0 else None

    def __repr__(self) -> str:
        return f"Quadratic(A={self.A.tolist()!r}, center={self.center.tolist()!r})"

    def _value(self, x: np.ndarray) -> np.ndarray:
        d = x - self.center
        # f = 1/2 (theta - c)^T A (theta - c), for every point on the leading axes
        return 0.5 * np.einsum("...i,ij,...j->...", d, self.A, d)

    def _grad(self, x: np.ndarray) -> np.ndarray:
        # grad f = A (theta - c)
        return (x - self.center) @ self.A.T


def ravine(flat: float = 1.0, steep: float = 10.0) -> Quadratic:
    r"""The elongated bowl of the lecture: :math:`f(x, y) = \tfrac12 (a\, x^2 + b\, y^2)` with :math:`a \ll b`.

    .. math::

        f(x, y) = \tfrac{1}{2}\left(a\, x^2 + b\, y^2\right), \qquad
        \nabla f(x, y) = (a\, x,\; b\, y)

    with :math:`a` = ``flat`` (the gentle slope along :math:`x`, towards the minimum at the origin) and
    :math:`b` = ``steep`` (the steep walls along :math:`y`). Gradient descent must keep its learning rate
    below :math:`2/b` to stay stable across the walls, and then crawls along :math:`x`, shrinking the
    distance by only :math:`1 - \alpha a` per step: the zig-zag that momentum and RMSprop repair.

    Parameters
    ----------
    flat : float, default 1.0
        Curvature :math:`a > 0` along the first coordinate.
    steep : float, default 10.0
        Curvature :math:`b > 0` along the second coordinate.

    Examples
    --------
    >>> f = ravine(flat=1.0, steep=10.0)
    >>> f.grad([3.0, 1.0])
    array([ 3., 10.])
    >>> float(f.curvatures[-1] / f.curvatures[0])  # the condition number
    10.0
    """
    a = check_positive("flat", flat)
    b = check_positive("steep", steep)
    return Quadratic(np.diag([a, b]))


def saddle(up: float = 1.0, down: float = 1.0) -> Quadratic:
    r"""A saddle point at the origin: :math:`f(x, y) = \tfrac12 (a\, x^2 - b\, y^2)`.

    .. math::

        f(x, y) = \tfrac{1}{2}\left(a\, x^2 - b\, y^2\right), \qquad
        \nabla f(x, y) = (a\, x,\; -b\, y)

    The gradient vanishes at the origin, which is a minimum along :math:`x` (curvature :math:`a` = ``up``)
    and a maximum along :math:`y` (curvature :math:`-b`, ``down`` = :math:`b`). Started exactly on the
    :math:`x` axis, gradient descent walks into the saddle and stays; any small :math:`y` grows by
    :math:`1 + \alpha b` per step and carries it away. The function has no minimum (``minimum`` is ``None``).

    Parameters
    ----------
    up : float, default 1.0
        Curvature :math:`a > 0` along the first coordinate.
    down : float, default 1.0
        :math:`b > 0`, minus the curvature along the second coordinate.

    Examples
    --------
    >>> f = saddle()
    >>> f.value([1.0, 1.0]), f.minimum is None
    (0.0, True)
    """
    a = check_positive("up", up)
    b = check_positive("down", down)
    return Quadratic(np.diag([a, -b]))


class Rosenbrock(Landscape):
    r"""Rosenbrock's banana-shaped valley: :math:`f(x, y) = (a - x)^2 + b\,(y - x^2)^2`.

    .. math::

        f(x, y) &= (a - x)^2 + b\,(y - x^2)^2 \\
        \nabla f(x, y) &= \bigl(-2(a - x) - 4 b\, x\, (y - x^2),\; 2 b\, (y - x^2)\bigr)

    with :math:`a` = ``a`` and :math:`b` = ``b``. The minimum is :math:`(a, a^2)` with :math:`f = 0`, at
    the bottom of a narrow curved valley: finding the valley is easy, following it is hard. A classic
    test of optimizers because the steep direction changes along the way.

    Source: Rosenbrock (1960), *An automatic method for finding the greatest or least value of a function*.

    Parameters
    ----------
    a : float, default 1.0
        Position of the minimum, any finite number.
    b : float, default 100.0
        Steepness of the valley walls, ``> 0``.

    Examples
    --------
    >>> f = Rosenbrock()
    >>> f.value([1.0, 1.0]), f.minimum
    (0.0, array([1., 1.]))
    >>> f.grad([0.0, 0.0])
    array([-2.,  0.])
    """

    def __init__(self, a: float = 1.0, b: float = 100.0) -> None:
        self.a = check_number("a", a)
        self.b = check_positive("b", b)
        self.dim = 2
        self.minimum = np.array([self.a, self.a**2])

    def __repr__(self) -> str:
        return f"Rosenbrock(a={self.a!r}, b={self.b!r})"

    def _value(self, x: np.ndarray) -> np.ndarray:
        u, w = x[..., 0], x[..., 1]
        # f = (a - x)^2 + b (y - x^2)^2
        return (self.a - u) ** 2 + self.b * (w - u**2) ** 2

    def _grad(self, x: np.ndarray) -> np.ndarray:
        u, w = x[..., 0], x[..., 1]
        # df/dx = -2 (a - x) - 4 b x (y - x^2),   df/dy = 2 b (y - x^2)
        return np.stack([-2 * (self.a - u) - 4 * self.b * u * (w - u**2), 2 * self.b * (w - u**2)], axis=-1)


def _check_start(x0: Any) -> np.ndarray:
    try:
        x = np.array(x0, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"x0 must be a sequence of numbers, got {x0!r}") from err
    if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"x0 must be a 1-D array of finite numbers, got {x0!r}")
    return x


def _gradient_function(grad: Any) -> Callable[[np.ndarray], np.ndarray]:
    if isinstance(grad, Landscape):
        return grad.grad
    if not callable(grad):
        raise TypeError(f"grad must be a callable (such as landscape.grad) or a Landscape, got {grad!r}")
    return grad


def _gradient_at(grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    g = np.asarray(grad(x.copy()), dtype=np.float64)
    if g.shape != x.shape:
        raise ValueError(f"grad must return an array of shape {x.shape}, got shape {g.shape}")
    return g


def _check_stop_norm(stop_norm: Any) -> float | None:
    return None if stop_norm is None else check_positive("stop_norm", stop_norm)


def optimize_path(
    grad: Callable[[np.ndarray], np.ndarray] | Landscape,
    x0: Any,
    optimizer: Optimizer,
    steps: int,
    stop_norm: float | None = None,
) -> np.ndarray:
    r"""Run an :mod:`lrcourse.optim` optimizer from ``x0`` and return every point it visits.

    .. math::

        \theta_0 = x_0, \qquad \theta_t = \operatorname{step}\bigl(\theta_{t-1}, \nabla f(\theta_{t-1})\bigr)
        \quad (t = 1, \dots, T)

    where ``step`` is ``optimizer.step`` (for :class:`lrcourse.optim.SGD`,
    :math:`\theta_t = \theta_{t-1} - \alpha \nabla f(\theta_{t-1})`) and :math:`T` = ``steps``. The point is
    handed to the optimizer as the single parameter ``{"x": theta}``.

    Parameters
    ----------
    grad : callable or Landscape
        The gradient :math:`\nabla f`, a function of a point of shape ``(d,)`` returning shape ``(d,)``
        (for example ``landscape.grad``); a :class:`Landscape` stands for its ``grad``.
    x0 : array_like, shape (d,)
        The starting point.
    optimizer : lrcourse.optim.Optimizer
        A fresh optimizer (its state, if any, must be for a parameter named ``"x"`` of shape ``(d,)``).
        It is advanced by ``steps`` steps; its ``lr`` may be changed by nobody else meanwhile.
    steps : int
        Number of steps :math:`T \ge 0`.
    stop_norm : float, optional
        Stop early, after the first point whose norm exceeds this (a diverging run); that point is the
        last row. ``None`` (default): always run ``steps`` steps.

    Returns
    -------
    numpy.ndarray, shape (steps + 1, d)
        Row :math:`t` is :math:`\theta_t`; fewer rows if ``stop_norm`` stopped the run.

    Examples
    --------
    >>> from lrcourse.optim import Momentum
    >>> f = ravine(flat=1.0, steep=10.0)
    >>> path = optimize_path(f, [4.0, 1.0], Momentum(lr=0.1, beta=0.9), steps=100)
    >>> path.shape, bool(f.value(path[-1]) < 1e-3)
    ((101, 2), True)
    """
    grad = _gradient_function(grad)
    x = _check_start(x0)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an lrcourse.optim optimizer, got {optimizer!r}")
    steps = check_int("steps", steps, minimum=0)
    stop_norm = _check_stop_norm(stop_norm)
    params = {"x": x}
    path = [x.copy()]
    for _ in range(steps):
        optimizer.step(params, {"x": _gradient_at(grad, x)})
        path.append(x.copy())
        if stop_norm is not None and not np.linalg.norm(x) <= stop_norm:
            break
    return np.array(path)


def torch_path(
    grad: Callable[[np.ndarray], np.ndarray] | Landscape,
    x0: Any,
    make_optimizer: Callable[[list], Any],
    steps: int,
    stop_norm: float | None = None,
) -> np.ndarray:
    r"""Like :func:`optimize_path`, with a ``torch.optim`` optimizer, in double precision on the CPU.

    The point is a float64 ``torch`` tensor; before each ``optimizer.step()`` its ``.grad`` is set to
    ``grad`` evaluated (in numpy) at the current point, so that a from-scratch optimizer and torch's see
    exactly the same gradients and their paths can be compared number for number.

    Parameters
    ----------
    grad : callable or Landscape
        The gradient, as in :func:`optimize_path`.
    x0 : array_like, shape (d,)
        The starting point.
    make_optimizer : callable
        Called once with the list of parameters (one tensor) and returning a ``torch.optim`` optimizer,
        for example ``lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9)``.
    steps : int
        Number of steps, ``>= 0``.
    stop_norm : float, optional
        As in :func:`optimize_path`.

    Returns
    -------
    numpy.ndarray, shape (steps + 1, d)
        Row :math:`t` is the point after :math:`t` steps.

    Examples
    --------
    >>> import torch
    >>> from lrcourse.optim import SGD
    >>> f = ravine()
    >>> ours = optimize_path(f, [4.0, 1.0], SGD(lr=0.1), steps=20)
    >>> theirs = torch_path(f, [4.0, 1.0], lambda params: torch.optim.SGD(params, lr=0.1), steps=20)
    >>> bool(abs(ours - theirs).max() < 1e-12)  # the same path, up to rounding
    True
    """
    import torch

    grad = _gradient_function(grad)
    x = _check_start(x0)
    if not callable(make_optimizer):
        raise TypeError(f"make_optimizer must be a callable returning a torch optimizer, got {make_optimizer!r}")
    steps = check_int("steps", steps, minimum=0)
    stop_norm = _check_stop_norm(stop_norm)
    theta = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([theta])
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"make_optimizer must return a torch.optim.Optimizer, got {optimizer!r}")
    path = [x.copy()]
    for _ in range(steps):
        point = theta.detach().numpy().copy()
        theta.grad = torch.from_numpy(_gradient_at(grad, point))
        optimizer.step()
        point = theta.detach().numpy().copy()
        path.append(point)
        if stop_norm is not None and not np.linalg.norm(point) <= stop_norm:
            break
    return np.array(path)


def steps_to_tolerance(landscape: Landscape, path: Any, tol: float) -> int | None:
    r"""The first step :math:`t` at which the cost gap :math:`f(\theta_t) - f^\star` is at most ``tol``.

    .. math::

        t^\star = \min \{\, t : f(\theta_t) - f(\theta^\star) \le \text{tol} \,\}

    with :math:`\theta^\star` = ``landscape.minimum``. Returns ``None`` if no point of the path gets there.

    Parameters
    ----------
    landscape : Landscape
        A landscape with a minimum.
    path : array_like, shape (T + 1, d)
        Points, as returned by :func:`optimize_path`.
    tol : float
        The threshold, ``> 0``.

    Examples
    --------
    >>> from lrcourse.optim import SGD
    >>> f = ravine(flat=1.0, steep=10.0)
    >>> path = optimize_path(f, [1.0, 0.0], SGD(lr=0.5), steps=10)  # x halves on every step
    >>> steps_to_tolerance(f, path, tol=1e-3)  # 0.5 * 0.25**t <= 1e-3 from t = 5
    5
    """
    if not isinstance(landscape, Landscape):
        raise TypeError(f"landscape must be a Landscape, got {landscape!r}")
    if landscape.minimum is None:
        raise ValueError(f"landscape must have a minimum, got {landscape!r}")
    tol = check_positive("tol", tol)
    points = landscape._check_points(path)
    if points.ndim != 2:
        raise ValueError(f"path must have shape (T + 1, {landscape.dim}), got shape {points.shape}")
    gaps = landscape._value(points) - landscape._value(landscape.minimum)
    reached = np.flatnonzero(gaps <= tol)
    return int(reached[0]) if reached.size else None
