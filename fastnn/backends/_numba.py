"""The Numba CPU backend (``backend="numba"``): njit kernels calling BLAS.

The kernels (``_numba_kernels``) compile on first use for each dtype and
input kind and are cached on disk (Numba's ``cache=True``), so only the
first fit on a machine pays for compilation; processes starting together
take turns to compile (``_numba_cache``). A whole epoch is one compiled
call that releases the GIL; Ctrl-C is noticed when the epoch returns.

Threads follow the Cython backend's rule (``_threads.n_threads_for``): a
batch big enough is split by rows between Numba's threads (``prange``),
each calling single-threaded BLAS on its share.
"""

import numpy as np

from ._base import Backend
from ._data import (
    NO_DROPOUT, CSRInput, epoch_plan, input_args, net_args, optimizer_args, scratch, weights_arg,
)
from ._threads import chunk_rows, n_threads_for, single_threaded_blas

# Rows per chunk when predicting, so memory stays bounded on large inputs.
PREDICT_CHUNK = 4096


def describe():
    """One line for ``show_backends``; ImportError without numba."""
    import numba

    return f"Numba {numba.__version__} njit kernels, up to {numba.get_num_threads()} thread(s)"


def _kernels():
    # Imported on first use: importing numba costs about half a second.
    from . import _numba_kernels

    return _numba_kernels


def _n_threads(net, rows):
    import numba

    return n_threads_for(numba.get_num_threads(), rows, net.n_weights)


def _train_threads(net, rows):
    # Batch statistics span the whole batch: with batch norm a batch is not
    # split by rows, and BLAS keeps its own threads for the GEMMs.
    return 1 if net.has_batch_norm else _n_threads(net, rows)


class NumbaBackend(Backend):
    """Numba ``njit`` kernels; a whole epoch per call, without the GIL."""

    name = "numba"

    def __init__(self):
        _kernels()  # fail here, with numba's ImportError, if numba is missing

    def fit_scope(self, net, rows):
        # As for Cython: BLAS stays on one thread for the whole fit while ours run.
        return single_threaded_blas(_train_threads(net, rows))

    def forward(self, net, theta, X):
        K = _kernels()
        n = X.shape[0]
        out = np.empty((n, net.units[-1]), dtype=theta.dtype)
        n_threads = _n_threads(net, n)
        chunk = chunk_rows(n, n_threads, PREDICT_CHUNK)
        with single_threaded_blas(n_threads):
            return K.forward(input_args(X), theta, net_args(net), out, chunk, n_threads)

    def loss_grad(self, net, theta, data, alpha, grad, cache=None, l1=0.0):
        K = _kernels()
        n_threads = _n_threads(net, data.n_samples)
        size = K.workspace_size(net.units, net.activation_codes, data.n_samples, False,
                                n_threads, NO_DROPOUT, False, net.activation_params)
        work = scratch({} if cache is None else cache, size, theta.dtype)
        with single_threaded_blas(n_threads):
            return K.loss_grad(input_args(data.X), data.Y, weights_arg(data), theta,
                               net_args(net), float(alpha), float(l1), grad, work, n_threads)

    def epoch(self, net, theta, optimizer, data, order, batch_size, alpha, cache, l1=0.0,
              dropout=None, bn_momentum=0.99, ahead=None):
        K = _kernels()
        rows = min(batch_size, data.n_samples)
        n_threads = _train_threads(net, rows)
        gather = order is not None and not isinstance(data.X, CSRInput)
        plan = epoch_plan(net, order, batch_size, alpha, l1, dropout, bn_momentum)
        key = (rows, theta.shape[0], theta.dtype.str, gather, n_threads, dropout is None)
        if cache.get("key") != key:
            cache["key"] = key
            size = K.workspace_size(net.units, net.activation_codes, rows, gather, n_threads,
                                    plan.drop, net.has_batch_norm, net.activation_params)
            cache["work"] = np.empty(size, dtype=theta.dtype)
            cache["grad"] = np.empty_like(theta)
        kernel_optimizer = optimizer_args(optimizer)
        with single_threaded_blas(n_threads):
            accumulated, rate = K.epoch(input_args(data.X), data.Y, weights_arg(data), theta,
                                        net_args(net), kernel_optimizer, plan, cache["grad"],
                                        cache["work"], n_threads)
        optimizer.set_counters(kernel_optimizer.step)
        optimizer.record_rate(rate)
        return accumulated
