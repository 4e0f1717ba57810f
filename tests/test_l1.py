"""The L1 penalty (``l1=``), beside scikit-learn's L2 ``alpha``, in every backend."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from fastnn import MLPClassifier, MLPRegressor, get_backend
from _backends import CPU_KERNELS, REFERENCE
from _reference import TOL, assert_trains_like_reference, make_problem, numeric_gradient


@pytest.mark.parametrize("backend", CPU_KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparse", [False, True])
def test_loss_and_gradient_match_reference(backend, dtype, sparse, n_threads):
    ref, fast = get_backend("numpy"), get_backend(backend)
    net, theta, data = make_problem([6, 7, 4, 3], "relu", "log_loss", dtype, sparse=sparse,
                                    weighted=True)
    g_ref, g = np.empty_like(theta), np.empty_like(theta)
    loss_ref = ref.loss_grad(net, theta, data, 0.01, g_ref, l1=0.3)
    loss = fast.loss_grad(net, theta, data, 0.01, g, l1=0.3)
    assert loss == pytest.approx(loss_ref, rel=TOL[dtype]["rtol"])
    np.testing.assert_allclose(g, g_ref, **TOL[dtype])
    # The penalty shows: without it the loss is smaller.
    assert loss > fast.loss_grad(net, theta, data, 0.01, g) + 1e-3


@pytest.mark.parametrize("backend", CPU_KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_epoch_matches_reference(backend, dtype, kind, epoch_threads):
    net, theta0, data = make_problem([6, 5, 4, 3], "tanh", "log_loss", dtype, weighted=True)
    order = np.random.RandomState(1).permutation(data.n_samples).astype(np.intp)
    assert_trains_like_reference(get_backend(backend), net, theta0, data, order, 7, kind, 3,
                                 dtype, l1=0.2)


@pytest.mark.parametrize("backend", [REFERENCE, *CPU_KERNELS])
def test_gradient_matches_finite_differences(backend):
    # Away from W = 0 the L1 term is smooth; sklearn's init leaves no zero weight.
    net, theta, data = make_problem([5, 6, 3], "tanh", "log_loss", np.float64, n=9,
                                    weighted=True)
    be = get_backend(backend)
    grad, scratch = np.empty_like(theta), np.empty_like(theta)
    be.loss_grad(net, theta, data, 0.1, grad, l1=0.4)
    numeric = numeric_gradient(lambda t: be.loss_grad(net, t, data, 0.1, scratch, l1=0.4), theta)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("backend", [REFERENCE, *CPU_KERNELS])
def test_subgradient_is_zero_at_zero_weights_and_biases_are_free(backend):
    net, theta, data = make_problem([5, 6, 3], "tanh", "log_loss", np.float64)
    n_coef = int(net.offsets()[0][-1])
    theta[:n_coef:3] = 0.0
    be = get_backend(backend)
    with_l1, without = np.empty_like(theta), np.empty_like(theta)
    be.loss_grad(net, theta, data, 0.0, with_l1, l1=0.5)
    be.loss_grad(net, theta, data, 0.0, without)
    sw_sum = data.n_samples
    expected = without.copy()
    expected[:n_coef] += 0.5 * np.sign(theta[:n_coef]) / sw_sum
    np.testing.assert_allclose(with_l1, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(with_l1[:n_coef:3], without[:n_coef:3])
    np.testing.assert_array_equal(with_l1[n_coef:], without[n_coef:])


@pytest.mark.parametrize("backend", CPU_KERNELS)
def test_l1_shrinks_weights_toward_zero(backend):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    params = dict(hidden_layer_sizes=(32,), max_iter=15, random_state=0, alpha=0.0,
                  backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = MLPClassifier(**params).fit(X, y)
        sparse = MLPClassifier(l1=0.5, **params).fit(X, y)
    small = [np.mean(np.abs(m.coefs_[0]) < 1e-2) for m in (plain, sparse)]
    assert small[1] > small[0] + 0.2
    assert sparse.score(X, y) > 0.85


def test_lbfgs_with_l1_matches_reference():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = X @ [1.0, -2.0, 0.0, 0.5] + 0.1 * rng.normal(size=60)
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=30, random_state=0,
                  l1=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = MLPRegressor(backend="numpy", **params).fit(X, y)
        fast = MLPRegressor(backend="cython", **params).fit(X, y)
    assert fast.loss_ == pytest.approx(ref.loss_, rel=1e-6)
    np.testing.assert_allclose(fast.predict(X), ref.predict(X), rtol=1e-5, atol=1e-8)
