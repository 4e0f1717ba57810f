"""Every hidden activation, value and derivative, in every backend.

A probe network reads one activation at chosen points: one input fixed at
0, a hidden layer whose biases are the points ``z``, and an identity output
layer with identity weights. Its output is then ``act(z)``, and with targets
``output - 1`` the gradient of the hidden biases is ``act'(z)``.
"""

import numpy as np
import pytest
from scipy.special import erf

from fastnn import MLPClassifier, MLPRegressor, backends, get_backend
from fastnn._network import NetworkSpec
from fastnn._registry import HIDDEN_ACTIVATIONS, LAYER_ACTIVATIONS
from fastnn.backends._data import make_train_data
from fastnn.backends._numpy import _activate, _derivative
from _backends import ALL, REFERENCE

# The elementwise ones: maxout reads several columns per unit (tests/test_maxout.py).
ELEMENTWISE = tuple(a for a in HIDDEN_ACTIVATIONS if a != "maxout")

# Near 0, moderate, and large magnitudes on both sides.
Z = np.array([-40.0, -10.0, -2.0, -0.5, -1e-4, 0.0, 1e-4, 0.5, 2.0, 10.0, 40.0])
SLOPE = 0.2

BACKENDS = ALL

# Closed forms written independently of the reference backend's. An
# activation without one is checked in the reference by finite differences,
# and in every other backend against the reference.
EXPECTED = {
    "identity": lambda z: z,
    "logistic": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": lambda z: np.where(z >= 0, z, SLOPE * z),
    # The probe's prelu units start at negative_slope (their slope tests: test_prelu.py).
    "prelu": lambda z: np.where(z >= 0, z, SLOPE * z),
    "elu": lambda z: np.where(z >= 0, z, np.exp(np.minimum(z, 0)) - 1),
    "selu": lambda z: 1.0507009873554805 * np.where(z >= 0, z, 1.6732632423543772 * (np.exp(np.minimum(z, 0)) - 1)),
    "gelu": lambda z: z * 0.5 * (1 + erf(z / np.sqrt(2))),
    "swish": lambda z: z / (1 + np.exp(-z)),
    "softplus": lambda z: np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0),
}


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# Their derivatives, also closed forms of z; at a kink (z = 0), the left one.
DERIVATIVES = {
    "identity": np.ones_like,
    "logistic": lambda z: _sigmoid(z) * (1 - _sigmoid(z)),
    "tanh": lambda z: 1 - np.tanh(z) ** 2,
    "relu": lambda z: np.where(z > 0, 1.0, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, 1.0, SLOPE),
    "prelu": lambda z: np.where(z > 0, 1.0, SLOPE),
    "elu": lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0))),
    "selu": lambda z: 1.0507009873554805 * np.where(
        z > 0, 1.0, 1.6732632423543772 * np.exp(np.minimum(z, 0))),
    "gelu": lambda z: 0.5 * (1 + erf(z / np.sqrt(2))) + z * np.exp(-z * z / 2) / np.sqrt(2 * np.pi),
    "swish": lambda z: _sigmoid(z) * (1 + z * (1 - _sigmoid(z))),
    "softplus": _sigmoid,
}

@pytest.fixture
def small_tiles(monkeypatch):
    """backend="cuda" gets small tiles, so the simulator runs these quickly."""
    if "cuda" in BACKENDS:
        from fastnn.backends._cuda import CudaBackend
        from fastnn.backends._cuda_kernels import CudaConfig

        tiny = CudaBackend(CudaConfig(bm=8, bn=8, bk=4, tm=2, tn=2, tpb=32))
        monkeypatch.setitem(backends._INSTANCES, "cuda", tiny)


# The derivative at a kink (z = 0) is the left one, as for relu (0 there).
KINKED = {"relu", "leaky_relu", "prelu", "elu", "selu"}


def probe(activation, dtype):
    """The probe network, its parameters and data reading ``activation`` at Z."""
    k = Z.size
    net = NetworkSpec.from_units([1, k, k], activation, "squared_error", SLOPE)
    coefs = [np.ones((1, k)), np.eye(k)]
    intercepts = [Z, np.zeros(k)]
    theta = net.pack(coefs, intercepts, dtype)
    X = np.zeros((1, 1))
    Y = expected_value(activation)[None, :] - 1
    return net, theta, make_train_data(X, Y, None, dtype)


def expected_value(activation):
    """act(Z): the closed form where written, else the reference's."""
    if activation in EXPECTED:
        return EXPECTED[activation](Z)
    return _activate(activation, Z, SLOPE)


def expected_derivative(activation):
    """act'(Z): the closed form where written, else the reference's."""
    if activation in DERIVATIVES:
        return DERIVATIVES[activation](Z)
    return _derivative(activation, Z, _activate(activation, Z, SLOPE), SLOPE)


def test_closed_forms_name_hidden_activations():
    assert set(EXPECTED) == set(DERIVATIVES)
    assert set(EXPECTED) <= set(ELEMENTWISE) == set(HIDDEN_ACTIVATIONS) - {"maxout"}


@pytest.mark.parametrize("activation", ELEMENTWISE)
def test_reference_derivative_matches_finite_differences(activation):
    h = 1e-6
    smooth = Z != 0
    numeric = (_activate(activation, Z + h, SLOPE) - _activate(activation, Z - h, SLOPE)) / (2 * h)
    value = _activate(activation, Z, SLOPE)
    analytic = _derivative(activation, Z, value, SLOPE)
    np.testing.assert_allclose(analytic[smooth], numeric[smooth], rtol=1e-6, atol=1e-9)
    if activation in KINKED:
        left = (_activate(activation, np.array([0.0]), SLOPE)
                - _activate(activation, np.array([-h]), SLOPE)) / h
        assert analytic[Z == 0][0] == pytest.approx(left[0], rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ELEMENTWISE)
def test_value_and_derivative(backend, dtype, activation, small_tiles):
    if backend == REFERENCE and activation not in EXPECTED:
        pytest.skip("no closed form: the reference is checked by finite differences")
    be = get_backend(backend)
    net, theta, data = probe(activation, dtype)
    expected = expected_value(activation)
    # Tolerances: float32 math is compared with float64 closed forms.
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=2e-6, atol=2e-6)

    out = be.forward(net, theta, data.X)[0]
    assert out.dtype == dtype
    np.testing.assert_allclose(out, expected, **tol)

    grad = np.empty_like(theta)
    be.loss_grad(net, theta, data, 0.0, grad)
    bias_grad = net.views(grad)[1][0]
    # squared_error's gradient: delta = output - target = 1 (to rounding).
    delta = out.astype(np.float64) - data.Y[0]
    slope = expected_derivative(activation)
    np.testing.assert_allclose(bias_grad, slope * delta, **tol)


@pytest.mark.parametrize("backend", [b for b in ALL if b != REFERENCE])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_mixed_activations_train_like_the_reference(backend, small_tiles):
    # One activation per hidden layer, every one beyond scikit-learn's four
    # that is a formula of one unit (prelu and maxout: their own tests),
    # through whole epochs.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(13, 5))
    y = rng.randint(3, size=13)
    activations = [a for a in ELEMENTWISE
                   if a not in ("identity", "logistic", "tanh", "relu", *LAYER_ACTIVATIONS)]
    sizes = tuple((4, 3, 5, 4, 3, 4)[i % 6] for i in range(len(activations)))
    params = dict(hidden_layer_sizes=sizes, batch_size=8, max_iter=2, random_state=0, tol=0,
                  activation=activations)
    ref = MLPClassifier(backend="numpy", **params).fit(X, y)
    fast = MLPClassifier(backend=backend, **params).fit(X, y)
    np.testing.assert_allclose(fast.loss_curve_, ref.loss_curve_, rtol=1e-9)
    for a, b in zip(fast.coefs_, ref.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_aliases_give_the_same_model():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(30, 4)), rng.normal(size=30)
    params = dict(hidden_layer_sizes=(5, 3), max_iter=5, random_state=0, tol=0)
    a = MLPRegressor(activation=["sigmoid", "silu"], **params).fit(X, y)
    b = MLPRegressor(activation=("logistic", "swish"), **params).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    # One name in a list equals the name alone, scikit-learn's init included.
    c = MLPRegressor(activation=["logistic", "logistic"], **params).fit(X, y)
    d = MLPRegressor(activation="logistic", **params).fit(X, y)
    np.testing.assert_array_equal(c.predict(X), d.predict(X))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_negative_slope_is_used():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(30, 4)), rng.normal(size=30)
    params = dict(activation="leaky_relu", hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    relu = MLPRegressor(**{**params, "activation": "relu"}).fit(X, y)
    flat = MLPRegressor(negative_slope=0.0, **params).fit(X, y)
    sloped = MLPRegressor(negative_slope=0.3, **params).fit(X, y)
    np.testing.assert_allclose(flat.predict(X), relu.predict(X), rtol=1e-12)
    assert not np.allclose(sloped.predict(X), relu.predict(X))
