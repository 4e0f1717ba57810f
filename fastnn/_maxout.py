"""Maxout hidden layers: everything fastnn knows about them, but the kernels.

A maxout layer of ``n`` units with ``k`` pieces (``maxout_pieces``; Goodfellow
et al., 2013) multiplies its input by ``n * k`` weight columns, each unit's
``k`` pieces side by side: unit ``j`` outputs the largest of columns
``j * k`` to ``j * k + k - 1``, and in the backward pass its delta goes to
its first largest piece (``np.argmax``'s rule for ties), the others get 0.

This module holds the feature's parameter constraint, the check of a fitted
model's state (warm_start, partial_fit) and the reference math the tests
check every backend against. A backend reads a maxout layer as one whose
activation code is ``ACTIVATIONS["maxout"]``, whose activation parameter is
its number of pieces and whose width (``NetworkSpec.widths``) is
``units * pieces``.
"""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval

# The estimators' parameter constraints this feature adds.
CONSTRAINTS = {"maxout_pieces": [Interval(Integral, 1, None, closed="left")]}


def check_fitted(estimator, net):
    """Refuse a network whose layer widths differ from the fitted model's.

    Maxout's pieces are weight columns: a fitted model cannot gain, lose or
    change them (warm_start, partial_fit).

    Parameters
    ----------
    estimator : BaseMultilayerPerceptron
        A fitted (or initialized) estimator.
    net : NetworkSpec
        The network its parameters ask for now.
    """
    fitted = [c.shape[1] for c in estimator.coefs_]
    asked = [layer.width for layer in net.layers]
    if fitted != asked:
        raise ValueError(
            f"The fitted network's weight matrices have {fitted} columns, but "
            f"activation and maxout_pieces ask for {asked}; they must keep maxout "
            "and its pieces where the model has them (refit without warm_start to "
            "change them)."
        )


def maxout(Z, pieces):
    """The outputs of a maxout layer whose linear columns are ``Z``."""
    return Z.reshape(Z.shape[0], -1, pieces).max(axis=2)


def maxout_backward(delta, Z, pieces):
    """dL/dz of a maxout layer from dL/da: each unit's delta goes to its
    first largest piece, the other pieces get 0."""
    Z3 = Z.reshape(Z.shape[0], -1, pieces)
    winner = Z3.argmax(axis=2)
    out = np.zeros_like(Z3, dtype=delta.dtype)
    np.put_along_axis(out, winner[..., None], delta[..., None], axis=2)
    return out.reshape(Z.shape)
