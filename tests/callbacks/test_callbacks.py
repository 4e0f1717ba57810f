"""fastnn.callbacks: Keras-style callbacks on scikit-learn's callback protocol.

Each callback's rule is checked on crafted curves, driving its hooks with a
fake model, and on real fits of MLPClassifier / MLPRegressor.
"""

import csv
import os
import pickle
import warnings
from types import SimpleNamespace

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastnn import MLPClassifier, MLPRegressor
from fastnn._optimizers import OptimizerState, SGDState
from fastnn.callbacks import (
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from _backends import CPU


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    # A small training part overfits within a few dozen epochs.
    return SimpleNamespace(X=X[:150], y=y[:150], X_val=X[1000:1400], y_val=y[1000:1400],
                           X_all=X, y_all=y)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def clf_(**params):
    """A small classifier whose own stopping rule stays out of the way."""
    return MLPClassifier(**{"hidden_layer_sizes": (16,), "random_state": 0,
                            "n_iter_no_change": np.inf, **params})


def diverging_regressor(**params):
    # SGD with a huge step on large targets: the loss overflows at epoch 8.
    return MLPRegressor(**{"hidden_layer_sizes": (8,), "solver": "sgd",
                           "learning_rate_init": 100.0, "max_iter": 20, "random_state": 0,
                           "n_iter_no_change": np.inf, **params})


# ------------------------------------------------------- a fake model's hooks


class FakeOptimizer:
    def __init__(self, rate):
        self.rate = rate

    def get_learning_rate(self):
        return self.rate

    def set_learning_rate(self, rate):
        self.rate = rate


class FakeModel:
    """What the callbacks read of an estimator: history_, _theta, _optimizer."""

    def __init__(self, rate=1.0):
        self.history_ = {}
        self._theta = np.zeros(3)
        self._optimizer = FakeOptimizer(rate)


def task(name, task_id=0):
    return SimpleNamespace(task_name=name, task_id=task_id)


def drive(callback, curve, monitor="val_loss", model=None, teardown=True):
    """Run ``callback``'s hooks over a crafted per-epoch curve of ``monitor``.

    The model's weights are all ``epoch`` during each epoch. Returns the
    epoch at whose end the callback stopped training (None if it did not),
    the model, and the learning rate after each epoch.
    """
    model = FakeModel() if model is None else model
    stopped, rates = None, []
    callback.on_fit_task_begin(model, task("fit"))
    for epoch, value in enumerate(curve):
        callback.on_fit_task_begin(model, task("epoch", epoch))
        for key, v in {"loss": 1.0, monitor: value}.items():
            model.history_.setdefault(key, []).append(v)
        model._theta[:] = epoch
        stop = callback.on_fit_task_end(model, task("epoch", epoch))
        rates.append(model._optimizer.rate)
        if stop:
            stopped = epoch
            break
    callback.on_fit_task_end(model, task("fit"))
    if teardown:
        callback.teardown(model, task("fit"))
    return stopped, model, rates


# -------------------------------------------------------------- EarlyStopping

NAN = float("nan")
HISTORY = ["loss", "val_loss", "val_score", "learning_rate", "epoch_seconds"]


@pytest.mark.parametrize("curve, params, stop, best", [
    # Stops at the patience-th epoch in a row without improvement.
    ([1.0, 0.8, 0.9, 0.7, 0.75, 0.76, 0.77], dict(patience=2), 5, 3),
    # patience 0 (Keras' default) and 1: the first epoch without improvement.
    ([1.0, 0.8, 0.9, 0.7], dict(patience=0), 2, 1),
    ([1.0, 0.8, 0.9, 0.7], dict(patience=1), 2, 1),
    # Improving by min_delta or less does not count.
    ([1.0, 0.95, 0.85, 0.84], dict(min_delta=0.1, patience=1), 1, 0),
    ([1.0, 0.85, 0.7, 0.55], dict(min_delta=0.1, patience=1), None, 3),
    # Scores are maximized ('auto' on val_score, or mode='max').
    ([0.5, 0.6, 0.55, 0.58, 0.61], dict(monitor="val_score", patience=2), 3, 1),
    ([0.5, 0.6, 0.55, 0.58, 0.61], dict(monitor="val_loss", mode="max", patience=2), 3, 1),
    ([0.5, 0.6, 0.55, 0.58, 0.61], dict(monitor="val_score", mode="min", patience=2), 2, 0),
    # A NaN never improves.
    ([1.0, NAN, NAN, 0.5], dict(patience=2), 2, 0),
    # Until the baseline is beaten, improving epochs count as without improvement.
    ([0.9, 0.85, 0.8, 0.7], dict(baseline=0.75, patience=3), 2, 2),
    ([0.9, 0.85, 0.8, 0.7], dict(baseline=0.95, patience=3), None, 3),
    # The first start_from_epoch epochs are not watched.
    ([1.0, 2.0, 3.0, 0.5, 0.6], dict(patience=1), 1, 0),
    ([1.0, 2.0, 3.0, 0.5, 0.6], dict(patience=1, start_from_epoch=2), 4, 3),
    ([1.0, 0.9, 0.8, 0.7], dict(patience=1), None, 3),
])
def test_early_stopping_rule_on_crafted_curves(curve, params, stop, best):
    monitor = params.get("monitor", "val_loss")
    callback = EarlyStopping(**params)
    stopped, _, _ = drive(callback, curve, monitor)
    assert stopped == stop == callback.stopped_epoch_
    assert callback.best_epoch_ == best
    assert callback.best_ == curve[best]


def test_early_stopping_restores_the_best_epoch_weights():
    curve = [1.0, 0.5, 0.7, 0.8, 0.9]
    _, model, _ = drive(EarlyStopping(patience=2, restore_best_weights=True), curve)
    np.testing.assert_array_equal(model._theta, 1.0)  # epoch 1's weights
    # Also when training ends without the callback stopping it.
    _, model, _ = drive(EarlyStopping(patience=9, restore_best_weights=True), curve)
    np.testing.assert_array_equal(model._theta, 1.0)
    # Without restoring, the last epoch's weights stay.
    _, model, _ = drive(EarlyStopping(patience=2), curve)
    np.testing.assert_array_equal(model._theta, 3.0)


@pytest.mark.parametrize("teardown", [True, False])
def test_early_stopping_state_resets_at_each_fit(teardown):
    callback = EarlyStopping(patience=1, restore_best_weights=True)
    model = FakeModel()
    assert drive(callback, [0.1, 0.2], model=model, teardown=teardown)[0] == 1
    # A fresh fit does not compare with the previous fit's best (0.1).
    model.history_.clear()
    stopped, model, _ = drive(callback, [5.0, 4.0, 3.0], model=model)
    assert stopped is None and callback.best_ == 3.0 and callback.stopped_epoch_ is None
    np.testing.assert_array_equal(model._theta, 2.0)


def reference_stop(curve, patience, min_delta):
    """The epoch Keras' EarlyStopping stops at on a loss curve (None: never)."""
    best, wait = np.inf, 0
    for epoch, value in enumerate(curve):
        if value < best - min_delta:
            best, wait = value, 0
        else:
            wait += 1
            if wait >= max(patience, 1):
                return epoch
    return None


def test_early_stopping_stops_a_fit_where_the_rule_says(digits):
    d = digits
    fit = dict(X_val=d.X_val, y_val=d.y_val)
    full = clf_(learning_rate_init=0.03, max_iter=60).fit(d.X, d.y, **fit)
    stop = reference_stop(full.history_["val_loss"], patience=4, min_delta=0.005)
    assert stop is not None and stop < 59
    callback = EarlyStopping(patience=4, min_delta=0.005)
    clf = clf_(learning_rate_init=0.03, max_iter=60).set_callbacks(callback)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # not "max_iter reached"
        clf.fit(d.X, d.y, **fit)
    assert clf.n_iter_ == stop + 1 == callback.stopped_epoch_ + 1
    assert clf.history_["val_loss"] == full.history_["val_loss"][: stop + 1]


def test_restored_weights_are_the_best_checkpoint(digits, tmp_path):
    # EarlyStopping's restored model, ModelCheckpoint's best file and a fit
    # run for just the best epoch's number of epochs are one model.
    d = digits
    path = tmp_path / "best.pkl"
    stop = EarlyStopping(patience=5, restore_best_weights=True)
    clf = clf_(learning_rate_init=0.03, max_iter=80).set_callbacks(
        ModelCheckpoint(path, save_best_only=True), stop)
    clf.fit(d.X, d.y, X_val=d.X_val, y_val=d.y_val)
    best = int(np.argmin(clf.history_["val_loss"]))
    assert stop.best_epoch_ == best < clf.n_iter_ - 1
    with open(path, "rb") as f:
        checkpoint = pickle.load(f)
    short = clf_(learning_rate_init=0.03, max_iter=best + 1).fit(d.X, d.y)
    proba = clf.predict_proba(d.X_val)
    np.testing.assert_array_equal(proba, checkpoint.predict_proba(d.X_val))
    np.testing.assert_array_equal(proba, short.predict_proba(d.X_val))
    last = clf_(learning_rate_init=0.03, max_iter=clf.n_iter_).fit(d.X, d.y)
    assert not np.array_equal(proba, last.predict_proba(d.X_val))


def test_restoring_rescues_a_diverging_fit(digits):
    # Without it the estimator refuses the non-finite weights it ends with.
    d = digits
    X, y = d.X_all, d.y_all * 100.0
    with pytest.raises(ValueError, match="non-finite"):
        diverging_regressor().fit(X, y)
    # The weights are NaN from epoch 14 on: the best ones are restored when
    # the callback stops, before the estimator checks them.
    callback = EarlyStopping(monitor="loss", patience=15, restore_best_weights=True)
    reg = diverging_regressor().set_callbacks(callback).fit(X, y)
    assert callback.stopped_epoch_ == 15 and reg.n_iter_ == 16
    assert np.isnan(reg.loss_curve_[-1])
    one_epoch = diverging_regressor(max_iter=1).fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), one_epoch.predict(X))


# ------------------------------------------------------------ ModelCheckpoint


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_checkpoints_reload_to_the_same_predictions(digits, tmp_path, Estimator):
    d = digits
    X, y = d.X_all[:400], d.y_all[:400]
    params = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    est = Estimator(**params).set_callbacks(
        ModelCheckpoint(tmp_path / "sub" / "m-{epoch:02d}-{loss:.3f}.pkl"))
    est.fit(X, y)
    files = sorted(os.listdir(tmp_path / "sub"))
    assert [f[:4] for f in files] == ["m-01", "m-02", "m-03"]
    assert files[2] == f"m-03-{est.loss_curve_[2]:.3f}.pkl"
    for epochs, name in enumerate(files, start=1):
        with open(tmp_path / "sub" / name, "rb") as f:
            model = pickle.load(f)
        # Epoch k's file is the model of a k-epoch fit with the same seed.
        expected = Estimator(**{**params, "max_iter": epochs}).fit(X, y)
        np.testing.assert_array_equal(model.predict(X), expected.predict(X))
        assert model.n_iter_ == epochs and len(model.loss_curve_) == epochs
        # The file holds the model, not the callbacks nor fit's task tree.
        assert not hasattr(model, "_skl_callbacks")
        assert not hasattr(model, "_callback_fit_ctx")
    np.testing.assert_array_equal(model.predict(X), est.predict(X))
    # A reloaded checkpoint trains on.
    model.partial_fit(X, y)
    assert model.n_iter_ == 1 and len(model.loss_curve_) == 4


def test_save_best_only_writes_on_improvement(tmp_path):
    callback = ModelCheckpoint(tmp_path / "{epoch}.pkl", save_best_only=True)
    drive(callback, [1.0, 0.9, 0.95, 0.8, 0.85, NAN, 0.7])
    assert sorted(os.listdir(tmp_path)) == ["1.pkl", "2.pkl", "4.pkl", "7.pkl"]
    with open(tmp_path / "4.pkl", "rb") as f:
        np.testing.assert_array_equal(pickle.load(f)._theta, 3.0)  # epoch 4 from 1
    assert callback.best_ == 0.7
    # Scores are maximized; without save_best_only every epoch is written.
    callback = ModelCheckpoint(tmp_path / "s{epoch}.pkl", monitor="val_score",
                               save_best_only=True)
    drive(callback, [0.5, 0.4, 0.6], monitor="val_score")
    assert sorted(f for f in os.listdir(tmp_path) if f[0] == "s") == ["s1.pkl", "s3.pkl"]
    drive(ModelCheckpoint(tmp_path / "all{epoch}.pkl"), [1.0, 2.0])
    assert sorted(f for f in os.listdir(tmp_path) if f[0] == "a") == ["all1.pkl", "all2.pkl"]


def _failing(function, error, nth):
    """``function``, made to raise ``error`` on its ``nth`` call."""
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == nth:
            if function is pickle.dump:
                args[1].write(b"half a model")  # part of the file is written
            raise error
        return function(*args, **kwargs)

    return failing


# The call that fails is the third save's (fsync: the file's, then its directory's).
@pytest.mark.parametrize("target, nth", [("pickle.dump", 3), ("os.fsync", 5), ("os.replace", 3)])
def test_a_failing_write_leaves_no_partial_file(digits, tmp_path, monkeypatch, target, nth):
    d = digits
    module_name, name = target.split(".")
    module = {"pickle": pickle, "os": os}[module_name]
    monkeypatch.setattr(module, name, _failing(getattr(module, name), OSError("disk full"), nth))
    path = tmp_path / "model.pkl"
    clf = clf_(max_iter=5).set_callbacks(ModelCheckpoint(path))
    with pytest.raises(OSError, match="disk full"):
        clf.fit(d.X, d.y)
    monkeypatch.undo()
    # The error stopped fit at the third save; the second save is intact.
    assert clf.n_iter_ == 3
    assert os.listdir(tmp_path) == ["model.pkl"]
    with open(path, "rb") as f:
        model = pickle.load(f)
    expected = clf_(max_iter=2).fit(d.X, d.y)
    np.testing.assert_array_equal(model.predict_proba(d.X), expected.predict_proba(d.X))


def test_checkpoint_path_fields_must_be_recorded(digits, tmp_path):
    d = digits
    clf = clf_(max_iter=3).set_callbacks(ModelCheckpoint(tmp_path / "{val_loss:.3f}.pkl"))
    with pytest.raises(ValueError, match="'val_loss', which this fit does not record"):
        clf.fit(d.X, d.y)
    clf.fit(d.X, d.y, X_val=d.X_val, y_val=d.y_val)
    assert len(os.listdir(tmp_path)) == 3


# ---------------------------------------------------- learning-rate callbacks


def test_reduce_lr_on_plateau_rule_on_a_crafted_curve():
    # A flat curve: after patience epochs the rate drops, then a cooldown
    # epoch passes before counting again; min_lr bounds it.
    callback = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, cooldown=1,
                                 min_lr=0.2)
    _, _, rates = drive(callback, [1.0] * 13, monitor="loss")
    assert rates == [1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2, 0.2]
    # An improvement by more than min_delta resets the count.
    callback = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_delta=0.05)
    _, _, rates = drive(callback, [1.0, 0.99, 0.9, 0.89, 0.88, 0.87], monitor="loss")
    assert rates == [1, 1, 1, 1, 0.5, 0.5]


def test_reduce_lr_on_plateau_slows_the_sgd_steps(digits):
    # Full-batch SGD without momentum: one step per epoch of -rate * gradient.
    d = digits
    steps, rates = {}, {}
    for name, callbacks in [("plain", []), ("reduced", [ReduceLROnPlateau(
            monitor="loss", min_delta=1e9, patience=2, factor=0.5)])]:
        snapshots = []
        clf = clf_(solver="sgd", momentum=0.0, learning_rate_init=0.1, batch_size=150,
                   max_iter=6)
        clf.set_callbacks(*callbacks, LambdaCallback(
            on_epoch_end=lambda epoch, logs: snapshots.append(clf._theta.copy())))
        clf.fit(d.X, d.y)
        steps[name] = np.diff(snapshots, axis=0)
        rates[name] = clf.history_["learning_rate"]
    # min_delta=1e9: no epoch improves after the first; the rate halves at
    # the end of epochs 2 and 4 (from 0).
    assert rates["plain"] == [0.1] * 6
    assert rates["reduced"] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025]
    np.testing.assert_array_equal(steps["reduced"][:2], steps["plain"][:2])
    # Epoch 3 starts from the same weights with half the rate.
    np.testing.assert_allclose(steps["reduced"][2], 0.5 * steps["plain"][2], rtol=1e-6,
                               atol=1e-15)


SOLVERS = [
    dict(solver="sgd"),
    dict(solver="sgd", learning_rate="invscaling"),
    dict(solver="sgd", learning_rate="adaptive"),
    dict(solver="adam"),
    dict(solver="adamw"),
    dict(solver="nadam"),
    dict(solver="rmsprop"),
    dict(solver="adagrad"),
]


@pytest.mark.parametrize("backend", CPU)
@pytest.mark.parametrize("solver", SOLVERS, ids=lambda p: "-".join(p.values()))
def test_a_scheduled_rate_reaches_every_solver(digits, solver, backend):
    # A schedule pinning the rate to r trains as learning_rate_init=r does
    # ('invscaling' pinned is a constant rate).
    d = digits
    params = dict(solver, hidden_layer_sizes=(8,), max_iter=4, batch_size=50, backend=backend)
    scheduled = clf_(**params, learning_rate_init=0.001).set_callbacks(
        LearningRateScheduler(lambda epoch, lr: 0.02)).fit(d.X, d.y)
    if solver.get("learning_rate") == "invscaling":
        params["learning_rate"] = "constant"
    reference = clf_(**params, learning_rate_init=0.02).fit(d.X, d.y)
    np.testing.assert_array_equal(scheduled.coefs_[0], reference.coefs_[0])
    assert scheduled.history_["learning_rate"] == reference.history_["learning_rate"]


@pytest.mark.parametrize("solver", SOLVERS[:2] + SOLVERS[3:], ids=lambda p: "-".join(p.values()))
def test_scheduler_sets_each_epochs_rate(digits, solver):
    # Halving at epoch 2 halves every later rate that history_ shows (for
    # adam and adamw, scikit-learn's bias-corrected step; with invscaling,
    # the schedule decays on from the halved rate).
    d = digits
    params = dict(solver, hidden_layer_sizes=(8,), max_iter=5, learning_rate_init=0.01)
    seen = []

    def halve_at_2(epoch, lr):
        seen.append((epoch, lr))
        return lr / 2 if epoch == 2 else lr

    plain = clf_(**params).fit(d.X, d.y).history_["learning_rate"]
    clf = clf_(**params).set_callbacks(LearningRateScheduler(halve_at_2)).fit(d.X, d.y)
    expected = [rate * (0.5 if epoch >= 2 else 1) for epoch, rate in enumerate(plain)]
    np.testing.assert_allclose(clf.history_["learning_rate"], expected, rtol=1e-12)
    assert [epoch for epoch, _ in seen] == [0, 1, 2, 3, 4]
    assert seen[0][1] == 0.01  # the rate the epoch would use


def test_scheduler_per_epoch_rates_and_one_argument_schedules(digits):
    d = digits
    clf = clf_(solver="sgd", max_iter=4).set_callbacks(
        LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1)))
    clf.fit(d.X, d.y)
    assert clf.history_["learning_rate"] == [0.1, 0.1 / 2, 0.1 / 3, 0.1 / 4]


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), None, "0.1", True])
def test_scheduler_must_return_a_positive_rate(digits, bad):
    clf = clf_(max_iter=2).set_callbacks(LearningRateScheduler(lambda epoch, lr: bad))
    with pytest.raises(ValueError, match="positive finite number"):
        clf.fit(digits.X, digits.y)


_ADAM = dict(beta_1=0.9, beta_2=0.999, epsilon=1e-8)


@pytest.mark.parametrize("state", [
    SGDState(4, np.float64, 0.1, "constant", 0.5, momentum=0.9, nesterov=True),
    SGDState(4, np.float64, 0.1, "adaptive", 0.5, momentum=0.9, nesterov=True),
    OptimizerState("adam", 4, np.float64, 0.1, **_ADAM),
    OptimizerState("adamw", 4, np.float64, 0.1, **_ADAM, weight_decay=0.01),
    OptimizerState("nadam", 4, np.float64, 0.1, **_ADAM),
    OptimizerState("rmsprop", 4, np.float64, 0.1, rho=0.9, epsilon=1e-8),
    OptimizerState("adagrad", 4, np.float64, 0.1, epsilon=1e-8),
], ids=lambda s: s.name + getattr(s, "lr_schedule", ""))
def test_optimizer_states_set_their_base_rate(state):
    assert state.get_learning_rate() == 0.1
    state.set_learning_rate(0.03)
    assert state.get_learning_rate() == 0.03 == state.hyper()[0]
    with pytest.raises(ValueError, match="positive finite"):
        state.set_learning_rate(0.0)


def test_invscaling_state_scales_its_schedule():
    state = SGDState(4, np.float64, 0.1, "invscaling", 0.5, momentum=0.9, nesterov=True)
    state.iteration_ends(99)  # rate 0.1 / 100 ** 0.5
    assert state.get_learning_rate() == pytest.approx(0.01)
    state.set_learning_rate(0.005)
    assert state.hyper()[0] == 0.005
    state.iteration_ends(399)  # halved schedule: 0.05 / 400 ** 0.5
    assert state.get_learning_rate() == pytest.approx(0.0025)


# ------------------------------------------------------------- TerminateOnNaN


def test_terminate_on_nan_stops_a_diverging_fit(digits):
    d = digits
    X, y = d.X_all, d.y_all * 100.0
    losses = []
    plain = diverging_regressor().set_callbacks(
        LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"])))
    with pytest.raises(ValueError, match="non-finite.*The estimator is left unfitted"):
        plain.fit(X, y)
    assert not hasattr(plain, "coefs_")
    first_bad = int(np.argmin(np.isfinite(losses)))
    assert len(losses) == 20 and 0 < first_bad < 19
    callback = TerminateOnNaN()
    reg = diverging_regressor().set_callbacks(callback)
    with pytest.warns(UserWarning, match="terminating training"):
        reg.fit(X, y)
    assert reg.n_iter_ == first_bad + 1 == callback.stopped_epoch_ + 1
    # Here the loss overflowed before the weights did: the model is kept.
    assert not np.isfinite(reg.loss_) and np.isfinite(reg.predict(X)).all()
    # A finite loss does not stop; inf and NaN do.
    for curve, stop in [([1.0, 2.0], None), ([1.0, np.inf, 2.0], 1), ([NAN], 0)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            assert drive(TerminateOnNaN(), curve, monitor="loss")[0] == stop


# ------------------------------------------------------------------ CSVLogger


def read_csv(path, separator=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=separator))


def test_csv_logger_writes_one_row_per_epoch(digits, tmp_path):
    d = digits
    path = tmp_path / "log.csv"
    clf = clf_(max_iter=3, warm_start=True).set_callbacks(CSVLogger(path))
    clf.fit(d.X, d.y, X_val=d.X_val, y_val=d.y_val)
    header, *rows = read_csv(path)
    assert header == ["epoch", "loss", "val_loss", "val_score", "learning_rate",
                      "epoch_seconds"]
    assert [row[0] for row in rows] == ["0", "1", "2"]
    for column, name in enumerate(header[1:], start=1):
        assert [float(row[column]) for row in rows] == clf.history_[name]
    # Without append, a new fit starts the file again.
    clf.fit(d.X, d.y, X_val=d.X_val, y_val=d.y_val)
    assert len(read_csv(path)) == 4


def test_csv_logger_appends_under_one_header(digits, tmp_path):
    d = digits
    path = tmp_path / "log.csv"
    clf = clf_(max_iter=2, warm_start=True).set_callbacks(
        CSVLogger(path, separator=";", append=True))
    clf.fit(d.X, d.y)  # no validation set
    clf.fit(d.X, d.y, X_val=d.X_val, y_val=d.y_val)
    header, *rows = read_csv(path, ";")
    # The first fit's header stays: the second fit's val columns are left out.
    assert header == ["epoch", "loss", "learning_rate", "epoch_seconds"]
    assert [row[0] for row in rows] == ["0", "1", "0", "1"]
    assert [float(row[1]) for row in rows] == clf.history_["loss"]
    # Columns a fit does not record read NA.
    path2 = tmp_path / "log2.csv"
    path2.write_text("epoch,loss,val_loss\n")
    clf_(max_iter=1).set_callbacks(CSVLogger(path2, append=True)).fit(d.X, d.y)
    assert read_csv(path2)[1][2] == "NA"


def test_csv_logger_closes_its_file_after_an_error(digits, tmp_path):
    logger = CSVLogger(tmp_path / "log.csv")
    clf = clf_(max_iter=3).set_callbacks(logger, EarlyStopping())  # no val_loss
    with pytest.raises(ValueError, match="monitors 'val_loss'"):
        clf.fit(digits.X, digits.y)
    assert not logger._runs
    assert len(read_csv(tmp_path / "log.csv")) == 2  # header and epoch 0
    pickle.dumps(clf)  # no open file travels with the estimator


# ------------------------------------------------------------- LambdaCallback


def test_lambda_callback_calls(digits):
    d = digits
    calls = []
    callback = LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train_begin", logs)),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch, logs)),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, logs)) or True,
        on_train_end=lambda logs: calls.append(("train_end", logs)),
    )
    clf = clf_(max_iter=2).set_callbacks(callback).fit(d.X, d.y, X_val=d.X_val, y_val=d.y_val)
    h = clf.history_
    logs = [{key: h[key][epoch] for key in h} for epoch in range(2)]
    assert calls == [
        ("train_begin", {}),
        ("epoch_begin", 0, {}), ("epoch_end", 0, logs[0]),
        ("epoch_begin", 1, {}), ("epoch_end", 1, logs[1]),
        ("train_end", logs[1]),
    ]
    # What the functions return does not stop training.
    assert clf.n_iter_ == 2


def test_lambda_callback_train_hooks_run_with_lbfgs(digits):
    calls = []
    clf = clf_(solver="lbfgs", max_iter=5).set_callbacks(
        LambdaCallback(on_train_end=lambda logs: calls.append(logs)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(digits.X, digits.y)
    assert calls == [{}]
    assert not [w for w in caught if "solver='lbfgs'" in str(w.message)]
    clf.set_callbacks(LambdaCallback(on_epoch_end=print))
    with pytest.warns(UserWarning, match="solver='lbfgs'"):
        clf.fit(digits.X, digits.y)


# ------------------------------------------------- monitors and bad arguments


@pytest.mark.parametrize("callback", [
    EarlyStopping(), EarlyStopping(monitor="val_score"), ReduceLROnPlateau(),
    ModelCheckpoint("never.pkl", save_best_only=True),
], ids=repr)
def test_a_monitor_the_fit_does_not_record_is_an_error(digits, callback, tmp_path,
                                                       monkeypatch):
    monkeypatch.chdir(tmp_path)
    clf = clf_(max_iter=5).set_callbacks(callback)
    with pytest.raises(ValueError, match="X_val=.*early_stopping=True"):
        clf.fit(digits.X, digits.y)
    assert clf.n_iter_ == 1  # found at the end of the first epoch
    assert os.listdir(tmp_path) == []
    # The estimator's own validation split records them.
    clf.set_params(early_stopping=True).fit(digits.X, digits.y)


@pytest.mark.parametrize("make, name", [
    (lambda: EarlyStopping(monitor="accuracy"), "monitor"),
    (lambda: EarlyStopping(monitor="val_loss", mode="up"), "mode"),
    (lambda: EarlyStopping(patience=-1), "patience"),
    (lambda: EarlyStopping(patience=1.5), "patience"),
    (lambda: EarlyStopping(min_delta=-0.1), "min_delta"),
    (lambda: EarlyStopping(baseline="low"), "baseline"),
    (lambda: EarlyStopping(start_from_epoch=-1), "start_from_epoch"),
    (lambda: ReduceLROnPlateau(factor=1.0), "factor"),
    (lambda: ReduceLROnPlateau(factor=0.0), "factor"),
    (lambda: ReduceLROnPlateau(min_lr=-1e-3), "min_lr"),
    (lambda: ReduceLROnPlateau(cooldown=-1), "cooldown"),
    (lambda: ModelCheckpoint(3), "filepath"),
    (lambda: ModelCheckpoint("{foo}.pkl"), "filepath"),
    (lambda: ModelCheckpoint("{epoch.pkl"), "filepath"),
    (lambda: ModelCheckpoint("m.pkl", save_best_only="yes"), "save_best_only"),
    (lambda: CSVLogger("log.csv", separator=";;"), "separator"),
    (lambda: CSVLogger(None), "filename"),
    (lambda: LambdaCallback(on_epoch_end=3), "on_epoch_end"),
    (lambda: LearningRateScheduler(0.1), "schedule"),
])
def test_bad_arguments_are_refused_at_construction(make, name):
    # The error names the argument at fault.
    with pytest.raises((ValueError, TypeError), match=name):
        make()


def test_arguments_are_checked_again_at_fit(digits):
    callback = EarlyStopping(monitor="loss")
    callback.patience = -2
    with pytest.raises(ValueError, match="patience"):
        clf_(max_iter=2).set_callbacks(callback).fit(digits.X, digits.y)


# ---------------------------------------- meta-estimators, clones, refitting


@pytest.mark.parametrize("make_meta", [
    lambda cb: GridSearchCV(clf_(max_iter=2), {"alpha": [1e-4]}, cv=2).set_callbacks(cb),
    lambda cb: make_pipeline(StandardScaler(), clf_(max_iter=2)).set_callbacks(cb),
])
def test_set_on_a_meta_estimator_is_an_error(digits, make_meta):
    with pytest.raises(TypeError, match="set it on the MLP itself"):
        make_meta(EarlyStopping(monitor="loss")).fit(digits.X, digits.y)


def test_one_instance_serves_every_fit_of_a_search(digits):
    # clone passes the callback on; each fit starts it afresh, so every fit
    # stops where a fit with a new callback does.
    X, y = digits.X_all[:600], digits.y_all[:600]
    est = clf_(learning_rate_init=0.05, max_iter=40)

    def fresh_fit(train, **params):
        model = clone(est).set_params(**params)
        return model.set_callbacks(EarlyStopping("loss", min_delta=0.02)).fit(X[train], y[train])

    shared = EarlyStopping("loss", min_delta=0.02)
    cv = KFold(3)
    result = cross_validate(clone(est).set_callbacks(shared), X, y, cv=cv,
                            return_estimator=True)
    folds = [train for train, _ in cv.split(X)]
    assert [m.n_iter_ for m in result["estimator"]] == [fresh_fit(t).n_iter_ for t in folds]
    assert all(m._skl_callbacks == [shared] for m in result["estimator"])
    # The same with fits running concurrently in threads.
    with joblib.parallel_backend("threading", n_jobs=2):
        threaded = cross_validate(clone(est).set_callbacks(shared), X, y, cv=cv, n_jobs=2,
                                  return_estimator=True)
    assert [m.n_iter_ for m in threaded["estimator"]] == [m.n_iter_ for m in result["estimator"]]
    search = GridSearchCV(clone(est).set_callbacks(shared), {"alpha": [1e-4, 1e-1]}, cv=2)
    search.fit(X, y)
    refit = fresh_fit(slice(None), **search.best_params_)
    assert search.best_estimator_.n_iter_ == refit.n_iter_ < 40


def test_warm_start_starts_callbacks_and_rate_afresh(digits):
    d = digits
    epochs = []
    reduce = ReduceLROnPlateau(monitor="loss", min_delta=1e9, patience=1, factor=0.5)
    clf = clf_(solver="sgd", learning_rate_init=0.1, max_iter=3, warm_start=True)
    clf.set_callbacks(reduce, LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e)))
    clf.fit(d.X, d.y)
    clf.fit(d.X, d.y)
    # Each fit counts epochs from 0 and makes a new optimizer; history_ goes on.
    assert epochs == [0, 1, 2, 0, 1, 2]
    assert clf.history_["learning_rate"] == [0.1, 0.1, 0.05] * 2


def test_logs_hold_what_the_epoch_recorded(digits):
    # history_ goes on across warm_start fits; a fit without the validation
    # set has no val_loss, though history_["val_loss"] has earlier values.
    d = digits
    logs = []
    clf = clf_(max_iter=2, warm_start=True).set_callbacks(
        LambdaCallback(on_epoch_end=lambda epoch, l: logs.append(l)))
    clf.fit(d.X, d.y, X_val=d.X_val, y_val=d.y_val)
    clf.fit(d.X, d.y)
    assert [sorted(entry) for entry in logs] == (
        [sorted(HISTORY)] * 2 + [sorted(set(HISTORY) - {"val_loss", "val_score"})] * 2)
    assert [entry["loss"] for entry in logs] == clf.history_["loss"]
    clf.set_callbacks(EarlyStopping())
    with pytest.raises(ValueError, match="'val_loss', which this fit does not record"):
        clf.fit(d.X, d.y)


def test_partial_fit_runs_no_hooks_but_keeps_the_rate(digits):
    d = digits
    calls = []
    clf = clf_(solver="sgd", learning_rate_init=0.1, max_iter=2).set_callbacks(
        LearningRateScheduler(lambda epoch, lr: 0.01),
        LambdaCallback(on_epoch_end=lambda epoch, logs: calls.append(epoch)))
    clf.fit(d.X, d.y)
    clf.partial_fit(d.X, d.y)
    assert calls == [0, 1]
    assert clf.history_["learning_rate"] == [0.01] * 3


def test_clone_shares_the_callbacks_and_fits_alike(digits):
    callback = EarlyStopping("loss", min_delta=0.05)
    clf = clf_(max_iter=30).set_callbacks(callback)
    twin = clone(clf)
    assert twin._skl_callbacks == [callback]
    assert twin.fit(digits.X, digits.y).n_iter_ == clf.fit(digits.X, digits.y).n_iter_ < 30
