"""The CUDA backend against the NumPy reference.

Without a GPU these run on Numba's simulator (``NUMBA_ENABLE_CUDASIM=1``,
set in conftest.py) with tiny tiles and blocks, so that every edge-tile and
partial-batch branch runs; ``FASTNN_TEST_GPU=1`` runs them on a real GPU.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from fastnn import MLPClassifier, MLPRegressor, backends, get_backend
from fastnn._dropout import Dropout, epoch_key
from _reference import OPTIMIZER_KINDS, TOL, assert_trains_like_reference, make_problem

cuda_backend = pytest.importorskip("fastnn.backends._cuda")
ok, why = cuda_backend.cuda_status()
if not ok:
    pytest.skip(f"CUDA backend cannot run: {why}", allow_module_level=True)

from fastnn.backends._cuda_kernels import (  # noqa: E402
    EPI_BACKPROP, EPI_BIAS_ACT, EPI_BIAS_ACT_KEEP, EPI_STORE, CudaConfig,
)

# Tiles smaller than the matrices, uneven in every dimension.
TINY = CudaConfig(bm=4, bn=4, bk=2, tm=2, tn=2, tpb=4)
# Register blocks of one row/column, tiles not square.
ODD = CudaConfig(bm=2, bn=8, bk=3, tm=1, tn=4, tpb=8)


@pytest.fixture(scope="module")
def tiny():
    return cuda_backend.CudaBackend(TINY)


@pytest.fixture
def small_cuda(monkeypatch, tiny):
    """backend="cuda" in estimators gets the tiny-tile backend."""
    monkeypatch.setitem(backends._INSTANCES, "cuda", tiny)
    return tiny


@pytest.mark.parametrize("config", [TINY, ODD], ids=["tiny", "odd"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_every_transpose_and_epilogue(config, dtype):
    from numba import cuda

    be = cuda_backend.CudaBackend(config)
    rng = np.random.RandomState(0)
    M, N, K = 5, 7, 9
    for trans_a in (False, True):
        for trans_b in (False, True):
            a = rng.normal(size=(M, K)).astype(dtype)
            b = rng.normal(size=(K, N)).astype(dtype)
            A = np.ascontiguousarray(a.T if trans_a else a)
            B = np.ascontiguousarray(b.T if trans_b else b)
            bias = rng.normal(size=N).astype(dtype)
            aux = rng.uniform(size=(M, N)).astype(dtype)
            aux[0, :3] = 0
            for epi, code, expected in [
                (EPI_STORE, 0, a @ b),
                (EPI_BIAS_ACT, 3, np.maximum(a @ b + bias, 0)),
                (EPI_BIAS_ACT, 2, np.tanh(a @ b + bias)),
                (EPI_BACKPROP, 1, (a @ b) * aux * (1 - aux)),
                (EPI_BACKPROP, 3, np.where(aux == 0, 0, a @ b)),
            ]:
                C = cuda.device_array(M * N, dtype)
                be._gemm(dtype, M, N, K, cuda.to_device(A.ravel()), A.shape[1], trans_a,
                         cuda.to_device(B.ravel()), B.shape[1], trans_b, C, N, epi,
                         cuda.to_device(bias), cuda.to_device(aux.ravel()), code)
                np.testing.assert_allclose(C.copy_to_host().reshape(M, N), expected,
                                           rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"] * 10)
            # leaky_relu (code 6) with its slope, keeping the pre-activations in aux.
            C, pre = cuda.device_array(M * N, dtype), cuda.device_array(M * N, dtype)
            be._gemm(dtype, M, N, K, cuda.to_device(A.ravel()), A.shape[1], trans_a,
                     cuda.to_device(B.ravel()), B.shape[1], trans_b, C, N, EPI_BIAS_ACT_KEEP,
                     cuda.to_device(bias), pre, 6, 0.3)
            z = a @ b + bias
            for got, want in [(C, np.where(z > 0, z, 0.3 * z)), (pre, z)]:
                np.testing.assert_allclose(got.copy_to_host().reshape(M, N), want,
                                           rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"] * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "units,hidden,loss",
    [
        ([7, 5, 3], "relu", "log_loss"),
        ([6, 3, 4, 2], "logistic", "binary_log_loss"),
        ([5, 6, 3], "tanh", "poisson"),
        ([3, 2], "identity", "squared_error"),
        ([6, 5, 4, 3], ["prelu", "relu"], "log_loss"),
    ],
)
def test_forward_and_gradient_match_reference(tiny, dtype, units, hidden, loss):
    ref = get_backend("numpy")
    net, theta, data = make_problem(units, hidden, loss, dtype, n=9, weighted=loss != "poisson")
    out = tiny.forward(net, theta, data.X)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, ref.forward(net, theta, data.X), **TOL[dtype])
    g, g_ref = np.empty_like(theta), np.empty_like(theta)
    value = tiny.loss_grad(net, theta, data, 0.01, g)
    assert value == pytest.approx(ref.loss_grad(net, theta, data, 0.01, g_ref), rel=TOL[dtype]["rtol"])
    np.testing.assert_allclose(g, g_ref, **TOL[dtype])


def test_loss_grad_keeps_data_on_the_device(tiny):
    # One upload of X per fit: later L-BFGS calls reuse the cached device arrays.
    ref = get_backend("numpy")
    net, theta, data = make_problem([5, 4, 3], "relu", "log_loss", np.float64, n=9)
    cache, g, g_ref = {}, np.empty_like(theta), np.empty_like(theta)
    tiny.loss_grad(net, theta, data, 0.01, g, cache)
    d_X, ws = cache["d_X"], cache["lbfgs_ws"]
    value = tiny.loss_grad(net, theta * 0.5, data, 0.01, g, cache)
    assert cache["d_X"] is d_X and cache["lbfgs_ws"] is ws
    assert value == pytest.approx(ref.loss_grad(net, theta * 0.5, data, 0.01, g_ref), rel=1e-10)
    np.testing.assert_allclose(g, g_ref, **TOL[np.float64])


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("kind", OPTIMIZER_KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_epoch_matches_reference(tiny, dtype, kind, shuffle):
    # 13 samples in batches of 5: a partial last batch, gathered or not.
    net, theta0, data = make_problem([6, 5, 4, 3], "tanh", "log_loss", dtype, n=13, weighted=True)
    order = np.random.RandomState(1).permutation(13).astype(np.intp) if shuffle else None
    assert_trains_like_reference(tiny, net, theta0, data, order, 5, kind, 2, dtype, lr_rel=1e-6)


@pytest.mark.parametrize("dtype,kind", [(np.float32, "adam"), (np.float64, "sgd")])
def test_epoch_with_clipnorm_matches_reference(tiny, dtype, kind):
    # Clipping waits for every variable's norm (a kernel per variable), then steps.
    net, theta0, data = make_problem([6, 5, 4, 3], "tanh", "log_loss", dtype, n=13, weighted=True)
    order = np.random.RandomState(1).permutation(13).astype(np.intp)
    assert_trains_like_reference(tiny, net, theta0, data, order, 5, kind, 2, dtype, lr_rel=1e-6,
                                 clipnorm=0.2)


@pytest.mark.parametrize("dtype,hidden", [(np.float32, "tanh"), (np.float64, ["gelu", "relu"])])
def test_epoch_with_dropout_matches_reference(tiny, dtype, hidden):
    # The masks of every backend are one function of (epoch, row position,
    # unit): the reference's, drawn in the forward and the delta kernels.
    net, theta0, data = make_problem([6, 5, 4, 3], hidden, "log_loss", dtype, n=13, weighted=True)
    order = np.random.RandomState(1).permutation(13).astype(np.intp)
    dropouts = [Dropout(np.array([0.5, 0.3, 0.0]), epoch_key(2, e)) for e in range(2)]
    assert_trains_like_reference(tiny, net, theta0, data, order, 5, "adam", 2, dtype,
                                 lr_rel=1e-6, dropouts=dropouts)


@pytest.mark.parametrize("dtype,hidden,batch_norm,shuffle", [
    (np.float32, "tanh", (True, True), True),
    (np.float64, ["gelu", "relu"], (True, False), False),
])
def test_epoch_with_batch_norm_matches_reference(tiny, dtype, hidden, batch_norm, shuffle):
    # Column kernels for the batch statistics and dL/dgamma, element-wise ones
    # for normalizing (with the activation) and for the deltas; dropout and
    # clipping alongside in float64.
    net, theta0, data = make_problem([6, 5, 4, 3], hidden, "log_loss", dtype, n=13,
                                     weighted=True, batch_norm=batch_norm)
    order = np.random.RandomState(1).permutation(13).astype(np.intp) if shuffle else None
    extra = {}
    if dtype == np.float64:
        extra = dict(clipnorm=0.2, dropouts=[Dropout(np.array([0.5, 0.3, 0.0]), epoch_key(2, e))
                                             for e in range(2)])
    assert_trains_like_reference(tiny, net, theta0, data, order, 6, "adam", 2, dtype,
                                 lr_rel=1e-6, bn_momentum=0.9, **extra)


@pytest.mark.parametrize("dtype,batch_norm", [(np.float32, (False, False)),
                                               (np.float64, (True, False))])
def test_epoch_with_prelu_matches_reference(tiny, dtype, batch_norm):
    # prelu's own kernels (slopes applied after the shift, a column kernel for
    # the slopes' gradient and the deltas), with batch norm, dropout and
    # clipping of the slope vectors alongside in float64.
    net, theta0, data = make_problem([6, 5, 4, 3], ["prelu", "prelu"], "log_loss", dtype, n=13,
                                     weighted=True, batch_norm=batch_norm)
    order = np.random.RandomState(1).permutation(13).astype(np.intp)
    extra = {}
    if dtype == np.float64:
        extra = dict(clipnorm=0.2, dropouts=[Dropout(np.array([0.5, 0.3, 0.0]), epoch_key(2, e))
                                             for e in range(2)])
    theta = assert_trains_like_reference(tiny, net, theta0, data, order, 6, "adam", 2, dtype,
                                         lr_rel=1e-6, bn_momentum=0.9, **extra)
    for before, after in zip(net.slope_views(theta0)[:2], net.slope_views(theta)[:2]):
        assert not np.allclose(before, after)


def test_maxout_kernels_pick_the_first_largest_piece():
    # Ties go to the first piece, forward and backward, as np.argmax does.
    from numba import cuda

    from fastnn.backends._cuda_kernels import maxout_apply, maxout_backward

    Z = np.array([[1.0, 3.0, 3.0, -2.0, -2.0, -5.0],
                  [0.5, 0.5, 0.5, 4.0, -1.0, 4.0]])
    Da = np.array([[2.0, -1.0], [3.0, 7.0]])
    A, D = cuda.device_array(4), cuda.device_array(12)
    d_Z = cuda.to_device(Z.ravel())
    maxout_apply[2, 2](d_Z, A, 2, 2, 3)
    maxout_backward[2, 2](cuda.to_device(Da.ravel()), d_Z, D, 2, 2, 3)
    np.testing.assert_array_equal(A.copy_to_host().reshape(2, 2), [[3.0, -2.0], [0.5, 4.0]])
    np.testing.assert_array_equal(D.copy_to_host().reshape(2, 6),
                                  [[0, 2.0, 0, -1.0, 0, 0], [3.0, 0, 0, 7.0, 0, 0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "units,hidden,pieces,batch_norm",
    [
        ([7, 4, 3], "maxout", 2, ()),
        ([6, 5, 4, 3], ["tanh", "maxout"], 3, ()),
        ([6, 4, 5, 3], ["maxout", "relu"], 3, (True, False)),
    ],
)
def test_maxout_forward_and_gradient_match_reference(tiny, dtype, units, hidden, pieces,
                                                    batch_norm):
    # The GEMM writes the pieces (width columns), a kernel takes each unit's
    # maximum, another sends each delta back to the winning piece.
    ref = get_backend("numpy")
    net, theta, data = make_problem(units, hidden, "log_loss", dtype, n=9, weighted=True,
                                    batch_norm=batch_norm, maxout_pieces=pieces)
    np.testing.assert_allclose(tiny.forward(net, theta, data.X), ref.forward(net, theta, data.X),
                               **TOL[dtype])
    g, g_ref = np.empty_like(theta), np.empty_like(theta)
    value = tiny.loss_grad(net, theta, data, 0.01, g)
    assert value == pytest.approx(ref.loss_grad(net, theta, data, 0.01, g_ref), rel=TOL[dtype]["rtol"])
    np.testing.assert_allclose(g, g_ref, **TOL[dtype])


@pytest.mark.parametrize("dtype,hidden,pieces,batch_norm", [
    (np.float64, ["maxout", "relu"], 3, (True, False)),
    (np.float32, ["tanh", "maxout"], 2, (False, True)),
])
def test_epoch_with_maxout_matches_reference(tiny, dtype, hidden, pieces, batch_norm):
    # Batch norm over the maxout layer's width columns, dropout on its
    # outputs (units numbered by outputs, not widths) and clipping alongside.
    net, theta0, data = make_problem([6, 5, 4, 3], hidden, "log_loss", dtype, n=13,
                                     weighted=True, batch_norm=batch_norm, maxout_pieces=pieces)
    order = np.random.RandomState(1).permutation(13).astype(np.intp)
    dropouts = [Dropout(np.array([0.5, 0.3, 0.0]), epoch_key(2, e)) for e in range(2)]
    assert_trains_like_reference(tiny, net, theta0, data, order, 6, "adam", 2, dtype,
                                 lr_rel=1e-6, bn_momentum=0.9, clipnorm=0.2, dropouts=dropouts)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimator_fit_matches_numpy_backend(small_cuda):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(21, 4)).astype(np.float32)
    y = rng.randint(3, size=21)
    params = dict(hidden_layer_sizes=(5,), batch_size=8, max_iter=2, random_state=0, tol=0)
    ref = MLPClassifier(backend="numpy", **params).fit(X, y)
    gpu = MLPClassifier(backend="cuda", **params).fit(X, y)
    np.testing.assert_allclose(gpu.loss_curve_, ref.loss_curve_, rtol=2e-4)
    np.testing.assert_allclose(gpu.predict_proba(X), ref.predict_proba(X), rtol=2e-4, atol=1e-5)
    reg_ref = MLPRegressor(backend="numpy", solver="lbfgs", hidden_layer_sizes=(3,), max_iter=3,
                           random_state=0).fit(X[:10].astype(float), X[:10, 0])
    reg = MLPRegressor(backend="cuda", solver="lbfgs", hidden_layer_sizes=(3,), max_iter=3,
                       random_state=0).fit(X[:10].astype(float), X[:10, 0])
    np.testing.assert_allclose(reg.predict(X[:10].astype(float)),
                               reg_ref.predict(X[:10].astype(float)), rtol=1e-8)


def test_sparse_input_is_refused_clearly(small_cuda):
    X = sp.random(10, 4, density=0.5, format="csr", random_state=0)
    with pytest.raises(ValueError, match="does not support sparse input.*'cython'"):
        MLPRegressor(backend="cuda", max_iter=1).fit(X, np.arange(10.0))


def test_no_gpu_gives_a_clear_error():
    # A fresh interpreter without the simulator: either a GPU is there, or
    # asking for the backend says why not and what to do.
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    code = (
        "from fastnn.backends import get_backend\n"
        "try:\n    get_backend('cuda')\nexcept ImportError as e:\n    print('ERR', e)\n"
        "else:\n    print('OK')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    if out.startswith("OK"):
        pytest.skip("a GPU is available here")
    assert "backend='cuda' cannot run here" in out
    assert "NUMBA_ENABLE_CUDASIM=1" in out and "cython" in out


@pytest.mark.parametrize("clash", [False, True], ids=["compatible", "numpy-without-row_stack"])
def test_a_numba_cuda_numpy_clash_is_named_before_any_compile(clash):
    # numba-cuda 0.30.4 with numpy 2.5 failed at the first kernel compile of a
    # fit (np.row_stack is gone); the status check now loads the compiler's
    # modules and says so. The clash is recreated by deleting the attribute.
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    code = (
        "import sys, numpy, numba.cuda\n"
        "from fastnn.backends._cuda import _compiler_problem\n"
        "assert 'numba.cuda.cudaimpl' not in sys.modules\n"
        + ("del numpy.row_stack\n" if clash else "")
        + "print(_compiler_problem())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    if clash:
        assert out.startswith("numba-cuda ") and "cannot compile kernels with numpy" in out
        assert "row_stack" in out
    else:
        assert out == "None"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_l1_matches_reference(tiny, dtype):
    net, theta0, data = make_problem([6, 5, 4, 3], "relu", "log_loss", dtype, n=13, weighted=True)
    ref = get_backend("numpy")
    g_ref, g = np.empty_like(theta0), np.empty_like(theta0)
    loss_ref = ref.loss_grad(net, theta0, data, 0.01, g_ref, l1=0.3)
    assert tiny.loss_grad(net, theta0, data, 0.01, g, l1=0.3) == pytest.approx(
        loss_ref, rel=TOL[dtype]["rtol"])
    np.testing.assert_allclose(g, g_ref, **TOL[dtype])
    assert_trains_like_reference(tiny, net, theta0, data, None, 5, "adam", 2, dtype, l1=0.2,
                                 lr_rel=1e-6)


# The default launch geometry (64 x 64 tiles, 256 threads) only on a real
# GPU: the simulator runs one Python thread per CUDA thread, too slow here.
real_gpu = pytest.mark.skipif(not why.startswith("GPU"),
                              reason="the default tiles are checked on a real GPU only")


@real_gpu
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(activation=["gelu", "prelu"], batch_norm=True, dropout=0.2, solver="adamw",
             clipnorm=1.0, l1=1e-4),
        dict(activation="maxout", maxout_pieces=3, solver="sgd", momentum=0.9),
    ],
    ids=["relu-adam", "gelu-prelu-bn-dropout-adamw", "maxout-sgd"],
)
def test_default_tiles_train_like_the_numpy_backend(monkeypatch, dtype, params):
    # Shapes off the 64-wide tiles in every dimension, 1000 rows in batches
    # of 192 (a partial last batch), several tiles per layer.
    monkeypatch.setitem(backends._INSTANCES, "cuda", cuda_backend.CudaBackend())
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1000, 70)).astype(dtype)
    y = (X[:, :5] @ rng.normal(size=(5, 7))).argmax(axis=1)
    common = dict(hidden_layer_sizes=(130, 67), batch_size=192, max_iter=3, tol=0,
                  random_state=0, **params)
    ref = MLPClassifier(backend="numpy", **common).fit(X, y)
    gpu = MLPClassifier(backend="cuda", **common).fit(X, y)
    # float32 drifts with the summation order over 18 steps; float64 does not.
    tol = dict(rtol=2e-3, atol=2e-4) if dtype == np.float32 else dict(rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(gpu.loss_curve_, ref.loss_curve_, **tol)
    for got, want in zip(gpu.coefs_, ref.coefs_):
        np.testing.assert_allclose(got, want, **tol)
    np.testing.assert_allclose(gpu.predict_proba(X), ref.predict_proba(X), **tol)
