"""scikit-learn's callback protocol (sklearn.callback) on fastnn's estimators."""

import warnings

import numpy as np
import pytest
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastnn import MLPClassifier, MLPRegressor


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


class Recorder:
    """A FitCallback keeping what each hook saw; stops at the end of epoch ``stop_at``."""

    def __init__(self, stop_at=None):
        self.stop_at = stop_at
        self.calls = []
        self.seen = {}

    def setup(self, estimator, context):
        self.calls.append(("setup", context.task_name))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context.task_name))

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, metadata=None):
        self.calls.append(("begin", context.task_name, context.task_id))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, metadata=None,
                        fitted_estimator=None):
        self.calls.append(("end", context.task_name, context.task_id))
        self.seen[context.task_name] = dict(X=X, y=y, metadata=metadata,
                                            fitted_estimator=fitted_estimator)
        return context.task_name == "epoch" and context.task_id + 1 == self.stop_at


class PropagatedRecorder(Recorder):
    """The same, propagated by meta-estimators to their sub-estimators."""

    max_propagation_depth = None

    def on_fit_task_end(self, estimator, context, **kwargs):
        self.calls.append(("end", context.estimator_name, context.task_name))


def test_each_epoch_is_a_task(digits):
    X, y = digits
    recorder = Recorder()
    MLPClassifier((8,), max_iter=3, random_state=0).set_callbacks(recorder).fit(X, y)
    assert recorder.calls == [
        ("setup", "fit"), ("begin", "fit", 0),
        ("begin", "epoch", 0), ("end", "epoch", 0),
        ("begin", "epoch", 1), ("end", "epoch", 1),
        ("begin", "epoch", 2), ("end", "epoch", 2),
        ("end", "fit", 0), ("teardown", "fit"),
    ]


def test_scoring_monitor_scores_every_epoch(digits):
    X, y = digits
    monitor = ScoringMonitor(scoring="accuracy")
    clf = MLPClassifier((8,), max_iter=4, tol=0, random_state=0).set_callbacks(monitor)
    clf.fit(X, y)
    rows = monitor.get_logs().data
    epochs = [row["accuracy"] for row in rows if row["task_name"] == "epoch"]
    # Epoch k's model is the model of a k-epoch fit with the same seed.
    expected = [MLPClassifier((8,), max_iter=k, tol=0, random_state=0).fit(X, y).score(X, y)
                for k in (1, 2, 3, 4)]
    assert epochs == expected
    assert [row["accuracy"] for row in rows if row["task_name"] == "fit"] == [clf.score(X, y)]


def test_a_callback_stops_training(digits):
    X, y = digits
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                       "nine"])[y]
    w = np.linspace(0.5, 1.5, len(y))
    recorder = Recorder(stop_at=3)
    clf = MLPClassifier((8,), max_iter=50, random_state=0).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # no "max_iter reached"
        clf.fit(X, labels, sample_weight=w)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3
    # The hooks see the training data as fit took it.
    seen = recorder.seen["epoch"]
    np.testing.assert_array_equal(seen["X"], X)
    np.testing.assert_array_equal(seen["y"], labels)
    np.testing.assert_array_equal(seen["metadata"]["sample_weight"], w)
    assert seen["fitted_estimator"].predict(X[:5]).tolist() == clf.predict(X[:5]).tolist()


def test_fitted_estimator_is_a_snapshot(digits):
    X, y = digits
    snapshots = []

    class Snapshot(Recorder):
        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            if context.task_name == "epoch":
                snapshots.append((fitted_estimator, fitted_estimator.predict_proba(X)))

    clf = MLPClassifier((8,), max_iter=3, random_state=0).set_callbacks(Snapshot()).fit(X, y)
    # Training went on after each snapshot; each still predicts as at its epoch.
    for model, proba in snapshots:
        np.testing.assert_array_equal(model.predict_proba(X), proba)
    np.testing.assert_array_equal(snapshots[-1][1], clf.predict_proba(X))
    assert not np.array_equal(snapshots[0][1], clf.predict_proba(X))


def test_lbfgs_and_split_validation(digits):
    X, y = digits
    recorder = Recorder()
    MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=5).set_callbacks(
        recorder).fit(X, y)
    assert [c for c in recorder.calls if c[0] in ("begin", "end")] == [
        ("begin", "fit", 0), ("end", "fit", 0)]
    # With early stopping's split, the epochs train on (and the hooks see) 90%.
    recorder = Recorder(stop_at=1)
    MLPClassifier((8,), early_stopping=True, random_state=0).set_callbacks(recorder).fit(X, y)
    assert len(recorder.seen["epoch"]["X"]) == len(X) - round(0.1 * len(X))
    assert len(recorder.seen["fit"]["X"]) == len(X)


def test_propagated_from_grid_search_and_pipeline(digits):
    X, y = digits
    recorder = PropagatedRecorder()
    search = GridSearchCV(
        make_pipeline(StandardScaler(), MLPClassifier((4,), max_iter=2, random_state=0)),
        {"mlpclassifier__alpha": [1e-4, 1e-2]}, cv=2,
    ).set_callbacks(recorder)
    search.fit(X, y)
    mlp_ends = [c for c in recorder.calls if c[:2] == ("end", "MLPClassifier")]
    # 2 candidates x 2 folds + the refit, each a fit of 2 epochs.
    assert [c[2] for c in mlp_ends].count("epoch") == 5 * 2
    assert [c[2] for c in mlp_ends].count("fit") == 5


def test_progress_bar_runs_on_fastnn(digits, capsys):
    pytest.importorskip("rich")
    X, y = digits
    MLPClassifier((4,), max_iter=2, random_state=0).set_callbacks(
        ProgressBar(max_propagation_depth=None)).fit(X, y)
    # rich draws the bar on standard output: the fit's task, run to its end.
    bar = capsys.readouterr().out
    assert "MLPClassifier - fit" in bar and "100%" in bar
    search = GridSearchCV(MLPClassifier((4,), max_iter=2, random_state=0),
                          {"alpha": [1e-4, 1e-2]}, cv=2).set_callbacks(ProgressBar())
    search.fit(X, y)
    assert search.best_estimator_.n_iter_ == 2
    bar = capsys.readouterr().out
    assert "GridSearchCV - fit" in bar and "100%" in bar


def test_no_callbacks_no_epoch_tasks(digits, monkeypatch):
    # Without callbacks the epochs open no task contexts (no cost per epoch).
    from sklearn.callback import CallbackContext

    opened = []
    subcontext = CallbackContext.subcontext
    monkeypatch.setattr(CallbackContext, "subcontext",
                        lambda self, *a, **k: opened.append(1) or subcontext(self, *a, **k))
    X, y = digits
    MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    assert opened == []
    MLPClassifier((4,), max_iter=2, random_state=0).set_callbacks(Recorder()).fit(X, y)
    assert opened == [1, 1]
