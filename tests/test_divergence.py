"""A fit that diverges never leaves a model holding non-finite weights.

The restore is the estimator's, the same for every backend; the CPU ones
diverge the same way (the CUDA simulator would take minutes on these fits).
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from fastnn import MLPClassifier, MLPRegressor
from _backends import CPU

X = np.random.RandomState(0).normal(size=(60, 5))
# SGD with a huge step on large inputs: the weights overflow within epochs.
DIVERGING = dict(solver="sgd", learning_rate_init=1e6)
X_BAD, Y_BAD = X * 1000 + 5000, X[:, 0]
MESSAGE = "Solver produced non-finite parameter weights"


def _fit(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(*args, **kwargs)


@pytest.mark.parametrize("backend", CPU)
def test_a_new_fit_that_diverges_leaves_the_estimator_unfitted(backend):
    model = MLPRegressor(max_iter=20, backend=backend, **DIVERGING)
    with pytest.raises(ValueError, match=MESSAGE + ".*The estimator is left unfitted"):
        _fit(model, X_BAD, Y_BAD)
    with pytest.raises(NotFittedError):
        model.predict(X)
    # It fits afterwards as if new.
    model.set_params(learning_rate_init=1e-3)
    assert np.isfinite(_fit(model, X, Y_BAD).predict(X)).all()


@pytest.mark.parametrize("backend", CPU)
def test_a_warm_start_fit_that_diverges_keeps_the_model(backend):
    model = _fit(MLPRegressor(max_iter=10, warm_start=True, random_state=0, solver="sgd",
                              backend=backend), X, Y_BAD)
    before = [a.copy() for a in model.coefs_ + model.intercepts_]
    state = (model.predict(X), model.n_iter_, list(model.loss_curve_), model.loss_,
             {k: list(v) for k, v in model.history_.items()})
    model.set_params(**DIVERGING)
    with pytest.raises(ValueError, match=MESSAGE + ".*keeps the model it had before this fit"):
        _fit(model, X_BAD, Y_BAD)
    for a, b in zip(before, model.coefs_ + model.intercepts_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(X), state[0])
    assert (model.n_iter_, model.loss_curve_, model.loss_) == state[1:4]
    assert {k: list(v) for k, v in model.history_.items()} == state[4]


def test_partial_fit_that_diverges_keeps_the_model_and_its_optimizer():
    params = dict(hidden_layer_sizes=(6,), solver="sgd", batch_size=1, random_state=0)
    model = MLPRegressor(**params)
    model.partial_fit(X, Y_BAD)
    before = model.coefs_[0].copy()
    velocity = model._optimizer.velocity.copy()
    with pytest.raises(ValueError, match=MESSAGE):
        model.set_params(learning_rate_init=1e6).partial_fit(X * 1e6 + 5000, Y_BAD)
    np.testing.assert_array_equal(model.coefs_[0], before)
    np.testing.assert_array_equal(model._optimizer.velocity, velocity)
    assert model.n_iter_ == 1
    # Training goes on from there, as if the failed call had not been made.
    again = MLPRegressor(**params)
    again.partial_fit(X, Y_BAD)
    model.set_params(learning_rate_init=1e-3).partial_fit(X, Y_BAD)
    again.partial_fit(X, Y_BAD)
    np.testing.assert_array_equal(model.coefs_[0], again.coefs_[0])
