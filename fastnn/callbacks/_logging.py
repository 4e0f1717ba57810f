"""Callbacks that report epochs: CSVLogger and LambdaCallback."""

import csv
import os

from ._base import _EpochCallback


class CSVLogger(_EpochCallback):
    """Write each epoch's ``history_`` values to a CSV file.

    One row per epoch: ``epoch`` (from 0 in each fit) and the values the
    epoch recorded (``loss``, ``val_loss``, ``val_score``,
    ``learning_rate``, ``epoch_seconds``), under a header written once. The
    file is opened at the beginning of ``fit``, flushed after each row and
    closed at its end.

    Parameters
    ----------
    filename : str or path-like
        The CSV file.
    separator : str, default=','
        One character separating the fields.
    append : bool, default=False
        Append to the file rather than overwrite it. Appending to a file that
        already has a header keeps its columns: values it has no column for
        are left out and its columns this fit does not record read ``NA``.
    """

    _parameter_constraints: dict = {
        "filename": [str, os.PathLike],
        "separator": [str],
        "append": ["boolean"],
    }

    def __init__(self, filename, separator=",", append=False):
        self.filename = filename
        self.separator = separator
        self.append = append
        self._check_params()

    def _check_params(self):
        super()._check_params()
        if len(self.separator) != 1:
            raise ValueError(f"separator must be a single character, got {self.separator!r}.")

    def _train_begin(self, estimator, run):
        run.columns = None
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="", encoding="utf-8") as f:
                header = next(csv.reader(f, delimiter=self.separator), None)
            run.columns = header or None
        run.file = open(self.filename, "a" if self.append else "w", newline="",
                        encoding="utf-8")
        run.writer = csv.writer(run.file, delimiter=self.separator)

    def _epoch_end(self, estimator, run, epoch, logs):
        row = {"epoch": epoch, **logs}
        if run.columns is None:
            run.columns = list(row)
            run.writer.writerow(run.columns)
        run.writer.writerow([row.get(column, "NA") for column in run.columns])
        run.file.flush()
        return False

    def _train_end(self, estimator, run, logs):
        self._close(run)

    def _close(self, run):
        file = getattr(run, "file", None)
        if file is not None:
            file.close()
            run.file = None


class LambdaCallback(_EpochCallback):
    """Call user functions at the beginning and end of training and of each epoch.

    The functions get Keras' arguments: ``on_epoch_begin(epoch, logs)``,
    ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)`` and
    ``on_train_end(logs)``. ``epoch`` counts from 0 in each fit; ``logs``
    is a dict, empty at the beginnings, the epoch's ``history_`` values at
    an epoch's end and the last epoch's at the end of training. What they
    return is ignored (write a ``sklearn.callback`` FitCallback to stop
    training); there are no batch hooks, as an epoch runs in compiled code.

    Parameters
    ----------
    on_epoch_begin, on_epoch_end : callable or None, default=None
        Called with ``(epoch, logs)``.
    on_train_begin, on_train_end : callable or None, default=None
        Called with ``(logs)``; they run with ``solver='lbfgs'`` too.

    Notes
    -----
    The estimator holds its callbacks: one holding a lambda cannot be
    pickled with :mod:`pickle` until ``set_callbacks()`` removes them.

    Examples
    --------
    >>> from fastnn.callbacks import LambdaCallback
    >>> losses = []
    >>> log = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
    """

    _parameter_constraints: dict = {
        "on_epoch_begin": [callable, None],
        "on_epoch_end": [callable, None],
        "on_train_begin": [callable, None],
        "on_train_end": [callable, None],
    }

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None):
        self.on_epoch_begin = on_epoch_begin
        self.on_epoch_end = on_epoch_end
        self.on_train_begin = on_train_begin
        self.on_train_end = on_train_end
        self._check_params()

    @property
    def _uses_epochs(self):
        return self.on_epoch_begin is not None or self.on_epoch_end is not None

    def _train_begin(self, estimator, run):
        if self.on_train_begin is not None:
            self.on_train_begin({})

    def _epoch_begin(self, estimator, run, epoch):
        if self.on_epoch_begin is not None:
            self.on_epoch_begin(epoch, {})

    def _epoch_end(self, estimator, run, epoch, logs):
        if self.on_epoch_end is not None:
            self.on_epoch_end(epoch, dict(logs))
        return False

    def _train_end(self, estimator, run, logs):
        if self.on_train_end is not None:
            self.on_train_end(dict(logs))
