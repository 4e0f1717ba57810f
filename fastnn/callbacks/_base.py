"""The base of fastnn's callbacks: a fit callback that sees each epoch's logs."""

import inspect
import math
import warnings

from sklearn.utils._param_validation import StrOptions, validate_parameter_constraints

from .._multilayer_perceptron import BaseMultilayerPerceptron

# The history_ keys a callback may monitor.
MONITORS = ("loss", "val_loss", "val_score")
# Every history_ key, in the order CSV columns and logs list them.
HISTORY_KEYS = ("loss", "val_loss", "val_score", "learning_rate", "epoch_seconds")

# What the callback protocol adds to an estimator during fit; a checkpoint
# leaves it out (it holds the callbacks themselves and the task tree).
_CALLBACK_ATTRIBUTES = (
    "_skl_callbacks",
    "_skl_callbacks_to_teardown",
    "_callback_fit_ctx",
    "_parent_callback_ctx",
)


def _resolve_mode(monitor, mode):
    """'min' or 'max': 'auto' maximizes scores and minimizes losses."""
    if mode != "auto":
        return mode
    return "max" if monitor == "val_score" else "min"


def _improves(value, reference, mode, min_delta=0.0):
    """Whether ``value`` beats ``reference`` (None: nothing yet) by more than ``min_delta``.

    A NaN never improves on anything.
    """
    if math.isnan(value):
        return False
    if reference is None:
        return True
    if mode == "min":
        return value < reference - min_delta
    return value > reference + min_delta


class _Run:
    """What a callback keeps during one fit of one estimator."""

    def __init__(self):
        # Lengths of the history_ lists when the epoch began.
        self.lengths = None
        # The last epoch's logs.
        self.logs = {}


# --------------------------------------------------------------- base class


class _EpochCallback:
    """Turn scikit-learn's fit-task hooks into Keras-style training events.

    Subclasses override some of ``_train_begin(estimator, run)``,
    ``_epoch_begin(estimator, run, epoch)``, ``_epoch_end(estimator, run,
    epoch, logs)`` (return True to stop training) and ``_train_end(estimator,
    run, logs)``; ``run`` is the :class:`_Run` of this fit.
    """

    _parameter_constraints: dict = {}

    # Whether the callback acts on epochs (and so does nothing with lbfgs).
    _uses_epochs = True

    def _check_params(self):
        params = {name: getattr(self, name) for name in self._parameter_constraints}
        validate_parameter_constraints(
            self._parameter_constraints, params, caller_name=type(self).__name__
        )

    def __repr__(self):
        names = list(inspect.signature(type(self).__init__).parameters)[1:]
        params = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__name__}({params})"

    def __getstate__(self):
        # A fit's state (open files, weights) does not travel with a copy.
        state = self.__dict__.copy()
        state.pop("_runs", None)
        return state

    # ---- scikit-learn's hooks

    def setup(self, estimator, context):
        """Check the callback before a fit starts (scikit-learn's hook).

        Parameters
        ----------
        estimator : MLPClassifier or MLPRegressor
            The estimator about to fit.
        context : CallbackContext
            The fit's context, from scikit-learn.

        Raises
        ------
        TypeError
            If ``estimator`` is not a fastnn MLP.
        """
        self._check_params()
        name = type(self).__name__
        if not isinstance(estimator, BaseMultilayerPerceptron):
            raise TypeError(
                f"{name} acts on the epochs of fastnn's MLPClassifier and MLPRegressor, "
                f"not on {type(estimator).__name__}: set it on the MLP itself "
                "(mlp.set_callbacks(...)). Inside a Pipeline or GridSearchCV the MLP keeps "
                "its callbacks, as clone passes them on."
            )
        if estimator.solver == "lbfgs" and self._uses_epochs:
            warnings.warn(
                f"{name} does nothing with solver='lbfgs', which has no epochs.",
                UserWarning,
                stacklevel=2,
            )

    def teardown(self, estimator, context):
        """Release what the fit held, such as an open file (scikit-learn's hook).

        Parameters
        ----------
        estimator : MLPClassifier or MLPRegressor
            The estimator whose fit ended.
        context : CallbackContext
            The fit's context, from scikit-learn.
        """
        run = self.__dict__.get("_runs", {}).pop(id(estimator), None)
        if run is not None:
            self._close(run)

    def on_fit_task_begin(self, estimator, context):
        """Start of the fit or of an epoch (scikit-learn's hook).

        Parameters
        ----------
        estimator : MLPClassifier or MLPRegressor
            The estimator being fitted.
        context : CallbackContext
            The task beginning: ``task_name`` is ``"fit"`` or ``"epoch"``.
        """
        if context.task_name == "fit":
            self._train_begin(estimator, self._run(estimator, new=True))
        elif context.task_name == "epoch":
            run = self._run(estimator)
            history = getattr(estimator, "history_", {})
            run.lengths = {key: len(values) for key, values in history.items()}
            self._epoch_begin(estimator, run, context.task_id)

    def on_fit_task_end(self, estimator, context):
        """End of the fit or of an epoch (scikit-learn's hook).

        Parameters
        ----------
        estimator : MLPClassifier or MLPRegressor
            The estimator being fitted.
        context : CallbackContext
            The task ending: ``task_name`` is ``"fit"`` or ``"epoch"``.

        Returns
        -------
        stop : bool
            Whether training should stop after this epoch.
        """
        if context.task_name == "fit":
            run = self._run(estimator)
            self._train_end(estimator, run, run.logs)
            return False
        if context.task_name != "epoch":
            return False
        run = self._run(estimator)
        run.logs = logs = self._epoch_logs(estimator, run)
        run.lengths = None
        return bool(self._epoch_end(estimator, run, context.task_id, logs))

    # ---- Keras-style events, for subclasses

    def _train_begin(self, estimator, run):
        pass

    def _epoch_begin(self, estimator, run, epoch):
        pass

    def _epoch_end(self, estimator, run, epoch, logs):
        return False

    def _train_end(self, estimator, run, logs):
        pass

    def _close(self, run):
        """Release what ``run`` holds (teardown, also after an error)."""

    # ---- shared machinery

    def _run(self, estimator, new=False):
        runs = self.__dict__.setdefault("_runs", {})
        if new or id(estimator) not in runs:
            old = runs.pop(id(estimator), None)
            if old is not None:
                self._close(old)
            runs[id(estimator)] = _Run()
        return runs[id(estimator)]

    @staticmethod
    def _epoch_logs(estimator, run):
        """The values ``history_`` gained during the epoch, in ``HISTORY_KEYS`` order."""
        history = getattr(estimator, "history_", {})
        lengths = run.lengths
        recorded = {
            key: values[-1]
            for key, values in history.items()
            if values and (lengths is None or len(values) > lengths.get(key, 0))
        }
        order = [key for key in HISTORY_KEYS if key in recorded]
        order += sorted(key for key in recorded if key not in HISTORY_KEYS)
        return {key: float(recorded[key]) for key in order}

    def _monitored(self, logs, epoch):
        """``logs[self.monitor]``, or a ValueError saying how to record it."""
        if self.monitor not in logs:
            raise ValueError(
                f"{type(self).__name__} monitors {self.monitor!r}, which this fit does not "
                f"record (epoch {epoch + 1} recorded {sorted(logs)}). 'val_loss' and "
                "'val_score' need a validation set: fit(X, y, X_val=..., y_val=...) or "
                "early_stopping=True."
            )
        return logs[self.monitor]


def _optimizer(estimator):
    """The optimizer state of the estimator's current fit."""
    return estimator._optimizer


_MONITOR_CONSTRAINTS = {
    "monitor": [StrOptions(set(MONITORS))],
    "mode": [StrOptions({"auto", "min", "max"})],
}
