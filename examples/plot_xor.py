"""
===============================================
A single layer cannot learn XOR; one hidden can
===============================================

XOR labels a point 1 when exactly one of its two coordinates is "on". No
straight line separates its two classes, so a network without a hidden layer
(a logistic regression: one weight per input, one bias) cannot fit it, while
one small hidden layer can. This is the classic argument of Minsky and
Papert (1969) against single-layer perceptrons, and the reason hidden layers
exist.

fastnn accepts ``hidden_layer_sizes=()``: the input goes straight to the
output unit, which makes the network linear. We fit it and a network with
one hidden layer of four ``tanh`` units to the four XOR points, then to a
noisy cloud around them, and draw both decision boundaries.
"""

# %%
# The four XOR points
# -------------------
#
# Both models are fitted with L-BFGS, which runs until the loss stops
# decreasing, so neither is held back by a short training run. At most three
# of the four points can be on the right side of a line; the linear model
# does worse than that: the weights that minimize its log loss are all
# (nearly) zero, so it predicts a probability of 0.5 for every point and its
# accuracy is decided by ties. The hidden layer gets all four points right.

import matplotlib.pyplot as plt
import numpy as np

from fastnn import MLPClassifier

X_xor = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y_xor = np.array([0, 1, 1, 0])

linear = MLPClassifier(hidden_layer_sizes=(), solver="lbfgs", random_state=0)
hidden = MLPClassifier(
    hidden_layer_sizes=(4,), activation="tanh", solver="lbfgs", random_state=0
)
linear.fit(X_xor, y_xor)
hidden.fit(X_xor, y_xor)

print(f"no hidden layer:  {len(linear.coefs_)} weight matrix, "
      f"accuracy {linear.score(X_xor, y_xor):.2f}")
print("  P(y=1) at the four points:", np.round(linear.predict_proba(X_xor)[:, 1], 3))
print("  weights:", np.round(linear.coefs_[0].ravel(), 4))
print(f"one hidden layer: {len(hidden.coefs_)} weight matrices, "
      f"accuracy {hidden.score(X_xor, y_xor):.2f}")
print("  P(y=1) at the four points:", np.round(hidden.predict_proba(X_xor)[:, 1], 3))

# %%
# A noisy XOR cloud
# -----------------
#
# The same holds for many points scattered around the four corners: the
# linear model stays near chance (0.5) while the hidden layer separates the
# two diagonals.

rng = np.random.RandomState(0)
corners = rng.randint(0, 2, size=(400, 2))
X = corners + rng.normal(scale=0.15, size=corners.shape)
y = corners[:, 0] ^ corners[:, 1]

linear_cloud = MLPClassifier(hidden_layer_sizes=(), solver="lbfgs", random_state=0)
hidden_cloud = MLPClassifier(
    hidden_layer_sizes=(4,), activation="tanh", solver="lbfgs", random_state=0
)
linear_cloud.fit(X, y)
hidden_cloud.fit(X, y)
print(f"noisy cloud, no hidden layer:  accuracy {linear_cloud.score(X, y):.3f}")
print(f"noisy cloud, one hidden layer: accuracy {hidden_cloud.score(X, y):.3f}")

# %%
# Decision boundaries
# -------------------
#
# The colour is the predicted probability of class 1 (red) against class 0
# (blue), and the black line is where it crosses 0.5. The linear model's
# surface is nearly flat, pale, close to 0.5 everywhere: tilting the plane
# towards one red corner costs as much log loss at the other red corner as
# it gains, so its boundary line, set by small imbalances of the sample,
# cuts every cluster's class in half. The hidden layer's tanh units each
# draw a line, and the output unit combines them into a band that holds
# both red corners and leaves out both blue ones: a boundary no single line
# can draw.

xx, yy = np.meshgrid(np.linspace(-0.6, 1.6, 221), np.linspace(-0.6, 1.6, 221))
grid = np.c_[xx.ravel(), yy.ravel()]

fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharey=True)
for ax, model, title in [
    (axes[0], linear_cloud, "no hidden layer (linear)"),
    (axes[1], hidden_cloud, "one hidden layer of 4 tanh units"),
]:
    proba = model.predict_proba(grid)[:, 1].reshape(xx.shape)
    print(f"{title}: P(y=1) over the plot spans {proba.min():.2f} to {proba.max():.2f}")
    filled = ax.contourf(xx, yy, proba, levels=np.linspace(0, 1, 11), cmap="RdBu_r",
                         alpha=0.8)
    if proba.min() < 0.5 < proba.max():
        ax.contour(xx, yy, proba, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=14, vmin=0, vmax=1)
    ax.scatter(X_xor[:, 0], X_xor[:, 1], c=y_xor, cmap="RdBu_r", edgecolors="k",
               marker="s", s=120, linewidths=2, vmin=0, vmax=1)
    ax.set_title(f"{title}\naccuracy {model.score(X, y):.2f}")
    ax.set_xlabel("$x_1$")
axes[0].set_ylabel("$x_2$")
fig.colorbar(filled, ax=axes, label="P(y = 1)")
plt.show()
