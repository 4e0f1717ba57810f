"""
==========================================
Regression: one target and several at once
==========================================

:class:`fastnn.MLPRegressor` fits real-valued targets with a squared-error
loss, like :class:`sklearn.neural_network.MLPRegressor`. This example fits a
noisy one-dimensional function (one output), then a closed curve in the plane,
whose two coordinates are predicted together by one network (two outputs: pass
``y`` of shape ``(n_samples, 2)``). Each fit reports its R^2 on held-out
points, and the plots show the learned functions beside the data.
"""

# %%
# One output: a noisy 1-D function
# --------------------------------
# 300 points of :math:`f(x) = \sin(2x) + 0.3x` with Gaussian noise. A small
# network with ``tanh`` units and the L-BFGS solver suits a problem this
# size: L-BFGS uses the whole data set at each step and converges in several
# hundred iterations here. A little L2 penalty (``alpha``) keeps the curve
# from chasing the noise.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

from fastnn import MLPRegressor

rng = np.random.RandomState(0)


def f(x):
    return np.sin(2 * x) + 0.3 * x


x = rng.uniform(-3, 3, size=300)
y = f(x) + rng.normal(scale=0.2, size=x.shape)
x_train, x_test, y_train, y_test = train_test_split(
    x.reshape(-1, 1), y, test_size=0.25, random_state=0
)

reg = MLPRegressor(
    hidden_layer_sizes=(32, 32), activation="tanh", solver="lbfgs", alpha=1e-2,
    max_iter=2000, random_state=0,
)
reg.fit(x_train, y_train)
# The noise caps the test R^2: the true function itself scores this much.
ceiling = r2_score(y_test, f(x_test.ravel()))
print(f"single output: {reg.n_iter_} L-BFGS iterations, "
      f"test R^2 = {reg.score(x_test, y_test):.4f} "
      f"(the true function scores {ceiling:.4f} on the same noisy points)")

# %%
# The fit follows the function through the noise; outside the training range
# (the shaded band's edges) a network extrapolates roughly linearly, as
# ``tanh`` units saturate.
grid = np.linspace(-3.5, 3.5, 400).reshape(-1, 1)
fig, ax = plt.subplots(figsize=(7, 4))
ax.axvspan(-3, 3, color="0.93", zorder=0, label="training range")
ax.scatter(x_train, y_train, s=10, color="C0", alpha=0.6, label="training points")
ax.plot(grid, f(grid), color="black", linestyle="--", label="true function")
ax.plot(grid, reg.predict(grid), color="C3", linewidth=2, label="MLPRegressor")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_title("One output: y = sin(2x) + 0.3x + noise")
ax.legend(loc="upper left")
fig.tight_layout()

# %%
# Two outputs: a curve in the plane
# ---------------------------------
# The target is a point :math:`(\sin 2t, \cos 3t)` of a Lissajous curve, with
# noise, as a function of the angle :math:`t`. One network predicts both
# coordinates: its output layer has two units and the loss sums over them.
# The features are :math:`\cos t` and :math:`\sin t` rather than :math:`t`,
# so the model sees that the curve is closed. Here the Adam solver trains on
# mini-batches; ``r2_score(..., multioutput="raw_values")`` gives one R^2 per
# output, ``score`` their mean.
t = rng.uniform(0, 2 * np.pi, size=2000)
features = np.column_stack([np.cos(t), np.sin(t)])
targets = np.column_stack([np.sin(2 * t), np.cos(3 * t)])
targets_noisy = targets + rng.normal(scale=0.05, size=targets.shape)
F_train, F_test, Y_train, Y_test = train_test_split(
    features, targets_noisy, test_size=0.25, random_state=0
)

multi = MLPRegressor(
    hidden_layer_sizes=(64, 64), learning_rate_init=3e-3, batch_size=64,
    max_iter=300, early_stopping=True, n_iter_no_change=20, random_state=0,
)
multi.fit(F_train, Y_train)
per_output = r2_score(Y_test, multi.predict(F_test), multioutput="raw_values")
print(f"two outputs: {multi.n_iter_} epochs, n_outputs_ = {multi.n_outputs_}, "
      f"test R^2 per output = {np.round(per_output, 4).tolist()}, "
      f"mean = {multi.score(F_test, Y_test):.4f}")

# %%
# The predicted curve, traced by sweeping :math:`t` once around, lies on the
# true one.
sweep = np.linspace(0, 2 * np.pi, 500)
predicted = multi.predict(np.column_stack([np.cos(sweep), np.sin(sweep)]))
fig, ax = plt.subplots(figsize=(5, 5))
ax.scatter(*Y_train.T, s=4, color="C0", alpha=0.3, label="training points")
ax.plot(np.sin(2 * sweep), np.cos(3 * sweep), color="black", linestyle="--",
        label="true curve")
ax.plot(*predicted.T, color="C3", linewidth=2, label="MLPRegressor (2 outputs)")
ax.set_xlabel("output 1: sin(2t)")
ax.set_ylabel("output 2: cos(3t)")
ax.set_aspect("equal")
ax.set_title("Two outputs: a Lissajous curve")
ax.legend(loc="lower left", fontsize="small")
fig.tight_layout()
plt.show()
