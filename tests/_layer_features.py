"""What the tests of the layer features (dropout, batch normalization, prelu,
maxout) share: the data, and the checks each feature passes in the same way."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from fastnn import MLPClassifier, MLPRegressor
from fastnn._dropout import Dropout, epoch_key
from fastnn.backends._numpy import loss_and_gradient
from _backends import CPU_KERNELS
from _reference import numeric_gradient


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


# ------------------------------------------------------------------ the masks


def assert_carries_on(X, y, params, attribute, moved=1e-4):
    """The layer state ``attribute[0]`` (a fitted list) moves (by more than
    ``moved``) with training and carries on across pickling, ``partial_fit`` and ``warm_start``: two
    epochs train the same model whichever way they are run."""
    params = dict(hidden_layer_sizes=(20,), solver="sgd", momentum=0.0, shuffle=False,
                  random_state=0, **params)
    a = MLPClassifier(**params)
    a.partial_fit(X, y, classes=np.unique(y))
    first = getattr(a, attribute)[0].copy()
    b = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(getattr(b, attribute)[0], first)
    a.partial_fit(X, y)
    assert np.abs(getattr(a, attribute)[0] - first).max() > moved
    b.partial_fit(X, y)
    np.testing.assert_array_equal(b._theta, a._theta)

    c = MLPClassifier(**params, max_iter=1).fit(X, y)
    c.set_params(warm_start=True).fit(X, y)
    np.testing.assert_allclose(c._theta, a._theta, rtol=1e-12)


def assert_reference_gradient(net, theta, data, dropout):
    """The reference's gradient, with L2 and L1 and (if ``dropout``) masks on
    the hidden layers, agrees with finite differences; returns it."""
    masks = None
    if dropout:
        masks = Dropout(np.array([0.4, 0.3, 0.0]), epoch_key(1, 0)).masks(
            net, np.arange(data.n_samples), theta.dtype)

    def loss(t):
        return loss_and_gradient(net, t, data.X, data.Y, data.sample_weight, 1e-2, 1e-2,
                                 masks)[0]

    _, grad = loss_and_gradient(net, theta, data.X, data.Y, data.sample_weight, 1e-2, 1e-2,
                                masks)
    np.testing.assert_allclose(grad, numeric_gradient(loss, theta), rtol=1e-5, atol=1e-8)
    return grad


# --------------------------------------------------------------------- the math


def predict_by_hand(clf, X, hidden):
    """``predict_proba`` of a fitted multiclass classifier, layer by layer:
    ``hidden(i, Z)`` is hidden layer i's output from its ``X @ W + b``."""
    A = X
    for i, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        Z = A @ W + b
        if i < len(clf.coefs_) - 1:
            A = hidden(i, Z)
        else:
            E = np.exp(Z - Z.max(axis=1, keepdims=True))
            A = E / E.sum(axis=1, keepdims=True)
    return A


def assert_backends_train_alike(X, y, params):
    """The NumPy reference and the compiled backends fit the same classifier."""
    models = [MLPClassifier(backend=b, **params).fit(X, y) for b in ["numpy", *CPU_KERNELS]]
    for model in models[1:]:
        np.testing.assert_allclose(model._theta, models[0]._theta, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(model.predict_proba(X), models[0].predict_proba(X),
                                   rtol=1e-7, atol=1e-9)


def fit_a_v(backend, activations):
    """One hidden unit of each activation fitted by L-BFGS to a V-shaped
    target; returns each fit's R^2 and the fitted models."""
    x = np.linspace(-2, 2, 200)[:, None]
    y = np.where(x[:, 0] > 0, x[:, 0], -0.5 * x[:, 0])
    fits = {act: MLPRegressor(hidden_layer_sizes=(1,), activation=act, solver="lbfgs",
                              alpha=0.0, max_iter=500, random_state=0,
                              backend=backend).fit(x, y)
            for act in activations}
    return {act: fit.score(x, y) for act, fit in fits.items()}, fits


def assert_layer_change_refused(X, y, params, changes, activation, match):
    """A model fitted with ``params`` (two hidden layers) refuses each of
    ``changes`` in partial_fit and predict; a plain model refuses to
    warm-start into ``activation``."""
    clf = MLPClassifier((8, 8), max_iter=1, random_state=0, **params).fit(X, y)
    for change in changes:
        clf.set_params(**{**params, **change})
        with pytest.raises(ValueError, match=match):
            clf.partial_fit(X, y)
        with pytest.raises(ValueError, match=match):
            clf.predict(X)
    plain = MLPClassifier((8,), max_iter=1, random_state=0, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match=match):
        plain.set_params(activation=activation).fit(X, y)
