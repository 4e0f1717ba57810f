"""The scikit-learn contract beyond the conformance suite."""

import inspect
import os
import pickle
import signal
import threading
import time
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelBinarizer, StandardScaler

from fastnn import MLPClassifier, MLPRegressor


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


FASTNN_ONLY = {
    "backend": "auto", "n_threads": None, "negative_slope": 0.2, "maxout_pieces": 2,
    "init": "sklearn", "rho": 0.9, "weight_decay": 0.004, "l1": 0.0, "restore_best_weights": True,
    "clipnorm": None, "dropout": 0.0,
    "batch_norm": False, "batch_norm_momentum": 0.99, "batch_norm_epsilon": 1e-3,
}


def test_same_parameters_as_sklearn():
    for ours, theirs in [(MLPClassifier, SkMLPClassifier), (MLPRegressor, SkMLPRegressor)]:
        mine, ref = ours().get_params(), theirs().get_params()
        # fastnn's own parameters; their defaults keep scikit-learn's behaviour.
        only = {**FASTNN_ONLY, **({"class_weight": None} if ours is MLPClassifier else {})}
        assert {k: mine.pop(k) for k in only} == only
        assert mine == ref
        # Same positional order (loss first for the regressor).
        names = list(inspect.signature(ours).parameters)
        assert names[: len(ref)] == list(inspect.signature(theirs).parameters)


def test_fitted_attributes(digits):
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"Stochastic Optimizer: Maximum iterations \(3\) reached"):
        clf.fit(X, y)
    for name in ("classes_", "loss_", "best_loss_", "loss_curve_", "t_", "coefs_", "intercepts_",
                 "n_features_in_", "n_iter_", "n_layers_", "n_outputs_", "out_activation_"):
        assert hasattr(clf, name), name
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert clf.t_ == 3 * len(X) and len(clf.loss_curve_) == clf.n_iter_ == 3
    # coefs_ and intercepts_ are views into one flat buffer.
    for a in clf.coefs_ + clf.intercepts_:
        assert np.shares_memory(a, clf._theta)


def test_feature_names_in(digits):
    pd = pytest.importorskip("pandas")
    X, y = digits
    df = pd.DataFrame(X, columns=[f"px{i}" for i in range(X.shape[1])])
    clf = MLPClassifier(max_iter=2).fit(df, y)
    assert list(clf.feature_names_in_) == list(df.columns)
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_dtype_preserved(digits, dtype, solver):
    X, y = digits
    X = X.astype(dtype)
    clf = MLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=5, random_state=0).fit(X, y)
    assert all(c.dtype == dtype for c in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X).dtype == dtype
    reg = MLPRegressor(hidden_layer_sizes=(8,), solver=solver, max_iter=5).fit(X, X[:, 10])
    assert reg.predict(X).dtype == dtype


def test_float32_close_to_float64(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    f64 = MLPClassifier(**params).fit(X, y)
    f32 = MLPClassifier(**params).fit(X.astype(np.float32), y)
    np.testing.assert_allclose(f32.loss_curve_, f64.loss_curve_, rtol=1e-3)
    assert (f32.predict(X) == f64.predict(X)).mean() > 0.99


def test_pickle_joblib_clone_and_continue(digits, tmp_path):
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    expected = clf.predict_proba(X)
    theta = clf._theta
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), expected)
    # Pickling left the original as it was: the same flat buffer behind coefs_.
    assert clf._theta is theta
    joblib.dump(clf, tmp_path / "m.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "m.joblib").predict_proba(X), expected)
    # Training continues identically after a round trip.
    restored.partial_fit(X, y)
    clf.partial_fit(X, y)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert all(np.shares_memory(c, restored._theta) for c in restored.coefs_)
    assert clone(clf).get_params() == clf.get_params()
    assert not hasattr(clone(clf), "coefs_")


def test_user_edits_to_coefs_are_used(digits):
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, y)
    clf.coefs_ = [np.zeros_like(c) for c in clf.coefs_]
    clf.intercepts_ = [np.zeros_like(b) for b in clf.intercepts_]
    np.testing.assert_allclose(clf.predict_proba(X[:3]), 0.1)


def test_pipeline_and_searches_match_sklearn(digits):
    X, y = digits
    grid = {"mlpclassifier__alpha": [1e-4, 1e-1], "mlpclassifier__hidden_layer_sizes": [(8,), (16,)]}
    results = []
    for cls in (MLPClassifier, SkMLPClassifier):
        pipe = make_pipeline(StandardScaler(), cls(max_iter=20, random_state=0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            results.append(GridSearchCV(pipe, grid, cv=3).fit(X, y))
    ours, ref = results
    assert ours.best_params_ == ref.best_params_
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"])
    assert ours.best_score_ > 0.6

    Xr, yr = make_regression(200, 5, noise=1.0, random_state=0)
    dist = {"alpha": np.logspace(-5, -1, 10), "learning_rate_init": [1e-3, 1e-2]}
    scores = []
    for cls in (MLPRegressor, SkMLPRegressor):
        search = RandomizedSearchCV(cls(max_iter=20, random_state=0), dist, n_iter=3, cv=3, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            scores.append(search.fit(Xr, yr / 100).cv_results_["mean_test_score"])
    np.testing.assert_allclose(scores[0], scores[1], rtol=1e-6)


def test_metadata_routing_sample_weight(digits):
    import sklearn

    X, y = digits
    sw = np.ones(len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        est = (
            MLPClassifier(max_iter=3, random_state=0)
            .set_fit_request(sample_weight=True)
            .set_score_request(sample_weight=False)
        )
        grid = GridSearchCV(est, {"alpha": [1e-4]}, cv=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            grid.fit(X, y, sample_weight=sw)
    assert grid.best_estimator_.n_iter_ == 3


def test_targets_string_multilabel_multioutput(digits):
    X, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=30, random_state=0).fit(X, names[y])
        ref = SkMLPClassifier(hidden_layer_sizes=(16,), max_iter=30, random_state=0).fit(X, names[y])
    np.testing.assert_array_equal(clf.predict(X), ref.predict(X))
    assert clf.predict(X[:5]).dtype.kind == "U"
    assert clf.score(X, names[y]) > 0.8
    Y = np.c_[y % 2, y > 4]
    ml = MLPClassifier(max_iter=30, random_state=0).fit(X, Y)
    assert ml.predict(X).shape == Y.shape and ml.out_activation_ == "logistic"
    reg = MLPRegressor(max_iter=5).fit(X, np.c_[y, -y])
    assert reg.predict(X).shape == (len(y), 2)


def test_verbose_lines(digits, capsys):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier(max_iter=2, verbose=True, early_stopping=True).fit(X, y)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Iteration 1, loss = ") and len(out[0].split("= ")[1]) == 10
    assert out[1].startswith("Validation score: ")


def test_early_stopping_restores_best_weights(digits):
    X, y = digits
    params = dict(
        hidden_layer_sizes=(32,), early_stopping=True, n_iter_no_change=2,
        learning_rate_init=0.05, random_state=0,
    )
    clf = MLPClassifier(max_iter=100, **params).fit(X, y)
    best = int(np.argmax(clf.validation_scores_))
    assert best < clf.n_iter_ - 1, "the run should end past its best epoch"
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    # A run stopped right at the best epoch ends with the weights we restored.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        at_best = MLPClassifier(max_iter=best + 1, **params).fit(X, y)
    for a, b in zip(clf.coefs_ + clf.intercepts_, at_best.coefs_ + at_best.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_non_finite_weights_raise():
    X = np.random.RandomState(0).normal(size=(50, 3)) * 1e30
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            MLPRegressor(solver="sgd", learning_rate_init=1.0, max_iter=5).fit(X, X[:, 0])


def test_lbfgs_convergence_warning(digits):
    X, y = digits
    with pytest.warns(ConvergenceWarning, match=r"lbfgs failed to converge after 3 iteration\(s\)"):
        MLPClassifier(solver="lbfgs", max_iter=3).fit(X, y)


@pytest.fixture
def python_sigint():
    """Python's own Ctrl-C handler for the test, even where the run started
    with SIGINT ignored (a background job): else the fit would run to its end."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_keeps_last_weights(python_sigint, monkeypatch):
    # Ctrl-C lands inside the third epoch's compiled batch loop, however fast
    # or busy the machine: it is sent once that epoch's batches have begun
    # changing the weights (625 batches, checking for signals every 8). The
    # fit stops there, keeping the weights of the batches done.
    from fastnn.backends._cython import CythonBackend

    rng = np.random.RandomState(0)
    X = rng.normal(size=(20000, 50)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    epochs = []
    real_epoch = CythonBackend.epoch

    def epoch(self, net, theta, *args, **kwargs):
        if len(epochs) == 2:
            before = theta[:8].copy()

            def interrupt():
                while np.array_equal(theta[:8], before):
                    time.sleep(0.0002)
                os.kill(os.getpid(), signal.SIGINT)

            threading.Thread(target=interrupt, daemon=True).start()
        try:
            return real_epoch(self, net, theta, *args, **kwargs)
        finally:
            epochs.append(1)

    monkeypatch.setattr(CythonBackend, "epoch", epoch)
    clf = MLPClassifier(hidden_layer_sizes=(64,), batch_size=32, max_iter=50, tol=0,
                        n_iter_no_change=10**6, random_state=0, backend="cython")
    with pytest.warns(UserWarning, match="Training interrupted by user."):
        clf.fit(X, y)
    assert len(epochs) == 3
    assert clf.n_iter_ == 2
    assert clf.score(X, y) > 0.9
    assert np.isfinite(clf._theta).all()


def test_sparse_never_densified(digits, monkeypatch):
    X, y = digits
    Xs = sp.csr_matrix(X)

    def refuse(*args, **kwargs):
        raise AssertionError("sparse input was densified")

    monkeypatch.setattr(sp.csr_matrix, "toarray", refuse)
    monkeypatch.setattr(sp.csr_matrix, "todense", refuse)
    clf = MLPClassifier(max_iter=3).fit(Xs, y)
    clf.predict(Xs)


def test_predict_follows_edits_of_coefs_and_intercepts():
    # coefs_/intercepts_ view the flat buffer; an edit in place, a replaced
    # array or a replaced list must all show in the next prediction.
    X, y = load_digits(return_X_y=True)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, y)
    ref = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0, backend="numpy").fit(X, y)

    def same():
        np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), rtol=1e-10)

    same()
    for est in (clf, ref):
        est.coefs_[0] *= 0.5
    same()
    for est in (clf, ref):
        est.coefs_[1] = est.coefs_[1] + 1.0
    same()
    for est in (clf, ref):
        est.intercepts_ = [b - 0.25 for b in est.intercepts_]
    same()


def test_predict_short_cut_validates_like_scikit_learn():
    # Plain float ndarrays skip the full validation; anything else takes it,
    # with the same results and the same errors.
    X, y = load_digits(return_X_y=True)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, y)
    expected = clf.predict_proba(X)
    for Xin in (X.tolist(), np.asfortranarray(X), X.astype(np.float32), X.astype(int)):
        np.testing.assert_allclose(clf.predict_proba(Xin), expected, rtol=1e-6)
    for bad in (np.nan, np.inf):
        Xbad = X.copy()
        Xbad[3, 5] = bad
        with pytest.raises(ValueError, match="Input X contains"):
            clf.predict(Xbad)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :10])
    with pytest.raises(ValueError, match="0 sample"):
        clf.predict(X[:0])


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_predict_decodes_labels_like_label_binarizer(n_classes):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 6))
    y = np.array(["cat", "dog", "emu", "fox", "gnu"])[rng.randint(n_classes, size=200)]
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    expected = clf._label_binarizer.inverse_transform(proba if n_classes > 2 else proba[:, 1])
    np.testing.assert_array_equal(clf.predict(X), expected)


@pytest.mark.parametrize(
    "y",
    [
        np.array([3, 1, 2, 3, 1, 2, 2]),
        np.array(["b", "a", "b", "b", "a", "a", "b"]),
        np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0]),
        np.array([True, False, True, True, False, False, True]),
        np.array(["x", "y", "z", "x", "y", "z", "w"], dtype=object),
        np.array([7, 9, 8, 250, 7, 9, 8], dtype=np.uint8),
    ],
)
def test_label_encoding_matches_label_binarizer(y):
    X = np.random.RandomState(0).normal(size=(len(y), 3))
    clf = MLPClassifier(hidden_layer_sizes=(2,), max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    np.testing.assert_array_equal(
        clf._encode_labels(y), clf._label_binarizer.transform(y).astype(bool)
    )
    # The binarizer is fitted on the distinct labels: its state must be
    # what fitting it on y gives.
    expected = vars(LabelBinarizer().fit(y))
    fitted = vars(clf._label_binarizer)
    assert fitted.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(fitted[key], value, strict=True)
        else:
            assert fitted[key] == value, key


@pytest.mark.parametrize("y", [np.array([4, 4, 4]), np.array(["a", "a", "a"])])
def test_one_class_error_names_the_class(y):
    with pytest.raises(ValueError, match="only one class"):
        MLPClassifier().fit(np.zeros((3, 2)), y)


def test_show_backends_says_what_runs_and_why_not():
    import io

    from fastnn import show_backends
    from fastnn.backends import auto_backend_name, available_backends, backend_status

    out = io.StringIO()
    status = show_backends(file=out)
    lines = out.getvalue().splitlines()
    assert set(status) == set(available_backends())
    assert len(lines) == len(status)
    assert auto_backend_name() == "cython"
    assert any(line.startswith("cython") and line.endswith("[auto]") for line in lines)
    for name, (ok, detail) in backend_status().items():
        assert detail, name
        line = next(line for line in lines if line.split()[0] == name)
        assert (" yes " in line) == ok and detail in line
    assert status["numpy"][0] and status["cython"][0]


def test_cuda_status_without_numba_cuda(monkeypatch):
    import importlib.util

    from fastnn.backends import _cuda

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "numba_cuda" else real(name, *a))
    ok, detail = _cuda.cuda_status()
    assert not ok and "numba-cuda is not installed" in detail and "fastnn[cuda]" in detail
