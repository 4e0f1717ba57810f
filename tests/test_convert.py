"""to_sklearn / from_sklearn: fitted models cross between fastnn and scikit-learn."""

import copy
import warnings

import numpy as np
import pytest
from sklearn import neural_network as sk_nn
from sklearn.datasets import load_diabetes, load_iris, make_multilabel_classification
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from fastnn import MLPClassifier, MLPRegressor, from_sklearn, to_sklearn

IRIS_X, IRIS_y = load_iris(return_X_y=True)
DIAB_X, DIAB_y = load_diabetes(return_X_y=True)
DIAB_y = DIAB_y / DIAB_y.std()


def problems():
    """(name, fastnn class, X, y) of the target types to cover."""
    X_ml, Y_ml = make_multilabel_classification(120, 6, n_classes=3, random_state=0)
    return [
        ("multiclass", MLPClassifier, IRIS_X, IRIS_y),
        ("binary", MLPClassifier, IRIS_X, np.where(IRIS_y == 0, "setosa", "other")),
        ("multilabel", MLPClassifier, X_ml, Y_ml),
        ("regression", MLPRegressor, DIAB_X, DIAB_y),
        ("multi-output", MLPRegressor, DIAB_X, np.c_[DIAB_y, -DIAB_y]),
    ]


def assert_same_predictions(a, b, X, rtol=1e-12):
    # Labels exactly; outputs to rounding (the two libraries sum in different orders).
    if hasattr(a, "predict_proba"):
        np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=rtol, atol=1e-14)
        np.testing.assert_array_equal(a.predict(X), b.predict(X))
    else:
        np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("name, cls, X, y", problems(), ids=[p[0] for p in problems()])
def test_to_sklearn_predicts_the_same(name, cls, X, y):
    est = cls(hidden_layer_sizes=(7, 5), activation="tanh", max_iter=40, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # defaults only: nothing to warn of
        sk = to_sklearn(est)
    assert type(sk) is (sk_nn.MLPClassifier if cls is MLPClassifier else sk_nn.MLPRegressor)
    assert sk.activation == "tanh" and sk.hidden_layer_sizes == (7, 5)
    assert_same_predictions(est, sk, X)
    for attr in ("n_iter_", "n_layers_", "n_outputs_", "out_activation_", "loss_", "t_",
                 "loss_curve_", "best_loss_", "n_features_in_"):
        assert getattr(sk, attr) == getattr(est, attr), attr
    if cls is MLPClassifier:
        np.testing.assert_array_equal(sk.classes_, est.classes_)


@pytest.mark.parametrize("name, cls, X, y", problems(), ids=[p[0] for p in problems()])
def test_from_sklearn_predicts_the_same(name, cls, X, y):
    sk_class = sk_nn.MLPClassifier if cls is MLPClassifier else sk_nn.MLPRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        sk = sk_class(hidden_layer_sizes=(7, 5), activation="relu", max_iter=40, random_state=0).fit(X, y)
    est = from_sklearn(sk)
    assert type(est) is cls
    assert est.get_params() == {**cls().get_params(), **sk.get_params()}
    assert_same_predictions(sk, est, X)
    assert est.loss_curve_ == sk.loss_curve_ and est.n_iter_ == sk.n_iter_


def test_round_trip_keeps_the_model():
    est = MLPClassifier(hidden_layer_sizes=(6,), max_iter=30, random_state=0).fit(IRIS_X, IRIS_y)
    back = from_sklearn(to_sklearn(est))
    for a, b in zip(est.coefs_ + est.intercepts_, back.coefs_ + back.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert_same_predictions(est, back, IRIS_X, rtol=0)


def test_copies_share_no_memory():
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(DIAB_X, DIAB_y)
    sk = to_sklearn(est)
    before = est.predict(DIAB_X)
    sk.coefs_[0][...] = 0
    sk.loss_curve_.append(1.0)
    np.testing.assert_array_equal(est.predict(DIAB_X), before)
    assert len(est.loss_curve_) == est.n_iter_
    back = from_sklearn(sk)
    back.coefs_[1][...] = 0
    assert sk.coefs_[1].any()


@pytest.mark.parametrize("direction", ["to", "from"])
def test_float32_stays_float32(direction):
    X = IRIS_X.astype(np.float32)
    if direction == "to":
        model = to_sklearn(MLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=0).fit(X, IRIS_y))
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = from_sklearn(sk_nn.MLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=0)
                                 .fit(X, IRIS_y))
    assert {c.dtype for c in model.coefs_ + model.intercepts_} == {np.dtype(np.float32)}
    assert model.predict_proba(X).dtype == np.float32


def test_feature_names_carry_over():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(IRIS_X, columns=["a", "b", "c", "d"])
    sk = to_sklearn(MLPClassifier(hidden_layer_sizes=(4,), max_iter=10, random_state=0).fit(X, IRIS_y))
    np.testing.assert_array_equal(sk.feature_names_in_, ["a", "b", "c", "d"])
    with pytest.warns(UserWarning, match="feature names"):
        sk.predict(IRIS_X)


def test_batch_norm_is_folded_and_training_settings_are_named():
    est = MLPClassifier(hidden_layer_sizes=(8, 6), batch_norm=True, dropout=0.1, solver="rmsprop", max_iter=30,
                        random_state=0).fit(IRIS_X, IRIS_y)
    with pytest.warns(UserWarning) as record:
        sk = to_sklearn(est)
    message = str(record[0].message)
    for setting in ("batch_norm=True", "dropout=0.1", "solver='rmsprop'"):
        assert setting in message
    assert sk.solver == "adam"
    assert len(sk.coefs_) == 3 and not hasattr(sk, "batch_norm_scales_")
    # Folding the running statistics into W and b is exact up to rounding.
    assert_same_predictions(est, sk, IRIS_X, rtol=1e-10)


def test_per_layer_list_of_one_activation_converts():
    est = MLPRegressor(hidden_layer_sizes=(5, 4), activation=["logistic", "logistic"], max_iter=20,
                       random_state=0).fit(DIAB_X, DIAB_y)
    sk = to_sklearn(est)
    assert sk.activation == "logistic"
    assert_same_predictions(est, sk, DIAB_X)


@pytest.mark.parametrize("params, match", [
    (dict(activation="elu"), r"no \['elu'\] activation"),
    (dict(activation="prelu"), r"no \['prelu'\] activation"),
    (dict(activation="maxout"), r"no \['maxout'\] activation"),
    (dict(activation="leaky_relu"), r"no \['leaky_relu'\] activation"),
    (dict(activation=["relu", "tanh"]), "different activations"),
])
def test_architectures_scikit_learn_lacks_are_refused(params, match):
    est = MLPClassifier(hidden_layer_sizes=(5, 4), max_iter=5, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(IRIS_X, IRIS_y)
    with pytest.raises(ValueError, match=match):
        to_sklearn(est)


def test_bad_arguments():
    with pytest.raises(TypeError, match="fastnn.MLPClassifier"):
        to_sklearn(sk_nn.MLPClassifier())
    with pytest.raises(TypeError, match="sklearn.neural_network.MLPClassifier"):
        from_sklearn(MLPClassifier())
    with pytest.raises(TypeError, match="LogisticRegression"):
        from_sklearn(LogisticRegression())
    with pytest.raises(NotFittedError):
        to_sklearn(MLPRegressor())
    with pytest.raises(NotFittedError):
        from_sklearn(sk_nn.MLPRegressor())


@pytest.mark.parametrize("direction", ["to", "from"])
def test_training_continues_alike(direction):
    # Plain SGD keeps no optimizer state that matters (momentum 0, constant
    # rate), so one more partial_fit must move both copies the same way.
    params = dict(hidden_layer_sizes=(6,), solver="sgd", momentum=0.0, learning_rate_init=0.05,
                  max_iter=15, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if direction == "to":
            first = MLPClassifier(**params).fit(IRIS_X, IRIS_y)
            second = to_sklearn(first)
        else:
            first = sk_nn.MLPClassifier(**params).fit(IRIS_X, IRIS_y)
            second = from_sklearn(first)
    first, second = copy.deepcopy(first), second
    first.partial_fit(IRIS_X, IRIS_y)
    second.partial_fit(IRIS_X, IRIS_y)
    for a, b in zip(first.coefs_ + first.intercepts_, second.coefs_ + second.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)
    assert second.loss_curve_[-1] == pytest.approx(first.loss_curve_[-1], rel=1e-6)


def test_warm_start_with_early_stopping_after_from_sklearn():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = sk_nn.MLPClassifier(hidden_layer_sizes=(6,), early_stopping=True, max_iter=30, random_state=0)
        sk.fit(IRIS_X, IRIS_y)
    est = from_sklearn(sk)
    n_before = len(sk.validation_scores_)
    assert len(est.validation_loss_curve_) == n_before
    assert np.isnan(est.validation_loss_curve_).all()
    est.set_params(warm_start=True, max_iter=3, n_iter_no_change=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(IRIS_X, IRIS_y)
    assert len(est.validation_scores_) == len(est.validation_loss_curve_) == n_before + 3
    assert np.isfinite(est.validation_loss_curve_[n_before:]).all()


def test_poisson_regressor_and_backend_choice():
    y = np.exp(DIAB_y - DIAB_y.max())
    est = MLPRegressor(loss="poisson", hidden_layer_sizes=(5,), backend="numpy", max_iter=20,
                       random_state=0).fit(DIAB_X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the backend is no training setting
        sk = to_sklearn(est)
    assert sk.loss == "poisson" and sk.out_activation_ == "exp"
    assert_same_predictions(est, sk, DIAB_X)
    back = from_sklearn(sk)
    assert back.loss == "poisson" and back.backend == "auto"
    assert_same_predictions(sk, back, DIAB_X)
