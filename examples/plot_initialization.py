"""
=======================================
Weight initialization, and why not zero
=======================================

Training starts from random weights. The ``init`` parameter chooses how
they are drawn: scikit-learn's scheme (the default), or one of Keras'
variance-scaling schemes (Glorot, He and LeCun, each uniform or normal),
whose variance depends on the number of inputs (and outputs) of each
layer. ``init="zeros"`` starts every weight at zero, and this example shows
why that cannot work: a network whose hidden units start identical keeps
them identical, and with most activations it does not learn at all.
"""

# %%
# Every scheme on one network
# ---------------------------
#
# Two hidden layers of 64 ReLU units on the digits data set, 30 epochs of
# Adam from each initialization (a deliberate fixed budget, so the
# ``ConvergenceWarning`` is silenced). The list of schemes comes from
# fastnn itself: it is what the ``init`` parameter accepts. ``n_threads=1``
# keeps each of these small fits on one thread: shared between threads,
# every mini-batch waits for the slowest of them, which costs little on an
# idle machine but a lot on a busy one.

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from fastnn import MLPClassifier

# Every value of ``init=``.
INIT_SCHEMES = ("sklearn", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                "lecun_uniform", "lecun_normal", "zeros")

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
print("init schemes:", ", ".join(INIT_SCHEMES))


def train(init, activation="relu"):
    clf = MLPClassifier(
        hidden_layer_sizes=(64, 64), activation=activation, init=init, max_iter=30,
        n_iter_no_change=np.inf, random_state=0, n_threads=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    return clf


models = {init: train(init) for init in INIT_SCHEMES}
for init, clf in models.items():
    print(f"{init:>15}: loss {clf.loss_curve_[0]:.3f} -> {clf.loss_curve_[-1]:.4f}, "
          f"test accuracy {clf.score(X_test, y_test):.3f}")
print(f"chance: loss ln(10) = {np.log(10):.4f}, "
      f"accuracy {np.bincount(y_test).max() / len(y_test):.3f} (most frequent class)")

# %%
# On a network this shallow, every random scheme works about equally well:
# the curves lie on top of each other, and the test accuracies differ by
# less than one percentage point. The choice matters more in deep networks,
# where a scale that is slightly too small or too large is compounded layer
# after layer (see the vanishing-gradients example). ``zeros`` is the
# exception: its loss never leaves ``ln(10)``, the loss of predicting every
# digit with probability 1/10, and its accuracy is that of always
# predicting one class.
#
# Why zeros cannot learn
# ----------------------
#
# With every weight at zero, each hidden unit outputs ``relu(0) = 0``. The
# gradient of a weight is its input times the error arriving at its unit;
# the inputs of the second and output layers are those zeros, and the error
# sent back to the hidden units is multiplied by the (zero) outgoing
# weights. So every weight gets a gradient of exactly zero, at every step:
# only the output biases move, and they can only learn how frequent each
# class is. The same holds for every activation with ``f(0) = 0`` (``tanh``,
# ``gelu``, ``elu``, ...).
#
# With the logistic function, ``f(0) = 0.5``, so the weights do move, but
# the deeper problem appears: all units of a layer compute the same
# function, receive the same gradient, and take the same step, so they stay
# copies of each other. No update can ever break this symmetry: the network
# behaves as if it had one unit per hidden layer: from zeros it reaches
# about 0.24 test accuracy in 30 epochs, where the same network from
# Glorot's random weights reaches about 0.80. Random initialization exists
# to break this symmetry.

zeros_relu = models["zeros"]
print("relu, zeros: largest |weight| after training:",
      max(np.abs(W).max() for W in zeros_relu.coefs_))

sigmoid_zeros = train("zeros", activation="logistic")
sigmoid_glorot = train("glorot_uniform", activation="logistic")
W = sigmoid_zeros.coefs_[0]
print(f"logistic, zeros: largest |weight| in layer 1: {np.abs(W).max():.3f}; "
      f"largest difference between two units' weights: {np.abs(W - W[:, :1]).max():.1e}")
print(f"logistic, zeros:          test accuracy {sigmoid_zeros.score(X_test, y_test):.3f}")
print(f"logistic, glorot_uniform: test accuracy {sigmoid_glorot.score(X_test, y_test):.3f}")

# %%
# The plot
# --------
#
# Left: the ReLU network's training loss for each scheme. Right: the first
# layer's weights of the logistic network after training, one column per
# hidden unit (the 64 rows are the 64 pixels). From zeros, every column is
# the same: 64 copies of one unit. From Glorot's random draws, each unit
# has learned its own pattern.

fig, axes = plt.subplots(
    1, 3, figsize=(14, 4.5), gridspec_kw=dict(width_ratios=[1.6, 1, 1])
)
epochs = np.arange(1, 31)
styles = ["-", "--", "-.", ":"]
for i, (init, clf) in enumerate(models.items()):
    axes[0].plot(epochs, clf.loss_curve_, ls=styles[i % 4], lw=2 if init == "zeros" else 1.2,
                 label=init, color="k" if init == "zeros" else f"C{i}")
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("training loss (log loss)")
axes[0].set_title("ReLU network, 2 x 64 units")
axes[0].legend(fontsize=8, ncol=2)

for ax, clf, title in [
    (axes[1], sigmoid_zeros, "logistic, init='zeros'"),
    (axes[2], sigmoid_glorot, "logistic, init='glorot_uniform'"),
]:
    W = clf.coefs_[0]
    limit = np.abs(W).max()
    ax.imshow(W, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_title(f"{title}\nfirst-layer weights")
    ax.set_xlabel("hidden unit")
    ax.set_ylabel("input pixel")
fig.tight_layout()
plt.show()
