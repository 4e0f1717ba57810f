"""Weight initialisation schemes (``init=``)."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

from fastnn import MLPClassifier
from fastnn._init import KERAS_SCHEMES, keras_init
from fastnn._network import NetworkSpec

# Variance of the weights each scheme aims at, for fan-in a and fan-out b.
TARGET_VARIANCE = {
    "glorot_uniform": lambda a, b: 2 / (a + b),
    "glorot_normal": lambda a, b: 2 / (a + b),
    "he_uniform": lambda a, b: 2 / a,
    "he_normal": lambda a, b: 2 / a,
    "lecun_uniform": lambda a, b: 1 / a,
    "lecun_normal": lambda a, b: 1 / a,
}


def test_every_scheme_has_a_target():
    assert set(TARGET_VARIANCE) == set(KERAS_SCHEMES)


@pytest.mark.parametrize("scheme", sorted(KERAS_SCHEMES))
def test_keras_scheme_statistics(scheme):
    net = NetworkSpec.from_units([400, 300, 10], "relu", "log_loss")
    theta = keras_init(net, np.random.RandomState(0), scheme, np.float64)
    coefs, intercepts = net.views(theta)
    for layer, W, b in zip(net.layers, coefs, intercepts):
        var = TARGET_VARIANCE[scheme](layer.n_in, layer.n_out)
        # 120k (or 3k) draws: the sample variance is within a few percent.
        assert W.var() == pytest.approx(var, rel=0.05 if W.size > 10000 else 0.15)
        assert abs(W.mean()) < 0.05 * np.sqrt(var)
        assert not b.any()
        if scheme.endswith("uniform"):
            assert np.abs(W).max() <= np.sqrt(3 * var)
        else:
            # Truncated at two standard deviations of the untruncated normal.
            assert np.abs(W).max() <= 2 * np.sqrt(var) / 0.87962566103423978


def test_same_seed_same_weights_and_dtype():
    net = NetworkSpec.from_units([7, 5, 3], "relu", "log_loss")
    a = keras_init(net, np.random.RandomState(3), "he_normal", np.float32)
    b = keras_init(net, np.random.RandomState(3), "he_normal", np.float32)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)


def test_estimator_uses_the_scheme():
    X, y = make_classification(200, 8, random_state=0)
    params = dict(hidden_layer_sizes=(6,), random_state=0, max_iter=1,
                  learning_rate_init=1e-12)  # one tiny step: weights barely move
    clf = MLPClassifier(init="lecun_uniform", **params).fit(X, y)
    limit = np.sqrt(3 / 8)
    assert np.abs(clf.coefs_[0]).max() <= limit + 1e-9
    assert np.abs(clf.intercepts_[0]).max() < 1e-6
    default = MLPClassifier(**params).fit(X, y)
    assert np.abs(default.intercepts_[0]).max() > 1e-3  # scikit-learn draws biases too


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_all_zero_weights_do_not_learn():
    # The classic lesson: with every weight 0, hidden units get no gradient
    # and stay identical (here 0), so only the output biases move.
    X, y = make_classification(300, 6, n_informative=4, random_state=0)
    params = dict(hidden_layer_sizes=(8,), activation="tanh", max_iter=100,
                  learning_rate_init=0.01, random_state=0)
    zeros = MLPClassifier(init="zeros", **params).fit(X, y)
    for W in zeros.coefs_:
        assert not W.any()
    assert zeros.score(X, y) <= max(np.mean(y), 1 - np.mean(y)) + 1e-9
    learned = MLPClassifier(init="glorot_uniform", **params).fit(X, y)
    assert learned.score(X, y) > 0.85
