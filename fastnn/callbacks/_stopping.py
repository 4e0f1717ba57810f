"""Callbacks that stop training: EarlyStopping and TerminateOnNaN."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import _EpochCallback, _improves, _MONITOR_CONSTRAINTS, _resolve_mode


class EarlyStopping(_EpochCallback):
    """Stop training when a monitored value has stopped improving.

    An epoch improves when its value beats the best so far by more than
    ``min_delta`` (and, with a ``baseline``, beats the baseline too).
    Training stops at the end of the epoch that makes ``patience`` epochs
    in a row without improvement (the first one with ``patience=0``).

    Parameters
    ----------
    monitor : {'val_loss', 'val_score', 'loss'}, default='val_loss'
        The ``history_`` entry to watch; 'val_loss' and 'val_score' need a
        validation set (``fit``'s ``X_val``/``y_val`` or
        ``early_stopping=True``).
    min_delta : float, default=0
        Smallest change that counts as an improvement.
    patience : int, default=0
        Number of epochs without improvement after which training stops.
    mode : {'auto', 'min', 'max'}, default='auto'
        Whether lower ('min') or higher ('max') is better; 'auto' maximizes
        'val_score' and minimizes the losses.
    baseline : float or None, default=None
        A value the monitor must beat: until it does, epochs count as
        without improvement.
    restore_best_weights : bool, default=False
        Whether the estimator ends with the weights of the best epoch rather
        than of the last: they are written back into the estimator when it
        stops (callbacks after it in the list see them at that epoch's end),
        and again at the end of ``fit`` (after the estimator's own
        ``restore_best_weights`` of ``early_stopping=True``), however
        training ended. ``loss_curve_``, ``history_`` and ``n_iter_`` still
        describe every epoch run.
    start_from_epoch : int, default=0
        Number of epochs (of each fit) before the monitoring starts.
    verbose : int, default=0
        Print a message when stopping and when restoring weights.

    Attributes
    ----------
    stopped_epoch_ : int or None
        Epoch (from 0) at whose end the last fit stopped, None if it did not
        stop it.
    best_ : float or None
        Best monitored value of the last fit.
    best_epoch_ : int or None
        Epoch (from 0) of ``best_``.

    See Also
    --------
    ModelCheckpoint : Save the best model as training goes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from fastnn import MLPClassifier
    >>> from fastnn.callbacks import EarlyStopping
    >>> X, y = load_digits(return_X_y=True)
    >>> stop = EarlyStopping(monitor="loss", min_delta=0.5, patience=2)
    >>> clf = MLPClassifier((16,), random_state=0).set_callbacks(stop).fit(X / 16, y)
    >>> clf.n_iter_ == stop.stopped_epoch_ + 1
    True
    """

    _parameter_constraints: dict = {
        **_MONITOR_CONSTRAINTS,
        "min_delta": [Interval(Real, 0, None, closed="left")],
        "patience": [Interval(Integral, 0, None, closed="left")],
        "baseline": [Real, None],
        "restore_best_weights": ["boolean"],
        "start_from_epoch": [Interval(Integral, 0, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0, verbose=0):
        self.monitor = monitor
        self.min_delta = min_delta
        self.patience = patience
        self.mode = mode
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.verbose = verbose
        self._check_params()
        self.stopped_epoch_ = self.best_ = self.best_epoch_ = None

    def _train_begin(self, estimator, run):
        run.best = run.best_epoch = run.best_weights = None
        run.wait = 0
        self.stopped_epoch_ = self.best_ = self.best_epoch_ = None

    def _epoch_end(self, estimator, run, epoch, logs):
        value = self._monitored(logs, epoch)
        if epoch < self.start_from_epoch:
            return False
        mode = _resolve_mode(self.monitor, self.mode)
        if _improves(value, run.best, mode, self.min_delta):
            run.best, run.best_epoch = value, epoch
            self.best_, self.best_epoch_ = value, epoch
            if self.restore_best_weights:
                run.best_weights = estimator._theta.copy()
            beats_baseline = self.baseline is None or _improves(
                value, self.baseline, mode, self.min_delta)
            run.wait = 0 if beats_baseline else run.wait + 1
        else:
            run.wait += 1
        if run.wait == 0 or run.wait < self.patience:
            return False
        self.stopped_epoch_ = epoch
        if self.verbose:
            print(f"Epoch {epoch + 1}: early stopping")
        # Restored now too, so that callbacks after this one see the best
        # weights at this epoch's end (the end of fit restores them again).
        self._restore(estimator, run)
        return True

    def _train_end(self, estimator, run, logs):
        self._restore(estimator, run)

    def _restore(self, estimator, run):
        if run.best_weights is None:
            return
        if self.verbose and not np.array_equal(estimator._theta, run.best_weights):
            print(f"Restoring model weights from the end of the best epoch: "
                  f"{run.best_epoch + 1}.")
        estimator._theta[...] = run.best_weights


class TerminateOnNaN(_EpochCallback):
    """Stop training when an epoch's training loss is NaN or infinite.

    It warns and stops at the end of that epoch. The model is kept when its
    weights are still finite (a loss can overflow first); otherwise the
    estimator raises its ValueError about non-finite weights, as it does
    whenever training ends with them, and goes back to where the fit started
    (unfitted, or the model it had before a ``warm_start`` or ``partial_fit``
    call). An ``EarlyStopping`` with
    ``restore_best_weights=True`` avoids it: the end of ``fit`` gives its
    callbacks their turn before that check).

    Attributes
    ----------
    stopped_epoch_ : int or None
        Epoch (from 0) at whose end the last fit stopped, None if it did not
        stop it.
    """

    def __init__(self):
        self.stopped_epoch_ = None

    def _train_begin(self, estimator, run):
        self.stopped_epoch_ = None

    def _epoch_end(self, estimator, run, epoch, logs):
        loss = logs.get("loss")
        if loss is None or math.isfinite(loss):
            return False
        self.stopped_epoch_ = epoch
        warnings.warn(f"Epoch {epoch + 1}: the training loss is {loss}; terminating training.",
                      UserWarning, stacklevel=2)
        return True
