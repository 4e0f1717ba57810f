"""prelu: learned slopes against finite differences, every CPU backend
against the NumPy reference, and the estimators' ``activation='prelu'``
(CUDA's kernels: tests/backends/test_cuda.py; the activation's value and derivative
in every backend: tests/test_activations.py)."""

import numpy as np
import pytest

from fastnn import MLPClassifier, get_backend
from fastnn import _mlp
from fastnn.backends._data import input_args, net_args, optimizer_args, weights_arg
from fastnn.backends._numpy import loss_and_gradient
from _backends import CPU_KERNELS
from _reference import assert_trains_like_reference, make_problem, optimizer_state, plain_plan
from _layer_features import (  # noqa: F401  (_quiet, digits: fixtures)
    _quiet, assert_backends_train_alike, assert_carries_on, assert_layer_change_refused,
    assert_reference_gradient, digits, fit_a_v, predict_by_hand,
)


@pytest.mark.parametrize("hidden,batch_norm,dropout", [
    ("prelu", (), False),
    (["prelu", "tanh"], (), True),
    (["gelu", "prelu"], (False, True), True),
])
def test_gradient_matches_finite_differences(hidden, batch_norm, dropout):
    # The slopes' gradient sum(dL/da * min(z, 0)) / sum(w), beside W's and
    # b's, with weighted rows and both penalties (which leave the slopes alone).
    net, theta, data = make_problem([5, 7, 6, 3], hidden, "log_loss", np.float64, n=11,
                                    weighted=True, batch_norm=batch_norm)
    grad = assert_reference_gradient(net, theta, data, dropout)
    for layer, g in zip(net.layers, net.slope_views(grad)):
        assert (g is not None) == (layer.activation == "prelu")
        if g is not None:
            assert np.abs(g).max() > 1e-4


def test_float32_gradient_matches_float64():
    grads = {}
    for dtype in (np.float32, np.float64):
        net, theta, data = make_problem([6, 8, 5, 3], ["prelu", "prelu"], "log_loss", dtype,
                                        n=17, weighted=True)
        _, grads[dtype] = loss_and_gradient(net, theta, data.X, data.Y, data.sample_weight,
                                            1e-3)
        assert grads[dtype].dtype == dtype
    np.testing.assert_allclose(grads[np.float32], grads[np.float64], rtol=1e-4, atol=1e-6)


def test_slopes_follow_the_network_layout():
    net, theta, _ = make_problem([5, 7, 6, 3], ["prelu", "relu"], "log_loss", np.float64)
    coef_off, bias_off = net.offsets()
    # One block per prelu layer, after the biases (and batch-norm blocks).
    assert list(net.slope_offsets) == [bias_off[-1], bias_off[-1] + 7, bias_off[-1] + 7,
                                       bias_off[-1] + 7]
    assert net.n_params == theta.size == bias_off[-1] + 7
    slopes = net.slope_views(theta)
    assert slopes[1] is None and slopes[2] is None
    assert np.shares_memory(slopes[0], theta)
    # Packing starts the slopes at the layer's parameter (negative_slope).
    fresh = net.pack(*net.views(theta), theta.dtype)
    np.testing.assert_array_equal(net.slope_views(fresh)[0], 0.2)


# ---------------------------------------------------------- compiled epochs


@pytest.mark.parametrize("backend", CPU_KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["sgd", "nadam", "adamw", "rmsprop"])
def test_epoch_with_penalties_and_clipping(backend, dtype, kind, epoch_threads):
    # Every optimizer steps the slopes; L1, L2 and AdamW's decay leave them
    # alone; clipnorm clips each layer's slope vector on its own. Rows split
    # between threads add their slope gradients up.
    net, theta0, data = make_problem([6, 9, 7, 3], ["prelu", "prelu"], "log_loss", dtype,
                                     weighted=True)
    order = np.random.RandomState(2).permutation(data.n_samples).astype(np.intp)
    theta = assert_trains_like_reference(get_backend(backend), net, theta0, data, order, 8,
                                         kind, 2, dtype, l1=1e-3, clipnorm=0.3)
    for before, after in zip(net.slope_views(theta0)[:2], net.slope_views(theta)[:2]):
        assert np.abs(after - before).max() > 1e-4


def test_cython_kernel_checks_the_slope_blocks():
    net, theta, data = make_problem([6, 5, 4, 3], ["prelu", "relu"], "log_loss", np.float64)
    opt = optimizer_state("sgd", theta)
    size = _mlp.workspace_size(net.units, net.activation_codes, 5, False, 1, theta.size)
    kernel_net = net_args(net)
    codes, slope_off = kernel_net.acts, kernel_net.slope_off

    def run(slope_off, codes=codes):
        _mlp.epoch(input_args(data.X), data.Y, weights_arg(data), theta,
                   kernel_net._replace(acts=codes, slope_off=slope_off), optimizer_args(opt),
                   plain_plan(5), np.empty_like(theta), np.empty(size), 1)

    with pytest.raises(ValueError, match="end with the prelu slope blocks"):
        run(slope_off - 1)
    with pytest.raises(ValueError, match="one slope per unit"):
        run(np.array([slope_off[0], slope_off[1] - 1, slope_off[1] - 1, slope_off[1] - 1],
                     dtype=np.intp) + 1)
    relu = codes.copy()
    relu[0] = codes[1]
    with pytest.raises(ValueError, match="one slope per unit"):
        run(slope_off, relu)
    with pytest.raises(ValueError, match="inconsistent network"):
        run(slope_off[:-1].copy())
    run(slope_off)


# ------------------------------------------------------------------ estimators


def _prelu_or_relu(clf):
    def hidden(i, Z):
        slopes = clf.prelu_slopes_[i]
        return np.where(Z > 0, Z, slopes * Z) if slopes is not None else np.maximum(Z, 0)
    return hidden


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fitted_attributes_and_predictions(digits, dtype):
    X, y = digits
    X = X.astype(dtype)
    clf = MLPClassifier((16, 12), activation=["prelu", "relu"], negative_slope=0.1,
                        max_iter=5, random_state=0).fit(X, y)
    slopes = clf.prelu_slopes_
    assert len(slopes) == 2 and slopes[1] is None
    assert slopes[0].shape == (16,) and slopes[0].dtype == dtype
    assert np.shares_memory(slopes[0], clf._theta)
    # Learned from negative_slope, each unit its own.
    assert np.abs(slopes[0] - 0.1).max() > 1e-3 and np.unique(slopes[0]).size > 1
    np.testing.assert_allclose(clf.predict_proba(X),
                               predict_by_hand(clf, X, _prelu_or_relu(clf)),
                               rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-6)
    assert not hasattr(MLPClassifier((8,), max_iter=1).fit(X, y), "prelu_slopes_")


def test_backends_train_the_same_model(digits):
    assert_backends_train_alike(*digits, dict(
        hidden_layer_sizes=(20, 10), activation="prelu", dropout=0.1,
        batch_norm=[False, True], max_iter=3, random_state=0))


@pytest.mark.parametrize("backend", ["numpy", *CPU_KERNELS])
def test_lbfgs_learns_the_slopes(backend):
    # One relu unit cannot fit both arms of the V (its best is one arm,
    # R^2 0.81), one prelu unit can, once its slope has gone from 0.2 to
    # the arm's -0.5 (L-BFGS moves the slopes with the weights).
    scores, fits = fit_a_v(backend, ("relu", "prelu"))
    assert scores["relu"] < 0.85
    assert scores["prelu"] > 0.999
    assert fits["prelu"].prelu_slopes_[0][0] == pytest.approx(-0.5, abs=0.01)


def test_slopes_carry_on_across_partial_fit_warm_start_and_pickle(digits):
    assert_carries_on(*digits, dict(activation="prelu"), "prelu_slopes_")


def test_early_stopping_restores_the_best_slopes(digits):
    X, y = digits
    clf = MLPClassifier((20,), activation="prelu", early_stopping=True, n_iter_no_change=3,
                        max_iter=40, random_state=0, learning_rate_init=0.05)
    clf.fit(X[:400], y[:400], X_val=X[400:], y_val=y[400:])
    assert int(np.argmax(clf.validation_scores_)) < len(clf.validation_scores_) - 1
    assert clf.score(X[400:], y[400:]) == clf.best_validation_score_


def test_changing_prelu_on_a_fitted_model_is_refused(digits):
    assert_layer_change_refused(
        *digits, dict(activation=["prelu", "relu"]),
        [dict(activation="relu"), dict(activation=["prelu", "prelu"])],
        "prelu", "learned prelu slopes")
