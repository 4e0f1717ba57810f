"""What the tests of the compiled backends share: problems, optimizer states
and the comparison of whole epochs with the NumPy oracle."""

import numpy as np
import pytest
import scipy.sparse as sp

from fastnn import get_backend
from fastnn._init import sklearn_uniform_init
from fastnn._network import NetworkSpec
from fastnn._optimizers import OptimizerState, SGDState
from fastnn._registry import OPTIMIZER_SPECS, STOCHASTIC_SOLVERS
from fastnn.backends import _cython, _numba, _threads
from fastnn.backends._data import NO_INDEX, KernelEpoch, make_train_data

# Agreement with the oracle, per dtype.
TOL = {np.float32: dict(rtol=2e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def force_threads(monkeypatch, count, split):
    # The compiled kernels' thread count, and whether the Cython epoch splits
    # the first layer by input features (else one batch is split by rows).
    for module in (_cython, _numba):
        monkeypatch.setattr(module, "_n_threads", lambda net, rows: count)
    monkeypatch.setattr(_threads, "SPLIT_MIN_WEIGHTS", 0 if split else np.inf)
    return count


def plain_plan(batch_size, bn_off=NO_INDEX):
    """A compiled epoch's plan: rows in order, no penalty, no dropout."""
    return KernelEpoch(NO_INDEX, batch_size, 0.0, 0.0, np.zeros(0), 0, bn_off, 1e-3, 0.99)


def make_problem(units, hidden, loss, dtype, n=23, seed=0, sparse=False, weighted=False,
                 batch_norm=(), maxout_pieces=2, zeros=0.0):
    rng = np.random.RandomState(seed)
    net = NetworkSpec.from_units(units, hidden, loss, negative_slope=0.2,
                                 batch_norm=batch_norm, maxout_pieces=maxout_pieces)
    theta = sklearn_uniform_init(net, rng, hidden, dtype)
    # Batch norm's scales and running statistics away from their initial 1, 0, 1.
    for block in (b for part in net.batch_norm_views(theta) for b in part if b is not None):
        block[...] = rng.uniform(0.5, 1.5, block.size)
    # prelu's slopes apart, some 0 or below (learned slopes may get there).
    for block in (b for b in net.slope_views(theta) if b is not None):
        block[...] = rng.uniform(-0.5, 1.0, block.size)
        block[0] = 0
    n_out = units[-1]
    X = rng.normal(size=(n, units[0]))
    if zeros:
        # Dense input with that share of zeros, as in images.
        X[rng.uniform(size=X.shape) < zeros] = 0
    if sparse:
        X[rng.uniform(size=X.shape) < 0.6] = 0
        X = sp.csr_matrix(X)
    if loss == "log_loss":
        Y = np.eye(n_out)[rng.randint(n_out, size=n)]
    elif loss == "binary_log_loss":
        Y = (rng.uniform(size=(n, n_out)) < 0.5).astype(float)
    elif loss == "poisson":
        Y = rng.poisson(2.0, size=(n, n_out)).astype(float)
    else:
        Y = rng.normal(size=(n, n_out))
    sw = rng.uniform(0.2, 2.0, size=n) if weighted else None
    return net, theta, make_train_data(X, Y, sw, dtype)


# The values the tests train each optimizer's hyper-parameters with, by their
# HYPER_FIELDS names; a large AdamW decay, so that decaying the biases too
# would show.
TEST_HYPER = dict(momentum=0.9, beta_1=0.9, beta_2=0.999, epsilon=1e-8, rho=0.8,
                  weight_decay=5.0)
# Where an optimizer trains with other values.
TEST_HYPER_OF = {"rmsprop": dict(epsilon=1e-7), "adagrad": dict(epsilon=1e-7)}
TEST_RATE = {"sgd": 0.05, "adagrad": 0.05}


def optimizer_state(kind, theta):
    """A fresh state of optimizer ``kind`` (a solver, or "nesterov") for ``theta``."""
    n, dt = theta.size, theta.dtype
    solver = "sgd" if kind == "nesterov" else kind
    values = {**TEST_HYPER, **TEST_HYPER_OF.get(solver, {}), "nesterov": kind == "nesterov"}
    hyper = {name: values[name] for name in OPTIMIZER_SPECS[solver]["hyper"]}
    rate = TEST_RATE.get(solver, 0.01)
    if solver == "sgd":
        return SGDState(n, dt, rate, "constant", 0.5, **hyper)
    return OptimizerState(solver, n, dt, rate, **hyper)


# Every optimizer of the registry, and SGD with Nesterov's momentum.
OPTIMIZER_KINDS = [*STOCHASTIC_SOLVERS, "nesterov"]


def assert_trains_like_reference(fast, net, theta0, data, order, batch_size, kind, n_epochs,
                                 dtype, l1=0.0, lr_rel=1e-12, clipnorm=0.0, dropouts=None,
                                 bn_momentum=0.99):
    """``n_epochs`` epochs of ``fast`` and of the NumPy reference from ``theta0`` agree.

    ``dropouts``, if given, holds each epoch's ``fastnn._dropout.Dropout``.

    Compared: the parameters, the epoch losses and the optimizer's state
    (step count, nadam's momentum product, rate and buffers). Returns the
    parameters reached.
    """
    results = []
    for be in (get_backend("numpy"), fast):
        theta = theta0.copy()
        opt = optimizer_state(kind, theta)
        opt.clipnorm = clipnorm
        cache = {}
        losses = [be.epoch(net, theta, opt, data, order, batch_size, 1e-3, cache, l1=l1,
                           dropout=None if dropouts is None else dropouts[e],
                           bn_momentum=bn_momentum)
                  for e in range(n_epochs)]
        results.append((theta, losses, opt))
    (t_ref, l_ref, o_ref), (t_fast, l_fast, o_fast) = results
    np.testing.assert_allclose(t_fast, t_ref, **TOL[dtype])
    np.testing.assert_allclose(l_fast, l_ref, rtol=TOL[dtype]["rtol"] * 10)
    assert o_fast.t == o_ref.t
    assert o_fast.mu_product == pytest.approx(o_ref.mu_product, rel=1e-12)
    assert o_fast.learning_rate == pytest.approx(o_ref.learning_rate, rel=lr_rel)
    for a, b in zip(o_fast.buffers, o_ref.buffers):
        np.testing.assert_allclose(a, b, **TOL[dtype])
    return t_fast


def numeric_gradient(objective, theta, eps=1e-6):
    """Central finite differences of ``objective`` at ``theta``, one entry at a time."""
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += eps
        minus[i] -= eps
        numeric[i] = (objective(plus) - objective(minus)) / (2 * eps)
    return numeric
