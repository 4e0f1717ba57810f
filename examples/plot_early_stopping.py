"""
=========================================
Early stopping with Keras-style callbacks
=========================================

A network trained for too long on a small data set starts to memorize it:
its training loss keeps falling while its loss on held-out data turns
back up. Early stopping watches the held-out loss after every epoch and
stops when it has not improved for a while, then goes back to the weights
of the best epoch.

This example trains on a validation set passed to ``fit`` (``X_val``,
``y_val``) and uses fastnn's Keras-style callbacks:
:class:`~fastnn.callbacks.EarlyStopping` with ``restore_best_weights=True``
and :class:`~fastnn.callbacks.ReduceLROnPlateau`, beside scikit-learn's own
``ProgressBar`` callback. They are set with ``set_callbacks``, scikit-learn's
callback API.
"""

# %%
# Data: a small training set
# --------------------------
#
# 200 digit images to train on, 400 to validate on (watched after every
# epoch), and the remaining 1197 to test the final model.

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from fastnn import MLPClassifier
from fastnn.callbacks import EarlyStopping, ReduceLROnPlateau

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_rest, y_train, y_rest = train_test_split(
    X, y, train_size=200, stratify=y, random_state=0
)
X_val, X_test, y_val, y_test = train_test_split(
    X_rest, y_rest, train_size=400, stratify=y_rest, random_state=0
)
print(f"train {len(X_train)}, validation {len(X_val)}, test {len(X_test)}")

# %%
# Without early stopping
# ----------------------
#
# First, for reference, 200 epochs with nothing to stop them:
# ``n_iter_no_change=np.inf`` turns off scikit-learn's own stopping rule
# (which would otherwise watch the training loss), and the run ends in a
# ``ConvergenceWarning`` that we silence, since it is deliberate. We use
# ``alpha=0`` (no L2 penalty), so that the recorded ``val_loss`` is exactly
# the log loss on the validation set, and the ``nadam`` solver, whose
# recorded ``learning_rate`` is the base rate that ``ReduceLROnPlateau``
# sets (for ``adam``, ``history_`` records scikit-learn's bias-corrected
# step instead). ``n_threads=1`` keeps this small network on one thread:
# shared between threads, every mini-batch waits for the slowest of them,
# which costs little on an idle machine but a lot on a busy one.

params = dict(hidden_layer_sizes=(256,), solver="nadam", learning_rate_init=0.003,
              batch_size=32, alpha=0.0, n_iter_no_change=np.inf, random_state=0,
              n_threads=1)

baseline = MLPClassifier(max_iter=200, **params)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    baseline.fit(X_train, y_train, X_val=X_val, y_val=y_val)
val_loss = np.array(baseline.history_["val_loss"])
print(f"without callbacks: {baseline.n_iter_} epochs; val_loss lowest "
      f"({val_loss.min():.3f}) at epoch {val_loss.argmin() + 1}, "
      f"{val_loss[-1]:.3f} at the end; training loss at the end "
      f"{baseline.loss_curve_[-1]:.5f}")

# %%
# With the callbacks
# ------------------
#
# ``EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)``
# stops after 10 epochs in a row without a new lowest validation loss, and
# puts back the weights of the epoch that had it. ``ReduceLROnPlateau``
# halves the learning rate after 5 such epochs, in the hope that smaller
# steps find a little more improvement before the patience of early
# stopping runs out. Their ``verbose=1`` prints what they do. (Every
# callback hears of every epoch's end: the last rate cut is announced after
# the stop, and changes nothing.)
#
# ``sklearn.callback.ProgressBar`` draws a progress bar of the fit with the
# `rich <https://github.com/Textualize/rich>`_ package. It is optional: where
# rich is not installed, its constructor raises an ``ImportError``, and this
# example goes on without it.

callbacks = [
    EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True, verbose=1),
    ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=5, verbose=1),
]
try:
    from sklearn.callback import ProgressBar

    callbacks.append(ProgressBar())
except ImportError:
    print("rich is not installed: no progress bar (pip install rich)")

stopped = MLPClassifier(max_iter=200, **params).set_callbacks(*callbacks)
stopped.fit(X_train, y_train, X_val=X_val, y_val=y_val)
stop = callbacks[0]

# %%
# What early stopping did
# -----------------------
#
# The callback's ``best_epoch_`` and ``stopped_epoch_`` count epochs from
# 0, like Keras; below they are printed from 1, like its messages. The
# restored model's validation loss, recomputed from its predictions, is the
# best one recorded: the model that ``fit`` returns is the one from the best
# epoch, not from the last.
#
# On the test set it is as accurate as the model trained for all 200
# epochs (the difference is a handful of the 1197 images), with a clearly
# lower log loss: the longer run gained nothing in accuracy, while its
# predictions grew overconfident. The rate cuts, on the other hand, did not
# help here: the best validation loss of this run is a little above the
# reference run's lowest, reached at the same epoch with the rate never
# cut. On a problem this small and noisy, ``ReduceLROnPlateau`` mostly
# changes the path; it pays off in longer trainings, where the loss
# plateaus for real.

print(f"stopped after epoch {stop.stopped_epoch_ + 1} (n_iter_={stopped.n_iter_}); "
      f"best val_loss {stop.best_:.4f} at epoch {stop.best_epoch_ + 1}")
print(f"validation log loss of the returned model: "
      f"{log_loss(y_val, stopped.predict_proba(X_val)):.4f}")
for name, model in [("early stopping", stopped), ("200 epochs", baseline)]:
    print(f"{name:>15}: test accuracy {model.score(X_test, y_test):.3f}, "
          f"test log loss {log_loss(y_test, model.predict_proba(X_test)):.3f}")

# %%
# The curves
# ----------
#
# Left: the training loss keeps falling towards zero, while the validation
# loss reaches its lowest point after about 30 epochs and then rises,
# slowly, as the network grows more confident on the training images. The
# early-stopped run (solid) follows the reference run (faint) until its
# learning rate is first cut, and ends 10 epochs after its best one. Right:
# the learning rate that ``ReduceLROnPlateau`` set for each epoch
# (``history_["learning_rate"]``).

fig, (ax_loss, ax_rate) = plt.subplots(1, 2, figsize=(12, 4.5),
                                       gridspec_kw=dict(width_ratios=[2, 1]))
epochs = np.arange(1, baseline.n_iter_ + 1)
ax_loss.plot(epochs, baseline.history_["loss"], color="C0", alpha=0.3,
             label="loss, 200 epochs without callbacks")
ax_loss.plot(epochs, baseline.history_["val_loss"], color="C1", alpha=0.3,
             label="val_loss, 200 epochs without callbacks")
epochs = np.arange(1, stopped.n_iter_ + 1)
ax_loss.plot(epochs, stopped.history_["loss"], color="C0", label="loss (training)")
ax_loss.plot(epochs, stopped.history_["val_loss"], color="C1", label="val_loss")
ax_loss.axvline(stop.best_epoch_ + 1, color="C2", ls="--",
                label=f"best epoch ({stop.best_epoch_ + 1}), weights restored")
ax_loss.axvline(stop.stopped_epoch_ + 1, color="k", ls=":",
                label=f"stopped ({stop.stopped_epoch_ + 1})")
ax_loss.set_ylim(0, 0.8)
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("log loss")
ax_loss.legend(fontsize=8, loc="upper right")

ax_rate.step(epochs, stopped.history_["learning_rate"], where="mid")
ax_rate.axvline(stop.stopped_epoch_ + 1, color="k", ls=":")
ax_rate.set_ylim(0, 1.1 * params["learning_rate_init"])
ax_rate.set_xlabel("epoch")
ax_rate.set_ylabel("learning rate")
ax_rate.set_title("ReduceLROnPlateau")
fig.tight_layout()
plt.show()
