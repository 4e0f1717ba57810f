"""
==========================================
Fashion-MNIST: confusion matrix and curves
==========================================

This example trains a :class:`fastnn.MLPClassifier` on Fashion-MNIST,
70,000 28x28 grayscale images of clothing in 10 classes, in float32 and for a
few epochs only. It passes a validation set to ``fit`` so that the loss and
the accuracy of every epoch are recorded, then draws the test set's confusion
matrix with scikit-learn's :class:`~sklearn.metrics.ConfusionMatrixDisplay`
and the learning curves with :func:`fastnn.plot_learning_curves`.

The data is read by :func:`fastnn.datasets.load_fashion_mnist` from
``$FASTNN_DATA/fashion-mnist/`` or from fastnn's cache. This example never
downloads: where the files are not on disk it says so and uses scikit-learn's
small digits data set instead, so the page builds offline.
"""

# %%
# Load the data
# -------------
# ``download=False`` makes the loader raise :class:`FileNotFoundError` at once
# when no directory holds the four IDX files, instead of trying the network.
# The images come as ``uint8`` arrays of shape ``(n, 28, 28)``, as in Keras:
# we flatten them to 784 features and scale them to [0, 1] in float32, which
# fastnn trains in float32 (faster than float64).
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import ConfusionMatrixDisplay

from fastnn import MLPClassifier, plot_learning_curves
from fastnn.datasets import load_fashion_mnist

try:
    (X_train, y_train), (X_test, y_test) = load_fashion_mnist(download=False)
except FileNotFoundError as exc:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    reason = str(exc).splitlines()[0].rstrip(":")
    print(
        f"Fashion-MNIST is not available here ({reason}); "
        "using scikit-learn's digits instead."
    )
    digits = load_digits()
    X = (digits.data / 16).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target, test_size=0.25, stratify=digits.target, random_state=0
    )
    class_names = [str(d) for d in range(10)]
    dataset, n_val, max_iter = "digits", 250, 30
else:
    X_train = X_train.reshape(len(X_train), -1).astype(np.float32) / 255
    X_test = X_test.reshape(len(X_test), -1).astype(np.float32) / 255
    class_names = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]
    dataset, n_val, max_iter = "Fashion-MNIST", 5000, 5

print(f"{dataset}: {X_train.shape[0]} training rows, {X_test.shape[0]} test rows, "
      f"{X_train.shape[1]} features, dtype {X_train.dtype}")

# %%
# Train
# -----
# The last rows of the training set are held out as a validation set, passed
# to ``fit`` as ``X_val`` and ``y_val``: fastnn measures its loss and accuracy
# after every epoch (without early stopping, it only measures). The run is
# deliberately short, so the :class:`~sklearn.exceptions.ConvergenceWarning`
# that ``max_iter`` triggers is silenced. The time printed is that of the
# machine that built this page.
X_fit, y_fit = X_train[:-n_val], y_train[:-n_val]
X_val, y_val = X_train[-n_val:], y_train[-n_val:]

clf = MLPClassifier(
    hidden_layer_sizes=(256, 128), batch_size=256, max_iter=max_iter, random_state=0
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=ConvergenceWarning)
    clf.fit(X_fit, y_fit, X_val=X_val, y_val=y_val)

fit_seconds = sum(clf.history_["epoch_seconds"])
print(f"{clf.n_iter_} epochs in {fit_seconds:.2f} s "
      f"({np.median(clf.history_['epoch_seconds']):.3f} s per epoch, median)")
val_scores = clf.history_["val_score"]
step = max(1, len(val_scores) // 6)  # at most about 6 epochs shown
print("validation accuracy by epoch: " + ", ".join(
    f"{epoch}: {val_scores[epoch - 1]:.3f}" for epoch in range(step, len(val_scores) + 1, step)
))
print(f"test accuracy: {clf.score(X_test, y_test):.4f}")

# %%
# Confusion matrix
# ----------------
# Rows are the true classes, columns the predicted ones. On Fashion-MNIST the
# mistakes gather among the upper-body garments (T-shirt/top, Pullover, Coat
# and above all Shirt), while trousers, bags and footwear are seldom confused.
fig, ax = plt.subplots(figsize=(7.5, 6.5))
ConfusionMatrixDisplay.from_estimator(
    clf, X_test, y_test, display_labels=class_names, normalize="true",
    values_format=".2f", xticks_rotation=45, colorbar=False, ax=ax,
)
ax.set_title(f"{dataset}: test confusion matrix (rows sum to 1)")
fig.tight_layout()

# %%
# Learning curves
# ---------------
# :func:`fastnn.plot_learning_curves` draws the training and validation loss
# of each epoch (left) and the validation accuracy (right). The same numbers
# are in ``clf.history_`` (keys ``loss``, ``val_loss``, ``val_score``,
# ``learning_rate`` and ``epoch_seconds``) for plots of your own.
loss_ax, score_ax = plot_learning_curves(clf)
loss_ax.figure.suptitle(f"{dataset}: {clf.n_iter_} epochs")
loss_ax.figure.tight_layout()
plt.show()
