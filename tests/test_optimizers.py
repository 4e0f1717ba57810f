"""The optimizers beyond scikit-learn's: rmsprop, adagrad, adamw, nadam.

Every backend's epoch is checked against the NumPy reference in
``test_backends.py`` / ``test_cuda.py``; here the reference's update rule is
checked against closed forms and against PyTorch (torch.optim's steps,
recorded in ``data/torch_optimizers.json``), and the estimators are checked
to learn with each solver.
"""

import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from fastnn import MLPClassifier
from fastnn._optimizers import OptimizerState, make_optimizer
from fastnn._registry import HYPER_FIELDS, HYPER_PARAMETERS, OPTIMIZER_SPECS, STOCHASTIC_SOLVERS
from fastnn.backends import _scalar
from fastnn.backends._numpy import optimizer_step
from _backends import CPU, CPU_KERNELS
from _reference import OPTIMIZER_KINDS, optimizer_state

NEW_SOLVERS = ["rmsprop", "adagrad", "adamw", "nadam"]
DATA = Path(__file__).parent / "data"


def run_steps(opt, theta, grads, n_coef):
    theta = theta.copy()
    for g in grads:
        optimizer_step(opt, theta, g, n_coef)
    return theta


def test_rmsprop_and_adagrad_closed_forms():
    # With a constant gradient g: v_k = (1 - rho^k) g^2, and G_k = k g^2.
    g = np.array([0.3, -2.0, 1e-3, 0.0])
    theta0 = np.array([1.0, -1.0, 0.5, 2.0])
    lr, rho, eps, k = 0.1, 0.8, 1e-7, 5
    rms = run_steps(OptimizerState("rmsprop", 4, np.float64, lr, rho=rho, epsilon=eps), theta0, [g] * k, 4)
    steps = [lr * g / (np.sqrt((1 - rho**i) * g * g) + eps) for i in range(1, k + 1)]
    np.testing.assert_allclose(rms, theta0 - np.sum(steps, axis=0), rtol=1e-12)
    ada = run_steps(OptimizerState("adagrad", 4, np.float64, lr, epsilon=eps), theta0, [g] * k, 4)
    steps = [lr * g / (np.sqrt(i * g * g) + eps) for i in range(1, k + 1)]
    np.testing.assert_allclose(ada, theta0 - np.sum(steps, axis=0), rtol=1e-12)


def test_adamw_decays_weights_not_biases():
    # A zero gradient leaves Adam's moments at 0: only the decay moves theta.
    theta0 = np.array([1.0, -2.0, 3.0, 0.5, -0.5])
    lr, wd, k = 0.01, 4.0, 7
    opt = OptimizerState("adamw", 5, np.float64, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                         weight_decay=wd)
    theta = run_steps(opt, theta0, [np.zeros(5)] * k, n_coef=3)
    np.testing.assert_allclose(theta[:3], theta0[:3] * (1 - lr * wd) ** k, rtol=1e-12)
    np.testing.assert_array_equal(theta[3:], theta0[3:])


def test_adamw_without_decay_is_adam():
    rng = np.random.RandomState(0)
    grads = list(rng.normal(size=(6, 8)))
    theta0 = rng.normal(size=8)
    adam_hyper = dict(beta_1=0.9, beta_2=0.999, epsilon=1e-8)
    adam = run_steps(OptimizerState("adam", 8, np.float64, 0.01, **adam_hyper), theta0, grads, 5)
    adamw = run_steps(OptimizerState("adamw", 8, np.float64, 0.01, **adam_hyper, weight_decay=0.0),
                      theta0, grads, 5)
    np.testing.assert_array_equal(adamw, adam)


def test_nadam_closed_form():
    # Constant g: m_k = (1 - b1^k) g and sqrt(v_k / (1 - b2^k)) = |g|.
    g, theta0 = np.array([0.5, -1.5]), np.array([0.0, 1.0])
    lr, b1, b2, eps, k = 0.01, 0.9, 0.999, 1e-8, 6
    opt = OptimizerState("nadam", 2, np.float64, lr, beta_1=b1, beta_2=b2, epsilon=eps)
    theta = run_steps(opt, theta0, [g] * k, 2)
    expected, product = theta0.copy(), 1.0
    for i in range(1, k + 1):
        mu = b1 * (1 - 0.5 * 0.96 ** (0.004 * i))
        mu_next = b1 * (1 - 0.5 * 0.96 ** (0.004 * (i + 1)))
        product *= mu
        m = (1 - b1**i) * g
        expected -= (lr * (1 - mu) / (1 - product) * g
                     + lr * mu_next / (1 - product * mu_next) * m) / (np.abs(g) + eps)
    np.testing.assert_allclose(theta, expected, rtol=1e-10)
    assert opt.mu_product == pytest.approx(product, rel=1e-14)
    assert opt.t == k


def _recording():
    """torch.optim's trajectories, recorded by tests/data/record_torch_optimizers.py."""
    return json.loads((DATA / "torch_optimizers.json").read_text())


def _our_state(solver, n, lr, config):
    # The recording's config holds the optimizer's hyper-parameters by our names.
    hyper = {name: config[name] for name in OPTIMIZER_SPECS[solver]["hyper"]}
    return OptimizerState(solver, n, np.float64, lr, **hyper)


@pytest.mark.parametrize("solver", NEW_SOLVERS)
def test_reference_matches_pytorch(solver):
    # Every step of the reference's rule against torch.optim's recorded one.
    record = _recording()
    entry = record["solvers"][solver]
    theta = np.array(record["theta0"])
    ours = _our_state(solver, theta.size, record["learning_rate"], entry["config"])
    for g, expected in zip(np.array(record["grads"]), entry["trajectory"], strict=True):
        optimizer_step(ours, theta, g, record["n_coef"])
        np.testing.assert_allclose(theta, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("solver", NEW_SOLVERS)
def test_recording_is_what_pytorch_computes(solver):
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location(
        "record_torch_optimizers", DATA / "record_torch_optimizers.py")
    recorder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recorder)
    record = _recording()
    theta0, grads = recorder.problem()
    np.testing.assert_array_equal(theta0, record["theta0"])
    np.testing.assert_array_equal(grads, record["grads"])
    assert record["solvers"][solver]["config"] == recorder.CONFIGS[solver]
    np.testing.assert_allclose(recorder.torch_trajectory(solver, theta0, grads),
                               record["solvers"][solver]["trajectory"], rtol=1e-12, atol=1e-15)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.mark.parametrize("solver", NEW_SOLVERS)
@pytest.mark.parametrize("backend", CPU_KERNELS)
def test_each_solver_learns_digits(digits, solver, backend):
    X, y = digits
    lr = 0.05 if solver == "adagrad" else 0.003
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier((32,), solver=solver, learning_rate_init=lr, max_iter=15,
                            random_state=0, backend=backend).fit(X, y)
    assert clf.score(X, y) > 0.95
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]


@pytest.mark.parametrize("solver", NEW_SOLVERS)
@pytest.mark.parametrize("backend", CPU)
def test_partial_fit_carries_the_optimizer_state(digits, solver, backend):
    # Three partial_fit calls are three epochs of one fit: the moments, the
    # step count and nadam's momentum product carry over between calls.
    X, y = digits
    X, y = X[:300], y[:300]
    params = dict(hidden_layer_sizes=(10,), solver=solver, shuffle=False, random_state=0,
                  learning_rate_init=0.01, backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        whole = MLPClassifier(max_iter=3, tol=0, **params).fit(X, y)
    parts = MLPClassifier(**params)
    for _ in range(3):
        parts.partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_allclose(parts.loss_curve_, whole.loss_curve_, rtol=1e-12)
    for a, b in zip(parts.coefs_ + parts.intercepts_, whole.coefs_ + whole.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert parts._optimizer.t == whole._optimizer.t == 3 * 2
    assert parts._optimizer.mu_product == whole._optimizer.mu_product


def test_adamw_weight_decay_shrinks_weights(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(32,), solver="adamw", max_iter=10, random_state=0,
                  alpha=0.0, learning_rate_init=0.003)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        none = MLPClassifier(weight_decay=0.0, **params).fit(X, y)
        strong = MLPClassifier(weight_decay=20.0, **params).fit(X, y)
    norm = [sum(float(np.sum(W**2)) for W in m.coefs_) for m in (none, strong)]
    assert norm[1] < 0.5 * norm[0]


@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
def test_state_follows_the_registry(solver):
    # make_optimizer reads each hyper field from the estimator parameter of
    # that name, and keeps the buffers the registry declares.
    spec = OPTIMIZER_SPECS[solver]
    params = dict(momentum=0.7, nesterovs_momentum=False, beta_1=0.8, beta_2=0.95,
                  epsilon=1e-6, rho=0.6, weight_decay=0.25)
    clf = MLPClassifier(solver=solver, learning_rate_init=0.02, **params)
    state = make_optimizer(clf, 7, np.float32)
    hyper = dict(zip(HYPER_FIELDS, state.hyper()))
    assert hyper["learning_rate"] == 0.02
    for field in HYPER_FIELDS[1:-1]:
        expected = params[HYPER_PARAMETERS.get(field, field)] if field in spec["hyper"] else 0.0
        assert hyper[field] == np.float64(expected), field
    assert [getattr(state, name).shape for name in spec["buffers"]] == [(7,)] * len(
        spec["buffers"])
    first, second = state.buffers
    assert first.dtype == np.float32 and first.size == 7
    assert second.size == (7 if len(spec["buffers"]) == 2 else 0)
    with pytest.raises(TypeError, match="hyper-parameters"):
        OptimizerState(solver, 7, np.float32, 0.02, unknown=1.0)


@pytest.mark.parametrize("kind", OPTIMIZER_KINDS)
def test_scalar_update_is_the_reference_step(kind):
    # The Numba and CUDA kernels' formulas (_scalar, run here as plain
    # Python) against the oracle's, step by step, weights and biases apart.
    rng = np.random.RandomState(3)
    theta0 = rng.normal(size=9)
    ref, ours = optimizer_state(kind, theta0), optimizer_state(kind, theta0)
    theta_ref, theta, n_coef = theta0.copy(), theta0.copy(), 6
    s1, s2 = (b.copy() for b in ours.buffers)
    hyper, t, mu_product = ours.hyper(), 0, 1.0
    for g in rng.normal(size=(4, 9)):
        optimizer_step(ref, theta_ref, g, n_coef)
        sc = (hyper[0], 0.0, 0.0)
        if ours.code != OPTIMIZER_SPECS["sgd"]["code"]:
            t += 1
            *sc, mu_product = _scalar.step_scalars(ours.code, t, hyper[0], hyper[3], hyper[4],
                                                   hyper[7], mu_product)
        k = _scalar.coefficients(sc, hyper, float)
        for i in range(theta.size):
            second = s2[i] if s2.size else 0.0
            theta[i], s1[i], second = _scalar.update(ours.code, theta[i], g[i], s1[i], second,
                                                     i < n_coef, k)
            if s2.size:
                s2[i] = second
        np.testing.assert_allclose(theta, theta_ref, rtol=1e-13, atol=1e-15)
    for mine, reference in zip((s1, s2), ref.buffers):
        np.testing.assert_allclose(mine, reference, rtol=1e-13, atol=1e-15)


def test_invscaling_takes_a_huge_power_t(digits):
    # power_t's range is [0, inf): (t + 1) ** 1e12 overflows a float, and the
    # rate is then 0, as it is to float precision.
    X, y = digits
    params = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate="invscaling",
                  random_state=0, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        huge = MLPClassifier(power_t=1e12, **params).fit(X[:200], y[:200])
        usual = MLPClassifier(power_t=0.5, **params).fit(X[:200], y[:200])
        # The first epoch runs at learning_rate_init either way.
        np.testing.assert_array_equal(huge.coefs_[0], usual.coefs_[0])
        assert huge._optimizer.learning_rate == 0.0
        huge.set_params(max_iter=3, warm_start=True).fit(X[:200], y[:200])
    assert all(np.isfinite(c).all() for c in huge.coefs_)
