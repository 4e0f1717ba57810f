"""Batch normalization: the math against finite differences, every backend
that has it against the NumPy reference, and the estimators' ``batch_norm``."""

import numpy as np
import pytest

from fastnn import MLPClassifier, MLPRegressor, get_backend
from fastnn import _mlp
from fastnn._batch_norm import fold
from fastnn._dropout import Dropout, epoch_key
from fastnn.backends._data import NO_INDEX, input_args, net_args, optimizer_args, weights_arg
from fastnn.backends._numpy import _activate, loss_and_gradient
from _backends import CPU, CPU_KERNELS
from _reference import (
    TOL, assert_trains_like_reference, make_problem, optimizer_state, plain_plan,
)
from _layer_features import _quiet, assert_carries_on, digits  # noqa: F401  (fixtures)

# The CPU backends with compiled epochs (CUDA's: tests/backends/test_cuda.py).
BN_BACKENDS = CPU_KERNELS


def _predict_with_running_stats(net, theta, X):
    """The network's output in inference mode, written out layer by layer."""
    coefs, intercepts = net.views(theta)
    A = X
    for layer, W, b, gamma, mean, var in zip(net.layers, coefs, intercepts,
                                             *net.batch_norm_views(theta)):
        Z = A @ W
        if layer.batch_norm:
            Z = gamma * (Z - mean) / np.sqrt(var + net.bn_epsilon)
        A = _activate(layer.activation, Z + b, layer.param)
    return A


# --------------------------------------------------------------------- the math


@pytest.mark.parametrize("hidden,batch_norm", [
    ("relu", (True, True)),
    ("logistic", (True, False)),
    ("tanh", (False, True)),
    (["elu", "gelu"], (True, True)),
    (["leaky_relu", "softplus"], (True, True)),
])
def test_gradient_matches_finite_differences(hidden, batch_norm):
    # Weighted rows; gamma, beta (the intercepts) and W of every layer, and
    # zero for the running statistics, on which training's loss does not depend.
    net, theta, data = make_problem([5, 7, 6, 3], hidden, "log_loss", np.float64, n=11,
                                    weighted=True, batch_norm=batch_norm)

    def loss(t):
        return loss_and_gradient(net, t, data.X, data.Y, data.sample_weight, 1e-3, 1e-3)[0]

    _, grad = loss_and_gradient(net, theta, data.X, data.Y, data.sample_weight, 1e-3, 1e-3)
    h = 1e-6
    numeric = np.array([(loss(theta + h * e) - loss(theta - h * e)) / (2 * h)
                        for e in np.eye(theta.size)])
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
    gammas, means, variances = net.batch_norm_views(grad)
    for l, flag in enumerate(batch_norm):
        assert (gammas[l] is not None) == flag
        if flag:
            assert np.abs(gammas[l]).max() > 1e-4
            assert not means[l].any() and not variances[l].any()


def test_gradient_with_dropout_on_normalized_layers_matches_finite_differences():
    net, theta, data = make_problem([5, 7, 6, 3], "relu", "binary_log_loss", np.float64, n=9,
                                    batch_norm=(True, True))
    masks = Dropout(np.array([0.4, 0.3, 0.0]), epoch_key(1, 0)).masks(net, np.arange(9),
                                                                      theta.dtype)

    def loss(t):
        return loss_and_gradient(net, t, data.X, data.Y, None, 0.0, 0.0, masks)[0]

    _, grad = loss_and_gradient(net, theta, data.X, data.Y, None, 0.0, 0.0, masks)
    h = 1e-6
    numeric = np.array([(loss(theta + h * e) - loss(theta - h * e)) / (2 * h)
                        for e in np.eye(theta.size)])
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_float32_gradient_matches_float64():
    grads = {}
    for dtype in (np.float32, np.float64):
        net, theta, data = make_problem([6, 8, 5, 3], "tanh", "log_loss", dtype, n=17,
                                        weighted=True, batch_norm=(True, True))
        loss, grads[dtype] = loss_and_gradient(net, theta, data.X, data.Y, data.sample_weight,
                                               1e-3)
        assert grads[dtype].dtype == dtype
    np.testing.assert_allclose(grads[np.float32], grads[np.float64], rtol=1e-4, atol=1e-6)


def test_batch_statistics_and_running_update():
    net, theta, data = make_problem([4, 6, 3], "relu", "log_loss", np.float64, n=13,
                                    batch_norm=(True,))
    stats = []
    loss_and_gradient(net, theta, data.X, data.Y, None, 0.0, batch_stats=stats)
    Z = data.X @ net.views(theta)[0][0]
    np.testing.assert_allclose(stats[0][0], Z.mean(axis=0))
    np.testing.assert_allclose(stats[0][1], Z.var(axis=0))  # biased, as Keras
    assert stats[1] is None

    # One batch of plain SGD: the running statistics move by Keras' rule
    # from the batch's statistics, and no optimizer step touches them.
    _, mean0, var0 = (v[0].copy() for v in net.batch_norm_views(theta))
    for backend in CPU:
        t = theta.copy()
        opt = optimizer_state("sgd", t)
        get_backend(backend).epoch(net, t, opt, data, None, 13, 0.0, {}, bn_momentum=0.8)
        _, mean, var = (v[0] for v in net.batch_norm_views(t))
        np.testing.assert_allclose(mean, 0.8 * mean0 + 0.2 * Z.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(var, 0.8 * var0 + 0.2 * Z.var(axis=0), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fold_predicts_with_running_statistics(dtype):
    net, theta, data = make_problem([6, 8, 5, 3], ["relu", "tanh"], "log_loss", dtype, n=17,
                                    batch_norm=(True, True))
    plain, folded = fold(net, theta)
    assert not plain.has_batch_norm and folded.dtype == dtype
    assert folded.size == plain.n_params == net.bn_offsets[0]
    expected = _predict_with_running_stats(net, theta, data.X.astype(np.float64))
    for backend in CPU:
        out = get_backend(backend).forward(plain, folded, data.X)
        np.testing.assert_allclose(out, expected, rtol=TOL[dtype]["rtol"] * 10,
                                   atol=TOL[dtype]["atol"])
    # No batch norm: nothing to fold.
    net, theta, _ = make_problem([6, 8, 3], "relu", "log_loss", dtype)
    assert fold(net, theta) == (net, theta)


# ------------------------------------------------------------- compiled epochs

# (layer widths, hidden activation, loss, batch-normalized hidden layers):
# derivatives from the output and from the input, every loss.
BN_NETS = [
    ([6, 5, 4, 3], "tanh", "log_loss", (True, True)),
    ([5, 9, 7, 2], ["relu", "logistic"], "binary_log_loss", (True, False)),
    ([4, 8, 6, 2], ["gelu", "elu"], "squared_error", (False, True)),
    ([5, 6, 4, 3], ["softplus", "swish"], "poisson", (True, True)),
    ([5, 7, 6, 3], "prelu", "log_loss", (True, False)),
    # Not (True, True): a normalized layer's deltas sum to 0 over the batch,
    # so a maxout piece winning every row of a batch gets a gradient that is
    # exactly 0 but for rounding, which Adam's step turns into +-lr.
    ([5, 7, 6, 3], ["maxout", "tanh"], "log_loss", (True, False)),
]


# Batch sizes for 23 rows: one row (variance 0: xhat is 0, eps keeps it
# finite), 4 batches of 6 and 5 rows, the whole set; and, in float64 only,
# 7 (a last batch of 2 rows) and 10 (3 rows). On 2 or 3 rows the gradient
# through the normalization is mostly cancellation (the normalized column is
# nearly constant), so float32 results there differ by rounding order alone.
BATCH_SIZES = [(1, np.float32), (6, np.float32), (23, np.float32),
               (1, np.float64), (6, np.float64), (23, np.float64),
               (7, np.float64), (10, np.float64)]


@pytest.mark.parametrize("backend", BN_BACKENDS)
@pytest.mark.parametrize("batch_size,dtype", BATCH_SIZES)
@pytest.mark.parametrize("units,hidden,loss,batch_norm", BN_NETS)
def test_epoch_with_batch_norm_matches_reference(backend, dtype, units, hidden, loss,
                                                 batch_norm, batch_size):
    net, theta0, data = make_problem(units, hidden, loss, dtype, weighted=True,
                                     batch_norm=batch_norm)
    order = np.random.RandomState(1).permutation(data.n_samples).astype(np.intp)
    fast = get_backend(backend)
    normed = assert_trains_like_reference(fast, net, theta0, data, order, batch_size, "adam", 3,
                                          dtype, bn_momentum=0.9)
    # The running statistics moved, in every batch-normalized layer.
    for before, after in zip(net.batch_norm_views(theta0)[1], net.batch_norm_views(normed)[1]):
        assert (before is None) or np.abs(after - before).max() > 1e-3
    plain_net, plain_theta0, _ = make_problem(units, hidden, loss, dtype, weighted=True)
    plain = assert_trains_like_reference(fast, plain_net, plain_theta0, data, order, batch_size,
                                         "adam", 3, dtype)
    n = plain_net.n_params
    assert np.abs(normed[:n] - plain).max() > 100 * TOL[dtype]["atol"]


@pytest.mark.parametrize("backend", BN_BACKENDS)
@pytest.mark.parametrize("kind", ["sgd", "nadam", "adamw", "rmsprop"])
def test_epoch_with_batch_norm_dropout_and_clipping(backend, kind):
    # Every other feature of the epoch alongside: dropout on the normalized
    # layers, clipping (gamma is a variable of its own), L1, each optimizer.
    net, theta0, data = make_problem([6, 7, 5, 3], "relu", "log_loss", np.float64,
                                     weighted=True, batch_norm=(True, True))
    order = np.random.RandomState(2).permutation(data.n_samples).astype(np.intp)
    dropouts = [Dropout(np.array([0.3, 0.2, 0.0]), epoch_key(5, e)) for e in range(3)]
    assert_trains_like_reference(get_backend(backend), net, theta0, data, order, 8, kind, 3,
                                 np.float64, l1=1e-3, clipnorm=0.05, dropouts=dropouts,
                                 bn_momentum=0.5)


@pytest.mark.parametrize("backend", BN_BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_epoch_with_batch_norm_on_sparse_input(backend, dtype):
    net, theta0, data = make_problem([6, 5, 4, 3], "relu", "log_loss", dtype, sparse=True,
                                     batch_norm=(True, False))
    assert_trains_like_reference(get_backend(backend), net, theta0, data, None, 5, "adam", 2,
                                 dtype)


def test_cython_kernel_checks_the_blocks():
    net, theta, data = make_problem([6, 5, 4, 3], "relu", "log_loss", np.float64,
                                    batch_norm=(True, True))
    opt = optimizer_state("sgd", theta)
    size = _mlp.workspace_size(net.units, net.activation_codes, 5, False, 1, theta.size,
                               False, True)

    def run(bn_off, n_threads=1, work_size=size):
        _mlp.epoch(input_args(data.X), data.Y, weights_arg(data), theta, net_args(net),
                   optimizer_args(opt), plain_plan(5, bn_off), np.empty_like(theta),
                   np.empty(work_size), n_threads)

    good = net.bn_offsets
    with pytest.raises(ValueError, match="pass bn_off"):
        run(NO_INDEX)
    with pytest.raises(ValueError, match="3 values per column"):
        run(np.array([good[0], good[1] - 1, good[2], good[3]], dtype=np.intp))
    with pytest.raises(ValueError, match="block starts"):
        run(good[:-1].copy())
    with pytest.raises(ValueError, match="n_threads=1"):
        run(good, n_threads=2, work_size=10 * size)
    with pytest.raises(ValueError, match="workspace too small"):
        run(good, work_size=size - 1)
    run(good)


# ------------------------------------------------------------------ estimators


def test_fitted_attributes(digits):
    X, y = digits
    clf = MLPClassifier((16, 12, 8), batch_norm=[True, False, True], max_iter=3,
                        random_state=0).fit(X.astype(np.float32), y)
    scales, means, variances = (clf.batch_norm_scales_, clf.batch_norm_means_,
                                clf.batch_norm_variances_)
    assert [s is None for s in scales] == [False, True, False]
    assert len(means) == len(variances) == 3
    for s, m, v, n in zip(scales, means, variances, (16, 12, 8)):
        if s is not None:
            assert s.shape == m.shape == v.shape == (n,) and s.dtype == np.float32
            # Views into the model's one parameter buffer, moved by training.
            assert np.shares_memory(s, clf._theta) and np.shares_memory(v, clf._theta)
            assert np.abs(s - 1).max() > 1e-3 and np.abs(m).max() > 1e-3
            assert (v > 0).all()
    # Without batch norm the attributes do not exist.
    plain = MLPClassifier((16,), max_iter=2, random_state=0).fit(X, y)
    assert not hasattr(plain, "batch_norm_scales_")


@pytest.mark.parametrize("backend", CPU)
def test_predictions_use_running_statistics(digits, backend):
    X, y = digits
    clf = MLPClassifier((20, 10), batch_norm=True, max_iter=4, random_state=0,
                        backend=backend).fit(X, y)
    net = clf._network()
    expected = _predict_with_running_stats(net, clf._theta, X)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-9, atol=1e-12)
    # One row at a time: no statistics of the predicted batch leak in.
    one_by_one = np.vstack([clf.predict_proba(X[i : i + 1]) for i in range(0, 600, 37)])
    np.testing.assert_allclose(one_by_one, expected[::37], rtol=1e-9, atol=1e-12)


def test_backends_train_the_same_model(digits):
    X, y = digits
    models = [MLPClassifier((20, 10), batch_norm=[True, False], dropout=0.1, max_iter=3,
                            random_state=0, backend=b).fit(X, y) for b in CPU]
    for model in models[1:]:
        np.testing.assert_allclose(model._theta, models[0]._theta, rtol=1e-7, atol=1e-9)


def test_running_statistics_carry_on_across_partial_fit_warm_start_and_pickle(digits):
    assert_carries_on(*digits, dict(batch_norm=True, batch_norm_momentum=0.9),
                      "batch_norm_means_")


def test_early_stopping_restores_the_best_running_statistics(digits):
    X, y = digits
    clf = MLPClassifier((20,), batch_norm=True, early_stopping=True, n_iter_no_change=3,
                        max_iter=40, random_state=0, learning_rate_init=0.05)
    clf.fit(X[:400], y[:400], X_val=X[400:], y_val=y[400:])
    best = int(np.argmax(clf.validation_scores_))
    assert best < len(clf.validation_scores_) - 1
    # The restored model scores as it did at its best epoch: its running
    # statistics came back with its weights.
    assert clf.score(X[400:], y[400:]) == clf.best_validation_score_


def test_regressor_with_batch_norm():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5)) * [1, 10, 100, 0.1, 1]
    y = X @ [1.0, 0.1, 0.01, 10.0, -1.0] + 0.1 * rng.normal(size=300)
    # Unscaled features; 10 batches an epoch let the running statistics follow.
    # All 300 epochs: batch norm makes the training loss noisy, and the epoch
    # at which no improvement stops it (46 to 68 at learning rate 0.01,
    # scores 0.49 to 0.98) depended on rounding, which differs between
    # machines; run to the end, the scores of 5 seeds on both backends were
    # 0.992 to 0.996.
    reg = MLPRegressor(hidden_layer_sizes=(32, 16), batch_norm=True, batch_norm_momentum=0.9,
                       batch_size=32, max_iter=300, n_iter_no_change=300,
                       random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.9
    assert len(reg.batch_norm_scales_) == 2


def test_batch_norm_trains_a_deep_sigmoid_net_faster(digits):
    # Ioffe & Szegedy's point: normalized layers keep a deep sigmoid net's
    # gradients alive, so it learns in epochs where the plain one stalls at
    # chance (log(10) = 2.303). Three batches an epoch: momentum 0.9 lets the
    # running statistics catch up within the 20 epochs.
    X, y = digits
    fits = {bn: MLPClassifier((32,) * 8, activation="logistic", batch_norm=bn,
                              batch_norm_momentum=0.9, max_iter=20, random_state=0).fit(X, y)
            for bn in (False, True)}
    assert fits[False].loss_curve_[-1] > 2.25 and fits[False].score(X, y) < 0.2
    assert fits[True].loss_curve_[-1] < 1.8 and fits[True].score(X, y) > 0.6


@pytest.mark.parametrize("params,match", [
    (dict(batch_norm=[True]), "batch_norm lists 1 flags"),
    (dict(batch_norm=[1, 0]), "must be bools"),
    (dict(batch_norm=True, solver="lbfgs"), "lbfgs' does not support batch_norm"),
    (dict(batch_norm="yes"), "batch_norm"),
    (dict(batch_norm=True, batch_norm_momentum=1.5), "batch_norm_momentum"),
    (dict(batch_norm=True, batch_norm_epsilon=0.0), "batch_norm_epsilon"),
])
def test_bad_batch_norm_is_refused_before_training(digits, params, match):
    X, y = digits
    with pytest.raises(ValueError, match=match):
        MLPClassifier((8, 8), **params).fit(X, y)


def test_changing_batch_norm_between_fits_is_refused(digits):
    X, y = digits
    clf = MLPClassifier((8, 8), batch_norm=[True, False], max_iter=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="batch normalization on hidden layers"):
        clf.set_params(batch_norm=True).partial_fit(X, y)
    with pytest.raises(ValueError, match="batch normalization on hidden layers"):
        clf.set_params(warm_start=True, batch_norm=False).fit(X, y)
    # A fresh fit may change it.
    clf.set_params(warm_start=False).fit(X, y)
    assert not hasattr(clf, "batch_norm_scales_")
