"""lrcourse.plotting: the grid covers the data, its values are the model's outputs at the grid points."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lrcourse.nn import Network  # noqa: E402
from lrcourse.plotting import decision_grid, plot_decision_boundary  # noqa: E402

X = np.array([[-1.0, 0.0], [2.0, 3.0], [0.5, -2.0]])


def test_grid_covers_the_points_with_margin_and_evaluates_the_network():
    net = Network([2, 5, 1], seed=0)
    xx, yy, zz = decision_grid(net, X, resolution=7, margin=0.25)
    assert xx.shape == yy.shape == zz.shape == (7, 7)
    assert (xx.min(), xx.max(), yy.min(), yy.max()) == pytest.approx((-1.25, 2.25, -2.25, 3.25))
    for i, j in [(0, 0), (3, 5), (6, 2)]:
        point = np.array([[xx[i, j]], [yy[i, j]]])
        assert zz[i, j] == pytest.approx(net.forward(point)[0, 0], rel=1e-14)


def test_softmax_network_gives_labels():
    net = Network([2, 5, 3], output="softmax", seed=0)
    xx, yy, zz = decision_grid(net, X, resolution=5)
    labels = net.predict(np.vstack([xx.ravel(), yy.ravel()]))
    np.testing.assert_array_equal(zz.ravel(), labels)


def test_plot_draws_and_bad_inputs():
    fig, ax = plt.subplots()
    out = plot_decision_boundary(ax, Network([2, 3, 1]), X, np.array([0, 1, 0]), resolution=20, title="t")
    assert out is ax and ax.get_title() == "t" and len(ax.collections) >= 2
    plt.close(fig)
    with pytest.raises(ValueError, match="X"):
        decision_grid(Network([2, 3, 1]), X[:, :1])
    with pytest.raises(ValueError, match="model"):
        decision_grid(Network([3, 3, 1]), X)
    with pytest.raises(TypeError, match="model"):
        decision_grid("net", X)
    with pytest.raises(ValueError, match="y"):
        plot_decision_boundary(ax, Network([2, 3, 1]), X, np.array([0, 1]))
