"""lrcourse.data: seeded generators, the digits loader, stratified splits, the Standardizer, the column layout.

Independent answers: the generators' curves in closed form (noise = 0), scikit-learn's digits as shipped,
class proportions counted with pandas, statistics computed by hand with numpy.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets as skd

from lrcourse.data import (
    Standardizer,
    load_digits,
    make_circles,
    make_moons,
    make_spirals,
    to_columns,
    train_dev_test_split,
)


@pytest.mark.parametrize("make", [make_moons, make_circles, make_spirals])
def test_generators_are_seeded_and_shaped(make):
    X1, y1 = make(101, seed=3)
    X2, y2 = make(101, seed=3)
    X3, _ = make(101, seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert X1.shape == (101, 2) and X1.dtype == np.float64
    assert y1.shape == (101,) and y1.dtype == np.int64
    assert np.bincount(y1).tolist() == [51, 50]


def test_generators_noise_free_curves():
    X, y = make_moons(60, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.hypot(1 - lower[:, 0], 0.5 - lower[:, 1]), 1.0, rtol=1e-12)
    # the same point set as scikit-learn's make_moons without noise
    Xs, ys = skd.make_moons(60, noise=0.0, shuffle=False)
    key = lambda A: A[np.lexsort(np.round(A, 9).T)]
    np.testing.assert_allclose(key(X[y == 0]), key(Xs[ys == 0]), atol=1e-12)
    np.testing.assert_allclose(key(X[y == 1]), key(Xs[ys == 1]), atol=1e-12)
    X, y = make_circles(60, noise=0.0, factor=0.3)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.3, rtol=1e-12)
    X, y = make_spirals(90, n_classes=3, noise=0.0)
    assert np.bincount(y).tolist() == [30, 30, 30]
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.max() == pytest.approx(1.0) and r.min() == pytest.approx(0.0)
    # noise-free arm k: angle = 4 pi r + 2 pi k / 3, point = r (sin, cos)
    for k in range(3):
        Xk = X[y == k]
        rk = np.hypot(*Xk.T)
        theta = 4 * np.pi * rk + 2 * np.pi * k / 3
        np.testing.assert_allclose(Xk, np.c_[rk * np.sin(theta), rk * np.cos(theta)], atol=1e-12)


def test_load_digits_matches_sklearn():
    X, y = load_digits()
    bunch = skd.load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    np.testing.assert_array_equal(X * 16, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)
    assert X.min() == 0.0 and X.max() == 1.0


def test_split_sizes_seed_and_partition():
    X, y = load_digits()
    a = train_dev_test_split(X, y, sizes=(0.6, 0.2, 0.2), seed=1)
    b = train_dev_test_split(X, y, sizes=(0.6, 0.2, 0.2), seed=1)
    c = train_dev_test_split(X, y, sizes=(0.6, 0.2, 0.2), seed=2)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])
    m = 1797
    n_dev, n_test = round(0.2 * m), round(0.2 * m)
    assert [len(a[1]), len(a[3]), len(a[5])] == [m - n_dev - n_test, n_dev, n_test]
    # a partition: every image appears in exactly one split (digits has duplicate-free rows per index,
    # so compare multisets of row bytes)
    rows = sorted(r.tobytes() for part in (a[0], a[2], a[4]) for r in part)
    assert rows == sorted(r.tobytes() for r in X)


@pytest.mark.parametrize("sizes", [(0.6, 0.2, 0.2), (0.7, 0.3, 0.0), (0.98, 0.01, 0.01), (0.5, 0.25, 0.25)])
def test_stratified_proportions(sizes):
    X, y = load_digits()
    Xtr, ytr, Xd, yd, Xte, yte = train_dev_test_split(X, y, sizes=sizes, seed=0, stratify=True)
    whole = pd.Series(y).value_counts().sort_index()
    for labels, frac, tol in [(ytr, sizes[0], 1), (yd, sizes[1], 1), (yte, sizes[2], 2)]:
        counts = pd.Series(labels).value_counts().reindex(whole.index, fill_value=0)
        assert np.all(np.abs(counts.to_numpy() - whole.to_numpy() * frac) < tol + 1e-9)
    assert len(ytr) + len(yd) + len(yte) == len(y)


def test_unstratified_split_is_a_seeded_permutation():
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20) % 2
    Xtr, ytr, Xd, yd, Xte, yte = train_dev_test_split(X, y, sizes=(0.5, 0.25, 0.25), seed=5, stratify=False)
    order = np.random.default_rng(5).permutation(20)
    np.testing.assert_array_equal(Xtr, X[order[:10]])
    np.testing.assert_array_equal(Xd, X[order[10:15]])
    np.testing.assert_array_equal(yte, y[order[15:]])


def test_split_bad_inputs():
    X, y = np.zeros((10, 2)), np.zeros(10, dtype=int)
    with pytest.raises(ValueError, match="sizes"):
        train_dev_test_split(X, y, sizes=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="sizes"):
        train_dev_test_split(X, y, sizes=(0.5, 0.5))
    with pytest.raises(ValueError, match="X"):
        train_dev_test_split(X, y[:5])
    with pytest.raises(TypeError, match="stratify"):
        train_dev_test_split(X, y, stratify="yes")


def test_standardizer_against_manual_statistics():
    rng = np.random.default_rng(0)
    X_train = rng.normal(loc=[1.0, -3.0, 5.0], scale=[2.0, 0.5, 10.0], size=(50, 3))
    X_dev = rng.normal(size=(7, 3))
    s = Standardizer().fit(X_train)
    mu = X_train.sum(axis=0) / 50
    sigma = np.sqrt(((X_train - mu) ** 2).sum(axis=0) / 50)
    np.testing.assert_allclose(s.mean_, mu, rtol=1e-13)
    np.testing.assert_allclose(s.std_, sigma, rtol=1e-13)
    Z = s.transform(X_train)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-13)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-13)
    # dev data go through the training statistics, not their own
    np.testing.assert_allclose(s.transform(X_dev), (X_dev - mu) / sigma, rtol=1e-13)
    np.testing.assert_allclose(s.inverse_transform(s.transform(X_dev)), X_dev, rtol=1e-12, atol=1e-14)
    # a constant column is centred only
    const = Standardizer().fit(np.c_[np.ones(4), np.arange(4.0)])
    assert const.std_[0] == 1.0
    # ... also when its value is not exact in binary, so that its std is round-off rather than 0
    inexact = Standardizer().fit(np.c_[np.full(3, 0.1), [1.0, 2.0, 3.0]])
    assert inexact.std_[0] == 1.0 and inexact.std_[1] == pytest.approx(np.sqrt(2 / 3), rel=1e-14)
    assert inexact.transform([[0.2, 2.0]])[0, 0] == pytest.approx(0.1, rel=1e-12)  # 0.2 - 0.1, not ~1e16
    with pytest.raises(RuntimeError, match="fit"):
        Standardizer().transform(X_dev)
    with pytest.raises(ValueError, match="X"):
        s.transform(np.zeros((2, 4)))


def test_to_columns():
    X = np.arange(6.0).reshape(3, 2)
    Xc, Y = to_columns(X, np.array([1, 0, 1]))
    np.testing.assert_array_equal(Xc, X.T)
    np.testing.assert_array_equal(Y, [[1.0, 0.0, 1.0]])
    _, Y = to_columns(X, np.array([0, 3, 1]), num_classes=5)
    expected = np.zeros((5, 3))
    expected[0, 0] = expected[3, 1] = expected[1, 2] = 1.0
    np.testing.assert_array_equal(Y, expected)
    with pytest.raises(ValueError, match="num_classes"):
        to_columns(X, np.array([0, 3, 1]), num_classes=3)
    with pytest.raises(ValueError, match="y"):
        to_columns(X, np.array([0.5, 1, 0]))


# --- data augmentation -----------------------------------------------------------------------------------

from lrcourse.data import augment_images  # noqa: E402


def shifted(x, dy, dx):
    """Independent whole-pixel shift with zero fill, written with np.roll and masking."""
    out = np.roll(np.roll(x, dy, axis=0), dx, axis=1)
    if dy > 0:
        out[:dy] = 0
    elif dy < 0:
        out[dy:] = 0
    if dx > 0:
        out[:, :dx] = 0
    elif dx < 0:
        out[:, dx:] = 0
    return out


def test_augment_identity_and_seeded():
    X, _ = load_digits()
    images = X[:20].reshape(-1, 8, 8)
    np.testing.assert_array_equal(augment_images(images, np.random.default_rng(0), 0, 0.0), images)
    a = augment_images(images, np.random.default_rng(3), 1, 10.0)
    b = augment_images(images, np.random.default_rng(3), 1, 10.0)
    np.testing.assert_array_equal(a, b)
    assert a.shape == images.shape and a.min() >= 0.0 and a.max() <= 1.0 + 1e-12


def test_augment_shifts_are_whole_pixel_shifts():
    X, _ = load_digits()
    images = X[:40].reshape(-1, 8, 8)
    out = augment_images(images, np.random.default_rng(1), max_shift=2, max_rotation=0.0)
    used = set()
    for x, y in zip(images, out):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if np.array_equal(y, shifted(x, dy, dx))]
        assert matches, "every output is the input shifted by at most 2 pixels"
        used.update(matches)
    assert len(used) > 5  # shifts vary from image to image


def test_augment_flips_and_rotations():
    X, _ = load_digits()
    images = X[:200].reshape(-1, 8, 8)
    out = augment_images(images, np.random.default_rng(2), max_shift=0, max_rotation=0.0, horizontal_flip=True)
    flipped = [np.array_equal(y, x[:, ::-1]) and not np.array_equal(x, x[:, ::-1]) for x, y in zip(images, out)]
    same = [np.array_equal(y, x) for x, y in zip(images, out)]
    assert all(f or s for f, s in zip(flipped, same))
    assert 70 < sum(flipped) < 130  # about half, Bernoulli(1/2) on 200 images
    # a centred disc is unchanged by rotation, up to interpolation at its rim
    r = np.hypot(*np.meshgrid(np.arange(21) - 10.0, np.arange(21) - 10.0))
    disc = (r <= 6).astype(float)[None]
    rotated = augment_images(np.repeat(disc, 5, axis=0), np.random.default_rng(0), 0, 30.0)
    assert np.all(np.abs(rotated - disc)[:, r <= 4.5] < 1e-9)
    assert np.allclose(rotated.sum(axis=(1, 2)), disc.sum(), rtol=0.05)
    with pytest.raises(ValueError, match="max_rotation"):
        augment_images(disc, np.random.default_rng(0), 1, 200.0)
    with pytest.raises(ValueError, match="images"):
        augment_images(disc[0], np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        augment_images(disc, 0)
