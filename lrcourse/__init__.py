"""lrcourse: the tested package behind the book *Improving Deep Neural Networks*.

The book's chapters import these modules; nothing here imports from the book.

- :mod:`lrcourse.optim`: from-scratch numpy optimizers (SGD, momentum, RMSprop, Adam).
- :mod:`lrcourse.schedules`: learning-rate schedules as pure functions of the step.
- :mod:`lrcourse.lr_finder`: the LR range test for a torch model, and gradient descent on :math:`w^2`.
- :mod:`lrcourse.ewa`: exponentially weighted averages.
- :mod:`lrcourse.landscapes`: 2-D test costs (the ravine, Rosenbrock) and optimizer paths on them.
- :mod:`lrcourse.critical_points`: saddle points, plateaus and how rare minima are in high dimensions.
- :mod:`lrcourse.compare`: final losses over seeds, learning-rate sensitivity, best loss per budget.
- :mod:`lrcourse.least_squares`: a 2-D least-squares problem and noisy mini-batch gradient descent paths.
- :mod:`lrcourse.performance_scheduling`: reduce-on-plateau training with early stopping.
- :mod:`lrcourse.nn`: a from-scratch numpy fully connected network (L2, L1, dropout, max-norm).
- :mod:`lrcourse.data`: planar data sets, digits, seeded stratified train/dev/test splits, standardizing.
- :mod:`lrcourse.minibatch`: shuffled mini-batches.
- :mod:`lrcourse.train`: the training loop with history, schedules and early stopping.
- :mod:`lrcourse.plotting`: decision regions of a classifier on a planar data set.
- :mod:`lrcourse.gradcheck`: numerical gradients and the relative error.
- :mod:`lrcourse.diagnostics`: signal statistics through deep networks, whole-network gradient checks, steps to converge.
- :mod:`lrcourse.init`: weight initialization (He, Xavier, Glorot).
- :mod:`lrcourse.sweep`: many training runs of a small torch network at once (learning rates x seeds).
- :mod:`lrcourse.regularization`: inverted dropout.
- :func:`get_device`: CUDA, else MPS, else CPU.
"""

from lrcourse import (compare, critical_points, data, diagnostics, ewa, gradcheck, init, landscapes, least_squares, lr_finder,
                      minibatch, nn, optim, performance_scheduling, plotting, regularization, schedules, sweep, train)
from lrcourse.device import get_device

__version__ = "0.1.0"

__all__ = ["ewa", "get_device", "gradcheck", "init", "optim", "regularization", "schedules", "sweep"]
