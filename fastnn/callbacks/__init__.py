"""Keras-style training callbacks on scikit-learn's callback protocol.

``EarlyStopping``, ``ModelCheckpoint``, ``ReduceLROnPlateau``,
``LearningRateScheduler``, ``TerminateOnNaN``, ``CSVLogger`` and
``LambdaCallback`` do what their Keras namesakes do, for the epochs of the
stochastic solvers of :class:`~fastnn.MLPClassifier` and
:class:`~fastnn.MLPRegressor`. They are ``sklearn.callback`` fit callbacks,
set with ``est.set_callbacks(...)``::

    import numpy as np
    from fastnn import MLPClassifier
    from fastnn.callbacks import EarlyStopping, ModelCheckpoint

    clf = MLPClassifier(n_iter_no_change=np.inf).set_callbacks(
        EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True),
        ModelCheckpoint("ckpt/mlp-{epoch:03d}.pkl", save_best_only=True),
    )
    clf.fit(X, y, X_val=X_val, y_val=y_val)

How they map onto the protocol:

- ``fit`` is the training run (Keras' ``on_train_begin`` / ``on_train_end``)
  and each epoch is a subtask (``on_epoch_begin`` / ``on_epoch_end``). An
  epoch's values are the entries ``history_`` gained in that epoch:
  ``loss``, ``val_loss`` and ``val_score`` (with a validation set),
  ``learning_rate`` and ``epoch_seconds``. They are the ``logs`` dict, and a
  callback's ``monitor`` is one of ``loss``, ``val_loss`` and ``val_score``.
- A monitor the fit does not record (``val_loss`` or ``val_score`` without
  ``fit(X, y, X_val=, y_val=)`` or ``early_stopping=True``) raises a
  ValueError at the end of the first epoch. Keras warns at every epoch and
  the callback does nothing; here the mistake stops ``fit`` after one epoch.
- Epochs are counted from 0 in each ``fit``, as in Keras (also with
  ``warm_start``, which continues ``history_``); Keras' ``{epoch}`` in
  checkpoint names and the epochs in printed messages count from 1.
- Each ``fit`` starts afresh: the state of a callback (best value, patience
  counter, open file) belongs to one fit of one estimator, so one instance
  serves many fits, also concurrent ones in threads. The public attributes
  ending in ``_`` describe the most recent fit.
- They are not auto-propagated: set them on the MLP, not on a
  ``GridSearchCV`` or ``Pipeline`` (a TypeError says so). ``clone`` passes an
  estimator's callbacks on by reference, so an MLP inside ``GridSearchCV`` or
  ``cross_validate`` runs them in each of its fits; with ``n_jobs > 1`` the
  fits use copies of the callback in the worker processes (files are written
  from there; the attributes in the main process do not change).
- The estimator's own stopping rule (``tol``, ``n_iter_no_change``,
  ``early_stopping``) keeps acting; training ends at whichever stops first.
  ``n_iter_no_change=np.inf`` leaves stopping to the callbacks.
- ``solver='lbfgs'`` has no epochs: the epoch callbacks warn that they do
  nothing. ``partial_fit`` calls no callback hooks (the estimator opens no
  task for it), though a rate set by a callback in ``fit`` stays in the
  optimizer that ``partial_fit`` goes on with. A new ``fit`` (also with
  ``warm_start``) starts a new optimizer at ``learning_rate_init``.
- A rate set by ``ReduceLROnPlateau`` or ``LearningRateScheduler`` is the
  base step size of every solver (``learning_rate_init`` of adam, adamw and
  nadam, so adamw's decoupled weight decay follows it as in PyTorch; the
  'invscaling' schedule of sgd is scaled to decay on from it).
  ``history_["learning_rate"]`` shows it, except that for adam and adamw it
  keeps showing scikit-learn's bias-corrected step, proportional to it.
"""

from ._checkpoint import ModelCheckpoint
from ._logging import CSVLogger, LambdaCallback
from ._rates import LearningRateScheduler, ReduceLROnPlateau
from ._stopping import EarlyStopping, TerminateOnNaN

__all__ = [
    "CSVLogger",
    "EarlyStopping",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]
