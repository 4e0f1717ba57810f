"""clipnorm: Keras' per-variable gradient-norm clipping, behind the estimators."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning

from fastnn import MLPRegressor
from _backends import CPU

BACKENDS = CPU


@pytest.fixture(scope="module")
def unscaled():
    # Unscaled inputs and targets in the hundreds: plain SGD at this rate diverges.
    return make_regression(500, 10, noise=1.0, random_state=0)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def sgd(**params):
    defaults = dict(hidden_layer_sizes=(32,), solver="sgd", learning_rate_init=0.01,
                    max_iter=50, random_state=0)
    return MLPRegressor(**{**defaults, **params})


def test_clipping_tames_a_diverging_sgd(unscaled):
    X, y = unscaled
    with pytest.raises(ValueError, match="non-finite"):
        sgd().fit(X, y)
    models = [sgd(clipnorm=10.0, backend=backend).fit(X, y) for backend in BACKENDS]
    for model in models:
        assert model.score(X, y) > 0.99
        np.testing.assert_allclose(model.loss_curve_, models[-1].loss_curve_, rtol=1e-9)


def test_no_update_exceeds_the_clipped_size(unscaled):
    # Plain SGD without momentum: one step moves each variable by lr * g,
    # with ||g|| <= clipnorm after clipping.
    X, y = unscaled
    model = sgd(clipnorm=0.5, momentum=0.0, max_iter=1, batch_size=10, shuffle=False)
    model.fit(X[:10], y[:10])
    # The initial weights: the same draws, a step too small to move them.
    start = sgd(clipnorm=0.5, momentum=0.0, max_iter=1, batch_size=10,
                learning_rate_init=1e-300, shuffle=False).fit(X[:10], y[:10])
    for new, old in zip((*model.coefs_, *model.intercepts_), (*start.coefs_, *start.intercepts_)):
        assert np.linalg.norm(new - old) <= 0.01 * 0.5 * (1 + 1e-12)
    # The largest gradients were clipped to exactly clipnorm.
    assert np.linalg.norm(model.coefs_[0] - start.coefs_[0]) == pytest.approx(0.01 * 0.5)


def test_clipnorm_read_at_every_partial_fit(unscaled):
    X, y = unscaled
    clipped = sgd(clipnorm=1.0)
    unclipped = sgd(clipnorm=1.0)
    for model in (clipped, unclipped):
        model.partial_fit(X, y)
    unclipped.set_params(clipnorm=None)
    for model in (clipped, unclipped):
        model.partial_fit(X, y)
    assert clipped.loss_curve_[0] == unclipped.loss_curve_[0]
    assert clipped.loss_curve_[1] != unclipped.loss_curve_[1]


def test_clipnorm_must_be_positive(unscaled):
    X, y = unscaled
    with pytest.raises(ValueError, match="clipnorm"):
        sgd(clipnorm=0.0).fit(X, y)
