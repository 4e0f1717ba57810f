# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled MLP core: one mini-batch epoch, full-batch loss and gradient, forward.

Everything here works on flat buffers laid out by ``fastnn._network``:
parameters ``theta`` (all weight matrices, then all biases) and a workspace
``work`` that the caller allocates once per fit (see ``workspace_size``), so
the batch loop allocates nothing and runs without the GIL.

The input is either dense (``X_values`` is the C-contiguous ``X`` flattened)
or CSR (``X_values``/``X_indices``/``X_indptr``); a sparse input is only ever
multiplied in the first layer, by sparse x dense loops.

With ``n_threads > 1`` a batch is split by rows between OpenMP threads
(``part_loss_grad``: each thread's forward, backward and summed gradient in
its own buffers), then the parameters are split in slices to add the parts
up, average them and step (``part_finish_step``). An epoch may split a large
first layer by input features instead (``split_product``,
``split_weight_grad``): each thread then keeps to its own rows of W0. BLAS
calls inside must run single-threaded: the Python caller sees to it.

This file holds the layout the parts share (``Net``, ``Data``, ``Parts``)
and includes the parts, one concern each, into this one module:

- ``_mlp_forward.pxi``: the forward pass, and ``forward``;
- ``_mlp_backward.pxi``: a batch's summed loss and gradient;
- ``_mlp_parts.pxi``: a batch split between threads, and ``workspace_size``;
- ``_mlp_step.pxi``: the optimizer step, by parameter slices;
- ``_mlp_epoch.pxi``: the batch loop, and ``epoch``;
- ``_mlp_lbfgs.pxi``: L-BFGS's full-batch ``loss_grad``;
- ``_mlp_avx512.pxi``: the AVX-512 kernels' switches and probes.
"""

from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.math cimport fabs, sqrt
from libc.stdint cimport uint64_t
from libc.string cimport memcpy, memset

from _blas cimport gemm, sumsq
from _dropout cimport drop_units
from _batch_norm cimport bn_forward, bn_backward
from _activations cimport (bias_activation, mul_derivative, prelu_backward, maxout_forward,
                          maxout_backward)
from _losses cimport sample_loss, finish_loss
from _shuffle cimport generator_of, shuffle_indices
from _rows_gemm cimport (rows_available, rows_fit, rows_gemm, rows_tn_work_size, rows_work_size,
                         ROWS_NN, ROWS_TN, ROWS_NT)
from numpy.random cimport bitgen_t
from _updates cimport (optimizer_step, step_scalars, exact_inverse, adam_pass,
                       adam_pass_available, adam_t)
# Codes, hyper-parameter positions and constants, generated from fastnn/_registry.py.
from _registry_codes cimport *

def registry():
    """The codes, hyper-parameter positions and constants compiled into this module.

    Generated from ``fastnn/_registry.py`` at build time; the tests check that
    they agree with it.
    """
    return compiled_registry()


cdef extern from "_threads.h":
    int fastnn_max_threads() noexcept nogil

cdef extern from *:
    # GCC's cache hint: fetch the line at an address, not waiting for it.
    void prefetch "__builtin_prefetch" (const void* address) noexcept nogil

cdef extern from "Python.h":
    # Without Cython's exception check: the batch loop reports -1 itself.
    int check_signals "PyErr_CheckSignals" () noexcept
    unsigned long thread_ident "PyThread_get_thread_ident" () noexcept nogil

import threading

import numpy as np

# Python handles signals in its main thread only (PyErr_CheckSignals does
# nothing in any other): an epoch elsewhere never takes the GIL to check.
cdef unsigned long MAIN_THREAD = threading.main_thread().ident

# Whether the row kernels (_rows_gemm.h) run where they can: an epoch's split
# first layer reads the batch's rows in place instead of gathering them for
# BLAS, and the other layers' moderate products (``rows_fit``) skip BLAS.
# On by default where the CPU has AVX-512 (``row_kernels``).
cdef bint ROWS_KERNEL = rows_available()
# Whether Adam's step of a slice runs in one pass (_adam_step.h, AVX-512)
# where it can (``one_pass_adam``).
cdef bint ADAM_PASS = adam_pass_available()


cdef enum:
    # Batches between two checks for Ctrl-C (each check takes the GIL briefly,
    # so only an epoch in the main thread checks: see ``signal_every``).
    SIGNAL_EVERY = 8
    # Per-thread sums: loss, sample weights, sum(W ** 2), sum(|W|).
    STATS = 4
    # Columns summed at once by ``column_sums``.
    SUM_BLOCK = 16


cdef struct Net:
    Py_ssize_t n_layers
    const Py_ssize_t* units     # n_layers + 1 unit counts (outputs), input first
    const int* acts             # activation code of each layer
    # Activation parameter of each layer: leaky_relu's slope, or the pieces
    # of a maxout layer, whose ``width`` (x @ W's columns) is units * pieces.
    const double* act_param
    const Py_ssize_t* coef_off  # start of each weight matrix in theta
    const Py_ssize_t* bias_off  # start of each bias vector in theta
    # Start of each layer's prelu slopes in theta (after the batch-norm
    # blocks); layer l's block slope_off[l]:slope_off[l + 1] is empty unless
    # its activation is prelu.
    const Py_ssize_t* slope_off
    int loss
    # Sum of the layers' widths: one row of every layer's block (a maxout
    # layer's block holds its pieces, then its outputs in the first units).
    Py_ssize_t act_size
    bint keep                   # training keeps what derivatives read (see forward_batch)
    const double* drop          # dropout rate of each layer; NULL: no dropout
    uint64_t key                # the epoch's dropout stream (fastnn/_dropout.py)
    # Batch normalization (fastnn/_batch_norm.py); bn_off NULL: none. Layer l
    # is normalized when its block bn_off[l]:bn_off[l + 1] of theta (gamma,
    # running mean, running variance) is not empty. bn_mean and bn_inv hold
    # the batch's mean and 1 / sqrt(var + eps) of every column (act_size each).
    const Py_ssize_t* bn_off
    double bn_eps, bn_momentum
    double* bn_mean
    double* bn_inv


cdef struct Data:
    const void* values          # dense X (n x n_features) or CSR data
    const Py_ssize_t* indices   # CSR column indices; NULL when dense
    const Py_ssize_t* indptr
    Py_ssize_t n_features
    const void* Y               # n x n_outputs targets
    const void* sw              # per-sample weights, NULL when unweighted


cdef struct Parts:
    # One mini-batch split by rows between threads (see ``part_loss_grad``).
    Py_ssize_t n_threads
    Py_ssize_t per_max          # most rows one thread takes: its buffers' stride
    Py_ssize_t thread_work      # workspace elements of one thread
    Py_ssize_t n_params
    Py_ssize_t n_coef           # theta[:n_coef] are weights (L2-penalised)
    void* work                  # n_threads blocks of outputs, deltas, gathered rows
    void* grads                 # n_threads - 1 gradient buffers; thread 0 uses grad
    double* stats               # per thread: STATS sums (loss, weights, W ** 2, |W|)
    # The first layer split by input features instead (see ``split_product``):
    # thread k multiplies the batch's columns feature_start(k):feature_start(k + 1)
    # by those rows of W0, steps them, and gathers them into its block of
    # ``xparts`` (max_batch x split_cols); its product goes to its block of
    # ``zparts`` (max_batch x width(0)). The first layer's deltas of the
    # whole batch, each thread's rows at their place, go to ``d0``
    # (max_batch x width(0)). split False: NULL.
    bint split
    Py_ssize_t max_batch
    Py_ssize_t split_cols
    void* xparts
    void* zparts
    void* d0
    # With the row kernels (``ROWS_KERNEL``) the threads gather nothing for
    # the product: thread k's block of ``xrows`` (max_batch pointers) points
    # at its columns of each row of the batch, and the kernels copy them to
    # its block of ``xparts`` as they go, for the weight gradient. Else NULL.
    const void** xrows
    # In float64 they also run the product row-outer (FASTNN_ROWS_OUTER), with
    # thread k's rows of W0 packed whole into its block of ``bpack``
    # (``bpack_size`` elements). Else NULL.
    void* bpack
    Py_ssize_t bpack_size
    # With the row kernels the weight gradient passes over the stretches of
    # zeros in the thread's columns of the batch (FASTNN_ROWS_TN_SKIP), in
    # thread k's block of ``tnwork`` (``tnwork_size`` elements). Else NULL.
    void* tnwork
    Py_ssize_t tnwork_size


cdef Net make_net(const Py_ssize_t[::1] units, const int[::1] acts,
                  const double[::1] act_param, const Py_ssize_t[::1] coef_off,
                  const Py_ssize_t[::1] bias_off, const Py_ssize_t[::1] slope_off, int loss,
                  Py_ssize_t n_params):
    cdef Net net
    cdef Py_ssize_t l
    net.n_layers = acts.shape[0]
    if units.shape[0] != net.n_layers + 1 or coef_off.shape[0] != net.n_layers + 1 \
            or bias_off.shape[0] != net.n_layers + 1 or act_param.shape[0] != net.n_layers \
            or slope_off.shape[0] != net.n_layers + 1:
        raise ValueError("inconsistent network description")
    if slope_off[net.n_layers] != n_params:
        raise ValueError("theta must end with the prelu slope blocks (slope_off)")
    for l in range(net.n_layers):
        if slope_off[l + 1] - slope_off[l] != (units[l + 1] if acts[l] == ACT_PRELU else 0):
            raise ValueError("a prelu layer's slope block holds one slope per unit; "
                             "other layers have none")
    if acts[net.n_layers - 1] == ACT_PRELU or acts[net.n_layers - 1] == ACT_MAXOUT:
        raise ValueError("prelu and maxout are hidden activations")
    net.units = &units[0]
    net.acts = &acts[0]
    net.act_param = &act_param[0]
    for l in range(net.n_layers):
        if acts[l] == ACT_MAXOUT and not (act_param[l] >= 1 and act_param[l] % 1 == 0):
            raise ValueError("a maxout layer's parameter is its number of pieces, "
                             "a whole number >= 1")
        if coef_off[l + 1] - coef_off[l] != units[l] * width(&net, l) \
                or bias_off[l + 1] - bias_off[l] != width(&net, l):
            raise ValueError("a layer's weights and biases must have units * pieces "
                             "columns (maxout), else units")
    net.keep = keeps_input(acts)
    net.drop = NULL
    net.key = 0
    net.bn_off = NULL
    net.bn_mean = net.bn_inv = NULL
    net.coef_off = &coef_off[0]
    net.bias_off = &bias_off[0]
    net.slope_off = &slope_off[0]
    net.loss = loss
    net.act_size = 0
    for l in range(net.n_layers):
        net.act_size += width(&net, l)
    return net


cdef bint keeps_input(const int[::1] acts):
    # Whether a hidden layer's derivative needs its pre-activations.
    cdef Py_ssize_t l
    for l in range(acts.shape[0] - 1):
        if derivative_from_input(acts[l]):
            return True
    return False


cdef inline Py_ssize_t width(Net* net, Py_ssize_t l) noexcept nogil:
    # Columns of layer l's x @ W: a maxout layer's units times pieces.
    if net.acts[l] == ACT_MAXOUT:
        return net.units[l + 1] * <Py_ssize_t>net.act_param[l]
    return net.units[l + 1]


cdef inline Py_ssize_t unit_offset(Net* net, Py_ssize_t l) noexcept nogil:
    # Index of layer l's first output unit counted over all layers (dropout's).
    cdef Py_ssize_t k, off = 0
    for k in range(1, l + 1):
        off += net.units[k]
    return off


cdef inline bint normalized(Net* net, Py_ssize_t l) noexcept nogil:
    # Whether layer l has batch normalization.
    return net.bn_off != NULL and net.bn_off[l + 1] > net.bn_off[l]


cdef inline const floating* layer_slopes(Net* net, const floating* theta,
                                         Py_ssize_t l) noexcept nogil:
    # Layer l's prelu slopes, NULL for the other activations.
    return theta + net.slope_off[l] if net.acts[l] == ACT_PRELU else NULL


cdef inline Py_ssize_t sample_at(const Py_ssize_t* rows, Py_ssize_t start,
                                 Py_ssize_t r) noexcept nogil:
    return rows[start + r] if rows != NULL else start + r


cdef inline void product(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                         const floating* A, Py_ssize_t lda, const floating* B, Py_ssize_t ldb,
                         floating* C, Py_ssize_t ldc) noexcept nogil:
    """C (m x n) = op(A) @ op(B) of row-major operands (not both transposed).

    The row kernels where they are on and the shape suits them
    (``rows_fit``), else BLAS.
    """
    if ROWS_KERNEL and rows_fit(m, n, k, sizeof(floating)):
        rows_gemm(ROWS_TN if trans_a else (ROWS_NT if trans_b else ROWS_NN), m, n, k, NULL,
                  A, lda, B, ldb, C, ldc)
    else:
        gemm(trans_a, trans_b, <int>m, <int>n, <int>k, <floating>1.0, A, <int>lda, B, <int>ldb,
             <floating>0.0, C, <int>ldc)


cdef Data make_data(const floating[::1] X_values, const Py_ssize_t[::1] X_indices,
                    const Py_ssize_t[::1] X_indptr, Py_ssize_t n_features,
                    const floating* Y, const floating[::1] sw):
    cdef Data d
    d.values = &X_values[0] if X_values.shape[0] > 0 else NULL
    d.indices = &X_indices[0] if X_indptr.shape[0] > 0 else NULL
    d.indptr = &X_indptr[0] if X_indptr.shape[0] > 0 else NULL
    d.n_features = n_features
    d.Y = Y
    d.sw = &sw[0] if sw.shape[0] > 0 else NULL
    return d


def max_threads():
    """Threads an OpenMP parallel region would use now (1 without OpenMP)."""
    return fastnn_max_threads()


# The parts, in the order of their dependencies.
include "_mlp_forward.pxi"
include "_mlp_backward.pxi"
include "_mlp_parts.pxi"
include "_mlp_step.pxi"
include "_mlp_epoch.pxi"
include "_mlp_lbfgs.pxi"
include "_mlp_avx512.pxi"
