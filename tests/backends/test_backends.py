"""The compiled backend against the NumPy reference and finite differences."""

import numpy as np
import pytest

from fastnn import MLPClassifier, MLPRegressor, _mlp, get_backend
from fastnn._network import NetworkSpec
from fastnn.backends import _cython, _numba
from fastnn.backends._data import as_compute_input, make_train_data
from fastnn.backends._numpy import clip_by_norm
from _backends import CPU_KERNELS, REFERENCE
from _reference import (
    OPTIMIZER_KINDS, TOL, assert_trains_like_reference, force_threads, make_problem,
    numeric_gradient,
)


# (layer widths, hidden activation, loss): odd shapes, every loss and activation.
NETS = [
    ([7, 5, 3], "relu", "log_loss"),
    ([4, 9, 1], "tanh", "binary_log_loss"),
    ([6, 3, 11, 4], "logistic", "binary_log_loss"),
    ([3, 2], "identity", "squared_error"),
    ([5, 13, 2], "identity", "squared_error"),
    ([5, 6, 3], "tanh", "poisson"),
    # One activation per hidden layer: each new one, once as the last hidden layer.
    ([5, 8, 3], "gelu", "log_loss"),
    ([4, 6, 5, 2], ["leaky_relu", "swish"], "binary_log_loss"),
    ([6, 7, 2], ["elu"], "squared_error"),
    ([5, 4, 6, 3], ["selu", "softplus"], "poisson"),
    # prelu's learned slopes (make_problem spreads them, some 0 or below).
    ([6, 5, 7, 3], ["relu", "prelu"], "log_loss"),
    ([5, 6, 2], "prelu", "squared_error"),
    # maxout's pieces: wider weight matrices than units (make_problem: 2 pieces).
    ([6, 5, 4, 3], ["maxout", "relu"], "log_loss"),
    ([5, 6, 2], "maxout", "squared_error"),
]


@pytest.mark.parametrize("backend", CPU_KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("units,hidden,loss", NETS)
@pytest.mark.parametrize("sparse", [False, True])
def test_forward_and_gradient_match_reference(backend, dtype, units, hidden, loss, sparse,
                                              n_threads):
    ref, fast = get_backend("numpy"), get_backend(backend)
    for weighted in (False, True):
        net, theta, data = make_problem(units, hidden, loss, dtype, sparse=sparse, weighted=weighted)
        out_ref = ref.forward(net, theta, data.X)
        out = fast.forward(net, theta, data.X)
        assert out.dtype == dtype
        np.testing.assert_allclose(out, out_ref, **TOL[dtype])
        g_ref, g = np.empty_like(theta), np.empty_like(theta)
        loss_ref = ref.loss_grad(net, theta, data, 0.01, g_ref)
        loss_fast = fast.loss_grad(net, theta, data, 0.01, g)
        assert loss_fast == pytest.approx(loss_ref, rel=TOL[dtype]["rtol"])
        np.testing.assert_allclose(g, g_ref, **TOL[dtype])


@pytest.mark.parametrize("backend", CPU_KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_loss_of_rows_not_one_hot(backend, dtype):
    # The compiled log loss takes one log for a one-hot row; every other
    # row (soft, all-zero, two hot entries, a hot entry not 1) takes xlogy's.
    ref, fast = get_backend("numpy"), get_backend(backend)
    net, theta, data = make_problem([5, 6, 4], "relu", "log_loss", dtype, n=9)
    rng = np.random.RandomState(1)
    Y = np.eye(4)[rng.randint(4, size=9)]
    Y[0] = rng.dirichlet(np.ones(4))
    Y[1] = 0
    Y[2] = [1, 0, 1, 0]
    Y[3] = [0, 0.5, 0, 0]
    data = make_train_data(data.X, Y, None, dtype)
    g_ref, g = np.empty_like(theta), np.empty_like(theta)
    loss_ref = ref.loss_grad(net, theta, data, 0.0, g_ref)
    assert fast.loss_grad(net, theta, data, 0.0, g) == pytest.approx(loss_ref, rel=TOL[dtype]["rtol"])
    np.testing.assert_allclose(g, g_ref, **TOL[dtype])


@pytest.mark.parametrize("backend", [REFERENCE, *CPU_KERNELS])
def test_loss_grad_reuses_its_cache(backend, n_threads):
    # L-BFGS calls loss_grad with one cache per fit: a second call at new
    # parameters must not see the first call's leftovers.
    fast, ref = get_backend(backend), get_backend("numpy")
    net, theta, data = make_problem([6, 5, 4, 3], "tanh", "log_loss", np.float64, weighted=True)
    cache, g, g_ref = {}, np.empty_like(theta), np.empty_like(theta)
    fast.loss_grad(net, theta, data, 0.01, g, cache)
    kept = dict(cache)
    theta2 = theta * 1.5
    value = fast.loss_grad(net, theta2, data, 0.01, g, cache)
    assert value == pytest.approx(ref.loss_grad(net, theta2, data, 0.01, g_ref), rel=1e-10)
    np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-12)
    assert all(cache[key] is kept[key] for key in kept)


@pytest.mark.parametrize("backend", CPU_KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", OPTIMIZER_KINDS)
@pytest.mark.parametrize("batch_size", [1, 4, 7, 23, 50])
@pytest.mark.parametrize("sparse", [False, True])
def test_epoch_matches_reference(backend, dtype, kind, batch_size, sparse, epoch_threads):
    # 23 samples: most batch sizes leave a partial last batch.
    net, theta0, data = make_problem([6, 5, 4, 3], "tanh", "log_loss", dtype, weighted=True,
                                     sparse=sparse)
    order = np.random.RandomState(1).permutation(data.n_samples).astype(np.intp)
    assert_trains_like_reference(get_backend(backend), net, theta0, data, order, batch_size,
                                 kind, 3, dtype)


@pytest.fixture(params=[False, True], ids=["gathered", "row-kernels"])
def row_kernels(request):
    """BLAS alone (a split first layer's rows gathered for it), then the row kernels."""
    if request.param and not _mlp.row_kernels():
        pytest.skip("the row kernels need a CPU with AVX-512")
    before = _mlp.row_kernels(request.param)
    yield request.param
    _mlp.row_kernels(before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hidden", ["relu", "maxout", "prelu"])
@pytest.mark.parametrize("shuffled", [False, True])
@pytest.mark.parametrize("batch_size", [2, 9, 40])
@pytest.mark.parametrize("threads", [2, 3])
def test_epoch_with_split_first_layer(monkeypatch, dtype, hidden, shuffled, batch_size,
                                      threads, row_kernels):
    # 37 features: the threads' slices are cut at multiples of 8 (0:16,
    # 16:37; 0:8, 8:24, 24:37); a 2-row batch leaves a thread without rows
    # (3 threads); 50 units take the row kernels' panels whole and in part.
    # A ReLU layer adds the last thread's part with its bias and activation
    # (add_split_parts): after the first part (2 threads) or the sum of two.
    # The split sums in another order than the split by rows: the same
    # training to rounding, not bit for bit (so the split did run). With
    # the row kernels, the weight gradient passes over the stretches of
    # zeros in the input (~17% of 8 features, ~7% of 12).
    net, theta0, data = make_problem([37, 50, 4], hidden, "log_loss", dtype, n=40,
                                     weighted=True, zeros=0.8)
    order = np.random.RandomState(1).permutation(40).astype(np.intp) if shuffled else None
    fast = get_backend("cython")
    trained = {}
    for split in (False, True):
        force_threads(monkeypatch, threads, split)
        trained[split] = assert_trains_like_reference(fast, net, theta0, data, order,
                                                      batch_size, "adam", 2, dtype, l1=1e-3)
    assert not np.array_equal(trained[False], trained[True])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hidden", ["relu", "tanh", "maxout"])
@pytest.mark.parametrize("threads", [1, 2])
def test_epoch_with_row_kernels_on_hidden_layers(monkeypatch, dtype, hidden, threads):
    # 100 features, 120 and 90 units, 300 rows in batches of 260: each
    # thread's 260 or 130 rows make products past 2**20 multiply-adds with
    # every side 32 or more (rows_fit): whole and partial blocks of sums and
    # panels, two blocks of K for the weight gradients. The last batch (40
    # rows) and the output layer's 3 columns stay with BLAS. BLAS and the
    # kernels sum in another order: the same training to rounding, not bit
    # for bit (so the kernels did run). SGD, whose steps are proportional to
    # the gradients: Adam's first steps are about lr * sign(gradient) however
    # small the gradient, so a weight whose gradient is near 0 moves by what
    # rounding decides (1.7e-5 in float32 on an AMD host, with the reference's
    # own BLAS kernels), not by what the products compute.
    net, theta0, data = make_problem([100, 120, 90, 3], hidden, "log_loss", dtype, n=300,
                                     weighted=True)
    order = np.random.RandomState(1).permutation(300).astype(np.intp)
    # Without AVX-512 the portable path (BLAS) alone trains like the reference.
    force_threads(monkeypatch, threads, False)
    before = _mlp.row_kernels()
    trained = {}
    try:
        for on in (False, True) if before else (False,):
            _mlp.row_kernels(on)
            trained[on] = assert_trains_like_reference(get_backend("cython"), net, theta0, data,
                                                       order, 260, "sgd", 2, dtype)
    finally:
        _mlp.row_kernels(before)
    if before:
        assert not np.array_equal(trained[False], trained[True])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["adam", "adamw"])
# Unweighted batches of 8 average by multiplying by 1 / 8 (the last, of 7
# rows, divides); weighted ones divide.
@pytest.mark.parametrize("weighted,batch_size", [(False, 8), (True, 8), (False, 11)])
def test_epoch_with_one_pass_adam(dtype, kind, weighted, batch_size, epoch_threads):
    # Adam's step in one pass (_adam_step.h) trains to the same bits as the
    # separate passes, and like the reference. Without AVX-512 the separate
    # passes alone train like the reference.
    before = _mlp.one_pass_adam()
    net, theta0, data = make_problem([37, 50, 4], "relu", "log_loss", dtype, n=39,
                                     weighted=weighted)
    order = np.random.RandomState(1).permutation(39).astype(np.intp)
    trained = {}
    try:
        for on in (False, True) if before else (False,):
            _mlp.one_pass_adam(on)
            trained[on] = assert_trains_like_reference(get_backend("cython"), net, theta0, data,
                                                       order, batch_size, kind, 2, dtype)
    finally:
        _mlp.one_pass_adam(before)
    if before:
        assert trained[True].tobytes() == trained[False].tobytes()


@pytest.mark.parametrize("backend", CPU_KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["adam", "sgd", "adamw"])
@pytest.mark.parametrize("batch_size", [1, 7, 23])
def test_epoch_with_clipnorm_matches_reference(backend, dtype, kind, batch_size, epoch_threads):
    net, theta0, data = make_problem([6, 5, 4, 3], "tanh", "log_loss", dtype, weighted=True)
    order = np.random.RandomState(1).permutation(data.n_samples).astype(np.intp)
    fast = get_backend(backend)
    # 0.2 clips some variables' gradients and not others (see the test below).
    clipped = assert_trains_like_reference(fast, net, theta0, data, order, batch_size, kind, 3,
                                           dtype, clipnorm=0.2)
    free = assert_trains_like_reference(fast, net, theta0, data, order, batch_size, kind, 3,
                                        dtype)
    # Clipping changed the training by more than the comparison's tolerance
    # (Adam, nearly blind to a gradient's scale, least of all).
    assert np.abs(clipped - free).max() > 10 * TOL[dtype]["atol"]


def test_clip_by_norm_scales_each_variable_alone():
    net, theta, data = make_problem([6, 5, 4, 3], "tanh", "log_loss", np.float64, weighted=True)
    grad = np.empty_like(theta)
    get_backend("numpy").loss_grad(net, theta, data, 1e-3, grad)
    norms = [np.linalg.norm(g) for g in (*net.views(grad)[0], *net.views(grad)[1])]
    clipnorm = float(np.median(norms))
    assert min(norms) < clipnorm < max(norms)
    clipped = grad.copy()
    clip_by_norm(net, clipped, clipnorm)
    for g, c, norm in zip((*net.views(grad)[0], *net.views(grad)[1]),
                          (*net.views(clipped)[0], *net.views(clipped)[1]), norms):
        if norm > clipnorm:
            np.testing.assert_allclose(c, g * clipnorm / norm, rtol=1e-14)
            assert np.linalg.norm(c) == pytest.approx(clipnorm, rel=1e-12)
        else:
            np.testing.assert_array_equal(c, g)
    # The test problem's gradient norms straddle the 0.2 the epochs clip at.
    assert min(norms) < 0.2 < max(norms)


@pytest.mark.parametrize("backend", [REFERENCE, *CPU_KERNELS])
@pytest.mark.parametrize("units,hidden,loss", NETS)
def test_gradient_matches_finite_differences(backend, units, hidden, loss, n_threads):
    net, theta, data = make_problem(units, hidden, loss, np.float64, n=9, weighted=True)
    be = get_backend(backend)
    grad = np.empty_like(theta)
    be.loss_grad(net, theta, data, 0.1, grad)
    scratch = np.empty_like(theta)
    # scikit-learn's squared-error loss averages over outputs while its
    # gradient sums over them: the gradient is that of
    # loss(alpha) + (n_outputs - 1) * loss(alpha=0). Other losses: extra = 0.
    extra = units[-1] - 1 if loss == "squared_error" else 0

    def objective(t):
        value = be.loss_grad(net, t, data, 0.1, scratch)
        return value + extra * be.loss_grad(net, t, data, 0.0, scratch)

    np.testing.assert_allclose(grad, numeric_gradient(objective, theta), rtol=1e-5, atol=1e-8)


def test_tiny_network_gradient_by_hand():
    # One input, one logistic hidden unit, identity output, squared error.
    net = NetworkSpec.from_units([1, 1, 1], "logistic", "squared_error")
    theta = np.array([0.5, -2.0, 0.1, 0.3])  # w1, w2, b1, b2
    data = make_train_data(np.array([[2.0]]), np.array([[1.0]]), None, np.float64)
    h = 1 / (1 + np.exp(-(2.0 * 0.5 + 0.1)))
    p = -2.0 * h + 0.3
    d2 = p - 1.0
    d1 = d2 * -2.0 * h * (1 - h)
    expected = np.array([d1 * 2.0, d2 * h, d1, d2])
    for name in [REFERENCE, *CPU_KERNELS]:
        grad = np.empty(4)
        loss = get_backend(name).loss_grad(net, theta, data, 0.0, grad)
        assert loss == pytest.approx(0.5 * d2**2)
        np.testing.assert_allclose(grad, expected, rtol=1e-12)


@pytest.mark.parametrize("backend", CPU_KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_estimator_backends_agree(backend, dtype):
    # Whole fits through the estimator: odd sizes, batch not dividing n,
    # read-only and non-contiguous input.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(101, 14)).astype(dtype)
    y = rng.randint(3, size=101)
    X_nc = np.asfortranarray(X)[:, ::1]
    X_ro = X.copy()
    X_ro.setflags(write=False)
    params = dict(hidden_layer_sizes=(9, 5), batch_size=16, max_iter=4, random_state=0, tol=0)
    ref = MLPClassifier(backend="numpy", **params).fit(X, y)
    for Xin in (X, X_nc, X_ro, np.asfortranarray(X)):
        fast = MLPClassifier(backend=backend, **params).fit(Xin, y)
        np.testing.assert_allclose(fast.loss_curve_, ref.loss_curve_, rtol=TOL[dtype]["rtol"] * 10)
        for a, b in zip(fast.coefs_, ref.coefs_):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"] * 10)
        np.testing.assert_allclose(fast.predict_proba(Xin), ref.predict_proba(X), **TOL[dtype])
    reg_ref = MLPRegressor(backend="numpy", solver="lbfgs", max_iter=20, random_state=0).fit(X, X[:, 0])
    reg = MLPRegressor(backend=backend, solver="lbfgs", max_iter=20, random_state=0).fit(X, X[:, 0])
    np.testing.assert_allclose(reg.predict(X), reg_ref.predict(X), rtol=TOL[dtype]["rtol"] * 100, atol=1e-4)


@pytest.mark.parametrize("sparse", [False, True])
def test_predict_in_chunks(monkeypatch, n_threads, sparse):
    net, theta, data = make_problem([5, 4, 3], "relu", "log_loss", np.float64, n=50,
                                    sparse=sparse)
    whole = get_backend("numpy").forward(net, theta, data.X)
    monkeypatch.setattr(_cython, "PREDICT_CHUNK", 7)
    monkeypatch.setattr(_numba, "PREDICT_CHUNK", 7)
    for name in CPU_KERNELS:
        np.testing.assert_allclose(get_backend(name).forward(net, theta, data.X), whole)


def test_threads_share_a_batch_by_rows():
    # The thread count is picked by the amount of work: tiny batches stay on
    # one thread, large ones use every core OpenMP allows.
    from fastnn.backends._threads import n_threads_for

    assert n_threads_for(4, rows=64, n_weights=771) == 1
    assert n_threads_for(4, rows=256, n_weights=235_000) == min(4, _threads_cores())
    assert n_threads_for(1, rows=256, n_weights=235_000) == 1
    assert n_threads_for(8, rows=2, n_weights=10**7) <= 2


def _threads_cores():
    from fastnn.backends._threads import available_cores

    return available_cores()


def test_c_contiguous_x_of_the_right_dtype_is_not_copied():
    X = np.random.RandomState(0).normal(size=(50, 4)).astype(np.float32)
    assert as_compute_input(X, np.float32) is X
