"""What a fit goes back to when training diverges: the state it started from.

A fit whose weights become NaN or infinite raises (scikit-learn's
"Solver produced non-finite parameter weights"), but the estimator must not
be left holding those weights: it would then predict NaN without complaint,
and a good ``warm_start`` or ``partial_fit`` model would be lost. The epochs
just before the weights overflow are no better (weights near the float
limit, whose predictions overflow), so the estimator goes back to where the
fit started: unfitted for a new fit, the model it had for a fit that goes
on from one.
"""

# Attributes a continued fit changes and puts back when it diverges.
_SCALARS = ("n_iter_", "t_", "loss_", "best_loss_", "best_validation_score_",
            "_no_improvement_count")
_CURVES = ("loss_curve_", "validation_scores_", "validation_loss_curve_")
# Private state of a fitted model, dropped with the fitted attributes.
_PRIVATE = ("_theta", "_best_theta", "_optimizer")


class FitStart:
    """The estimator's state as a fit begins.

    Parameters
    ----------
    estimator : BaseMultilayerPerceptron
        The estimator being fitted.
    theta : ndarray
        Its flat parameters (``coefs_`` and the rest are views of them).
    continuing : bool
        Whether the fit goes on from the fitted model (``warm_start``,
        ``partial_fit``); a new fit keeps nothing.
    """

    def __init__(self, estimator, theta, continuing):
        self._continuing = continuing
        if not continuing:
            return
        self._theta = theta.copy()
        # The optimizer object itself (a warm start makes a new one) and its state.
        optimizer = getattr(estimator, "_optimizer", None)
        self._optimizer = None if optimizer is None else (
            optimizer, [b.copy() for b in optimizer.buffers], optimizer.counters(),
            optimizer.learning_rate, optimizer.learning_rate_init)
        self._scalars = {name: getattr(estimator, name) for name in _SCALARS
                         if hasattr(estimator, name)}
        self._lengths = {name: len(getattr(estimator, name)) for name in _CURVES
                         if isinstance(getattr(estimator, name, None), list)}
        self._history = {key: len(values)
                         for key, values in getattr(estimator, "history_", {}).items()}

    def restore(self, estimator, theta):
        """Put the estimator back as the fit found it; returns a sentence saying how."""
        if not self._continuing:
            fitted = [name for name in vars(estimator)
                      if name.endswith("_") and not name.startswith("__")]
            for name in (*fitted, *_PRIVATE):
                estimator.__dict__.pop(name, None)
            return "The estimator is left unfitted."
        theta[...] = self._theta
        if self._optimizer is None:
            estimator.__dict__.pop("_optimizer", None)
        else:
            optimizer, buffers, counters, rate, rate_init = self._optimizer
            for buffer, kept in zip(optimizer.buffers, buffers):
                buffer[...] = kept
            optimizer.set_counters(counters)
            optimizer.learning_rate, optimizer.learning_rate_init = rate, rate_init
            estimator._optimizer = optimizer
        for name, value in self._scalars.items():
            setattr(estimator, name, value)
        for name, length in self._lengths.items():
            del getattr(estimator, name)[length:]
        history = getattr(estimator, "history_", {})
        for key in list(history):
            if key in self._history:
                del history[key][self._history[key]:]
            else:
                del history[key]
        return "The estimator keeps the model it had before this fit."
