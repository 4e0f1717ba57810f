"""Inverted dropout: the masks, the math against the reference and finite
differences, every CPU backend, and the estimators' ``dropout``."""

import pickle

import numpy as np
import pytest

from fastnn import MLPClassifier, MLPRegressor, get_backend
from fastnn._dropout import Dropout, epoch_key, keep_mask, scale
from fastnn.backends import _scalar
from fastnn.backends._numpy import loss_and_gradient
from _backends import CPU_KERNELS, REFERENCE
from _layer_features import _quiet, digits  # noqa: F401  (fixtures)
from _reference import TOL, assert_trains_like_reference, make_problem, optimizer_state

RATE = 0.3


@pytest.mark.parametrize("key", [0, 12345, epoch_key(7, 3), 2**63 - 1])
def test_keep_mask_is_the_kernels_draw(key):
    # The NumPy masks (the reference's) and the scalar function the Numba and
    # CUDA kernels compile agree unit by unit; the Cython twin is checked
    # through the training tests below.
    positions = np.array([0, 1, 2, 70000, 2**32 + 5])
    mask = keep_mask(key, positions, 11, 9, RATE)
    expected = [[_scalar.dropout_keeps(key, int(p), 11 + j, RATE) for j in range(9)]
                for p in positions]
    np.testing.assert_array_equal(mask, expected)


def test_masks_keep_the_right_share_independently():
    n_rows, n_units = 4000, 50
    positions = np.arange(n_rows)
    a = keep_mask(epoch_key(1, 0), positions, 0, n_units, RATE)
    # Binomial sd of the share: sqrt(0.21 / 200000) = 0.001; 5 sd allowed.
    assert abs(a.mean() - (1 - RATE)) < 0.005
    # Each unit and each row is dropped at the rate, not some units always.
    assert np.abs(a.mean(axis=0) - (1 - RATE)).max() < 0.04
    # Another layer (offset), another epoch (key): masks unrelated to this one.
    for b in (keep_mask(epoch_key(1, 0), positions, n_units, n_units, RATE),
              keep_mask(epoch_key(1, 1), positions, 0, n_units, RATE),
              keep_mask(epoch_key(2, 0), positions, 0, n_units, RATE)):
        assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 0.01
    # Neighbouring units and rows too.
    assert abs(np.corrcoef(a[:, :-1].ravel(), a[:, 1:].ravel())[0, 1]) < 0.01
    assert abs(np.corrcoef(a[:-1].ravel(), a[1:].ravel())[0, 1]) < 0.01


def test_epoch_keys_differ_and_repeat():
    keys = {epoch_key(s, e) for s in range(5) for e in range(50)}
    assert len(keys) == 250
    assert epoch_key(3, 4) == epoch_key(3, 4)
    assert all(0 <= k < 2**63 for k in keys)


# --------------------------------------------------------------------- the math


@pytest.mark.parametrize("hidden", ["relu", "logistic", "tanh", "elu", "gelu", "softplus"])
def test_gradient_with_fixed_masks_matches_finite_differences(hidden):
    net, theta, data = make_problem([5, 7, 6, 3], hidden, "log_loss", np.float64, n=11,
                                    weighted=True)
    drop = Dropout(np.array([0.5, 0.3, 0.0]), epoch_key(0, 0))
    masks = drop.masks(net, np.arange(11), theta.dtype)
    assert masks[0].min() == 0 and masks[0].max() == 2.0 and masks[2] is None

    def loss(t):
        return loss_and_gradient(net, t, data.X, data.Y, data.sample_weight, 1e-3, 0.0, masks)[0]

    _, grad = loss_and_gradient(net, theta, data.X, data.Y, data.sample_weight, 1e-3, 0.0, masks)
    h = 1e-6
    numeric = np.array([(loss(theta + h * e) - loss(theta - h * e)) / (2 * h)
                        for e in np.eye(theta.size)])
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_masks_scale_kept_outputs():
    assert scale(0.25) == pytest.approx(4 / 3)
    net, theta, data = make_problem([5, 7, 3], "relu", "log_loss", np.float32, n=9)
    masks = Dropout(np.array([0.25, 0.0]), 99).masks(net, np.arange(9), np.dtype(np.float32))
    assert masks[0].dtype == np.float32
    assert set(np.unique(masks[0])) == {0.0, np.float32(4 / 3)}


# ------------------------------------------------------------- compiled epochs

# (layer widths, hidden activation, loss): derivatives from the output (relu,
# logistic, tanh, elu, softplus) and from the input (gelu, swish, prelu, maxout).
DROPOUT_NETS = [
    ([6, 5, 4, 3], "tanh", "log_loss"),
    ([5, 9, 7, 2], ["relu", "logistic"], "binary_log_loss"),
    ([4, 8, 6, 2], ["gelu", "elu"], "squared_error"),
    ([5, 6, 4, 3], ["softplus", "swish"], "poisson"),
    ([5, 7, 6, 3], ["prelu", "relu"], "log_loss"),
    ([5, 7, 6, 3], ["relu", "maxout"], "log_loss"),
]


@pytest.mark.parametrize("backend", CPU_KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("units,hidden,loss", DROPOUT_NETS)
@pytest.mark.parametrize("batch_size", [1, 7, 23])
def test_epoch_with_dropout_matches_reference(backend, dtype, units, hidden, loss, batch_size,
                                              epoch_threads):
    net, theta0, data = make_problem(units, hidden, loss, dtype, weighted=True)
    order = np.random.RandomState(1).permutation(data.n_samples).astype(np.intp)
    rates = np.array([0.5, 0.2, 0.0])
    dropouts = [Dropout(rates, epoch_key(3, e)) for e in range(3)]
    fast = get_backend(backend)
    dropped = assert_trains_like_reference(fast, net, theta0, data, order, batch_size, "adam", 3,
                                           dtype, dropouts=dropouts)
    # Dropout changed the training, by far more than the tolerance.
    free = assert_trains_like_reference(fast, net, theta0, data, order, batch_size, "adam", 3,
                                        dtype)
    assert np.abs(dropped - free).max() > 100 * TOL[dtype]["atol"]


@pytest.mark.parametrize("backend", CPU_KERNELS)
def test_epoch_with_dropout_on_sparse_input_in_order(backend):
    # CSR input, samples visited in order (no gather), one rate per layer.
    net, theta0, data = make_problem([6, 5, 4, 3], "relu", "log_loss", np.float64,
                                     sparse=True)
    dropouts = [Dropout(np.array([0.4, 0.0, 0.0]), epoch_key(0, e)) for e in range(2)]
    assert_trains_like_reference(get_backend(backend), net, theta0, data, None, 5, "sgd", 2,
                                 np.float64, dropouts=dropouts)


def test_cython_kernel_checks_the_rates():
    net, theta, data = make_problem([6, 5, 3], "relu", "log_loss", np.float64)
    fast = get_backend("cython")
    for rates in ([0.5, 0.5], [1.0, 0.0], [-0.1, 0.0], [0.2]):
        with pytest.raises(ValueError, match="rate"):
            fast.epoch(net, theta, optimizer_state("adam", theta), data, None, 5, 0.0, {},
                       dropout=Dropout(np.array(rates), 0))


# ----------------------------------------------------------------- estimators


def test_same_seed_same_model_and_backends_agree(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(32, 16), dropout=[0.3, 0.1], max_iter=4, random_state=0)
    fits = {be: MLPClassifier(backend=be, **params).fit(X, y) for be in [REFERENCE, *CPU_KERNELS]}
    ref = fits["numpy"]
    for be in CPU_KERNELS:
        for a, b in zip(fits[be].coefs_, ref.coefs_):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(fits[be].loss_curve_, ref.loss_curve_, rtol=1e-9)
    again = MLPClassifier(backend="cython", **params).fit(X, y)
    np.testing.assert_array_equal(again.coefs_[0], fits["cython"].coefs_[0])
    other = MLPClassifier(backend="cython", **{**params, "random_state": 1}).fit(X, y)
    assert not np.allclose(other.coefs_[0], fits["cython"].coefs_[0])


def test_no_dropout_is_the_plain_model(digits):
    X, y = digits
    plain = MLPClassifier((16, 8), max_iter=3, random_state=0).fit(X, y)
    for rates in (0.0, [0.0, 0.0], (0, 0)):
        m = MLPClassifier((16, 8), max_iter=3, random_state=0, dropout=rates).fit(X, y)
        np.testing.assert_array_equal(m.coefs_[1], plain.coefs_[1])
        assert m.loss_curve_ == plain.loss_curve_
    dropped = MLPClassifier((16, 8), max_iter=3, random_state=0, dropout=0.2).fit(X, y)
    assert dropped.loss_curve_ != plain.loss_curve_


def test_dropout_is_off_at_predict_time(digits):
    X, y = digits
    m = MLPClassifier((32,), dropout=0.5, max_iter=3, random_state=0).fit(X, y)
    P = m.predict_proba(X)
    np.testing.assert_array_equal(P, m.predict_proba(X))
    # The whole network, unscaled: NumPy's forward pass with the fitted weights.
    H = np.maximum(X @ m.coefs_[0] + m.intercepts_[0], 0)
    Z = H @ m.coefs_[1] + m.intercepts_[1]
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(P, E / E.sum(axis=1, keepdims=True), rtol=1e-10)
    # Validation losses are the whole network's too (with y_val = y, the
    # validation score is the training accuracy of the full network).
    v = MLPClassifier((32,), dropout=0.5, max_iter=3, random_state=0).fit(X, y, X_val=X, y_val=y)
    assert v.validation_scores_[-1] == m.score(X, y)


def test_stream_goes_on_across_partial_fit_and_pickling(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(16,), dropout=0.4, shuffle=False, random_state=0)
    whole = MLPClassifier(max_iter=3, **params).fit(X, y)
    parts = MLPClassifier(**params)
    parts.partial_fit(X, y, classes=np.unique(y))
    parts = pickle.loads(pickle.dumps(parts))
    parts.partial_fit(X, y)
    parts.partial_fit(X, y)
    for a, b in zip(parts.coefs_, whole.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    # A new fit (no warm start) starts a new stream: the same model again.
    np.testing.assert_array_equal(whole.fit(X, y).coefs_[0],
                                  MLPClassifier(max_iter=3, **params).fit(X, y).coefs_[0])


def test_warm_start_draws_new_masks(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(16,), dropout=0.4, shuffle=False, random_state=0,
                  max_iter=2, warm_start=True)
    m = MLPClassifier(**params).fit(X, y)
    m.fit(X, y)
    assert m._dropout_epochs == 4
    # The same two fits with the stream rewound in between (the first two
    # epochs' masks again) train another model.
    rewound = MLPClassifier(**params).fit(X, y)
    rewound._dropout_epochs = 0
    rewound.fit(X, y)
    assert np.abs(rewound.coefs_[0] - m.coefs_[0]).max() > 1e-6


def test_regressor_with_dropout():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 5))
    y = X @ rng.normal(size=5)
    m = MLPRegressor(hidden_layer_sizes=(32,), dropout=0.2, max_iter=300, random_state=0).fit(X, y)
    assert m.score(X, y) > 0.9


@pytest.mark.parametrize(
    "params,match",
    [
        (dict(dropout=1.0), "dropout"),
        (dict(dropout=-0.1), "dropout"),
        (dict(dropout=[0.1, 1.0]), r"\[0, 1\)"),
        (dict(dropout=[0.1, float("nan")]), r"\[0, 1\)"),
        (dict(dropout=[0.1, "a"]), r"\[0, 1\)"),
        (dict(dropout=[0.1]), "one per hidden layer"),
        (dict(dropout=0.2, solver="lbfgs"), "lbfgs"),
    ],
)
def test_bad_dropout_is_refused_before_training(digits, params, match):
    X, y = digits
    m = MLPClassifier((8, 8), max_iter=2, **params)
    with pytest.raises(ValueError, match=match):
        m.fit(X, y)
    assert not hasattr(m, "coefs_")
