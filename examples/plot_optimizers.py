"""
==================================
Comparing the optimizers (solvers)
==================================

fastnn's ``solver`` parameter takes scikit-learn's three optimizers
(``lbfgs``, ``sgd``, ``adam``) and four more: ``rmsprop``, ``adagrad``,
``adamw`` and ``nadam``. This example trains the same network on the same
data with each of them and draws the training loss after every epoch.

Its lesson is that an optimizer comes with a learning rate: compared at one
shared rate, the optimizers mostly show which of them that rate suits.
Compared each at its own best rate, they all fit the data, and their test
accuracies end up within about one percentage point of each other.
"""

# %%
# The problem and the optimizers
# ------------------------------
#
# The digits data set (8x8 images of handwritten digits, scaled to [0, 1]),
# split into training and test sets, and one hidden layer of 64 ReLU units.
# The list of stochastic solvers comes from fastnn's registry; ``lbfgs`` is
# the one full-batch solver. ``n_threads=1`` keeps each of these small fits
# on one thread: shared between threads, every mini-batch waits for the
# slowest of them, which costs little on an idle machine but a lot on a
# busy one.

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from fastnn import MLPClassifier

# Every mini-batch solver of ``solver=`` (L-BFGS comes last, apart).
STOCHASTIC_SOLVERS = ("sgd", "adam", "rmsprop", "adagrad", "adamw", "nadam")

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
print("stochastic solvers:", ", ".join(STOCHASTIC_SOLVERS), "(plus lbfgs)")

n_epochs = 30


def train(solver, learning_rate):
    """Training loss after each of ``n_epochs`` epochs, and test accuracy."""
    clf = MLPClassifier(
        hidden_layer_sizes=(64,), solver=solver, learning_rate_init=learning_rate,
        max_iter=n_epochs, n_iter_no_change=np.inf, random_state=0, n_threads=1,
    )
    # A fixed number of epochs: no stopping rule, and no warning about it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    return np.array(clf.loss_curve_), clf.score(X_test, y_test)


# %%
# One shared learning rate
# ------------------------
#
# With ``learning_rate_init=0.001``, scikit-learn's default, the adaptive
# optimizers that divide each step by a running average of squared
# gradients (``adam``, ``adamw``, ``nadam``, ``rmsprop``) make good
# progress. ``sgd`` (with scikit-learn's default Nesterov momentum of 0.9)
# and ``adagrad``, whose step shrinks as it accumulates every squared
# gradient it has seen, are far behind, at under 60% test accuracy after 30
# epochs: the rate is too small for them.

shared_rate = 1e-3
shared = {solver: train(solver, shared_rate) for solver in STOCHASTIC_SOLVERS}
print(f"training loss after {n_epochs} epochs at learning_rate_init={shared_rate}:")
for solver, (curve, accuracy) in shared.items():
    print(f"  {solver:>8}: training loss {curve[-1]:.4f}, test accuracy {accuracy:.3f}")

# %%
# Each optimizer at its own best rate
# -----------------------------------
#
# We now try six rates from 0.001 to 0.3 for each optimizer and keep the one
# with the lowest training loss, averaged over the last five epochs (the
# test set plays no part in the choice). ``sgd`` and ``adagrad`` want rates
# 100 to 300 times larger than 0.001 (``sgd`` picks the largest rate tried),
# while the Adam family and ``rmsprop`` do much worse at 0.3 than at 0.1.
# At their best rates all six fit the training set almost perfectly and
# score between 0.97 and 0.98 on the test set. The Adam family reaches the
# lowest training losses (about 0.004, against about 0.01 for ``sgd`` and
# 0.02 to 0.06 for ``rmsprop`` and ``adagrad``), but that difference no
# longer shows in the test accuracy. (``adamw`` is ``adam`` plus a
# decoupled weight decay: before each step the weights shrink by the
# factor ``1 - learning_rate_init * weight_decay``, with
# ``weight_decay=0.004`` by default. Over 30 epochs that changes little,
# hence the nearly identical curves.)

rates = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3]
tuned = {}
for solver in STOCHASTIC_SOLVERS:
    candidates = {rate: train(solver, rate) for rate in rates}
    best_rate = min(candidates, key=lambda rate: np.mean(candidates[rate][0][-5:]))
    tuned[solver] = (best_rate, *candidates[best_rate])
print(f"best learning_rate_init in {rates}:")
for solver, (rate, curve, accuracy) in tuned.items():
    print(f"  {solver:>8}: rate {rate:<5}, training loss {curve[-1]:.4f}, "
          f"test accuracy {accuracy:.3f}")

# %%
# L-BFGS
# ------
#
# ``lbfgs`` uses the whole training set at every step and keeps no
# per-epoch loss curve, so we only mark its final loss. On a small data set
# like this one it reaches a lower training loss than any stochastic solver
# in a fraction of a second (a lower loss is not a better test score: it
# fits the training set more closely). On large data sets, where one pass
# over the data is expensive and mini-batches give many updates per pass,
# the stochastic solvers win.

lbfgs = MLPClassifier(hidden_layer_sizes=(64,), solver="lbfgs", max_iter=200, random_state=0,
                      n_threads=1)
lbfgs.fit(X_train, y_train)
print(f"lbfgs: training loss {lbfgs.loss_:.2e} after {lbfgs.n_iter_} iterations, "
      f"test accuracy {lbfgs.score(X_test, y_test):.3f}")

# %%
# The curves
# ----------
#
# Note the logarithmic loss axis. Large rates make the curves of the
# adaptive optimizers bumpy: the best final loss sometimes comes from a
# rate at the edge of stability.

fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
epochs = np.arange(1, n_epochs + 1)
styles = ["-", "-", "-", "--", "--", ":"]  # curves that overlap get different styles
for i, solver in enumerate(STOCHASTIC_SOLVERS):
    style = dict(color=f"C{i}", ls=styles[i % len(styles)])
    axes[0].plot(epochs, shared[solver][0], label=solver, **style)
    rate, curve, _ = tuned[solver]
    axes[1].plot(epochs, curve, label=f"{solver} (rate {rate:.3g})", **style)
for ax in axes:
    ax.axhline(lbfgs.loss_, color="k", ls=":", label="lbfgs, final loss")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
axes[0].set_ylabel("training loss (log loss)")
axes[0].set_title(f"All at learning_rate_init={shared_rate}")
axes[1].set_title("Each at its best learning_rate_init")
fig.tight_layout()
plt.show()
