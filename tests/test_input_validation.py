"""Bad input gives a clear error naming the problem, checked before compiled code."""

import numpy as np
import pytest
import scipy.sparse as sp

from fastnn import MLPClassifier, MLPRegressor

rng = np.random.RandomState(0)
X = rng.normal(size=(30, 4))
y = rng.randint(2, size=30)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize(
    "X_bad,match",
    [
        (np.where(np.arange(120).reshape(30, 4) == 5, np.nan, X), "NaN"),
        (np.where(np.arange(120).reshape(30, 4) == 7, np.inf, X), "infinity"),
        (X[:, 0], "Expected 2D array"),
        (X[:, :, None], "dim 3"),
        (np.empty((0, 4)), "0 sample"),
        (np.empty((30, 0)), "0 feature"),
    ],
)
def test_bad_X(cls, X_bad, match):
    with pytest.raises(ValueError, match=match):
        cls(max_iter=2).fit(X_bad, y[: len(X_bad)] if X_bad.ndim else y)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_mismatched_lengths_and_bad_weights(cls):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        cls(max_iter=2).fit(X, y[:-1])
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        cls(max_iter=2).fit(X, y, sample_weight=np.r_[-1.0, np.ones(29)])
    with pytest.raises(ValueError, match="sample_weight.shape"):
        cls(max_iter=2).fit(X, y, sample_weight=np.ones(7))
    with pytest.raises(ValueError, match="NaN"):
        cls(max_iter=2).fit(X, np.r_[np.nan, y[1:]])


def test_one_sample_and_one_class():
    with pytest.raises(ValueError, match="at least 2 classes"):
        MLPClassifier(max_iter=2).fit(X, np.zeros(30))
    with pytest.raises(ValueError, match="at least 2 classes"):
        MLPClassifier(max_iter=2).fit(X[:1], y[:1])
    reg = MLPRegressor(max_iter=2).fit(X[:1], [1.0])
    assert reg.predict(X[:3]).shape == (3,)
    with pytest.raises(ValueError, match="validation set is too small"):
        MLPRegressor(early_stopping=True).fit(X[:5], np.arange(5.0))


def test_partial_fit_label_errors():
    clf = MLPClassifier()
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    clf.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="`y` has classes not in `self.classes_`"):
        clf.partial_fit(X, np.r_[2, y[1:]])
    with pytest.raises(ValueError, match="X has 3 features"):
        clf.partial_fit(X[:, :3], y)
    with pytest.raises(ValueError, match="does not support early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(AttributeError, match="partial_fit"):
        MLPRegressor(solver="lbfgs").partial_fit(X, y)


def test_warm_start_label_and_shape_errors():
    clf = MLPClassifier(warm_start=True, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same classes"):
        clf.fit(X, np.r_[2, y[1:]])
    clf.set_params(hidden_layer_sizes=(5,))
    with pytest.raises(ValueError, match="layer sizes"):
        clf.fit(X, y)


def test_predict_errors():
    clf = MLPClassifier(max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(np.full((2, 4), np.nan))
    with pytest.raises(ValueError, match="could not convert|dtype"):
        clf.predict(np.array([["a", "b", "c", "d"]]))


@pytest.mark.parametrize(
    "params,match",
    [
        (dict(backend="gpu-please"), "backend"),
        (dict(hidden_layer_sizes=(5, 0)), "hidden_layer_sizes must be > 0"),
        (dict(hidden_layer_sizes=(5, -1)), "hidden_layer_sizes must be > 0"),
        (dict(activation="mish"), "activation"),
        (dict(activation=["relu", "mish"]), "activation entries"),
        (dict(activation=["relu", "tanh", "relu"]), "activation lists 3 activations"),
        (dict(negative_slope=-0.1), "negative_slope"),
        (dict(solver="lamb"), "solver"),
        (dict(rho=1.0), "rho"),
        (dict(weight_decay=-0.01), "weight_decay"),
        (dict(l1=-1e-3), "l1"),
        (dict(alpha=-1.0), "alpha"),
        (dict(batch_size=0), "batch_size"),
        (dict(learning_rate_init=0.0), "learning_rate_init"),
        (dict(max_iter=0), "max_iter"),
        (dict(momentum=2.0), "momentum"),
        (dict(beta_1=1.0), "beta_1"),
        (dict(validation_fraction=1.0), "validation_fraction"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        MLPClassifier(**params).fit(X, y)


def test_poisson_needs_nonnegative_y():
    with pytest.raises(ValueError, match="negative"):
        MLPRegressor(loss="poisson").fit(X, X[:, 0])


def test_sparse_bad_input():
    Xs = sp.csr_matrix(X)
    Xs.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPClassifier(max_iter=2).fit(Xs, y)
    # Other sparse formats are converted to CSR, never densified by fastnn.
    dia = MLPClassifier(max_iter=2, random_state=0).fit(sp.coo_matrix(X).todia(), y)
    csr = MLPClassifier(max_iter=2, random_state=0).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(dia.coefs_[0], csr.coefs_[0])


@pytest.mark.parametrize("sizes,error,match", [
    ((5.5,), TypeError, r"hidden_layer_sizes must hold integers, got 5.5 at position 0"),
    ((8, np.nan), TypeError, r"hidden_layer_sizes must hold integers, got nan at position 1"),
    ((np.inf,), TypeError, "hidden_layer_sizes must hold integers, got inf"),
    (("a",), TypeError, "hidden_layer_sizes must hold integers, got 'a'"),
    ([[8]], TypeError, r"hidden_layer_sizes must hold integers, got \[8\]"),
    ((True,), TypeError, "hidden_layer_sizes must hold integers, got True"),
    ((4, 0), ValueError, r"hidden_layer_sizes must be > 0, got \[4, 0\]"),
])
def test_hidden_layer_sizes_are_positive_integers(sizes, error, match):
    with pytest.raises(error, match=match):
        MLPClassifier(sizes, max_iter=2).fit(X, y)


@pytest.mark.parametrize("params", [dict(hidden_layer_sizes=(10**11,)),
                                    dict(hidden_layer_sizes=(64,), activation="maxout",
                                         maxout_pieces=10**12)])
def test_a_network_too_large_for_memory_fails_before_allocating(params):
    # Fails at once, with the figures; a MemoryError would come after minutes.
    import tracemalloc

    tracemalloc.start()
    model = MLPClassifier(max_iter=2, **params)
    with pytest.raises(ValueError, match=r"would need [\d,.]+ GiB for its [\d,]+ parameters"):
        model.fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100 * 2**20
    assert not hasattr(model, "coefs_")


def test_integer_likes_are_taken():
    assert MLPClassifier(np.array([3, 4]), max_iter=2).fit(X, y).coefs_[1].shape == (3, 4)
    assert MLPClassifier(np.int64(7), max_iter=2).fit(X, y).coefs_[0].shape == (4, 7)
    assert MLPClassifier((), max_iter=2).fit(X, y).coefs_[0].shape == (4, 1)


@pytest.mark.parametrize("where", ["X", "sparse X", "y", "sample_weight"])
def test_float32_model_refuses_values_beyond_float32_before_training(where):
    # Cast to float32 they would be inf; the model stays as it was.
    import warnings

    y_real = X[:, 0].astype(np.float32)
    model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X.astype(np.float32), y_real)
    before = [a.copy() for a in model.coefs_ + model.intercepts_]
    X_new, y_new, sw = X.copy(), X[:, 0].copy(), np.ones(len(X))
    if where in ("X", "sparse X"):
        X_new[3, 2] = -1e39
        X_new = sp.csr_matrix(X_new) if where == "sparse X" else X_new
    elif where == "y":
        y_new[3] = 1e39
    else:
        sw[3] = 1e39
    name = where.split()[-1]
    match = rf"{name} holds -?1e\+39.*outside float32's range.*the model is float32"
    for call in (lambda: model.partial_fit(X_new, y_new, sample_weight=sw),
                 lambda: model.set_params(warm_start=True).fit(X_new, y_new, sample_weight=sw)):
        with pytest.raises(ValueError, match=match):
            call()
    for a, b in zip(before, model.coefs_ + model.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert model.coefs_[0].dtype == np.float32
