"""
======================================================
Saving models, and converting to and from scikit-learn
======================================================

A fitted :class:`fastnn.MLPClassifier` holds only arrays, numbers and
scikit-learn objects, so it saves and loads with :mod:`joblib` (or
:mod:`pickle`) like any scikit-learn estimator. :func:`fastnn.to_sklearn`
turns it into a fitted :class:`sklearn.neural_network.MLPClassifier`, for
tools written for scikit-learn's MLPs (exporters, explainers), and
:func:`fastnn.from_sklearn` goes the other way. This example checks that each
copy predicts what the original does, by the largest difference between
their ``predict_proba`` outputs, and plots the probabilities against each
other.
"""

# %%
# Fit a model
# -----------
# A fastnn classifier on the digits data set, in float64. 60 epochs are
# enough here; the :class:`~sklearn.exceptions.ConvergenceWarning` of this
# deliberately short fit is silenced.
import tempfile
import warnings
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from fastnn import MLPClassifier, from_sklearn, to_sklearn

X, y = load_digits(return_X_y=True)
X = X / 16
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=60, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=ConvergenceWarning)
    clf.fit(X_train, y_train)
proba = clf.predict_proba(X_test)
print(f"fastnn: {clf.n_iter_} epochs, test accuracy {clf.score(X_test, y_test):.4f}")

# %%
# Save and load with joblib
# -------------------------
# The file goes to a temporary directory, removed at the end of the block.
# The loaded model is the same model: its probabilities match to the bit.
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "mlp.joblib"
    joblib.dump(clf, path)
    size_kib = path.stat().st_size / 1024
    loaded = joblib.load(path)
diff_loaded = np.abs(loaded.predict_proba(X_test) - proba).max()
print(f"saved {size_kib:.0f} KiB; loaded model: {type(loaded).__module__}."
      f"{type(loaded).__name__}, max |predict_proba difference| = {diff_loaded:.3g}")

# %%
# To scikit-learn
# ---------------
# :func:`~fastnn.to_sklearn` copies the weights and the fitted attributes
# (classes, loss curve, iteration count) into a scikit-learn estimator with
# the same parameters. The two run the same forward pass on the same
# numbers, so their probabilities agree to rounding (at most a few units in
# the last place of float64).
sk = to_sklearn(clf)
proba_sk = sk.predict_proba(X_test)
diff_to = np.abs(proba_sk - proba).max()
print(f"to_sklearn: {type(sk).__module__}.{type(sk).__name__}, "
      f"max |predict_proba difference| = {diff_to:.3g}, "
      f"same predictions: {bool((sk.predict(X_test) == clf.predict(X_test)).all())}")

# %%
# A converted model keeps training on the other side. Here scikit-learn
# runs 10 more epochs with ``partial_fit``, starting from fastnn's weights;
# :func:`~fastnn.from_sklearn` then brings the result back into fastnn, which
# predicts as the scikit-learn model does.
for _ in range(10):
    sk.partial_fit(X_train, y_train)  # one epoch each
back = from_sklearn(sk)
proba_sk_more = sk.predict_proba(X_test)
diff_from = np.abs(back.predict_proba(X_test) - proba_sk_more).max()
print(f"after 10 scikit-learn epochs: test accuracy {sk.score(X_test, y_test):.4f}; "
      f"from_sklearn: max |predict_proba difference| = {diff_from:.3g}")

# %%
# fastnn's extra training settings have no scikit-learn parameter. A model
# trained with them still converts (dropout only acts in training, batch
# normalization is folded into the weights), and a :class:`UserWarning` lists
# what a refit on the scikit-learn side would not reproduce.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    dropped = MLPClassifier(
        hidden_layer_sizes=(64,), dropout=0.2, solver="adamw", max_iter=30, random_state=0
    ).fit(X_train, y_train)
    sk_dropped = to_sklearn(dropped)
for w in caught:
    if issubclass(w.category, UserWarning) and "no scikit-learn equivalent" in str(w.message):
        print("UserWarning:", w.message)
print("max |predict_proba difference| = "
      f"{np.abs(sk_dropped.predict_proba(X_test) - dropped.predict_proba(X_test)).max():.3g}")

# %%
# The probabilities side by side
# ------------------------------
# Every class probability of every test image, one model's against the
# other's: all points lie on the diagonal.
fig, axes = plt.subplots(1, 2, figsize=(9, 4.5))
pairs = [
    (proba.ravel(), proba_sk.ravel(), "fastnn", "to_sklearn(fastnn)", diff_to),
    (proba_sk_more.ravel(), back.predict_proba(X_test).ravel(),
     "scikit-learn (after partial_fit)", "from_sklearn(scikit-learn)", diff_from),
]
for ax, (a, b, xlabel, ylabel, diff) in zip(axes, pairs):
    ax.plot([0, 1], [0, 1], color="0.7", linewidth=1, zorder=0)
    ax.scatter(a, b, s=6, alpha=0.4)
    ax.set_xlabel(f"{xlabel}: predict_proba")
    ax.set_ylabel(f"{ylabel}: predict_proba")
    ax.set_title(f"max |difference| = {diff:.2g}")
    ax.set_aspect("equal")
fig.suptitle("Converted models predict the same probabilities")
fig.tight_layout()
plt.show()
