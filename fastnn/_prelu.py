"""Parametric ReLU (prelu) hidden layers: everything but the kernels.

A prelu unit outputs ``z`` where ``z > 0`` and ``slope * z`` elsewhere, with
its own slope learned like a weight (He et al., 2015; Keras' ``PReLU`` with
one slope per unit). The slopes start at ``negative_slope``, are stored
after every other parameter in the flat buffer (``NetworkSpec.slope_offsets``)
and are exposed as ``prelu_slopes_``. A slope's gradient is
``sum(dL/da * min(z, 0))`` over the batch, which is why a prelu layer's
derivative reads its pre-activations.

This module holds the fitted attribute, the check of a fitted model's state
(warm_start, partial_fit) and the reference math of the slopes' gradient.
A backend reads a prelu layer as one whose activation code is
``ACTIVATIONS["prelu"]``, with its slopes in the block
``slope_offsets[l]:slope_offsets[l + 1]`` of the parameters.
"""

import numpy as np

# The fitted attribute, one array of slopes per hidden layer (None where the
# layer is not prelu), viewing the parameter buffer.
ATTRIBUTES = ("prelu_slopes_",)


def check_fitted(estimator, net):
    """Refuse a network that would add or drop the fitted model's slopes.

    Parameters
    ----------
    estimator : BaseMultilayerPerceptron
        A fitted (or initialized) estimator.
    net : NetworkSpec
        The network its parameters ask for now.
    """
    n_hidden = len(estimator.coefs_) - 1
    fitted = tuple(s is not None
                   for s in getattr(estimator, "prelu_slopes_", (None,) * n_hidden))
    asked = tuple(layer.activation == "prelu" for layer in net.layers[:-1])
    if fitted != asked:
        # The slopes are parameters: they cannot appear or vanish on a fitted model.
        raise ValueError(
            f"The fitted network has learned prelu slopes on hidden layers "
            f"{list(fitted)}, but activation asks for prelu on {list(asked)}; "
            "activation must keep prelu where the model has it (refit without "
            "warm_start to change it)."
        )


def attach(estimator, net, theta):
    """Set ``prelu_slopes_`` to views of ``theta`` (or remove it: no prelu layer)."""
    if net.has_prelu:
        estimator.prelu_slopes_ = net.slope_views(theta)[:-1]
    else:
        estimator.__dict__.pop("prelu_slopes_", None)


def slope_gradient(delta, Z):
    """The summed gradient of a prelu layer's slopes: ``sum(dL/da * min(z, 0))``."""
    return (delta * np.minimum(Z, 0)).sum(axis=0)
