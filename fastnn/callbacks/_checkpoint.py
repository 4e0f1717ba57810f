"""ModelCheckpoint: the model pickled after epochs, written atomically."""

import copy
import math
import os
import pickle
import string
import uuid

from ._base import (
    _CALLBACK_ATTRIBUTES, _MONITOR_CONSTRAINTS, HISTORY_KEYS, _EpochCallback, _improves,
    _resolve_mode,
)


def _detached(estimator):
    """A shallow copy of ``estimator`` without the callback machinery, for pickling."""
    model = copy.copy(estimator)
    for name in _CALLBACK_ATTRIBUTES:
        model.__dict__.pop(name, None)
    return model


def _fsync_directory(directory):
    """Make a rename in ``directory`` durable, where the platform allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_pickle(obj, path):
    """Pickle ``obj`` to ``path`` so that ``path`` never holds a partial file.

    The pickle goes to a temporary file in the same directory, is flushed
    and fsynced, then renamed over ``path`` (``os.replace``, atomic on POSIX
    and Windows). On any error the temporary file is removed and ``path``
    keeps what it held before.

    Parameters
    ----------
    obj : object
        What to pickle.
    path : str or path-like
        Destination; its directory must exist.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    # O_EXCL: never write into a file someone else holds; mode 0o666 lets the
    # umask decide the permissions, as for a plain open().
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


class ModelCheckpoint(_EpochCallback):
    """Pickle the model at the end of every epoch, or of every improving one.

    Each file holds the estimator as it was at that epoch's end (the
    protocol's ``fitted_estimator``, without its callbacks), so that
    ``pickle.load`` gives a model that predicts as the training model did
    then, and can be trained on. Files are written atomically: a temporary
    file in the same directory, flushed and fsynced, is renamed over the
    destination, so a crash or error never leaves a partial file (the
    previous checkpoint of that name stays). An error while saving stops
    ``fit``.

    Parameters
    ----------
    filepath : str or path-like
        Where to save; may hold Keras-style format fields: ``{epoch}``
        (counted from 1, as in Keras) and the epoch's ``history_`` values,
        e.g. ``"ckpt/mlp-{epoch:02d}-{val_loss:.4f}.pkl"``. Missing
        directories are created. Without fields, each save replaces the file.
    monitor : {'val_loss', 'val_score', 'loss'}, default='val_loss'
        The ``history_`` entry that decides the best model, with
        ``save_best_only``.
    save_best_only : bool, default=False
        Save only when the monitored value improves on the best so far (of
        this fit).
    mode : {'auto', 'min', 'max'}, default='auto'
        Whether lower or higher is better; 'auto' maximizes 'val_score'.
    verbose : int, default=0
        Print a message at each save.

    Attributes
    ----------
    best_ : float or None
        Best monitored value of the last fit, with ``save_best_only``.

    See Also
    --------
    EarlyStopping : Stop training, optionally restoring the best weights.

    Notes
    -----
    Concurrent fits (e.g. in a ``GridSearchCV``) write to the same
    ``filepath`` unless its fields tell them apart.
    """

    _parameter_constraints: dict = {
        "filepath": [str, os.PathLike],
        **_MONITOR_CONSTRAINTS,
        "save_best_only": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, mode="auto",
                 verbose=0):
        self.filepath = filepath
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.mode = mode
        self.verbose = verbose
        self._check_params()
        self.best_ = None

    def _check_params(self):
        super()._check_params()
        fields = set()
        try:
            for _, field, _, _ in string.Formatter().parse(os.fspath(self.filepath)):
                if field is not None:
                    fields.add(field)
        except ValueError as error:
            raise ValueError(f"filepath {self.filepath!r} is not a valid format string: "
                             f"{error}") from error
        unknown = fields - {"epoch", *HISTORY_KEYS}
        if unknown:
            raise ValueError(
                f"filepath {self.filepath!r} has unknown format fields {sorted(unknown)}; "
                f"it may use 'epoch' and {list(HISTORY_KEYS)}."
            )

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        """End of the fit or of an epoch (scikit-learn's hook).

        Parameters
        ----------
        estimator : MLPClassifier or MLPRegressor
            The estimator being fitted.
        context : CallbackContext
            The task ending: ``task_name`` is ``"fit"`` or ``"epoch"``.
        fitted_estimator : MLPClassifier or MLPRegressor or None, default=None
            At the end of an epoch, a copy of the estimator as fitted so far:
            the model a checkpoint saves.

        Returns
        -------
        stop : bool
            Whether training should stop after this epoch.
        """
        if context.task_name == "epoch":
            self._run(estimator).model = fitted_estimator
        return super().on_fit_task_end(estimator, context)

    def _train_begin(self, estimator, run):
        run.best = None
        self.best_ = None

    def _epoch_end(self, estimator, run, epoch, logs):
        model, run.model = getattr(run, "model", None), None
        if self.save_best_only:
            value = self._monitored(logs, epoch)
            mode = _resolve_mode(self.monitor, self.mode)
            previous = run.best
            if previous is None:  # for messages: nothing yet is the worst value
                previous = math.inf if mode == "min" else -math.inf
            if not _improves(value, run.best, mode):
                if self.verbose:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {previous}")
                return False
            run.best = self.best_ = value
        path = self._path(epoch, logs)
        if self.verbose:
            reason = (f"{self.monitor} improved from {previous} to {value}, "
                      if self.save_best_only else "")
            print(f"Epoch {epoch + 1}: {reason}saving model to {path}")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        _atomic_pickle(_detached(estimator if model is None else model), path)
        return False

    def _path(self, epoch, logs):
        try:
            return os.fspath(self.filepath).format(epoch=epoch + 1, **logs)
        except KeyError as error:
            raise ValueError(
                f"filepath {self.filepath!r} uses {error.args[0]!r}, which this fit does not "
                f"record; epoch {epoch + 1} recorded {list(logs)}."
            ) from error
        except (ValueError, IndexError) as error:
            raise ValueError(f"Cannot format filepath {self.filepath!r}: {error}") from error
