"""maxout: the reference against finite differences, every CPU backend
against the reference, and the estimators' ``activation='maxout'`` (CUDA's
kernels: tests/backends/test_cuda.py)."""

import numpy as np
import pytest

from fastnn import MLPClassifier, get_backend
from fastnn import _mlp
from fastnn._dropout import Dropout, epoch_key
from fastnn._init import keras_init, sklearn_uniform_init
from fastnn._network import NetworkSpec
from fastnn.backends._data import input_args, net_args, optimizer_args, weights_arg
from fastnn.backends._numpy import _activate, _maxout_backward, loss_and_gradient
from _backends import CPU_KERNELS, REFERENCE
from _reference import (
    TOL, assert_trains_like_reference, make_problem, optimizer_state, plain_plan,
)
from _layer_features import (  # noqa: F401  (_quiet, digits: fixtures)
    _quiet, assert_backends_train_alike, assert_carries_on, assert_layer_change_refused,
    assert_reference_gradient, digits, fit_a_v, predict_by_hand,
)


# --------------------------------------------------------------------- the math


def test_each_unit_is_the_max_of_its_own_pieces():
    Z = np.array([[1.0, 3.0, -2.0, -5.0, 0.5, 0.5],
                  [4.0, 0.0, 7.0, 7.5, -1.0, -3.0]])
    np.testing.assert_array_equal(_activate("maxout", Z, 2), [[3.0, -2.0, 0.5],
                                                              [4.0, 7.5, -1.0]])
    np.testing.assert_array_equal(_activate("maxout", Z, 3), [[3.0, 0.5], [7.0, 7.5]])
    # The delta goes to the winning piece; on a tie, to the first.
    delta = np.array([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])
    np.testing.assert_array_equal(_maxout_backward(delta, Z, 2),
                                  [[0, 10, 20, 0, 30, 0], [40, 0, 0, 50, 60, 0]])


@pytest.mark.parametrize("hidden,pieces,batch_norm,dropout", [
    ("maxout", 2, (), False),
    (["maxout", "tanh"], 3, (), True),
    (["relu", "maxout"], 4, (False, True), True),
    (["maxout", "maxout"], 2, (True, False), True),
])
def test_gradient_matches_finite_differences(hidden, pieces, batch_norm, dropout):
    # Through the max (the winning piece's weights and biases only), with
    # weighted rows, both penalties, dropout on the outputs and batch norm
    # over the pieces.
    net, theta, data = make_problem([5, 4, 3, 3], hidden, "log_loss", np.float64, n=11,
                                    weighted=True, batch_norm=batch_norm,
                                    maxout_pieces=pieces)
    assert_reference_gradient(net, theta, data, dropout)


def test_float32_gradient_matches_float64():
    grads = {}
    for dtype in (np.float32, np.float64):
        net, theta, data = make_problem([6, 8, 5, 3], ["maxout", "maxout"], "log_loss", dtype,
                                        n=17, weighted=True, maxout_pieces=3)
        _, grads[dtype] = loss_and_gradient(net, theta, data.X, data.Y, data.sample_weight,
                                            1e-3)
        assert grads[dtype].dtype == dtype
    np.testing.assert_allclose(grads[np.float32], grads[np.float64], rtol=1e-4, atol=1e-6)


def test_layout_has_a_column_per_piece():
    net, theta, _ = make_problem([5, 7, 6, 3], ["maxout", "relu"], "log_loss", np.float64,
                                 batch_norm=(True, False), maxout_pieces=3)
    assert list(net.units) == [5, 7, 6, 3]
    assert list(net.widths) == [5, 21, 6, 3]
    coefs, intercepts = net.views(theta)
    assert [c.shape for c in coefs] == [(5, 21), (7, 6), (6, 3)]
    assert [b.shape for b in intercepts] == [(21,), (6,), (3,)]
    assert net.batch_norm_views(theta)[0][0].shape == (21,)
    assert net.n_params == theta.size == 5 * 21 + 7 * 6 + 6 * 3 + 21 + 6 + 3 + 3 * 21
    # Dropout numbers the units by their outputs, not their pieces.
    masks = Dropout(np.array([0.5, 0.5, 0.0]), epoch_key(0, 0)).masks(net, np.arange(4),
                                                                      theta.dtype)
    assert masks[0].shape == (4, 7) and masks[1].shape == (4, 6)


# ---------------------------------------------------------- compiled kernels


@pytest.mark.parametrize("backend", CPU_KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("units,hidden,pieces,sparse", [
    ([5, 4, 3], "maxout", 2, False),
    ([6, 5, 4, 3], ["maxout", "tanh"], 3, True),
    ([6, 5, 4, 2], ["relu", "maxout"], 4, False),
    ([6, 5, 4, 3], ["maxout", "maxout"], 1, True),
])
def test_forward_and_gradient_match_reference(backend, dtype, units, hidden, pieces, sparse,
                                              n_threads):
    ref, fast = get_backend("numpy"), get_backend(backend)
    loss = "log_loss" if units[-1] > 2 else "binary_log_loss"
    net, theta, data = make_problem(units, hidden, loss, dtype, sparse=sparse, weighted=True,
                                    maxout_pieces=pieces)
    out = fast.forward(net, theta, data.X)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, ref.forward(net, theta, data.X), **TOL[dtype])
    g_ref, g = np.empty_like(theta), np.empty_like(theta)
    loss_ref = ref.loss_grad(net, theta, data, 0.01, g_ref, l1=1e-3)
    assert fast.loss_grad(net, theta, data, 0.01, g, l1=1e-3) == pytest.approx(
        loss_ref, rel=TOL[dtype]["rtol"])
    np.testing.assert_allclose(g, g_ref, **TOL[dtype])


@pytest.mark.parametrize("backend", CPU_KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["sgd", "adam", "nadam", "rmsprop"])
def test_epoch_with_dropout_and_clipping(backend, dtype, kind, epoch_threads):
    # Dropout masks the units' outputs forward and their deltas backward,
    # the max sends each delta to its piece; rows split between threads add
    # their gradients up.
    net, theta0, data = make_problem([6, 9, 7, 3], ["maxout", "maxout"], "log_loss", dtype,
                                     weighted=True, maxout_pieces=3)
    order = np.random.RandomState(2).permutation(data.n_samples).astype(np.intp)
    dropouts = [Dropout(np.array([0.3, 0.2, 0.0]), epoch_key(5, e)) for e in range(2)]
    assert_trains_like_reference(get_backend(backend), net, theta0, data, order, 8, kind, 2,
                                 dtype, l1=1e-3, clipnorm=0.3, dropouts=dropouts)


@pytest.mark.parametrize("backend", CPU_KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_norm,kind", [
    ((True, False), "adamw"),
    # A normalized layer's deltas sum to 0 over the batch, so in the maxout
    # layer under it a piece winning every row of a batch has a gradient of
    # 0 but for rounding, which Adam would scale up to +-lr; SGD keeps it
    # at the rounding's size.
    ((False, True), "sgd"),
    ((True, True), "sgd"),
])
def test_epoch_with_batch_norm_over_the_pieces(backend, dtype, batch_norm, kind):
    net, theta0, data = make_problem([6, 5, 4, 3], ["maxout", "maxout"], "log_loss", dtype,
                                     weighted=True, maxout_pieces=2, batch_norm=batch_norm)
    order = np.random.RandomState(1).permutation(data.n_samples).astype(np.intp)
    dropouts = [Dropout(np.array([0.3, 0.2, 0.0]), epoch_key(3, e)) for e in range(2)]
    assert_trains_like_reference(get_backend(backend), net, theta0, data, order, 7, kind, 2,
                                 dtype, dropouts=dropouts, bn_momentum=0.9)


def test_cython_kernel_checks_the_pieces():
    net, theta, data = make_problem([6, 5, 4, 3], ["maxout", "relu"], "log_loss", np.float64)
    opt = optimizer_state("sgd", theta)
    size = _mlp.workspace_size(net.widths, net.activation_codes, 5, False, 1, theta.size)
    kernel_net = net_args(net)
    codes, params = kernel_net.acts, kernel_net.act_param

    def run(params=params, codes=codes, work=size):
        _mlp.epoch(input_args(data.X), data.Y, weights_arg(data), theta,
                   kernel_net._replace(acts=codes, act_param=params), optimizer_args(opt),
                   plain_plan(5), np.empty_like(theta), np.empty(work), 1)

    for pieces in (3.0, 2.5, 0.0, -2.0, np.nan):
        bad = params.copy()
        bad[0] = pieces
        with pytest.raises(ValueError, match="pieces|columns"):
            run(bad)
    relu = codes.copy()
    relu[0] = codes[1]
    with pytest.raises(ValueError, match="columns"):
        run(codes=relu)
    on_output = codes.copy()
    on_output[2] = codes[0]
    with pytest.raises(ValueError, match="hidden activations"):
        run(codes=on_output)
    # The workspace counts the pieces, not the units.
    compact = _mlp.workspace_size(net.units, net.activation_codes, 5, False, 1, theta.size)
    with pytest.raises(ValueError, match="workspace too small"):
        run(work=compact)
    run()


# ------------------------------------------------------------------ estimators


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fitted_attributes_and_predictions(digits, dtype):
    X, y = digits
    X = X.astype(dtype)
    clf = MLPClassifier((16, 12), activation="maxout", maxout_pieces=3, max_iter=5,
                        random_state=0).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(64, 48), (16, 36), (12, 10)]
    assert [b.shape for b in clf.intercepts_] == [(48,), (36,), (10,)]
    assert clf.n_layers_ == 4 and clf.coefs_[0].dtype == dtype
    by_hand = predict_by_hand(clf, X, lambda i, Z: Z.reshape(len(X), -1, 3).max(axis=2))
    np.testing.assert_allclose(clf.predict_proba(X), by_hand,
                               rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-6)


@pytest.mark.parametrize("init", ["sklearn", "glorot_uniform"])
def test_glorot_fan_out_counts_the_pieces(init):
    # The bound of U(-b, b) takes the layer's weight columns as fan-out:
    # b = sqrt(6 / (fan_in + fan_out)) for scikit-learn's scheme (which
    # draws the biases too), sqrt(6 / (fan_in + fan_out)) for Keras' as well.
    net = NetworkSpec.from_units([64, 40, 10], "maxout", "log_loss", maxout_pieces=4)
    if init == "sklearn":
        theta = sklearn_uniform_init(net, np.random.RandomState(0), "maxout", np.float64)
    else:
        theta = keras_init(net, np.random.RandomState(0), init, np.float64)
    bound = np.sqrt(6 / (64 + 160))
    expected = np.random.RandomState(0).uniform(-bound, bound, (64, 160))
    np.testing.assert_allclose(net.views(theta)[0][0], expected, rtol=1e-12)


def test_one_piece_is_the_identity(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(12,), max_iter=3, random_state=0)
    one = MLPClassifier(activation="maxout", maxout_pieces=1, **params).fit(X, y)
    identity = MLPClassifier(activation="identity", **params).fit(X, y)
    np.testing.assert_allclose(one._theta, identity._theta, rtol=1e-12)


def test_backends_train_the_same_model(digits):
    assert_backends_train_alike(*digits, dict(
        hidden_layer_sizes=(20, 10), activation="maxout", maxout_pieces=3, dropout=0.1,
        batch_norm=[True, False], max_iter=3, random_state=0))


@pytest.mark.parametrize("backend", [REFERENCE, *CPU_KERNELS])
def test_one_unit_of_two_pieces_fits_a_v(backend):
    # One relu unit fits one arm of the V only (R^2 about 0.8); one maxout
    # unit of two pieces is max(a x + b, c x + d), a V itself.
    scores, _ = fit_a_v(backend, ("relu", "maxout"))
    assert scores["relu"] < 0.85
    assert scores["maxout"] > 0.999


def test_weights_carry_on_across_partial_fit_warm_start_and_pickle(digits):
    assert_carries_on(*digits, dict(activation="maxout", maxout_pieces=3), "coefs_")


def test_changing_maxout_on_a_fitted_model_is_refused(digits):
    assert_layer_change_refused(
        *digits, dict(activation=["maxout", "relu"], maxout_pieces=2),
        [dict(maxout_pieces=3), dict(activation="relu"), dict(activation=["maxout", "maxout"])],
        "maxout", "maxout and its pieces")


@pytest.mark.parametrize("pieces", [0, -1, 2.5, "2"])
def test_bad_pieces_are_refused(digits, pieces):
    X, y = digits
    with pytest.raises(ValueError, match="maxout_pieces"):
        MLPClassifier((4,), activation="maxout", maxout_pieces=pieces, max_iter=1).fit(X, y)


@pytest.mark.parametrize("backend", [REFERENCE, *CPU_KERNELS])
def test_a_nan_piece_makes_a_nan_unit(backend):
    # As NumPy's max: a NaN piece is not skipped, wherever it sits.
    net, theta, data = make_problem([5, 4, 3], "maxout", "squared_error", np.float64,
                                    maxout_pieces=3)
    coefs, intercepts = net.views(theta)
    intercepts[0][[1, 5]] = np.nan
    out = get_backend(backend).forward(net, theta, data.X)
    assert np.isnan(out).all()
