"""Compiled epochs release the GIL: fits in threads run together, same models."""

import importlib
import sys
import threading
import time
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info

from fastnn import MLPClassifier, MLPRegressor, _mlp
from fastnn.backends._data import KernelOptimizer, input_args, net_args, weights_arg
from fastnn.backends import _threads
from fastnn.backends._threads import available_cores
from _backends import THREADED
from _reference import make_problem, optimizer_state, plain_plan

rng = np.random.RandomState(0)
X = rng.normal(size=(6000, 30))
y = (X[:, 0] + X[:, 1] > 0).astype(int)


def _fit(est, out, key):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        out[key] = est.fit(X, y if isinstance(est, MLPClassifier) else X[:, 2])


def _in_threads(estimators):
    """Fit ``{key: estimator}`` all at once, each in its own Python thread."""
    out = {}
    threads = [threading.Thread(target=_fit, args=(est, out, key)) for key, est in estimators.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


@pytest.mark.parametrize("backend", THREADED)
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("n_threads", [None, 2])
def test_threaded_fits_equal_sequential_fits(solver, backend, n_threads):
    # A fit in a thread other than the main one runs on one thread by
    # default: the same model as a sequential fit with n_threads=1.
    params = dict(hidden_layer_sizes=(32,), max_iter=5, random_state=0, solver=solver,
                  backend=backend)
    estimators = {"clf": MLPClassifier(**params, n_threads=n_threads),
                  "reg": MLPRegressor(**params, n_threads=n_threads)}
    sequential = {}
    for key, est in estimators.items():
        _fit(est.__class__(**params, n_threads=n_threads or 1), sequential, key)
    threaded = _in_threads(estimators)
    for key in estimators:
        for a, b in zip(threaded[key].coefs_, sequential[key].coefs_):
            np.testing.assert_array_equal(a, b)


def _threads_used(monkeypatch, backend, est, in_thread):
    """Thread counts ``backend``'s kernels chose during ``est``'s fit and predict."""
    module = importlib.import_module(f"fastnn.backends._{backend}")
    chosen = []
    real = module.n_threads_for

    def spy(*args):
        chosen.append(real(*args))
        return chosen[-1]

    monkeypatch.setattr(module, "n_threads_for", spy)
    if in_thread:
        _in_threads({"est": est})
        worker = threading.Thread(target=est.predict, args=(X,))
        worker.start()
        worker.join()
    else:
        _fit(est, {}, "est")
        est.predict(X)
    return set(chosen)


@pytest.mark.skipif(available_cores() < 2, reason="needs 2 cores")
@pytest.mark.parametrize("backend", THREADED)
@pytest.mark.parametrize(
    "n_threads, in_thread, expected",
    [(None, False, {2}), (None, True, {1}), (-1, True, {2}), (1, False, {1}), (2, True, {2})],
)
def test_n_threads_bounds_the_kernels(monkeypatch, backend, n_threads, in_thread, expected):
    # This net and batch are big enough for two threads on two cores. The
    # counts expected are a 2-core machine's: on more cores, "every core"
    # would mean more threads.
    monkeypatch.setattr(_threads, "available_cores", lambda: 2)
    est = MLPClassifier(hidden_layer_sizes=(64,), max_iter=2, random_state=0, backend=backend,
                        n_threads=n_threads)
    assert _threads_used(monkeypatch, backend, est, in_thread) == expected


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_n_threads_bounds_blas_and_restores_it(monkeypatch, solver):
    # numpy backend: every product is a BLAS call, bounded to one thread.
    from fastnn.backends import _numpy

    seen = []
    loss_grad = _numpy.NumpyBackend.loss_grad
    epoch = _numpy.NumpyBackend.epoch

    def spy(method):
        def wrapped(*args, **kwargs):
            seen.append(_blas_threads())
            return method(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(_numpy.NumpyBackend, "loss_grad", spy(loss_grad))
    monkeypatch.setattr(_numpy.NumpyBackend, "epoch", spy(epoch))
    before = _blas_threads()
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0, backend="numpy",
                        solver=solver, n_threads=1)
    _fit(est, {}, "clf")
    assert seen and all(n == [1] * len(before) for n in seen)
    assert _blas_threads() == before


def test_n_threads_is_validated():
    for bad in (0, -2, 1.5, "2"):
        with pytest.raises(ValueError, match="n_threads"):
            MLPClassifier(n_threads=bad).fit(X[:20], y[:20])


def _longest_stall(run_in_thread):
    """Longest pause of a main-thread loop while ``run_in_thread`` runs.

    Python code is preempted every switch interval (5 ms), but a C call that
    keeps the GIL stalls every other thread for its whole duration.
    """
    done = threading.Event()

    def target():
        run_in_thread()
        done.set()

    worker = threading.Thread(target=target)
    start = last = time.perf_counter()
    worker.start()
    worst = 0.0
    while not done.is_set():
        now = time.perf_counter()
        worst = max(worst, now - last)
        last = now
    worker.join()
    return worst, time.perf_counter() - start


@pytest.mark.parametrize("backend", THREADED)
def test_gil_is_released_during_an_epoch(backend):
    Xb = rng.normal(size=(60000, 100)).astype(np.float32)
    yb = (Xb[:, 0] > 0).astype(int)
    # In a thread of its own the fit runs on one core.
    est = MLPClassifier(hidden_layer_sizes=(256,), batch_size=32, max_iter=1, random_state=0,
                        backend=backend)

    def fit(X=Xb, y=yb):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)

    fit(Xb[:100], yb[:100])  # Numba compiles (holding the GIL) on first use: not timed

    # Control: a long C call that keeps the GIL shows up as one long stall.
    held_stall, held_total = _longest_stall(lambda: sum(range(20_000_000)))
    assert held_stall > 0.5 * held_total
    # Epochs enough to observe, however fast the machine: twice as many
    # until the fit takes 0.2 s.
    stall, total = _longest_stall(fit)
    while total < 0.2 and est.max_iter < 64:
        est.set_params(max_iter=2 * est.max_iter)
        stall, total = _longest_stall(fit)
    assert total >= 0.2, "the fit finished too fast to observe"
    assert stall < 0.25 * total


def test_epoch_in_a_worker_thread_runs_every_batch_without_the_gil():
    # Python handles signals in its main thread only, so an epoch in any other
    # thread never takes the GIL to check for Ctrl-C: here its batches all run
    # while the main thread keeps the GIL in a Python loop (a switch interval
    # longer than the loop keeps it from being forced off). Checking every
    # few batches, as the main thread's epochs do, it would stall at the first
    # check until the loop ends.
    net, theta, data = make_problem([6, 9, 3], ["relu"], "log_loss", np.float64, n=4000)
    opt = optimizer_state("adam", theta)
    size = _mlp.workspace_size(net.units, net.activation_codes, 1, True, 1, theta.size)
    s1, s2 = opt.buffers
    step = np.zeros(2)
    started = threading.Event()

    def epoch():
        started.set()
        _mlp.epoch(input_args(data.X), data.Y, weights_arg(data), theta, net_args(net),
                   KernelOptimizer(opt.code, opt.hyper(), s1, s2, step), plain_plan(1),
                   np.empty_like(theta), np.empty(size), 1)

    worker = threading.Thread(target=epoch)
    interval = sys.getswitchinterval()
    try:
        worker.start()
        started.wait()
        # Until the first batch has run, the worker needs the GIL to enter
        # the epoch; from then on the main thread holds it.
        while step[0] == 0:
            time.sleep(0)
        sys.setswitchinterval(30.0)
        deadline = time.perf_counter() + 10.0
        while step[0] < data.n_samples and time.perf_counter() < deadline:
            pass
        batches = step[0]
    finally:
        sys.setswitchinterval(interval)
        worker.join()
    assert batches == data.n_samples
    assert step[0] == data.n_samples


def _blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


@pytest.mark.parametrize("in_thread", [False, True])
def test_blas_is_single_threaded_while_our_threads_run(monkeypatch, in_thread):
    # Our threads each call BLAS on their share of a batch: BLAS's own pool
    # must stay off meanwhile, and get its setting back afterwards, also
    # when the fit runs in a Python thread other than the main one.
    from fastnn import _mlp
    from fastnn.backends import _cython

    monkeypatch.setattr(_cython, "_n_threads", lambda net, rows: 2)
    seen = []
    epoch = _mlp.epoch

    def spy(*args):
        seen.append(_blas_threads())
        return epoch(*args)

    monkeypatch.setattr(_mlp, "epoch", spy)
    before = _blas_threads()
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    out = {}
    if in_thread:
        worker = threading.Thread(target=_fit, args=(est, out, "clf"))
        worker.start()
        worker.join()
    else:
        _fit(est, out, "clf")
    assert "clf" in out
    assert seen and all(n == [1] * len(before) for n in seen)
    assert _blas_threads() == before


@pytest.mark.skipif(available_cores() < 2, reason="needs 2 cores")
@pytest.mark.parametrize("backend", THREADED)
def test_thread_count_changes_only_rounding(backend):
    # Two threads sum each batch's gradient in two parts: the same model,
    # to rounding, as one thread (float64, a few epochs).
    params = dict(hidden_layer_sizes=(64,), max_iter=3, random_state=0, backend=backend)
    one, two = (_fit_one(MLPClassifier(**params, n_threads=n)) for n in (1, 2))
    for a, b in zip(one.coefs_, two.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert any((a != b).any() for a, b in zip(one.coefs_, two.coefs_)), "ran on one thread"


def _fit_one(est):
    out = {}
    _fit(est, out, "est")
    return out["est"]


_BESIDE_AN_OPENMP_USER = """
import ctypes, warnings
# What importing PyTorch first does: an OpenMP runtime loaded globally, which
# OpenBLAS (built on pthreads) then finds and consults on each threaded call.
ctypes.CDLL("libgomp.so.1", mode=ctypes.RTLD_GLOBAL)
import numpy as np
import fastnn
warnings.simplefilter("ignore")
X = np.random.RandomState(0).normal(size=(4200, 400)).astype(np.float32)
fastnn.MLPClassifier((512, 256), batch_norm=True, batch_size=128, max_iter=2,
                     backend={backend!r}).fit(X, (X[:, 0] > 0).astype(int))
print("fitted")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="libgomp is Linux's runtime")
@pytest.mark.parametrize("backend", THREADED)
def test_no_openblas_call_from_an_openmp_region_beside_another_openmp_user(backend):
    # Large products, so OpenBLAS would run threads of its own: none of its
    # calls may come from inside one of our OpenMP regions (it warns that
    # this may hang, once per call: 33 times in this fit before the fix).
    import subprocess

    run = subprocess.run([sys.executable, "-c", _BESIDE_AN_OPENMP_USER.format(backend=backend)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "fitted" in run.stdout
    assert "OpenBLAS Warning" not in run.stdout + run.stderr
