"""The compiled backend: Cython kernels calling BLAS (``backend="cython"``)."""

import numpy as np

from .. import _check_build  # noqa: F401  (readable error if not built)
from .. import _mlp
from .. import _shuffle
from ._base import Backend
from ._data import epoch_plan, input_args, net_args, optimizer_args, scratch, weights_arg
from ._threads import (
    blas_runs_one_thread, chunk_rows, n_threads_for, single_threaded_blas, spare_thread,
    split_first_layer,
)

# Rows per chunk when predicting, so memory stays bounded on large inputs.
PREDICT_CHUNK = 4096


def describe():
    """One line for ``show_backends``."""
    return f"Cython + BLAS kernels, up to {_mlp.max_threads()} OpenMP thread(s)"


def _n_threads(net, rows):
    return n_threads_for(_mlp.max_threads(), rows, net.n_weights)


def _train_threads(net, rows):
    # Batch statistics span the whole batch: with batch norm a batch is not
    # split by rows, and BLAS keeps its own threads for the GEMMs.
    return 1 if net.has_batch_norm else _n_threads(net, rows)


class CythonBackend(Backend):
    """Cython + BLAS kernels; a whole epoch per call, without the GIL."""

    name = "cython"

    def fit_scope(self, net, rows):
        # BLAS threads woken between our calls (by scipy's L-BFGS-B, early
        # stopping's scoring, ...) keep spinning on our cores: hold BLAS at one
        # thread for the whole fit, not just inside each call.
        return single_threaded_blas(_train_threads(net, rows))

    def forward(self, net, theta, X):
        n = X.shape[0]
        out = np.empty((n, net.units[-1]), dtype=theta.dtype)
        n_threads = _n_threads(net, n)
        chunk = chunk_rows(n, n_threads, PREDICT_CHUNK)
        work = np.empty(n_threads * chunk * sum(net.widths[1:]), dtype=theta.dtype)
        with single_threaded_blas(n_threads):
            return _mlp.forward(input_args(X), theta, net_args(net), out, work, n_threads)

    def loss_grad(self, net, theta, data, alpha, grad, cache=None, l1=0.0):
        n_threads = _n_threads(net, data.n_samples)
        size = _mlp.workspace_size(net.widths, net.activation_codes, data.n_samples, False,
                                   n_threads, theta.shape[0])
        work = scratch({} if cache is None else cache, size, theta.dtype)
        with single_threaded_blas(n_threads):
            return _mlp.loss_grad(input_args(data.X), data.Y, weights_arg(data), theta,
                                  net_args(net), float(alpha), float(l1), grad, work, n_threads)

    def epoch(self, net, theta, optimizer, data, order, batch_size, alpha, cache, l1=0.0,
              dropout=None, bn_momentum=0.99, ahead=None):
        dtype = theta.dtype
        rows = min(batch_size, data.n_samples)
        n_threads = _train_threads(net, rows)
        # One thread runs the batches and the epoch draws the next order, so no
        # shuffle runs with the GIL between epochs (where fits on other Python
        # threads would wait for it): on a second thread where one is free and
        # the order long enough to pay for waking it, else after the batches.
        # Not beside a BLAS that runs threads of its own: it would be called
        # from inside our OpenMP region, which OpenBLAS (built on pthreads)
        # warns may hang, and prints on each call where an OpenMP runtime is
        # loaded globally (PyTorch loads one).
        draw = ahead is not None and n_threads == 1
        beside = (draw and data.n_samples >= _shuffle.MIN_AHEAD
                  and spare_thread(_mlp.max_threads()) and blas_runs_one_thread(net, rows))
        dropping = dropout is not None
        split = split_first_layer(net, n_threads)
        key = (rows, theta.shape[0], dtype.str, n_threads, dropping, split)
        if cache.get("key") != key:
            size = _mlp.workspace_size(net.widths, net.activation_codes, rows, True, n_threads,
                                       theta.shape[0], dropping, net.has_batch_norm, split)
            cache["key"] = key
            cache["work"] = np.empty(size, dtype=dtype)
            cache["grad"] = np.empty_like(theta)
            cache["net"] = net_args(net)
        kernel_optimizer = optimizer_args(optimizer)
        plan = epoch_plan(net, order, batch_size, alpha, l1, dropout, bn_momentum)
        try:
            with single_threaded_blas(n_threads):
                accumulated, rate = _mlp.epoch(
                    input_args(data.X), data.Y, weights_arg(data), theta, cache["net"],
                    kernel_optimizer, plan, cache["grad"], cache["work"], n_threads,
                    ahead.random_state if draw else None, ahead.target if draw else None,
                    split, beside,
                )
            if draw:
                ahead.drawn = True
        finally:
            # Keep the step count right even when Ctrl-C stops the epoch midway.
            optimizer.set_counters(kernel_optimizer.step)
        optimizer.record_rate(rate)
        return accumulated
