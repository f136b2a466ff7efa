"""lrcourse.regularization.dropout: the statistics inverted dropout promises."""

import numpy as np
import pytest

from lrcourse.regularization import dropout


@pytest.mark.parametrize("keep_prob", [0.2, 0.5, 0.8])
def test_keeps_about_keep_prob_and_preserves_the_mean(keep_prob):
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 1.5, size=(200, 500))
    out, mask = dropout(a, keep_prob, rng)
    n = a.size
    # Binomial: the kept fraction has standard deviation sqrt(p (1 - p) / n); allow 5 of those.
    assert abs(mask.mean() - keep_prob) < 5 * np.sqrt(keep_prob * (1 - keep_prob) / n)
    assert out.mean() == pytest.approx(a.mean(), rel=0.02)
    np.testing.assert_allclose(out, np.where(mask, a / keep_prob, 0.0))


def test_keep_prob_one_is_identity():
    a = np.arange(6.0).reshape(2, 3)
    out, mask = dropout(a, 1.0, np.random.default_rng(0))
    np.testing.assert_array_equal(out, a)
    assert mask.all()


def test_seeded():
    a = np.ones((5, 5))
    np.testing.assert_array_equal(dropout(a, 0.5, np.random.default_rng(3))[1], dropout(a, 0.5, np.random.default_rng(3))[1])


@pytest.mark.parametrize("keep_prob", [0.0, -0.5, 1.01, float("nan")])
def test_bad_keep_prob(keep_prob):
    with pytest.raises(ValueError, match="keep_prob"):
        dropout(np.ones(3), keep_prob, np.random.default_rng(0))


def test_bad_rng():
    with pytest.raises(TypeError, match="rng"):
        dropout(np.ones(3), 0.5, 0)
