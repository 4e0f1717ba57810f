"""
=======================================================
Regularization: L2, L1, dropout and batch normalization
=======================================================

A network with far more weights than training points can fit the noise of
its training set as well as the signal: its training score keeps rising
while its score on new data falls. This is overfitting. Regularization
restrains the fit: ``alpha`` adds an L2 penalty on the weights, ``l1`` an
L1 penalty, ``dropout`` randomly silences hidden units during training,
and ``batch_norm`` normalizes each hidden layer over the mini-batch (a
training aid whose batch-to-batch noise also acts as a mild regularizer).

We fit a network of two hidden layers of 128 units (about 17,000 weights)
to 30 noisy points of a sine wave, with and without each of these, and
compare training and test scores, the fitted curves, and the test score
along training.
"""

# %%
# Data: 30 noisy training points
# ------------------------------
#
# ``y = sin(x) + noise``, with noise of standard deviation 0.3. The test set
# has 250 points from the same distribution. Even a perfect model cannot
# predict the noise: the best achievable test R2 is about 0.85.

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from fastnn import MLPRegressor

rng = np.random.RandomState(0)
noise = 0.3
X_train = rng.uniform(-3, 3, size=(30, 1))
y_train = np.sin(X_train[:, 0]) + rng.normal(scale=noise, size=30)
X_test = rng.uniform(-3, 3, size=(250, 1))
y_test = np.sin(X_test[:, 0]) + rng.normal(scale=noise, size=250)
print(f"best achievable test R2 (the noise is unpredictable): "
      f"{1 - noise**2 / np.var(y_test):.3f}")

# %%
# The models
# ----------
#
# Every model trains for 700 epochs of Adam with mini-batches of 10 points
# and no early stopping (``n_iter_no_change=np.inf``), long enough for the
# unregularized network to overfit; that fixed budget ends in a
# ``ConvergenceWarning``, which we silence. The baseline sets ``alpha=0``
# (scikit-learn's default is a small L2 penalty, ``1e-4``). The strengths
# were picked by hand for this illustration; in practice, tune them with a
# search such as ``GridSearchCV``. Passing the test set as ``X_val`` and
# ``y_val`` only records its score after each epoch in ``history_``: it
# takes no part in training. ``n_threads=1`` keeps these small fits on one
# thread: shared between threads, every mini-batch (and every prediction
# on the test set) waits for the slowest of them, which costs little on an
# idle machine but a lot on a busy one.

common = dict(hidden_layer_sizes=(128, 128), learning_rate_init=0.01, batch_size=10,
              max_iter=700, n_iter_no_change=np.inf, alpha=0.0, random_state=0,
              n_threads=1)
methods = {
    "none": {},
    "L2 (alpha=0.03)": dict(alpha=0.03),
    "L1 (l1=0.003)": dict(l1=0.003),
    "dropout=0.3": dict(dropout=0.3),
    "batch_norm": dict(batch_norm=True, batch_norm_momentum=0.9),
}

models = {}
for name, params in methods.items():
    model = MLPRegressor(**{**common, **params})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train, X_val=X_test, y_val=y_test)
    models[name] = model
    scores = np.array(model.history_["val_score"])
    weights = np.concatenate([W.ravel() for W in model.coefs_])
    print(f"{name:>16}: train R2 {model.score(X_train, y_train):.3f}, "
          f"test R2 {model.score(X_test, y_test):.3f} "
          f"(best {scores.max():.3f} at epoch {scores.argmax() + 1}); "
          f"{np.mean(np.abs(weights) < 0.01):.0%} of weights below 0.01 in size")

# %%
# Train against test
# ------------------
#
# Without regularization the network has the highest training score and
# the lowest test score: the wiggles of its curve follow individual noisy
# points. Each regularizer gives up some training score for a higher test
# score. The L2 penalty shrinks each weight in proportion to its size, the
# L1 penalty by a constant amount: both leave a network that uses few of its
# weights (the share of weights smaller than 0.01 goes from 6% without a
# penalty to 95% or more with either; with Adam's steps the L1 weights hover
# around zero rather than landing on it exactly), and so a smoother
# function. Dropout trains a different random thinning of the network at
# every step, so no unit can rely on particular others. Batch normalization
# is first of all a training aid, not a regularizer, and here it does not
# work well: with batches of 10 points, the running statistics that
# prediction uses lag behind the batch statistics that training uses, so
# the network that predicts is not quite the one that was trained. Its
# curve misses the trough on the left, its training score is even below its
# test score, and its test score swings widely from one epoch to the next
# (next plot). ``batch_norm_momentum=0.9`` (Keras' default is 0.99) already
# makes the running statistics follow more closely.
#
# With only 30 points these numbers are noisy: another random draw of the
# data reorders the regularizers, but the baseline's large gap between
# training and test scores, and its narrowing under regularization, remain.

x_plot = np.linspace(-3, 3, 300)[:, None]
fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
for ax, (name, model) in zip(axes.ravel(), models.items()):
    ax.plot(x_plot, np.sin(x_plot), color="gray", ls="--", label="sin(x)")
    ax.scatter(X_train, y_train, color="k", s=15, label="training points")
    ax.plot(x_plot, model.predict(x_plot), color="C3", lw=2, label="fit")
    ax.set_title(f"{name}\ntrain R2 {model.score(X_train, y_train):.2f}, "
                 f"test R2 {model.score(X_test, y_test):.2f}")
    ax.set_ylim(-2, 2)
axes[0, 0].legend(loc="upper left", fontsize=8)

ax = axes[1, 2]
names = list(models)
positions = np.arange(len(names))
ax.bar(positions - 0.2, [m.score(X_train, y_train) for m in models.values()], 0.4,
       label="train")
ax.bar(positions + 0.2, [m.score(X_test, y_test) for m in models.values()], 0.4,
       label="test")
ax.set_xticks(positions)
ax.set_xticklabels([n.split(" ")[0] for n in names], rotation=30)
ax.set_ylim(0.5, 1.0)
ax.set_ylabel("R2")
ax.set_title("train and test R2")
ax.legend(loc="upper right", fontsize=8)
fig.tight_layout()

# %%
# The test score along training
# -----------------------------
#
# The unregularized network reaches its best test score early (within the
# first hundred epochs), then keeps fitting noise and gets steadily worse.
# The L2 and L1 curves (left) stay near their best to the end. Dropout's
# and batch normalization's scores (right) are noisier, as each epoch trains
# on different random thinnings or batch statistics; batch normalization's
# swings widely. Stopping the baseline at its best epoch is itself a
# regularizer: see the early-stopping example.

fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
groups = [["none", "L2 (alpha=0.03)", "L1 (l1=0.003)"], ["none", "dropout=0.3", "batch_norm"]]
for ax, group in zip(axes, groups):
    for name in group:
        scores = models[name].history_["val_score"]
        ax.plot(np.arange(1, len(scores) + 1), scores, lw=1,
                color=f"C{list(models).index(name)}", label=name)
    ax.axhline(1 - noise**2 / np.var(y_test), color="k", ls=":", label="best achievable")
    ax.set_ylim(0.5, 0.9)
    ax.set_xlabel("epoch")
    ax.legend(loc="lower right", fontsize=8)
axes[0].set_ylabel("test R2")
fig.suptitle("Test R2 after each epoch")
fig.tight_layout()
plt.show()
