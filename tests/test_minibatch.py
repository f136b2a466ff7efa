"""lrcourse.minibatch: every example exactly once, sizes ceil(m/b) with a short last batch, order set by the seed."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcourse.minibatch import num_mini_batches, random_mini_batches


def make(m, n_x=3):
    X = np.arange(n_x * m, dtype=float).reshape(n_x, m)
    Y = np.arange(m, dtype=float).reshape(1, m)  # the label of column j is j: tracks each example
    return X, Y


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 300), b=st.integers(1, 130), seed=st.integers(0, 2**32 - 1))
def test_partition_sizes_and_order(m, b, seed):
    X, Y = make(m)
    batches = random_mini_batches(X, Y, batch_size=b, rng=np.random.default_rng(seed))
    assert len(batches) == math.ceil(m / b) == num_mini_batches(m, b)
    sizes = [yb.shape[1] for _, yb in batches]
    assert sizes[:-1] == [b] * (len(sizes) - 1)
    assert sizes[-1] == (m % b if m % b else b)
    seen = np.concatenate([yb[0] for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(m))  # every example exactly once
    # the order is one permutation drawn from a generator with this seed
    order = np.random.default_rng(seed).permutation(m)
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in batches], axis=1), X[:, order])
    for xb, yb in batches:  # each x stays with its own y
        np.testing.assert_array_equal(xb, X[:, yb[0].astype(int)])


def test_same_seed_same_order_other_seed_other_order():
    X, Y = make(50)
    a = random_mini_batches(X, Y, 16, rng=np.random.default_rng(1))
    b = random_mini_batches(X, Y, 16, rng=np.random.default_rng(1))
    c = random_mini_batches(X, Y, 16, rng=np.random.default_rng(2))
    assert all(np.array_equal(u[1], v[1]) for u, v in zip(a, b))
    assert not all(np.array_equal(u[1], v[1]) for u, v in zip(a, c))
    # successive calls on one generator give successive epochs, each a fresh permutation
    rng = np.random.default_rng(3)
    e1 = np.concatenate([yb for _, yb in random_mini_batches(X, Y, 16, rng)], axis=1)
    e2 = np.concatenate([yb for _, yb in random_mini_batches(X, Y, 16, rng)], axis=1)
    assert not np.array_equal(e1, e2)


def test_bad_inputs():
    X, Y = make(10)
    with pytest.raises(TypeError, match="rng"):
        random_mini_batches(X, Y, 4)
    with pytest.raises(ValueError, match="batch_size"):
        random_mini_batches(X, Y, 0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="X"):
        random_mini_batches(X, Y[:, :5], 4, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="batch_size"):
        num_mini_batches(10, 2.5)
