"""In float64 with the same random_state, fastnn learns scikit-learn's model."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import neural_network as sknn
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from fastnn import MLPClassifier, MLPRegressor
from fastnn import _shuffle, backends
from _backends import CPU_KERNELS

SOLVERS = {
    "adam": dict(solver="adam"),
    "sgd-nesterov": dict(solver="sgd", learning_rate_init=0.01, momentum=0.9, nesterovs_momentum=True),
    "sgd-invscaling": dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.1),
    "lbfgs": dict(solver="lbfgs"),
}


@pytest.fixture(autouse=True, params=CPU_KERNELS)
def backend(request, monkeypatch):
    """Every test runs with each compiled backend behind backend="auto"."""
    monkeypatch.setattr(backends, "auto_backend_name", lambda: request.param)
    return request.param


@pytest.fixture(autouse=True)
def draw_orders_ahead(monkeypatch):
    """Every epoch order that can be drawn on a second thread is, even on small data."""
    monkeypatch.setattr(_shuffle, "MIN_AHEAD", 1)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def fit_pair(fast_cls, sk_cls, X, y, method="fit", n_calls=1, **params):
    fast, ref = fast_cls(**params), sk_cls(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for est in (fast, ref):
            for _ in range(n_calls):
                getattr(est, method)(X, y)
    return fast, ref


def assert_same_model(fast, ref, X):
    if hasattr(ref, "loss_curve_"):
        np.testing.assert_allclose(fast.loss_curve_, ref.loss_curve_, rtol=1e-6)
    np.testing.assert_allclose(fast.loss_, ref.loss_, rtol=1e-6)
    for a, b in zip(fast.coefs_ + fast.intercepts_, ref.coefs_ + ref.intercepts_):
        assert a.dtype == b.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-12)
    assert fast.n_iter_ == ref.n_iter_
    assert fast.t_ == ref.t_
    for name in ("n_layers_", "n_outputs_", "out_activation_", "n_features_in_"):
        assert getattr(fast, name) == getattr(ref, name)


@pytest.mark.parametrize("solver", SOLVERS)
def test_classifier_matches_sklearn(digits, solver):
    X, y = digits
    params = dict(hidden_layer_sizes=(32, 16), max_iter=10, random_state=0, **SOLVERS[solver])
    fast, ref = fit_pair(MLPClassifier, sknn.MLPClassifier, X, y, **params)
    assert_same_model(fast, ref, X)
    np.testing.assert_array_equal(fast.predict(X), ref.predict(X))
    np.testing.assert_allclose(fast.predict_proba(X), ref.predict_proba(X), rtol=1e-5, atol=1e-10)
    np.testing.assert_array_equal(fast.classes_, ref.classes_)


@pytest.mark.parametrize("solver", SOLVERS)
def test_regressor_matches_sklearn(diabetes, solver):
    X, y = diabetes
    params = dict(hidden_layer_sizes=(16,), max_iter=10, random_state=1, **SOLVERS[solver])
    fast, ref = fit_pair(MLPRegressor, sknn.MLPRegressor, X, y, **params)
    assert_same_model(fast, ref, X)
    np.testing.assert_allclose(fast.predict(X), ref.predict(X), rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_activations_match_sklearn(digits, activation):
    X, y = digits
    params = dict(hidden_layer_sizes=(20,), activation=activation, max_iter=5, random_state=3)
    fast, ref = fit_pair(MLPClassifier, sknn.MLPClassifier, X, y, **params)
    assert_same_model(fast, ref, X)


def test_binary_multilabel_and_poisson_match_sklearn(digits, diabetes):
    X, y = digits
    for target in (y % 2, np.c_[y % 2, y > 4, y < 2]):
        fast, ref = fit_pair(
            MLPClassifier, sknn.MLPClassifier, X, target,
            hidden_layer_sizes=(12,), max_iter=5, random_state=0,
        )
        assert_same_model(fast, ref, X)
        np.testing.assert_array_equal(fast.predict(X), ref.predict(X))
    Xr, yr = diabetes
    fast, ref = fit_pair(
        MLPRegressor, sknn.MLPRegressor, Xr, np.exp(yr / 2), loss="poisson",
        hidden_layer_sizes=(8,), max_iter=5, random_state=0,
    )
    assert_same_model(fast, ref, Xr)
    Y2 = np.c_[yr, -yr ** 2]
    fast, ref = fit_pair(MLPRegressor, sknn.MLPRegressor, Xr, Y2, hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    assert_same_model(fast, ref, Xr)


def test_partial_fit_matches_sklearn(digits):
    X, y = digits
    fast = MLPClassifier(hidden_layer_sizes=(16,), random_state=0)
    ref = sknn.MLPClassifier(hidden_layer_sizes=(16,), random_state=0)
    classes = np.unique(y)
    for start in range(0, 1500, 300):
        sl = slice(start, start + 300)
        fast.partial_fit(X[sl], y[sl], classes=classes)
        ref.partial_fit(X[sl], y[sl], classes=classes)
    assert_same_model(fast, ref, X)
    Xr, yr = X, y.astype(float)
    fast = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", random_state=0, learning_rate_init=0.01)
    ref = sknn.MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", random_state=0, learning_rate_init=0.01)
    for _ in range(3):
        fast.partial_fit(Xr, yr)
        ref.partial_fit(Xr, yr)
    assert_same_model(fast, ref, Xr)


@pytest.mark.parametrize("cls", ["classifier", "regressor"])
def test_early_stopping_matches_sklearn(digits, diabetes, cls):
    fast_cls, sk_cls, (X, y) = {
        "classifier": (MLPClassifier, sknn.MLPClassifier, digits),
        "regressor": (MLPRegressor, sknn.MLPRegressor, diabetes),
    }[cls]
    params = dict(
        hidden_layer_sizes=(16,), early_stopping=True, n_iter_no_change=3,
        max_iter=200, random_state=0, learning_rate_init=0.01,
    )
    fast, ref = fit_pair(fast_cls, sk_cls, X, y, **params)
    assert ref.n_iter_ < 200, "the setting should stop early"
    assert_same_model(fast, ref, X)
    np.testing.assert_allclose(fast.validation_scores_, ref.validation_scores_, rtol=1e-6)
    assert fast.best_validation_score_ == pytest.approx(ref.best_validation_score_, rel=1e-6)
    assert fast.best_loss_ is ref.best_loss_ is None


def test_sparse_input_matches_sklearn(digits):
    X, y = digits
    for fmt in ("csr", "csc"):
        Xs = sp.random(600, 64, density=0.2, format=fmt, random_state=0) * 3
        ys = y[:600]
        for solver in ("adam", "lbfgs"):
            fast, ref = fit_pair(
                MLPClassifier, sknn.MLPClassifier, Xs, ys,
                hidden_layer_sizes=(10,), max_iter=10, random_state=0, solver=solver,
            )
            assert_same_model(fast, ref, Xs)
            np.testing.assert_array_equal(fast.predict(Xs), ref.predict(Xs))


def test_sample_weight_matches_sklearn(digits):
    X, y = digits
    sw = np.random.RandomState(0).uniform(0.1, 3, len(y))
    for solver in ("adam", "lbfgs"):
        fast = MLPClassifier(hidden_layer_sizes=(16,), max_iter=10, random_state=0, solver=solver)
        ref = sknn.MLPClassifier(hidden_layer_sizes=(16,), max_iter=10, random_state=0, solver=solver)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fast.fit(X, y, sample_weight=sw)
            ref.fit(X, y, sample_weight=sw)
        assert_same_model(fast, ref, X)


def test_warm_start_and_no_shuffle_match_sklearn(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0, warm_start=True, shuffle=False)
    fast, ref = fit_pair(MLPClassifier, sknn.MLPClassifier, X, y, n_calls=3, **params)
    assert_same_model(fast, ref, X)


def test_adaptive_schedule_matches_sklearn(diabetes):
    X, y = diabetes
    params = dict(
        hidden_layer_sizes=(8,), solver="sgd", learning_rate="adaptive", tol=0.5,
        n_iter_no_change=2, max_iter=30, random_state=0, learning_rate_init=0.01,
    )
    fast, ref = fit_pair(MLPRegressor, sknn.MLPRegressor, X, y, **params)
    assert_same_model(fast, ref, X)
    assert fast._optimizer.learning_rate == pytest.approx(ref._optimizer.learning_rate)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_generator_left_as_sklearn_leaves_it(digits, early_stopping):
    # A RandomState instance is shared between fits: after a fit that stops
    # early, its stream must be where scikit-learn leaves it (no order drawn
    # ahead for an epoch that did not run), so the next fit matches too.
    X, y = digits
    params = dict(hidden_layer_sizes=(8,), max_iter=50, tol=1e-2, n_iter_no_change=2,
                  early_stopping=early_stopping, learning_rate_init=0.01)
    fast_rs, ref_rs = np.random.RandomState(0), np.random.RandomState(0)
    for _ in range(2):
        fast = MLPClassifier(random_state=fast_rs, **params).fit(X, y)
        ref = sknn.MLPClassifier(random_state=ref_rs, **params).fit(X, y)
        assert ref.n_iter_ < 50, "the setting should stop early"
        assert_same_model(fast, ref, X)
        state, ref_state = fast_rs.get_state(), ref_rs.get_state()
        np.testing.assert_array_equal(state[1], ref_state[1])
        assert state[2] == ref_state[2]
