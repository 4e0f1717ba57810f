"""Callbacks that set the learning rate: ReduceLROnPlateau and LearningRateScheduler."""

import inspect
import math
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import _EpochCallback, _improves, _MONITOR_CONSTRAINTS, _optimizer, _resolve_mode


class ReduceLROnPlateau(_EpochCallback):
    """Reduce the learning rate when a monitored value has stopped improving.

    After ``patience`` epochs in a row without an improvement of more than
    ``min_delta``, the rate is multiplied by ``factor`` (not below
    ``min_lr``) for the next epochs; ``cooldown`` epochs then pass before
    the counting starts again. Works with every stochastic solver; see the
    module's notes for what "the rate" is for each.

    Parameters
    ----------
    monitor : {'val_loss', 'val_score', 'loss'}, default='val_loss'
        The ``history_`` entry to watch.
    factor : float, default=0.1
        Multiplier of the rate, in (0, 1).
    patience : int, default=10
        Number of epochs without improvement after which the rate drops.
    mode : {'auto', 'min', 'max'}, default='auto'
        Whether lower or higher is better; 'auto' maximizes 'val_score'.
    min_delta : float, default=1e-4
        Smallest change that counts as an improvement.
    cooldown : int, default=0
        Number of epochs after a reduction during which no epoch counts as
        without improvement.
    min_lr : float, default=0
        Lower bound of the rate.
    verbose : int, default=0
        Print a message at each reduction.

    See Also
    --------
    LearningRateScheduler : Set the rate of each epoch by a function.
    """

    _parameter_constraints: dict = {
        **_MONITOR_CONSTRAINTS,
        "factor": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 0, None, closed="left")],
        "min_delta": [Interval(Real, 0, None, closed="left")],
        "cooldown": [Interval(Integral, 0, None, closed="left")],
        "min_lr": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, verbose=0):
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.mode = mode
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.verbose = verbose
        self._check_params()

    def _train_begin(self, estimator, run):
        run.best = None
        run.wait = run.cooldown_left = 0

    def _epoch_end(self, estimator, run, epoch, logs):
        value = self._monitored(logs, epoch)
        in_cooldown = run.cooldown_left > 0
        if in_cooldown:
            run.cooldown_left -= 1
            run.wait = 0
        if _improves(value, run.best, _resolve_mode(self.monitor, self.mode), self.min_delta):
            run.best = value
            run.wait = 0
            return False
        if in_cooldown:
            return False
        run.wait += 1
        if run.wait < self.patience:
            return False
        optimizer = _optimizer(estimator)
        rate = optimizer.get_learning_rate()
        if rate > self.min_lr:
            new_rate = max(rate * self.factor, self.min_lr)
            optimizer.set_learning_rate(new_rate)
            if self.verbose:
                print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                      f"{new_rate}.")
            run.cooldown_left = self.cooldown
        run.wait = 0
        return False


class LearningRateScheduler(_EpochCallback):
    """Set the learning rate of each epoch by a function.

    At the beginning of each epoch, ``schedule(epoch, lr)`` gets the epoch
    (from 0 in each fit) and the rate that epoch would use, and returns the
    rate it uses. Works with every stochastic solver; see the module's notes
    for what "the rate" is for each.

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch, lr) -> float``; ``schedule(epoch) -> float`` is
        accepted too. It must return a positive finite number.
    verbose : int, default=0
        Print the rate set at each epoch.

    See Also
    --------
    ReduceLROnPlateau : Reduce the rate when a value stops improving.

    Examples
    --------
    >>> from fastnn.callbacks import LearningRateScheduler
    >>> halve_every_10 = LearningRateScheduler(lambda epoch, lr: lr / 2 if epoch and
    ...                                        epoch % 10 == 0 else lr)
    """

    _parameter_constraints: dict = {
        "schedule": [callable],
        "verbose": ["verbose"],
    }

    def __init__(self, schedule, verbose=0):
        self.schedule = schedule
        self.verbose = verbose
        self._check_params()

    def _epoch_begin(self, estimator, run, epoch):
        optimizer = _optimizer(estimator)
        rate = optimizer.get_learning_rate()
        new_rate = self.schedule(epoch, rate) if self._takes_rate() else self.schedule(epoch)
        if (isinstance(new_rate, (bool, np.bool_)) or not isinstance(new_rate, Real)
                or not (math.isfinite(new_rate) and new_rate > 0)):
            raise ValueError(
                f"The schedule of LearningRateScheduler must return a positive finite "
                f"number; at epoch {epoch} it returned {new_rate!r}."
            )
        optimizer.set_learning_rate(float(new_rate))
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(new_rate)}.")

    def _takes_rate(self):
        """Whether ``schedule`` takes ``(epoch, lr)`` rather than ``(epoch)``."""
        try:
            parameters = inspect.signature(self.schedule).parameters.values()
        except (TypeError, ValueError):
            return True
        positional = [p for p in parameters
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        variadic = any(p.kind == p.VAR_POSITIONAL for p in parameters)
        return variadic or len(positional) >= 2
