r"""Data sets and splits (데이터 분할): planar toy problems, scikit-learn's digits, train/dev/test, scaling.

Loaders return **rows**, like scikit-learn and torch: ``X`` of shape ``(m, n_features)`` (float64) and ``y`` of
shape ``(m,)`` (int64 labels). :func:`to_columns` turns them into the lecture's layout for
:class:`lrcourse.nn.Network` (examples as columns, labels as a row or one-hot columns).

- Planar problems from seeded generators: :func:`make_moons`, :func:`make_circles`, :func:`make_spirals`.
- Real data shipped with scikit-learn (no download): :func:`load_digits`.
- Splitting and scaling: :func:`train_dev_test_split` (seeded, stratified), :class:`Standardizer`.
- Layout: :func:`to_columns`.
- Data augmentation of small images: :func:`augment_images`.

Used by every chapter of Part I, starting with "Train/dev/test sets, bias and variance"; the chapter
"Regularization" uses :func:`augment_images`.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from lrcourse._checks import check_int, check_nonnegative, check_number

__all__ = [
    "Standardizer",
    "augment_images",
    "load_digits",
    "make_circles",
    "make_moons",
    "make_spirals",
    "to_columns",
    "train_dev_test_split",
]


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(y))
    return X[order], y[order]


def _class_sizes(n_samples: int, n_classes: int) -> list[int]:
    """Split n_samples into n_classes sizes that differ by at most one (the first ones get the extra)."""
    base, extra = divmod(n_samples, n_classes)
    return [base + (1 if k < extra else 0) for k in range(n_classes)]


def make_moons(n_samples: int = 200, noise: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Two interleaving half circles, label 0 (upper) and label 1 (lower), shuffled.

    Before the Gaussian noise of standard deviation ``noise`` is added, class 0 lies on
    :math:`(\cos t, \sin t)` and class 1 on :math:`(1 - \cos t, \tfrac12 - \sin t)`, :math:`t \in [0, \pi]`
    evenly spaced (the same curves as ``sklearn.datasets.make_moons``).

    Examples
    --------
    >>> X, y = make_moons(100, noise=0.1, seed=0)
    >>> X.shape, y.shape, np.bincount(y).tolist()
    ((100, 2), (100,), [50, 50])
    """
    n_samples = check_int("n_samples", n_samples, minimum=2)
    noise = check_nonnegative("noise", noise)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    n0, n1 = _class_sizes(n_samples, 2)
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n1)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], np.c_[1.0 - np.cos(t1), 0.5 - np.sin(t1)]])
    y = np.repeat([0, 1], [n0, n1]).astype(np.int64)
    X = X + noise * rng.standard_normal(X.shape)
    return _shuffled(X, y, rng)


def make_circles(n_samples: int = 200, noise: float = 0.05, factor: float = 0.5,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Two concentric circles: label 0 on the unit circle, label 1 on the circle of radius ``factor``.

    Before the Gaussian noise of standard deviation ``noise`` is added, the points are
    :math:`r(\cos t, \sin t)` with :math:`t` evenly spaced on :math:`[0, 2\pi)` and :math:`r \in \{1,
    \text{factor}\}`.

    Examples
    --------
    >>> X, y = make_circles(100, noise=0.0, factor=0.5)
    >>> sorted(set(np.round(np.hypot(X[:, 0], X[:, 1]), 6).tolist()))
    [0.5, 1.0]
    """
    n_samples = check_int("n_samples", n_samples, minimum=2)
    noise = check_nonnegative("noise", noise)
    factor = check_number("factor", factor)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"factor must be in (0, 1), got {factor!r}")
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    n0, n1 = _class_sizes(n_samples, 2)
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n1, endpoint=False)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], factor * np.c_[np.cos(t1), np.sin(t1)]])
    y = np.repeat([0, 1], [n0, n1]).astype(np.int64)
    X = X + noise * rng.standard_normal(X.shape)
    return _shuffled(X, y, rng)


def make_spirals(n_samples: int = 200, n_classes: int = 2, noise: float = 0.2,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Interleaved spiral arms, one per class (a planar set that no linear model separates).

    Arm :math:`k` has radius :math:`r` evenly spaced on :math:`[0, 1]` and angle

    .. math::

        \theta = 4 \pi r + \frac{2\pi k}{K} + \varepsilon,
        \qquad \varepsilon \sim \mathcal N(0, \text{noise}^2),

    giving the point :math:`r(\sin\theta, \cos\theta)`; :math:`K` = ``n_classes``. The noise perturbs the
    angle, so it blurs the arms more far from the centre, like the course's "flower" data set.

    Examples
    --------
    >>> X, y = make_spirals(300, n_classes=3, seed=1)
    >>> X.shape, np.bincount(y).tolist()
    ((300, 2), [100, 100, 100])
    """
    n_samples = check_int("n_samples", n_samples, minimum=2)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    if n_samples < n_classes:
        raise ValueError(f"n_samples must be >= n_classes ({n_classes}), got {n_samples}")
    noise = check_nonnegative("noise", noise)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    parts, labels = [], []
    for k, n in enumerate(_class_sizes(n_samples, n_classes)):
        r = np.linspace(0.0, 1.0, n)
        theta = 4.0 * np.pi * r + 2.0 * np.pi * k / n_classes + noise * rng.standard_normal(n)
        parts.append(np.c_[r * np.sin(theta), r * np.cos(theta)])
        labels.append(np.full(n, k, dtype=np.int64))
    return _shuffled(np.concatenate(parts), np.concatenate(labels), rng)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    r"""scikit-learn's handwritten digits: 1797 images of 8 x 8 pixels, labels 0-9, pixels scaled to [0, 1].

    The data ship with scikit-learn (nothing is downloaded). Row ``i`` of ``X`` is image ``i`` flattened row by
    row, so ``X[i].reshape(8, 8)`` is the picture. Source: the UCI "Optical Recognition of Handwritten Digits"
    data set, as packaged by ``sklearn.datasets.load_digits``.

    Examples
    --------
    >>> X, y = load_digits()
    >>> X.shape, y.shape, float(X.min()), float(X.max())
    ((1797, 64), (1797,), 0.0, 1.0)
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    return bunch.data.astype(np.float64) / 16.0, bunch.target.astype(np.int64)


def _check_sizes(sizes: Any) -> tuple[float, float, float]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) != 3:
        raise ValueError(f"sizes must be three fractions (train, dev, test) that sum to 1, got {sizes!r}")
    fractions = tuple(check_number(f"sizes[{i}]", s) for i, s in enumerate(sizes))
    if any(s < 0 for s in fractions) or fractions[0] <= 0 or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"sizes must be three fractions (train > 0, dev >= 0, test >= 0) that sum to 1, "
                         f"got {sizes!r}")
    return fractions


def _largest_remainder(targets: np.ndarray, total: int, caps: np.ndarray) -> np.ndarray:
    """Integers close to ``targets`` (floor or ceil of each), capped, that add up to ``total``."""
    counts = np.minimum(np.floor(targets).astype(np.int64), caps)
    remainder = targets - counts
    for k in np.argsort(-remainder, kind="stable"):
        if counts.sum() >= total:
            break
        if counts[k] < caps[k]:
            counts[k] += 1
    return counts


def train_dev_test_split(X, y, sizes: Sequence[float] = (0.6, 0.2, 0.2), seed: int = 0,
                         stratify: bool = True) -> tuple[np.ndarray, ...]:
    r"""Split rows into training, development (hold-out) and test sets, seeded and optionally stratified.

    The split sizes are :math:`m_\text{dev} = \operatorname{round}(f_\text{dev}\, m)`,
    :math:`m_\text{test} = \operatorname{round}(f_\text{test}\, m)` and
    :math:`m_\text{train} = m - m_\text{dev} - m_\text{test}` for ``sizes`` :math:`= (f_\text{train},
    f_\text{dev}, f_\text{test})`. With ``stratify=True`` each class :math:`c` with :math:`m_c` examples gives
    the training set :math:`\lfloor m_c m_\text{train} / m \rfloor` or one more (largest remainders first, so
    the total is exact), the dev set the same from what is left, and the test set the rest, so every split keeps
    the class proportions of the whole to within about one example per class. Each split is shuffled.
    Source: Andrew Ng, *Improving Deep Neural Networks*, week 1, "Train / dev / test sets".

    Returns
    -------
    tuple
        ``(X_train, y_train, X_dev, y_dev, X_test, y_test)``.

    Examples
    --------
    >>> X, y = np.arange(20.0).reshape(10, 2), np.array([0] * 5 + [1] * 5)
    >>> Xtr, ytr, Xd, yd, Xte, yte = train_dev_test_split(X, y, sizes=(0.6, 0.2, 0.2), seed=0)
    >>> len(ytr), len(yd), len(yte), np.bincount(ytr).tolist(), np.bincount(yd).tolist()
    (6, 2, 2, [3, 3], [1, 1])
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim < 1 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValueError(f"X must have one row per label in y (rows are examples), got X {X.shape} and y {y.shape}")
    fractions = _check_sizes(sizes)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    if not isinstance(stratify, bool):
        raise TypeError(f"stratify must be True or False, got {stratify!r}")
    m = len(y)
    n_dev, n_test = round(fractions[1] * m), round(fractions[2] * m)
    n_train = m - n_dev - n_test
    if n_train < 1:
        raise ValueError(f"sizes={sizes!r} leave no training example out of m={m}")
    if not stratify:
        order = rng.permutation(m)
        parts = [order[:n_train], order[n_train:n_train + n_dev], order[n_train + n_dev:]]
    else:
        classes, y_index = np.unique(y, return_inverse=True)
        members = [rng.permutation(np.flatnonzero(y_index == k)) for k in range(len(classes))]
        m_c = np.array([len(idx) for idx in members])
        train_c = _largest_remainder(m_c * n_train / m, n_train, m_c)
        dev_c = _largest_remainder(m_c * n_dev / m, n_dev, m_c - train_c)
        parts = [[], [], []]
        for idx, a, b in zip(members, train_c, dev_c):
            parts[0].append(idx[:a])
            parts[1].append(idx[a:a + b])
            parts[2].append(idx[a + b:])
        parts = [rng.permutation(np.concatenate(p)) for p in parts]
    out = []
    for p in parts:
        out.extend([X[p], y[p]])
    return tuple(out)


class Standardizer:
    r"""Zero mean, unit variance per feature (column), with statistics from the training set only.

    .. math::

        \mu_j = \frac{1}{m} \sum_{i=1}^{m} x^{(i)}_j, \qquad
        \sigma_j^2 = \frac{1}{m} \sum_{i=1}^{m} (x^{(i)}_j - \mu_j)^2, \qquad
        x_j \leftarrow \frac{x_j - \mu_j}{\sigma_j}

    computed by :meth:`fit` on the training rows and reused unchanged by :meth:`transform` on dev and test rows,
    so all three go through the same map. A constant feature (:math:`\sigma_j = 0`, e.g. a pixel that is
    always blank) is only centred (its :math:`\sigma_j` is replaced by 1). Source: Andrew Ng, *Improving Deep
    Neural Networks*, week 1, "Normalizing inputs".

    Examples
    --------
    >>> s = Standardizer().fit(np.array([[0.0, 5.0], [2.0, 5.0]]))
    >>> s.mean_, s.std_
    (array([1., 5.]), array([1., 1.]))
    >>> s.transform(np.array([[4.0, 6.0]]))
    array([[3., 1.]])
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def fit(self, X) -> "Standardizer":
        """Compute the mean and standard deviation of each column of ``X`` (rows are examples)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] < 1:
            raise ValueError(f"X must be a 2-D array (m, n_features) with at least one row, got shape {X.shape}")
        std = X.std(axis=0)
        self.mean_ = X.mean(axis=0)
        # a constant column can show a standard deviation of round-off size (0.1 is not exact in binary):
        # below a few ulps of its mean it counts as constant, and is only centred
        constant = std <= 10 * np.finfo(np.float64).eps * np.maximum(np.abs(self.mean_), 1.0)
        self.std_ = np.where(constant, 1.0, std)
        return self

    def transform(self, X) -> np.ndarray:
        """Apply :math:`(x - \\mu) / \\sigma` with the statistics from :meth:`fit`."""
        if self.mean_ is None:
            raise RuntimeError("Standardizer.transform called before fit")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.mean_.shape[0]:
            raise ValueError(f"X must have shape (m, {self.mean_.shape[0]}), got {X.shape}")
        return (X - self.mean_) / self.std_

    def fit_transform(self, X) -> np.ndarray:
        """:meth:`fit` on ``X``, then :meth:`transform` it."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X) -> np.ndarray:
        """Undo :meth:`transform`: :math:`x \\sigma + \\mu`."""
        if self.mean_ is None:
            raise RuntimeError("Standardizer.inverse_transform called before fit")
        return np.asarray(X, dtype=np.float64) * self.std_ + self.mean_


def to_columns(X, y, num_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Rows to the lecture's columns: ``(X.T, Y)`` with ``Y`` a (1, m) row of 0/1 labels for two classes or
    one-hot columns (C, m) for more.

    .. math::

        Y_{k i} = \mathbb 1[y^{(i)} = k], \qquad k = 0, \dots, C - 1

    ``num_classes`` defaults to ``max(y) + 1`` (at least 2).

    Examples
    --------
    >>> Xc, Y = to_columns(np.zeros((3, 2)), np.array([0, 2, 1]))
    >>> Xc.shape, Y
    ((2, 3), array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]]))
    >>> to_columns(np.zeros((2, 2)), np.array([1, 0]))[1]
    array([[1., 0.]])
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValueError(f"X must be (m, n_features) and y (m,), got X {X.shape} and y {y.shape}")
    if y.size and (y.dtype.kind not in "iu" or y.min() < 0):
        raise ValueError(f"y must hold integer labels >= 0, got dtype {y.dtype} and min {y.min()!r}")
    if num_classes is None:
        num_classes = max(2, int(y.max()) + 1 if y.size else 2)
    num_classes = check_int("num_classes", num_classes, minimum=2)
    if y.size and int(y.max()) >= num_classes:
        raise ValueError(f"labels must be < num_classes={num_classes}, got a label {int(y.max())}")
    if num_classes == 2:
        return X.T.copy(), y.astype(np.float64).reshape(1, -1)
    Y = np.zeros((num_classes, len(y)))
    Y[y, np.arange(len(y))] = 1.0
    return X.T.copy(), Y


def augment_images(images, rng: np.random.Generator, max_shift: int = 1, max_rotation: float = 10.0,
                   horizontal_flip: bool = False) -> np.ndarray:
    r"""Data augmentation (데이터 증강): a random small rotation and shift of each image, optionally a mirror image.

    Each image :math:`x` (an :math:`h \times w` array, background 0) becomes

    .. math::

        x' = S_{d_y, d_x}\left(R_\theta(F^{f} x)\right), \qquad
        \theta \sim \mathcal U[-\theta_\max, \theta_\max], \quad d_x, d_y \sim \mathcal U\{-s, \dots, s\},
        \quad f \sim \text{Bernoulli}(\tfrac12) \text{ if } \mathrm{horizontal\_flip} \text{ else } 0,

    where :math:`F` mirrors left-right, :math:`R_\theta` rotates by :math:`\theta` degrees about the centre
    (bilinear interpolation, ``scipy.ndimage.rotate``), :math:`S` shifts by whole pixels and fills with 0,
    :math:`\theta_\max` = ``max_rotation`` and :math:`s` = ``max_shift``. The draws for image :math:`i` are
    made in that order (flip, angle, shifts), image after image. Source: Andrew Ng, *Improving Deep Neural
    Networks*, week 1, "Other regularization methods"; Simard et al. (2003) for distortions of digits.

    Parameters
    ----------
    images : array_like
        Shape ``(m, h, w)``, e.g. ``load_digits()[0].reshape(-1, 8, 8)``.
    rng : numpy.random.Generator
        Source of every random choice.
    max_shift : int
        Largest shift in pixels, >= 0.
    max_rotation : float
        Largest rotation in degrees, in [0, 180].
    horizontal_flip : bool
        Mirror each image left-right with probability 1/2 (right for cats, wrong for digits).

    Returns
    -------
    numpy.ndarray
        New images of the same shape (float64).

    Examples
    --------
    >>> x = np.zeros((1, 5, 5)); x[0, 2, 1] = 1.0
    >>> out = augment_images(x, np.random.default_rng(0), max_shift=1, max_rotation=0.0)
    >>> out.shape, float(out.sum())
    ((1, 5, 5), 1.0)
    """
    from scipy import ndimage

    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {rng!r}")
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (m, h, w), got {images.shape}")
    max_shift = check_int("max_shift", max_shift, minimum=0)
    max_rotation = check_nonnegative("max_rotation", max_rotation)
    if max_rotation > 180.0:
        raise ValueError(f"max_rotation must be in [0, 180] degrees, got {max_rotation!r}")
    if not isinstance(horizontal_flip, bool):
        raise TypeError(f"horizontal_flip must be True or False, got {horizontal_flip!r}")
    out = np.empty_like(images)
    h, w = images.shape[1:]
    for i, x in enumerate(images):
        if horizontal_flip and rng.random() < 0.5:
            x = x[:, ::-1]
        angle = rng.uniform(-max_rotation, max_rotation)
        dy, dx = rng.integers(-max_shift, max_shift + 1, size=2)
        if angle != 0.0:
            x = ndimage.rotate(x, angle, reshape=False, order=1, mode="constant", cval=0.0)
        # whole-pixel shift with zero fill: shifted[r, c] = x[r - dy, c - dx]
        shifted = np.zeros((h, w))
        shifted[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            x[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
        out[i] = shifted
    return out
