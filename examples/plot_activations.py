"""
=====================================
Activation functions and their slopes
=====================================

A hidden unit computes a weighted sum ``z`` of its inputs and passes it
through an activation function ``f``. During training, backpropagation
multiplies the error signal by the slope ``f'(z)`` at every layer it crosses,
so the shape of ``f'`` decides how well the gradient travels: where it is
near zero the unit learns nothing, where it is 1 the signal passes intact.

This example draws every hidden-layer activation fastnn offers beside its
derivative. The list comes from fastnn's registry of names, and the curves
from fastnn's NumPy reference implementation (the oracle its compiled
backends are tested against). We also check the curves against the compiled
kernels that ``fit`` and ``predict`` run (the default backend, Cython), and the derivatives
against finite differences.
"""

# %%
# The list of activations
# -----------------------
#
# ``HIDDEN_ACTIVATIONS`` lists the names ``activation=`` accepts for hidden
# layers (``sigmoid`` and ``silu`` are aliases of ``logistic`` and
# ``swish``). The registry also knows ``softmax`` and ``exp``, which fastnn
# only puts on the output layer (for ``log_loss`` on several classes and for
# ``loss="poisson"``).

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from fastnn import MLPRegressor
from fastnn._registry import ACTIVATION_ALIASES, ACTIVATIONS, HIDDEN_ACTIVATIONS
from fastnn.backends._numpy import _activate, _derivative, _maxout_backward

print("hidden activations:", ", ".join(HIDDEN_ACTIVATIONS))
print("aliases:", ACTIVATION_ALIASES)
print("output-only:", [name for name in ACTIVATIONS if name not in HIDDEN_ACTIVATIONS])

# %%
# The curves, from fastnn's reference math
# ----------------------------------------
#
# Two activations take a parameter: ``leaky_relu`` and ``prelu`` use the
# estimators' ``negative_slope`` (0.2 by default) as their slope below zero
# (for ``prelu`` it is only the starting value: each unit then learns its
# own). A ``maxout`` unit is not a function of one number ``z``: it outputs
# the largest of ``maxout_pieces`` linear functions of its inputs. We draw a
# unit of two pieces with weights +1 and -1 on one input ``x``, which
# computes ``max(x, -x) = |x|``; a fitted unit learns its own pieces, and so
# a convex piecewise-linear function with up to ``maxout_pieces`` pieces.

negative_slope = MLPRegressor().negative_slope
maxout_weights = np.array([[1.0, -1.0]])  # one input, two pieces

# An even number of points keeps z = 0 (the kink of relu and friends) off
# the grid, so that the finite differences below are meaningful everywhere.
z = np.linspace(-4, 4, 400)


def value_at(name, x):
    """f(x) for a 1-D array x, from fastnn's NumPy reference backend."""
    if name == "maxout":
        return _activate(name, x[:, None] @ maxout_weights, maxout_weights.shape[1]).ravel()
    param = negative_slope if name in ("leaky_relu", "prelu") else 0.0
    return _activate(name, x[:, None], param).ravel()


def slope_at(name, x):
    """f'(x), from the reference backend's backward-pass formulas."""
    if name == "maxout":
        pieces = x[:, None] @ maxout_weights
        n_pieces = maxout_weights.shape[1]
        # The gradient goes to the winning piece, then back through its weight.
        to_pieces = _maxout_backward(np.ones((len(x), 1)), pieces, n_pieces)
        return (to_pieces @ maxout_weights.T).ravel()
    param = negative_slope if name in ("leaky_relu", "prelu") else 0.0
    value = _activate(name, x[:, None], param)
    return _derivative(name, x[:, None], value, param).ravel()


curves = {name: (value_at(name, z), slope_at(name, z)) for name in HIDDEN_ACTIVATIONS}

# %%
# Checking the reference against the compiled kernels
# ---------------------------------------------------
#
# The reference is NumPy; ``fit`` and ``predict`` run compiled kernels. To
# compare them through the public API, we build a network with one input,
# one hidden unit and one output, set the hidden weight to 1 (or the two
# maxout pieces to +1 and -1), the output weight to 1 and the biases to 0:
# its prediction is then exactly ``f(z)``. A one-iteration fit only creates
# the weights, so we silence its ``ConvergenceWarning``. The derivatives are
# checked with central finite differences of the reference function.

rng = np.random.RandomState(0)
X_tiny, y_tiny = rng.normal(size=(10, 1)), rng.normal(size=10)

print(f"{'activation':>11}  |compiled - reference|  |finite diff - f'|")
for name in HIDDEN_ACTIVATIONS:
    net = MLPRegressor(hidden_layer_sizes=(1,), activation=name, max_iter=1,
                       random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net.fit(X_tiny, y_tiny)
    # coefs_ and intercepts_ are views into the model's parameters: set in place.
    net.coefs_[0][...] = maxout_weights if name == "maxout" else 1.0
    net.coefs_[1][...] = 1.0
    for b in net.intercepts_:
        b[...] = 0.0
    if name == "prelu":
        net.prelu_slopes_[0][...] = negative_slope
    value, slope = curves[name]
    compiled_gap = np.max(np.abs(net.predict(z[:, None]) - value))

    h = 1e-5
    finite_diff = (value_at(name, z + h) - value_at(name, z - h)) / (2 * h)
    slope_gap = np.max(np.abs(finite_diff - slope))
    print(f"{name:>11}  {compiled_gap:21.1e}  {slope_gap:18.1e}")

# %%
# The plot
# --------
#
# Things to look for:
#
# - ``logistic`` and ``tanh`` flatten out on both sides: their slopes fall
#   to zero for large ``|z|`` (saturation), and the logistic slope is never
#   above 1/4, which is why deep sigmoid networks suffer from vanishing
#   gradients (see the vanishing-gradients example).
# - ``relu`` has slope exactly 1 for ``z > 0`` and exactly 0 below: the
#   gradient passes unchanged through active units, but a unit whose input
#   stays negative ("dead") stops learning. ``leaky_relu`` and ``prelu``
#   keep a small slope below zero; ``elu`` and ``selu`` curve smoothly to
#   a negative floor. ``selu`` is a scaled ``elu`` (slope about 1.05 above
#   zero, up to about 1.76 just below), with constants chosen to keep
#   activations normalized in deep nets with ``lecun_normal``
#   initialization.
# - ``gelu`` and ``swish`` are smooth versions of relu that dip slightly
#   below zero; their slopes overshoot 1 a little (up to about 1.13 and
#   1.10) and turn slightly negative below about -0.75 (gelu) and -1.28
#   (swish).
# - ``softplus`` is a smooth relu whose slope is the logistic function.
# - ``maxout`` (here ``|x|``) is piecewise linear, with slope +1 or -1.

fig, axes = plt.subplots(3, 4, figsize=(13, 8.5), sharex=True)
for ax, name in zip(axes.ravel(), HIDDEN_ACTIVATIONS):
    value, slope = curves[name]
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
    ax.plot(z, value, lw=2, label="f(z)")
    ax.plot(z, slope, lw=2, ls="--", label="f'(z)")
    title = {"maxout": "maxout: max(x, -x)",
             "leaky_relu": f"leaky_relu (slope {negative_slope:g})",
             "prelu": f"prelu (initial slope {negative_slope:g})"}.get(name, name)
    ax.set_title(title)
    ax.set_ylim(-2.0, 3.0)
    ax.grid(alpha=0.3)
for ax in axes[-1]:
    ax.set_xlabel("z")
axes[0, 0].legend(loc="upper left")
fig.suptitle("fastnn's hidden-layer activations (solid) and their derivatives (dashed)")
fig.tight_layout()
plt.show()
