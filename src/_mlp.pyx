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
from _updates cimport (sgd_step, adam_step, rmsprop_step, adagrad_step, nadam_step, scale,
                       step_scalars, exact_inverse, adam_pass, adam_pass_available, adam_t)
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


cdef const floating* forward_batch(Net* net, Data* d, const Py_ssize_t* rows,
                                   Py_ssize_t start, Py_ssize_t nb,
                                   const floating* theta, floating* acts,
                                   floating* pres, floating* xhats, floating* xbuf,
                                   Py_ssize_t max_batch, Parts* split,
                                   Py_ssize_t lo) noexcept nogil:
    """Fill every layer's output for the batch; return the dense input used.

    Layer l's output is the block ``acts + max_batch * sum(widths[:l])``
    (a maxout layer's outputs fill the start of its block); unless ``pres``
    is NULL, what each layer's derivative reads goes to the
    same place in ``pres`` where the outputs cannot serve: the
    pre-activations of the layers whose derivative needs them, the outputs
    before the mask of the layers with dropout (``net.drop``; row ``r`` of
    the batch is row ``start + r`` of the epoch's order). Batch-normalized
    layers (training only) keep their normalized ``x @ W`` at the same place
    in ``xhats`` and move their running statistics in ``theta``.
    Returns NULL for sparse input (the first layer reads the CSR arrays).

    Unless ``split`` is NULL, the first layer's product is not computed
    but added up from the threads' parts (``split_product``), from row
    ``lo`` of the batch on; nothing is gathered and NULL is returned.
    """
    cdef Py_ssize_t l, r, p, j, i, n_in, n_out, n_units, nf = d.n_features
    cdef const floating* X = <const floating*>d.values
    cdef const floating* xin = NULL
    cdef const floating* w
    cdef const floating* a_in
    cdef floating* z = acts
    cdef floating* zr
    cdef floating* bn
    cdef floating v
    cdef Py_ssize_t unit
    cdef bint fused

    if d.indices == NULL and split == NULL:
        if rows == NULL:
            xin = X + start * nf
        else:
            # Gather the shuffled rows into one contiguous block for GEMM.
            for r in range(nb):
                memcpy(xbuf + r * nf, X + rows[start + r] * nf, nf * sizeof(floating))
            xin = xbuf

    a_in = xin
    for l in range(net.n_layers):
        n_in = net.units[l]
        n_out = width(net, l)
        n_units = net.units[l + 1]
        w = theta + net.coef_off[l]
        fused = False
        if l == 0 and split != NULL:
            fused = add_split_parts(z, split, lo, nb, n_out, theta + net.bias_off[0], net.acts[0])
        elif l == 0 and d.indices != NULL:
            # Z = X_batch @ W0 with X_batch sparse: one axpy per stored value.
            memset(z, 0, nb * n_out * sizeof(floating))
            for r in range(nb):
                i = sample_at(rows, start, r)
                zr = z + r * n_out
                for p in range(d.indptr[i], d.indptr[i + 1]):
                    v = X[p]
                    w = theta + net.coef_off[0] + d.indices[p] * n_out
                    for j in range(n_out):
                        zr[j] = zr[j] + v * w[j]
        else:
            # Z = A @ W
            product(False, False, nb, n_out, n_in, a_in, n_in, w, n_out, z, n_out)
        if normalized(net, l):
            unit = (z - acts) // max_batch
            bn = <floating*>theta + net.bn_off[l]
            bn_forward(z, xhats + (z - acts), net.bn_mean + unit, net.bn_inv + unit, bn,
                       bn + n_out, bn + 2 * n_out, nb, n_out, net.bn_eps, net.bn_momentum)
        if not fused:
            bias_activation(z, theta + net.bias_off[l], nb, n_out,
                            ACT_IDENTITY if net.acts[l] == ACT_MAXOUT else net.acts[l],
                            net.act_param[l],
                            pres if pres != NULL and derivative_from_input(net.acts[l]) else NULL,
                            layer_slopes(net, theta, l))
        if net.acts[l] == ACT_MAXOUT:
            maxout_forward(z, nb, n_units, n_out // n_units)
        # Dropout in training only (pres is NULL when predicting).
        if net.drop != NULL and pres != NULL and l < net.n_layers - 1 and net.drop[l] > 0:
            if not derivative_from_input(net.acts[l]):
                memcpy(pres, z, nb * n_out * sizeof(floating))
            drop_units(z, nb, n_units, net.drop[l], net.key, start, unit_offset(net, l))
        a_in = z
        z = z + max_batch * n_out
        if pres != NULL:
            pres = pres + max_batch * n_out
    return xin


cdef inline void column_sums(const floating* D, Py_ssize_t n_rows, Py_ssize_t n_cols,
                             floating* out) noexcept nogil:
    """out = D.sum(axis=0), each column summed in row order.

    Blocks of SUM_BLOCK columns are summed in a local array the compiler
    keeps in registers (``out`` might alias ``D`` as far as it knows).
    """
    cdef floating acc[SUM_BLOCK]
    cdef floating a
    cdef Py_ssize_t r, j, j0 = 0
    while j0 + SUM_BLOCK <= n_cols:
        for j in range(SUM_BLOCK):
            acc[j] = 0
        for r in range(n_rows):
            for j in range(SUM_BLOCK):
                acc[j] = acc[j] + D[r * n_cols + j0 + j]
        for j in range(SUM_BLOCK):
            out[j0 + j] = acc[j]
        j0 += SUM_BLOCK
    for j in range(j0, n_cols):
        a = 0
        for r in range(n_rows):
            a = a + D[r * n_cols + j]
        out[j] = a


cdef double raw_loss_grad(Net* net, Data* d, const Py_ssize_t* rows,
                          Py_ssize_t start, Py_ssize_t nb, const floating* theta,
                          floating* grad, floating* acts, floating* deltas,
                          floating* pres, floating* xhats, floating* xbuf,
                          Py_ssize_t max_batch, double* sw_sum, Parts* split,
                          Py_ssize_t lo) noexcept nogil:
    """Summed loss of the rows and their summed gradient, written to ``grad``.

    Nothing is averaged or penalised yet (see ``part_finish_step``), so the rows of
    one mini-batch can be split between threads and the parts added up (not
    with batch normalization, whose statistics need the whole batch).
    Returns the weighted sum of per-sample losses; ``sw_sum`` gets the sum of
    the weights. With ``split`` (not NULL), the first layer's weight gradient
    is left to ``split_weight_grad`` and its product read from the parts
    (see ``forward_batch``; the rows are rows ``lo:lo + nb`` of the batch).
    """
    cdef Py_ssize_t L = net.n_layers, l, r, i, j, p
    cdef Py_ssize_t n_out = net.units[L], n_in, n_cur
    cdef const floating* X = <const floating*>d.values
    cdef const floating* Y = <const floating*>d.Y
    cdef const floating* sw = <const floating*>d.sw
    cdef const floating* xin
    cdef const floating* a_in
    cdef const floating* W
    cdef floating* P
    cdef const floating* V
    cdef floating* D
    cdef floating* D_prev
    cdef floating* gW
    cdef floating* gb
    cdef floating* gr
    cdef const floating* dr
    cdef Py_ssize_t off = 0
    cdef double total = 0.0, weights = 0.0, wr
    cdef floating eps, v
    cdef bint dropped
    if floating is float:
        eps = 1.1920928955078125e-07
    else:
        eps = 2.220446049250313e-16

    # Shuffled, the targets' rows are scattered in memory: fetch them (and
    # the weights) while the forward pass runs. In order (rows NULL: also
    # L-BFGS's whole-set pass) they are read in sequence and need no hint.
    if rows != NULL:
        for r in range(nb):
            i = rows[start + r]
            prefetch(Y + i * n_out)
            if sw != NULL:
                prefetch(sw + i)
    xin = forward_batch(net, d, rows, start, nb, theta, acts, pres, xhats, xbuf, max_batch,
                        split, lo)

    # Output layer: loss and delta = (prediction - target) * weight.
    for l in range(L - 1):
        off += max_batch * width(net, l)
    P = acts + off
    D = deltas + off
    for r in range(nb):
        i = sample_at(rows, start, r)
        wr = sw[i] if sw != NULL else 1.0
        total += wr * sample_loss(P + r * n_out, Y + i * n_out, n_out, net.loss, eps)
        weights += wr
        for j in range(n_out):
            D[r * n_out + j] = P[r * n_out + j] - Y[i * n_out + j]
            if sw != NULL:
                D[r * n_out + j] = D[r * n_out + j] * sw[i]

    for l in range(L - 1, -1, -1):
        n_in = net.units[l]
        n_cur = width(net, l)
        W = theta + net.coef_off[l]
        gW = grad + net.coef_off[l]
        gb = grad + net.bias_off[l]
        # The previous layer's outputs, at the start of its block.
        a_in = xin if l == 0 else P - max_batch * width(net, l - 1)
        column_sums(D, nb, n_cur, gb)
        if normalized(net, l):
            # D becomes dL/d(x @ W); the bias sums above are dL/dbeta.
            # The layer's batch means, no longer needed, serve as scratch.
            bn_backward(D, xhats + (P - acts), net.bn_inv + (P - acts) // max_batch,
                        theta + net.bn_off[l], gb, grad + net.bn_off[l],
                        net.bn_mean + (P - acts) // max_batch, nb, n_cur)
        if l == 0 and split != NULL:
            pass  # split_weight_grad, once every thread's D is done
        elif l == 0 and d.indices != NULL:
            # gW = X_batch.T @ D with X_batch sparse: scatter rows of D.
            memset(gW, 0, n_in * n_cur * sizeof(floating))
            for r in range(nb):
                i = sample_at(rows, start, r)
                dr = D + r * n_cur
                for p in range(d.indptr[i], d.indptr[i + 1]):
                    v = X[p]
                    gr = gW + d.indices[p] * n_cur
                    for j in range(n_cur):
                        gr[j] = gr[j] + v * dr[j]
        else:
            # gW = A.T @ D
            product(True, False, n_in, n_cur, nb, a_in, n_in, D, n_cur, gW, n_cur)
        if l > 0:
            # D_prev = (D @ W.T) * act'(A_prev)
            if l == 1 and split != NULL:
                # The first layer's deltas go to the batch's block (split_weight_grad).
                D_prev = <floating*>split.d0 + lo * width(net, 0)
            else:
                D_prev = D - max_batch * width(net, l - 1)
            product(False, True, nb, n_in, n_cur, D, n_cur, W, n_cur, D_prev, n_in)
            D = D_prev
            P = P - max_batch * width(net, l - 1)
            # Dropped units pass no delta; kept ones are scaled as in the forward pass.
            dropped = net.drop != NULL and net.drop[l - 1] > 0
            if dropped:
                drop_units(D, nb, n_in, net.drop[l - 1], net.key, start, unit_offset(net, l - 1))
            # The derivative reads the outputs, or what forward_batch kept.
            V = P
            if dropped or derivative_from_input(net.acts[l - 1]):
                V = pres + (P - acts)
            if net.acts[l - 1] == ACT_MAXOUT:
                maxout_backward(D, V, nb, n_in, width(net, l - 1) // n_in)
            elif net.acts[l - 1] == ACT_PRELU:
                prelu_backward(D, V, theta + net.slope_off[l - 1],
                               grad + net.slope_off[l - 1], nb, n_in)
            else:
                # The nb rows are contiguous: one pass over the block.
                mul_derivative(D, V, nb * n_in, net.acts[l - 1], net.act_param[l - 1])

    sw_sum[0] = weights
    return total


cdef struct Step:
    # The optimizer update applied after a batch's gradient is complete.
    int solver                  # OPTIMIZERS code, or -1 for no update
    double momentum, beta_1, beta_2, eps, rho
    double sc[3]                # this step's step_scalars (sc[0]: the rate)
    bint nesterov
    void* state_1
    void* state_2
    # Keras' clipnorm: each variable's gradient scaled to norm <= clipnorm
    # (0: off). Variables: the weight matrices, then the bias vectors.
    double clipnorm
    Py_ssize_t n_vars
    const Py_ssize_t* bounds    # n_vars + 1 variable starts in theta
    double* var_sq              # n_threads x n_vars sums of squared gradients
    double* var_scale           # n_vars factors


cdef inline Py_ssize_t ceil_div(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return (a + b - 1) // b


cdef inline Py_ssize_t cut(Py_ssize_t k, Py_ssize_t n_threads, Py_ssize_t a, Py_ssize_t b,
                           Py_ssize_t g) noexcept nogil:
    # Start of thread k's share of [a, b): equal shares, cut at multiples of g.
    if k <= 0:
        return a
    if k >= n_threads:
        return b
    return max(a, (a + k * (b - a) // n_threads) // g * g)


cdef inline Py_ssize_t feature_start(Py_ssize_t k, Py_ssize_t n_threads,
                                     Py_ssize_t n_features) noexcept nogil:
    # Thread k's first input feature when the first layer is split: cuts at
    # multiples of 8 (whole 32-byte blocks of a gathered row) when there are
    # enough features.
    return cut(k, n_threads, 0, n_features, 8 if n_features >= 8 * n_threads else 1)


cdef inline bint can_split(Py_ssize_t n_features, Py_ssize_t n_threads,
                           bint norm) noexcept nogil:
    # Whether the first layer can be split by input features: a feature
    # for every thread, and no batch norm (which keeps one thread).
    return n_threads > 1 and not norm and n_features >= n_threads


cdef inline Py_ssize_t split_cols(Py_ssize_t n_features, Py_ssize_t n_threads) noexcept nogil:
    # The most features one thread takes when the first layer is split.
    cdef Py_ssize_t k, c = 0
    for k in range(n_threads):
        c = max(c, feature_start(k + 1, n_threads, n_features)
                - feature_start(k, n_threads, n_features))
    return c


cdef inline Py_ssize_t thread_work_size(Py_ssize_t act_size, Py_ssize_t n_features,
                                        Py_ssize_t per, bint gather, bint keep,
                                        bint norm) noexcept nogil:
    # One thread's block: outputs and deltas of ``per`` rows, pre-activations
    # if kept, normalized products with batch norm, then gathered rows.
    return per * ((2 + keep + norm) * act_size + (n_features if gather else 0))


cdef Parts make_parts(Net* net, Py_ssize_t max_batch, bint gather, Py_ssize_t n_threads,
                      Py_ssize_t n_params, floating* work, double* stats, bint split):
    # ``split``: the first layer split by input features (``split_product``);
    # the threads then gather no whole rows.
    cdef Parts p
    p.n_threads = n_threads
    p.per_max = ceil_div(max_batch, n_threads)
    p.thread_work = thread_work_size(net.act_size, net.units[0], p.per_max,
                                     gather and not split, net.keep, net.bn_off != NULL)
    p.n_params = n_params
    p.n_coef = net.coef_off[net.n_layers]
    p.work = work
    p.grads = work + n_threads * p.thread_work
    p.stats = stats
    p.split = split
    p.max_batch = max_batch
    p.split_cols = split_cols(net.units[0], n_threads) if split else 0
    p.xparts = p.zparts = p.d0 = NULL
    p.xrows = p.bpack = p.tnwork = NULL
    p.bpack_size = p.tnwork_size = 0
    if split:
        p.xparts = <floating*>p.grads + (n_threads - 1) * n_params
        p.zparts = <floating*>p.xparts + n_threads * max_batch * p.split_cols
        p.d0 = <floating*>p.zparts + n_threads * max_batch * width(net, 0)
    return p


cdef Py_ssize_t work_size(Py_ssize_t act_size, Py_ssize_t n_features, Py_ssize_t width0,
                          Py_ssize_t max_batch, bint gather, Py_ssize_t n_threads,
                          Py_ssize_t n_params, bint keep, bint norm, bint split_first):
    # split_first: room to split the first layer by input features, if it can be.
    cdef bint split = split_first and can_split(n_features, n_threads, norm)
    cdef Py_ssize_t s = (n_threads * thread_work_size(act_size, n_features,
                                                      ceil_div(max_batch, n_threads),
                                                      gather and not split, keep, norm)
                         + (n_threads - 1) * n_params)
    if split:
        s += max_batch * (n_threads * (split_cols(n_features, n_threads) + width0) + width0)
    return s


def workspace_size(const Py_ssize_t[::1] units, const int[::1] acts, Py_ssize_t max_batch,
                   bint gather, Py_ssize_t n_threads=1, Py_ssize_t n_params=0,
                   bint dropout=False, bint batch_norm=False, bint split_first=False):
    """Number of elements of the ``work`` buffer of ``epoch`` and ``loss_grad``.

    ``units`` are the layers' widths, input first (``NetworkSpec.widths``:
    a maxout layer counts its pieces).

    Each of ``n_threads`` threads holds every layer's outputs and deltas for
    its share of a ``max_batch``-row batch (and what derivatives read when
    the outputs cannot serve: pre-activations, when a hidden activation's
    derivative needs them, or outputs before the mask, with ``dropout``; the
    normalized products, with ``batch_norm``; and room to gather dense input
    rows when ``gather``), and every thread but the first its own gradient.
    With ``split_first`` there is room for ``epoch``'s ``split_first``.
    """
    cdef Py_ssize_t l, s = 0
    for l in range(1, units.shape[0]):
        s += units[l]
    return work_size(s, units[0], units[1], max_batch, gather, n_threads, n_params,
                     keeps_input(acts) or dropout, batch_norm, split_first)


cdef inline floating* part_grad(Parts* p, floating* grad, Py_ssize_t k) noexcept nogil:
    return grad if k == 0 else <floating*>p.grads + (k - 1) * p.n_params


cdef void part_loss_grad(Net* net, Data* d, const Py_ssize_t* rows, Py_ssize_t start,
                         Py_ssize_t nb, Py_ssize_t k, const floating* theta,
                         floating* grad, Parts* p) noexcept nogil:
    """Thread ``k``'s share of a batch: its rows' summed loss and gradient."""
    cdef Py_ssize_t per = ceil_div(nb, p.n_threads)
    cdef Py_ssize_t lo = k * per, cnt = min(per, nb - lo)
    cdef floating* acts = <floating*>p.work + k * p.thread_work
    cdef floating* deltas = acts + p.per_max * net.act_size
    cdef floating* pres = deltas + p.per_max * net.act_size if net.keep else NULL
    cdef floating* xhats = (deltas + p.per_max * net.act_size * (1 + net.keep)
                            if net.bn_off != NULL else NULL)
    cdef floating* xbuf = deltas + p.per_max * net.act_size * (
        1 + net.keep + (net.bn_off != NULL))
    p.stats[STATS * k] = 0
    p.stats[STATS * k + 1] = 0
    if cnt > 0:
        p.stats[STATS * k] = raw_loss_grad(net, d, rows, start + lo, cnt, theta,
                                           part_grad(p, grad, k), acts, deltas, pres, xhats,
                                           xbuf, p.per_max, &p.stats[STATS * k + 1],
                                           p if p.split else NULL, lo)


cdef inline void thread_features(Py_ssize_t k, Parts* p, Py_ssize_t nf, Py_ssize_t* f,
                                 Py_ssize_t* c) noexcept nogil:
    # Thread k's input features f:f + c when the first layer is split.
    f[0] = feature_start(k, p.n_threads, nf)
    c[0] = feature_start(k + 1, p.n_threads, nf) - f[0]


cdef inline floating* column_block(Parts* p, Py_ssize_t k, const floating* like) noexcept nogil:
    # Thread k's block of ``xparts``, its columns of the batch (``like`` gives the type).
    return <floating*>p.xparts + k * p.max_batch * p.split_cols


cdef inline const floating* split_columns(const floating* X, Py_ssize_t nf,
                                          const Py_ssize_t* rows, Py_ssize_t start,
                                          Py_ssize_t nb, Py_ssize_t k, Parts* p, bint fill,
                                          Py_ssize_t* ld, Py_ssize_t* f,
                                          Py_ssize_t* c) noexcept nogil:
    """Thread k's input columns ``f:f + c`` of the batch, rows in the batch's order.

    Shuffled rows are gathered (when ``fill``) into the thread's block of
    ``xparts``; ``ld``, ``f`` and ``c`` get the leading dimension, the first
    column and the number of columns.
    """
    cdef Py_ssize_t r
    cdef floating* buf = column_block(p, k, X)
    thread_features(k, p, nf, f, c)
    if rows == NULL:
        ld[0] = nf
        return X + start * nf + f[0]
    ld[0] = c[0]
    if fill:
        for r in range(nb):
            memcpy(buf + r * c[0], X + rows[start + r] * nf + f[0], c[0] * sizeof(floating))
    return buf


cdef inline const floating** row_pointers(const floating* X, Py_ssize_t nf,
                                          const Py_ssize_t* rows, Py_ssize_t start,
                                          Py_ssize_t nb, Py_ssize_t k, Py_ssize_t f,
                                          Parts* p) noexcept nogil:
    """Thread k's block of ``xrows``, filled: where each row of the batch has column f.

    The row kernels read the rows there, ungathered.
    """
    cdef Py_ssize_t r
    cdef const floating** ptrs = <const floating**>p.xrows + k * p.max_batch
    for r in range(nb):
        ptrs[r] = X + (start + r if rows == NULL else rows[start + r]) * nf + f
    return ptrs


cdef void split_product(Net* net, Data* d, const Py_ssize_t* rows, Py_ssize_t start,
                        Py_ssize_t nb, Py_ssize_t k, const floating* theta,
                        Parts* p) noexcept nogil:
    """Thread k's part of the first layer's product, into its block of ``zparts``.

    With the first layer split, thread k takes the input features
    ``f:g`` (``feature_start``) and computes ``X_batch[:, f:g] @ W0[f:g]``
    for the whole batch: it reads only the rows of W0 it steps itself
    (``part_finish_step``). Each thread then adds the parts up for its own
    rows (``forward_batch``).
    """
    cdef Py_ssize_t w0 = width(net, 0), ld, f, c
    cdef const floating* X = <const floating*>d.values
    cdef const floating* x
    cdef floating* z = <floating*>p.zparts + k * p.max_batch * w0
    if p.xrows != NULL:
        # Shuffled, the kernels also keep the rows' columns in the thread's
        # block of xparts for split_weight_grad (see _rows_gemm.h).
        thread_features(k, p, d.n_features, &f, &c)
        rows_gemm(ROWS_NN, nb, w0, c,
                  row_pointers(X, d.n_features, rows, start, nb, k, f, p), NULL, 0,
                  theta + net.coef_off[0] + f * w0, w0, z, w0,
                  NULL if rows == NULL else column_block(p, k, X), c,
                  NULL if p.bpack == NULL else <floating*>p.bpack + k * p.bpack_size)
        return
    x = split_columns(X, d.n_features, rows, start, nb, k, p, True, &ld, &f, &c)
    gemm(False, False, <int>nb, <int>w0, <int>c, <floating>1.0, x, <int>ld,
         theta + net.coef_off[0] + f * w0, <int>w0, <floating>0.0, z, <int>w0)


cdef inline bint add_split_parts(floating* z, Parts* p, Py_ssize_t lo, Py_ssize_t nb,
                                 Py_ssize_t n_out, const floating* b, int act) noexcept nogil:
    """z = the threads' parts of the first layer's product added up, rows lo:lo + nb.

    A ReLU layer (``act``) also takes its bias ``b`` and activation in the
    pass that adds the last part, with bias_activation's operations in its
    order: returns True when it did.
    """
    cdef const floating* part = <const floating*>p.zparts + lo * n_out
    cdef const floating* first = part
    cdef const floating* last
    cdef Py_ssize_t i, j, k, n = nb * n_out, stride = p.max_batch * n_out
    cdef bint fuse = act == ACT_RELU and p.n_threads > 1
    cdef Py_ssize_t n_sum = p.n_threads - fuse
    cdef floating x
    if not fuse or n_sum > 1:
        memcpy(z, part, n * sizeof(floating))
        for k in range(1, n_sum):
            part = part + stride
            for i in range(n):
                z[i] = z[i] + part[i]
        first = z
    if not fuse:
        return False
    # The last part, the bias and the ReLU: one pass over z.
    last = <const floating*>p.zparts + lo * n_out + n_sum * stride
    for i in range(nb):
        for j in range(n_out):
            x = (first[i * n_out + j] + last[i * n_out + j]) + b[j]
            # `x < 0` keeps NaN as NaN, like np.maximum(x, 0).
            z[i * n_out + j] = 0 if x < 0 else x
    return True


cdef void split_weight_grad(Net* net, Data* d, const Py_ssize_t* rows, Py_ssize_t start,
                            Py_ssize_t nb, Py_ssize_t k, floating* grad,
                            Parts* p) noexcept nogil:
    """Thread k's rows ``f:g`` of the first layer's weight gradient, into ``grad``.

    ``X_batch[:, f:g].T @ D`` with D the batch's deltas in ``d0``. The
    shuffled batch's columns are in the thread's block of ``xparts``,
    gathered or kept by ``split_product``.
    """
    cdef Py_ssize_t w0 = width(net, 0), ld, f, c
    cdef const floating* X = <const floating*>d.values
    cdef const floating* x
    x = split_columns(X, d.n_features, rows, start, nb, k, p, False, &ld, &f, &c)
    if p.xrows != NULL:
        rows_gemm(ROWS_TN, c, w0, nb, NULL, x, ld,
                  <floating*>p.d0, w0, grad + net.coef_off[0] + f * w0, w0, NULL, 0,
                  NULL if p.tnwork == NULL else <floating*>p.tnwork + k * p.tnwork_size)
        return
    gemm(True, False, <int>c, <int>w0, <int>nb, <floating>1.0, x, <int>ld,
         <floating*>p.d0, <int>w0, <floating>0.0, grad + net.coef_off[0] + f * w0, <int>w0)


cdef inline void param_range(Parts* p, Net* net, Py_ssize_t k, Py_ssize_t j,
                             Py_ssize_t* lo, Py_ssize_t* hi) noexcept nogil:
    """Thread k's j-th range of parameters ``lo:hi`` (j = 0, 1).

    Split by rows, thread k steps a slice of all the parameters, whose
    gradient adds the threads' parts (range 0 is empty). With the first
    layer split, its rows of W0 (range 0) have their whole gradient in
    ``grad`` already, and range 1 is its slice of the rest.
    """
    cdef Py_ssize_t nf = net.units[0], w0 = width(net, 0), start = 0
    if p.split:
        start = net.coef_off[1]
    if j == 0:
        lo[0] = hi[0] = 0
        if p.split:
            lo[0] = net.coef_off[0] + feature_start(k, p.n_threads, nf) * w0
            hi[0] = net.coef_off[0] + feature_start(k + 1, p.n_threads, nf) * w0
        return
    lo[0] = cut(k, p.n_threads, start, p.n_params, 16)
    hi[0] = cut(k + 1, p.n_threads, start, p.n_params, 16)


cdef inline void add_parts(Py_ssize_t a, Py_ssize_t b, Py_ssize_t n_parts, floating* grad,
                           Parts* p) noexcept nogil:
    # grad[a:b] += the other threads' parts (the first n_parts threads' sums).
    cdef Py_ssize_t i, q
    cdef floating* part
    for q in range(1, n_parts):
        part = part_grad(p, grad, q)
        for i in range(a, b):
            grad[i] = grad[i] + part[i]


cdef inline void complete_block(Py_ssize_t a, Py_ssize_t b, Py_ssize_t c_end,
                                Py_ssize_t n_parts, floating* theta, floating* grad, Parts* p,
                                floating alpha_f, floating l1_f, floating sw_f) noexcept nogil:
    """Gradient of parameters ``[a, b)`` (weights below ``c_end``): parts, penalties, average."""
    cdef Py_ssize_t i
    cdef floating inv = <floating>exact_inverse(sw_f)
    add_parts(a, b, n_parts, grad, p)
    if l1_f == 0 and inv != 0:
        for i in range(a, c_end):
            grad[i] = (grad[i] + alpha_f * theta[i]) * inv
        for i in range(c_end, b):
            grad[i] = grad[i] * inv
        return
    if l1_f == 0:
        for i in range(a, c_end):
            grad[i] = (grad[i] + alpha_f * theta[i]) / sw_f
    else:
        # sign(W), 0 at 0
        for i in range(a, c_end):
            grad[i] = (grad[i] + alpha_f * theta[i]
                       + l1_f * ((theta[i] > 0) - (theta[i] < 0))) / sw_f
    for i in range(c_end, b):
        grad[i] = grad[i] / sw_f


cdef inline void step_block(Py_ssize_t a, Py_ssize_t b, Py_ssize_t c_end, floating* theta,
                            floating* grad, Step* s) noexcept nogil:
    """The optimizer's update of parameters ``[a, b)`` (weights below ``c_end``)."""
    if s.solver == OPT_SGD:
        sgd_step(theta + a, grad + a, <floating*>s.state_1 + a, b - a, s.sc[0],
                 s.momentum, s.nesterov)
    elif s.solver == OPT_ADAM or s.solver == OPT_ADAMW:
        if s.solver == OPT_ADAMW:
            # Decoupled weight decay, on the weights only
            scale(theta + a, c_end - a, s.sc[1])
        adam_step(theta + a, grad + a, <floating*>s.state_1 + a,
                  <floating*>s.state_2 + a, b - a, s.sc[0], s.beta_1, s.beta_2, s.eps)
    elif s.solver == OPT_RMSPROP:
        rmsprop_step(theta + a, grad + a, <floating*>s.state_1 + a, b - a, s.sc[0],
                     s.rho, s.eps)
    elif s.solver == OPT_ADAGRAD:
        adagrad_step(theta + a, grad + a, <floating*>s.state_1 + a, b - a, s.sc[0], s.eps)
    elif s.solver == OPT_NADAM:
        nadam_step(theta + a, grad + a, <floating*>s.state_1 + a,
                   <floating*>s.state_2 + a, b - a, s.sc, s.beta_1, s.beta_2, s.eps)


cdef inline bint clipping(Step* s) noexcept nogil:
    return s.clipnorm > 0 and s.solver >= 0


cdef inline bint adam_in_one_pass(Step* s, double l1) noexcept nogil:
    # Whether part_finish_step completes and steps in one pass (adam_pass):
    # Adam or AdamW, no L1 penalty, no clipping (which needs every gradient
    # first).
    return (ADAM_PASS and l1 == 0 and not clipping(s)
            and (s.solver == OPT_ADAM or s.solver == OPT_ADAMW))


cdef inline void adam_scalars(adam_t* st, Step* s, double alpha, double sw_sum,
                              bint is_float) noexcept nogil:
    # adam_pass's scalars for this step (``is_float``: the elements are float).
    st.alpha = alpha
    st.sw = sw_sum
    st.inv = exact_inverse(<float>sw_sum if is_float else sw_sum)
    st.decay = s.sc[1] if s.solver == OPT_ADAMW else 1.0
    st.beta_1 = s.beta_1
    st.beta_2 = s.beta_2
    st.eps = s.eps
    st.rate = s.sc[0]


cdef void part_finish_step(Net* net, Py_ssize_t k, Py_ssize_t nb, floating* theta,
                           floating* grad, Parts* p, Step* s, double alpha, double l1,
                           double sw_sum) noexcept nogil:
    """Thread ``k``'s ranges of the parameters: complete the gradient, then step.

    The gradient is the sum of the threads' parts, plus ``alpha * W`` (and
    ``l1 * sign(W)``) on weights, divided by the batch's weight sum
    (scikit-learn's order of operations). ``sum(W ** 2)`` and ``sum(|W|)``
    over the ranges' weights, before the step, go to the stats. When
    clipping, the step waits for every range's gradient (``part_clip_step``);
    the ranges' sums of squared gradients per variable go to ``s.var_sq``.
    """
    cdef Py_ssize_t lo, hi, n_parts, j, a, b, i, c_end, v
    cdef double l2 = 0.0, l1_sum = 0.0, sq
    cdef bint clip = clipping(s)
    cdef bint one_pass = adam_in_one_pass(s, l1)
    cdef adam_t st
    if clip:
        for v in range(s.n_vars):
            s.var_sq[k * s.n_vars + v] = 0.0
    if one_pass:
        adam_scalars(&st, s, alpha, sw_sum, floating is float)
    for j in range(2):
        param_range(p, net, k, j, &lo, &hi)
        # Range 1 adds the parts of the threads that had rows of the batch.
        n_parts = 1 if j == 0 else ceil_div(nb, ceil_div(nb, p.n_threads))
        if alpha != 0 and lo < min(hi, p.n_coef) and not one_pass:
            l2 += sumsq(theta + lo, <int>(min(hi, p.n_coef) - lo))
        if l1 != 0:
            for i in range(lo, min(hi, p.n_coef)):
                l1_sum += fabs(theta[i])
        # Blocks small enough to stay in L1 between completing and stepping.
        a = lo
        while a < hi:
            b = min(a + 2048, hi)
            c_end = max(a, min(b, p.n_coef))
            if one_pass:
                add_parts(a, b, n_parts, grad, p)
                sq = adam_pass(theta + a, grad + a, <floating*>s.state_1 + a,
                               <floating*>s.state_2 + a, b - a, c_end - a, &st)
                if alpha != 0:
                    l2 += sq
            else:
                complete_block(a, b, c_end, n_parts, theta, grad, p, <floating>alpha,
                               <floating>l1, <floating>sw_sum)
                if not clip:
                    step_block(a, b, c_end, theta, grad, s)
            a = b
        if clip:
            for v in range(s.n_vars):
                sq = 0.0
                for i in range(max(lo, s.bounds[v]), min(hi, s.bounds[v + 1])):
                    sq += grad[i] * grad[i]
                s.var_sq[k * s.n_vars + v] += sq
    p.stats[STATS * k + 2] = l2
    p.stats[STATS * k + 3] = l1_sum


cdef void clip_scales(Step* s, Py_ssize_t n_threads) noexcept nogil:
    """Each variable's factor: ``clipnorm / max(norm, clipnorm)`` (Keras' clip_by_norm)."""
    cdef Py_ssize_t v, k
    cdef double norm
    for v in range(s.n_vars):
        norm = 0.0
        for k in range(n_threads):
            norm += s.var_sq[k * s.n_vars + v]
        norm = sqrt(norm)
        s.var_scale[v] = s.clipnorm / norm if norm > s.clipnorm else 1.0


cdef void part_clip_step(Net* net, Py_ssize_t k, floating* theta, floating* grad, Parts* p,
                         Step* s) noexcept nogil:
    """Thread ``k``'s ranges: scale each variable's gradient by its factor, then step."""
    cdef Py_ssize_t lo, hi, j, a, b, i, v
    cdef floating f
    for j in range(2):
        param_range(p, net, k, j, &lo, &hi)
        for v in range(s.n_vars):
            if s.var_scale[v] != 1.0:
                f = <floating>s.var_scale[v]
                for i in range(max(lo, s.bounds[v]), min(hi, s.bounds[v + 1])):
                    grad[i] = grad[i] * f
        a = lo
        while a < hi:
            b = min(a + 2048, hi)
            step_block(a, b, max(a, min(b, p.n_coef)), theta, grad, s)
            a = b


cdef double batch_step(Net* net, Data* d, const Py_ssize_t* rows, Py_ssize_t start,
                       Py_ssize_t nb, floating* theta, floating* grad, Parts* p,
                       Step* s, double alpha, double l1) noexcept nogil:
    """Gradient of one batch, split by rows between threads, then the update.

    Returns the batch loss (L2 term included), as scikit-learn computes it.
    With one thread no parallel region is entered. With the first layer
    split (``p.split``), its product comes first and its weight gradient
    last, each split by input features.
    """
    cdef Py_ssize_t k, T = p.n_threads
    cdef double total = 0.0, sw_sum = 0.0, l2 = 0.0, l1_sum = 0.0, value
    if p.split:
        for k in prange(T, num_threads=T, schedule="static", chunksize=1):
            split_product(net, d, rows, start, nb, k, theta, p)
    if T == 1:
        part_loss_grad(net, d, rows, start, nb, 0, theta, grad, p)
    else:
        for k in prange(T, num_threads=T, schedule="static", chunksize=1):
            part_loss_grad(net, d, rows, start, nb, k, theta, grad, p)
    for k in range(T):
        total = total + p.stats[STATS * k]
        sw_sum = sw_sum + p.stats[STATS * k + 1]
    if T == 1:
        part_finish_step(net, 0, nb, theta, grad, p, s, alpha, l1, sw_sum)
    else:
        for k in prange(T, num_threads=T, schedule="static", chunksize=1):
            if p.split:
                split_weight_grad(net, d, rows, start, nb, k, grad, p)
            part_finish_step(net, k, nb, theta, grad, p, s, alpha, l1, sw_sum)
    if clipping(s):
        clip_scales(s, T)
        if T == 1:
            part_clip_step(net, 0, theta, grad, p, s)
        else:
            for k in prange(T, num_threads=T, schedule="static", chunksize=1):
                part_clip_step(net, k, theta, grad, p, s)
    for k in range(T):
        l2 = l2 + p.stats[STATS * k + 2]
        l1_sum = l1_sum + p.stats[STATS * k + 3]
    value = finish_loss(total, sw_sum, net.units[net.n_layers], net.loss) + 0.5 * alpha * l2 / sw_sum
    if l1 != 0:
        value = value + l1 * l1_sum / sw_sum
    return value


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


cdef bint switch(bint* setting, enable, bint available, str what) except -1:
    # The setting before the call; ``enable`` (unless None) sets it, where
    # the CPU can (``what``: the message's subject and verb).
    cdef bint before = setting[0]
    if enable is not None:
        if enable and not available:
            raise ValueError(f"{what} a CPU with AVX-512")
        setting[0] = bool(enable)
    return before


def row_kernels(enable=None):
    """Whether the row kernels run where they can; ``enable`` sets it.

    The row kernels (``_rows_gemm.h``, AVX-512) multiply a split first
    layer's batch rows where they lie in X (without them the rows are
    gathered for BLAS), and take the hidden layers' products whose shapes
    suit them (``rows_fit``) from BLAS. They are on by default where the
    CPU has AVX-512. Returns the setting in force before the call.

    Raises
    ------
    ValueError
        If asked to enable them on a CPU without AVX-512.
    """
    return switch(&ROWS_KERNEL, enable, rows_available(), "the row kernels need")


def one_pass_adam(enable=None):
    """Whether Adam's step runs in one pass where it can; ``enable`` sets it.

    The pass (``_adam_step.h``, AVX-512) completes a slice's gradient and
    takes Adam's (or AdamW's) step together, with the same results as the
    separate passes; it serves epochs without an L1 penalty or clipping. On
    by default where the CPU has AVX-512. Returns the setting in force
    before the call.

    Raises
    ------
    ValueError
        If asked to enable it on a CPU without AVX-512.
    """
    return switch(&ADAM_PASS, enable, adam_pass_available(), "the one-pass Adam step needs")


def adam_update(floating[::1] w, floating[::1] g, floating[::1] m, floating[::1] v,
                Py_ssize_t n_weights, double alpha, double sw, double beta_1, double beta_2,
                double eps, double rate, double decay=1.0, bint one_pass=True):
    """One Adam step of ``w`` in place, from the gradient sums ``g``, as an epoch takes it.

    The first ``n_weights`` entries are weights (L2 penalty ``alpha``;
    AdamW's ``decay`` when it is not 1), the rest biases; the gradient is
    the sums' average over the batch weight ``sw``, and ``rate`` the
    bias-corrected step size. ``one_pass``: by ``adam_pass``, else by the
    separate passes (``complete_block``, ``step_block``); ``g`` may be
    overwritten. Returns ``sum(w[:n_weights] ** 2)`` before the step.
    Exposed for tests.
    """
    cdef Py_ssize_t n = w.shape[0]
    cdef adam_t st
    cdef Step s
    cdef double l2 = 0.0
    if g.shape[0] != n or m.shape[0] != n or v.shape[0] != n:
        raise ValueError("w, g, m and v must have the same length")
    if not 0 <= n_weights <= n:
        raise ValueError("n_weights out of range")
    if one_pass and not adam_pass_available():
        raise ValueError("the one-pass Adam step needs a CPU with AVX-512")
    if n == 0:
        return 0.0
    s.solver = OPT_ADAM if decay == 1.0 else OPT_ADAMW
    s.beta_1, s.beta_2, s.eps = beta_1, beta_2, eps
    s.sc[0], s.sc[1], s.sc[2] = rate, decay, 0.0
    s.state_1 = &m[0]
    s.state_2 = &v[0]
    with nogil:
        if one_pass:
            adam_scalars(&st, &s, alpha, sw, floating is float)
            l2 = adam_pass(&w[0], &g[0], &m[0], &v[0], n, n_weights, &st)
        else:
            l2 = sumsq(&w[0], <int>n_weights)
            complete_block(0, n, n_weights, 1, &w[0], &g[0], NULL, <floating>alpha, 0,
                           <floating>sw)
            step_block(0, n, n_weights, &w[0], &g[0], &s)
    return l2


def rows_fit_shape(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, Py_ssize_t itemsize):
    """Whether a product C (m x n), inner length k, goes to the row kernels (``rows_fit``)."""
    return rows_fit(m, n, k, itemsize)


def rows_matmul(const floating[:, ::1] X, rows, Py_ssize_t first, Py_ssize_t count,
                const floating[:, ::1] B, op="nn", keep=False, outer=False, skip=False):
    """A product of ``A = X[rows, first:first + count]`` by the row kernels.

    ``op`` is ``"nn"`` (``A @ B``), ``"tn"`` (``A.T @ B``) or ``"nt"``
    (``A @ B.T``). With ``rows`` None the kernels step through all of X's
    rows at its stride, as for a hidden layer; else they follow a pointer
    per row, as for a split first layer. With ``keep`` (``"nn"`` and
    ``"nt"``) the copy of A the kernels make on the way is returned too, as
    ``(product, copy)``. With ``outer`` (``"nn"`` only) the product runs
    row-outer, as a float64 split first layer's does. Exposed for tests; on
    a CPU without AVX-512 the kernels' plain C loops run. With ``skip``
    (``"tn"`` only) the product passes over A's stretches of zeros, as a
    split first layer's weight gradient does.
    """
    cdef Py_ssize_t n, i, k, kind
    cdef Py_ssize_t[::1] picked
    if op not in ("nn", "tn", "nt"):
        raise ValueError(f"op must be 'nn', 'tn' or 'nt', got {op!r}")
    if keep and op == "tn":
        raise ValueError("keep is for op 'nn' and 'nt'")
    if outer and op != "nn":
        raise ValueError("outer is for op 'nn'")
    if skip and op != "tn":
        raise ValueError("skip is for op 'tn'")
    kind = {"nn": ROWS_NN, "tn": ROWS_TN, "nt": ROWS_NT}[op]
    if not 0 <= first <= first + count <= X.shape[1]:
        raise ValueError("columns out of range")
    picked = np.arange(X.shape[0], dtype=np.intp) if rows is None else np.asarray(rows, np.intp)
    n = picked.shape[0]
    for i in range(n):
        if not 0 <= picked[i] < X.shape[0]:
            raise ValueError("row index out of range")
    # B's side that meets A's: rows of B (count for nn, n for tn), or its columns (nt).
    k = n if kind == ROWS_TN else count
    if (B.shape[1] if kind == ROWS_NT else B.shape[0]) != k:
        raise ValueError("B's shape does not match A's")
    out = np.zeros((count if kind == ROWS_TN else n, B.shape[0] if kind == ROWS_NT else B.shape[1]),
                   dtype=np.float32 if floating is float else np.float64)
    cdef floating[:, ::1] C = out
    # NaN where the kernels copy nothing.
    kept = np.full((n, count), np.nan, dtype=out.dtype)
    cdef floating[:, ::1] K = kept
    cdef Py_ssize_t[::1] ptrs = np.empty(max(n, 1), dtype=np.intp)
    cdef const floating** a = <const floating**>&ptrs[0]
    cdef floating[::1] packed = np.empty(rows_work_size(B.shape[1], k, sizeof(floating))
                                         if outer else
                                         rows_tn_work_size(count, sizeof(floating))
                                         if skip else 1, dtype=out.dtype)
    for i in range(n):
        a[i] = &X[picked[i], 0] + first
    if C.shape[0] > 0 and C.shape[1] > 0:
        rows_gemm(kind, C.shape[0], C.shape[1], k, NULL if rows is None else a,
                  &X[0, 0] + first if X.shape[0] > 0 else NULL, X.shape[1],
                  &B[0, 0] if B.shape[0] > 0 and B.shape[1] > 0 else NULL, B.shape[1],
                  &C[0, 0], C.shape[1], &K[0, 0] if keep and K.size > 0 else NULL, count,
                  &packed[0] if outer or skip else NULL)
    return (out, kept) if keep else out


def max_threads():
    """Threads an OpenMP parallel region would use now (1 without OpenMP)."""
    return fastnn_max_threads()


def epoch(const floating[::1] X_values, const Py_ssize_t[::1] X_indices,
          const Py_ssize_t[::1] X_indptr, Py_ssize_t n_features,
          const floating[:, ::1] Y, const floating[::1] sample_weight,
          floating[::1] theta,
          const Py_ssize_t[::1] units, const int[::1] acts, const double[::1] act_param,
          const Py_ssize_t[::1] coef_off, const Py_ssize_t[::1] bias_off,
          const Py_ssize_t[::1] slope_off, int loss, const Py_ssize_t[::1] order, Py_ssize_t batch_size, double alpha, double l1,
          int solver, const double[::1] hyper, floating[::1] state_1,
          floating[::1] state_2, double[::1] step,
          floating[::1] grad, floating[::1] work, int n_threads=1,
          const double[::1] drop=None, uint64_t drop_key=0,
          const Py_ssize_t[::1] bn_off=None, double bn_eps=1e-3, double bn_momentum=0.99,
          ahead_state=None, Py_ssize_t[::1] ahead_target=None, bint split_first=False,
          bint ahead_beside=True):
    """Run one epoch of mini-batch training in place; return the summed loss.

    Parameters
    ----------
    X_values, X_indices, X_indptr, n_features
        The input: dense rows flattened (empty index arrays), or CSR arrays.
    Y : ndarray of shape (n_samples, n_outputs)
        Targets, the output layer's encoding.
    sample_weight : ndarray of shape (n_samples,) or (0,)
        Per-sample weights, empty when unweighted.
    theta : ndarray of shape (n_params,)
        Flat parameters, updated in place.
    units, acts, act_param, coef_off, bias_off, slope_off, loss
        The network (``fastnn._network.NetworkSpec``; ``slope_off`` is its
        ``slope_offsets``).
    order : ndarray of shape (n_samples,) or (0,)
        Visiting order of the samples; empty means 0, 1, ..., n - 1.
    batch_size : int
        Rows per mini-batch; the last batch takes the remainder.
    alpha, l1 : float
        L2 and L1 penalties.
    solver : int
        ``OPTIMIZERS`` code.
    hyper : ndarray of shape (9,)
        lr, momentum, nesterov, beta_1, beta_2, epsilon, rho, weight_decay,
        clipnorm (``_registry.HYPER_FIELDS``; clipnorm 0 means none).
    state_1, state_2 : ndarray
        Velocity (sgd), first and second moments (adam, adamw, nadam), mean
        square (rmsprop) or sum of squares (adagrad); updated in place.
    step : ndarray of shape (2,)
        The step count and nadam's momentum product, updated in place after
        every batch (sgd counts no steps).
    grad, work : ndarray
        Scratch buffers of ``n_params`` and ``workspace_size(...)`` elements.
    n_threads : int
        Threads sharing each mini-batch by rows. BLAS must then run
        single-threaded (the caller's job). The result depends on it only
        through the order of floating-point sums.
    drop : ndarray of shape (n_layers,) or None
        Dropout rate of each layer's outputs (the output layer's 0); None or
        all zeros: no dropout. The work buffer is then
        ``workspace_size(..., dropout=True)``.
    drop_key : int
        The epoch's dropout stream (``fastnn._dropout.epoch_key``).
    bn_off : ndarray of shape (n_layers + 1,) or None
        Start of each layer's batch-norm block in ``theta``
        (``NetworkSpec.bn_offsets``); None: no batch normalization. Needs
        ``n_threads == 1`` (batch statistics span the whole batch) and a
        work buffer of ``workspace_size(..., batch_norm=True)``.
    bn_eps, bn_momentum : float
        Batch normalization's epsilon and the running statistics' momentum.
    ahead_state : numpy.random.RandomState or None
        If given, the next epoch's order is drawn in this call, without the
        GIL: while this epoch trains, on a second OpenMP thread
        (``ahead_beside``), or on this thread after the batches.
        ``ahead_target`` gets ``order`` shuffled as
        ``ahead_state.shuffle`` would (``fastnn._shuffle``), its generator
        advanced and locked meanwhile. Needs ``n_threads == 1`` and a
        non-empty ``order``. The order is drawn even when Ctrl-C stops the
        epoch.
    ahead_target : ndarray of intp of shape (n_samples,) or None
    split_first : bool
        Split the first layer between the threads by input features rather
        than by rows (``split_product``), where it can be: dense input, more
        than one thread, at least one feature per thread, no batch norm. The
        work buffer is then ``workspace_size(..., split_first=True)``.
    ahead_beside : bool, default=True
        Draw the next order on a second OpenMP thread beside the batches
        rather than after them on this one.

    Returns
    -------
    accumulated_loss : float
        Sum over batches of (batch loss x batch length).
    last_rate : float
        The step size of the last update (bias-corrected for adam and adamw).
    """
    cdef Net net = make_net(units, acts, act_param, coef_off, bias_off, slope_off, loss,
                            theta.shape[0])
    cdef Py_ssize_t n = Y.shape[0], n_params = theta.shape[0]
    cdef Data d = make_data(X_values, X_indices, X_indptr, n_features, &Y[0, 0],
                            sample_weight)
    cdef const Py_ssize_t* rows = &order[0] if order.shape[0] > 0 else NULL
    cdef Py_ssize_t t
    cdef Py_ssize_t bs = min(batch_size, n)
    cdef double acc = 0.0
    cdef Py_ssize_t signals = signal_every()
    cdef bint gather = d.indices == NULL and rows != NULL
    cdef double[::1] stats = np.zeros(STATS * max(n_threads, 1))
    cdef Parts parts
    cdef Step s
    cdef Py_ssize_t[::1] bounds
    cdef double[::1] var_sq
    cdef double[::1] var_scale
    cdef double[::1] bn_stats = np.zeros(2 * net.act_size)
    cdef Py_ssize_t[::1] xrows
    cdef double[::1] bpack
    cdef floating[::1] tnwork
    cdef bitgen_t* g = NULL
    cdef Py_ssize_t* target = NULL
    # Written through a pointer: prange would make a plain local private.
    cdef int status[1]
    cdef Py_ssize_t k
    cdef int draw_threads

    if n_threads < 1:
        raise ValueError("n_threads must be at least 1")
    if order.shape[0] not in (0, n):
        raise ValueError("order must have one entry per sample")
    if ahead_state is not None:
        if n_threads != 1 or rows == NULL:
            raise ValueError("drawing the next order ahead needs n_threads=1 and an order")
        if ahead_target is None or ahead_target.shape[0] != n:
            raise ValueError("ahead_target must have one entry per sample")
    status[0] = 0
    if grad.shape[0] != n_params or state_1.shape[0] != n_params:
        raise ValueError("grad and optimizer buffers must match theta")
    if solver in (OPT_ADAM, OPT_ADAMW, OPT_NADAM) and state_2.shape[0] != n_params:
        raise ValueError("adam, adamw and nadam need two moment buffers")
    if hyper.shape[0] != N_HYPER or step.shape[0] != 2:
        raise ValueError(f"hyper needs {N_HYPER} entries and step 2")
    if drop is not None:
        if drop.shape[0] != net.n_layers or drop[net.n_layers - 1] != 0:
            raise ValueError("drop needs one rate per layer, 0 for the output layer")
        for t in range(net.n_layers):
            if not 0 <= drop[t] < 1:
                raise ValueError("dropout rates must be in [0, 1)")
            if drop[t] > 0:
                net.drop = &drop[0]
                net.key = drop_key
                net.keep = True
    if bn_off is not None:
        if bn_off.shape[0] != net.n_layers + 1 or bn_off[0] != bias_off[net.n_layers] \
                or bn_off[net.n_layers] != slope_off[0]:
            raise ValueError("bn_off must hold n_layers + 1 block starts, from the biases' "
                             "end to the slopes' start")
        for t in range(net.n_layers):
            if bn_off[t + 1] - bn_off[t] not in (0, 3 * width(&net, t)):
                raise ValueError("a batch-norm block holds 3 values per column")
        if bn_off[net.n_layers] > bn_off[0]:
            if n_threads != 1:
                raise ValueError("batch normalization needs n_threads=1")
            net.bn_off = &bn_off[0]
            net.bn_eps = bn_eps
            net.bn_momentum = bn_momentum
            net.bn_mean = &bn_stats[0]
            net.bn_inv = &bn_stats[net.act_size]
    elif slope_off[0] != bias_off[net.n_layers]:
        raise ValueError("theta has more entries than the weights, biases and slopes: "
                         "pass bn_off")
    if work.shape[0] < work_size(net.act_size, n_features, width(&net, 0), bs, gather,
                                 n_threads, n_params, net.keep, net.bn_off != NULL,
                                 split_first):
        raise ValueError("workspace too small")
    # Clipping's variables: weight matrices, bias vectors, batch-norm blocks
    # (whose norm is gamma's: the running statistics' gradient is 0), then
    # slope vectors. Only clipping reads them: without it, none (np.unique
    # costs ~40 us, a shuffle's worth of holding the GIL each epoch).
    if hyper[HYPER_CLIPNORM] > 0:
        bounds = np.unique(np.concatenate(
            [coef_off, bias_off[1:], [] if bn_off is None else bn_off[1:],
             slope_off[1:]])).astype(np.intp)
    else:
        bounds = np.zeros(1, dtype=np.intp)
    var_sq = np.zeros(max(n_threads, 1) * max(bounds.shape[0] - 1, 1))
    var_scale = np.ones(max(bounds.shape[0] - 1, 1))
    parts = make_parts(&net, bs, gather, n_threads, n_params, &work[0], &stats[0],
                       split_first and d.indices == NULL and coef_off[0] == 0
                       and can_split(n_features, n_threads, net.bn_off != NULL))
    if parts.split and ROWS_KERNEL:
        xrows = np.empty(n_threads * bs, dtype=np.intp)
        parts.xrows = <const void**>&xrows[0]
        if floating is double:
            # Row-outer: the product ~8% faster than panel-outer in float64,
            # ~2% slower in float32, whose rows take half the memory traffic
            # (C benchmark, Fashion-MNIST's shape, shuffled rows, 2 threads).
            parts.bpack_size = rows_work_size(width(&net, 0), parts.split_cols, sizeof(double))
            bpack = np.empty(n_threads * parts.bpack_size)
            parts.bpack = &bpack[0]
        # Fashion-MNIST's first-layer weight gradient ~24% faster (C benchmark).
        parts.tnwork_size = rows_tn_work_size(parts.split_cols, sizeof(floating))
        tnwork = np.empty(n_threads * parts.tnwork_size,
                          dtype=np.float32 if floating is float else np.float64)
        parts.tnwork = &tnwork[0]
    s.solver = solver
    s.sc[0] = hyper[HYPER_LEARNING_RATE]
    s.sc[1] = s.sc[2] = 0.0
    s.momentum = hyper[HYPER_MOMENTUM]
    s.nesterov = hyper[HYPER_NESTEROV] != 0
    s.beta_1 = hyper[HYPER_BETA_1]
    s.beta_2 = hyper[HYPER_BETA_2]
    s.eps = hyper[HYPER_EPSILON]
    s.rho = hyper[HYPER_RHO]
    s.state_1 = &state_1[0]
    s.state_2 = &state_2[0] if state_2.shape[0] > 0 else NULL
    s.clipnorm = hyper[HYPER_CLIPNORM]
    s.n_vars = bounds.shape[0] - 1
    s.bounds = &bounds[0]
    s.var_sq = &var_sq[0]
    s.var_scale = &var_scale[0]
    if ahead_state is None:
        with nogil:
            status[0] = run_batches(&net, &d, rows, n, bs, &theta[0], &grad[0], &parts, &s,
                                    alpha, l1, &hyper[0], &step[0], &acc, signals)
    else:
        # The batches on this thread, the next epoch's order on a second one
        # (both iterations on this thread where OpenMP gives only one, or
        # where no second one is wanted).
        draw_threads = 2 if ahead_beside else 1
        g = generator_of(ahead_state)
        target = &ahead_target[0]
        with ahead_state._bit_generator.lock:
            with nogil:
                for k in prange(2, num_threads=draw_threads, schedule="static", chunksize=1):
                    if k == 0:
                        status[0] = run_batches(&net, &d, rows, n, bs, &theta[0], &grad[0],
                                                &parts, &s, alpha, l1, &hyper[0], &step[0],
                                                &acc, signals)
                    else:
                        memcpy(target, rows, n * sizeof(Py_ssize_t))
                        shuffle_indices(g, target, n)
            # Raised inside the lock's block: its exit must see it raised.
            if status[0] < 0:
                raise_pending()
    if status[0] < 0:
        raise_pending()
    return acc, s.sc[0]


cdef inline Py_ssize_t signal_every() noexcept nogil:
    # Batches between checks for Ctrl-C in this thread, 0 for none. In a
    # joblib or Dask worker thread, taking the GIL every few batches would
    # wait on the Python the other fits run (up to the 5 ms switch
    # interval each time) and check nothing.
    return SIGNAL_EVERY if thread_ident() == MAIN_THREAD else 0


cdef int raise_pending() except -1:
    # Propagate the exception the batch loop's signal check left set.
    return -1


cdef int run_batches(Net* net, Data* d, const Py_ssize_t* rows, Py_ssize_t n, Py_ssize_t bs,
                     floating* theta, floating* grad, Parts* parts, Step* s, double alpha,
                     double l1, const double* hyper, double* step,
                     double* acc, Py_ssize_t signals) noexcept nogil:
    """The epoch's batches in order; -1 when Ctrl-C (or another signal) raised.

    Signals are checked every ``signals`` batches (0: never). The step count
    and nadam's momentum product go to ``step`` after every batch, so an
    interrupted epoch leaves them right.
    """
    cdef Py_ssize_t start = 0, nb, b = 0
    cdef Py_ssize_t t = <Py_ssize_t>step[0]
    cdef double mu_product = step[1]
    while start < n:
        nb = min(bs, n - start)
        if s.solver != OPT_SGD:
            t += 1
            step_scalars(s.solver, t, hyper[HYPER_LEARNING_RATE], hyper[HYPER_BETA_1], hyper[HYPER_BETA_2], hyper[HYPER_WEIGHT_DECAY], &mu_product,
                         s.sc)
        acc[0] += nb * batch_step(net, d, rows, start, nb, theta, grad, parts, s, alpha, l1)
        step[0] = t
        step[1] = mu_product
        start += nb
        b += 1
        if signals > 0 and b % signals == 0:
            with gil:
                if check_signals() < 0:
                    return -1
    return 0


def loss_grad(const floating[::1] X_values, const Py_ssize_t[::1] X_indices,
              const Py_ssize_t[::1] X_indptr, Py_ssize_t n_features,
              const floating[:, ::1] Y, const floating[::1] sample_weight,
              const floating[::1] theta,
              const Py_ssize_t[::1] units, const int[::1] acts, const double[::1] act_param,
              const Py_ssize_t[::1] coef_off, const Py_ssize_t[::1] bias_off,
              const Py_ssize_t[::1] slope_off, int loss, double alpha, double l1, floating[::1] grad, floating[::1] work,
              int n_threads=1):
    """Full-batch loss (L2 and L1 included) and its gradient, written to ``grad``.

    ``work`` holds ``workspace_size(units, acts, n_samples, False, n_threads,
    n_params)`` elements; with ``n_threads > 1`` the rows are split between
    threads and BLAS must run single-threaded.
    """
    cdef Net net = make_net(units, acts, act_param, coef_off, bias_off, slope_off, loss,
                            theta.shape[0])
    cdef Py_ssize_t n = Y.shape[0], n_params = theta.shape[0]
    cdef Data d = make_data(X_values, X_indices, X_indptr, n_features, &Y[0, 0],
                            sample_weight)
    cdef double value
    cdef double[::1] stats = np.zeros(STATS * max(n_threads, 1))
    cdef Parts parts
    cdef Step s
    if n_threads < 1:
        raise ValueError("n_threads must be at least 1")
    if grad.shape[0] != n_params:
        raise ValueError("grad must match theta")
    if slope_off[0] != bias_off[net.n_layers]:
        raise ValueError("batch normalization is for epoch only")
    if work.shape[0] < work_size(net.act_size, n_features, width(&net, 0), n, False,
                                 n_threads, n_params, net.keep, False, False):
        raise ValueError("workspace too small")
    parts = make_parts(&net, n, False, n_threads, n_params, &work[0], &stats[0], False)
    s.solver = -1
    s.clipnorm = 0.0
    with nogil:
        # theta is only read: no update follows (solver -1).
        value = batch_step(&net, &d, NULL, 0, n, <floating*>&theta[0], &grad[0],
                           &parts, &s, alpha, l1)
    return value


cdef void forward_chunk(Net* net, Data* d, Py_ssize_t c, Py_ssize_t chunk, Py_ssize_t n,
                        const floating* theta, floating* work, floating* out) noexcept nogil:
    """Network output of rows ``[c * chunk, (c + 1) * chunk)`` into ``out``."""
    cdef Py_ssize_t start = c * chunk, nb = min(chunk, n - start)
    cdef Py_ssize_t n_out = net.units[net.n_layers]
    forward_batch(net, d, NULL, start, nb, theta, work, NULL, NULL, NULL, chunk, NULL, 0)
    memcpy(out + start * n_out, work + chunk * (net.act_size - n_out),
           nb * n_out * sizeof(floating))


def forward(const floating[::1] X_values, const Py_ssize_t[::1] X_indices,
            const Py_ssize_t[::1] X_indptr, Py_ssize_t n_features,
            const floating[::1] theta,
            const Py_ssize_t[::1] units, const int[::1] acts, const double[::1] act_param,
            const Py_ssize_t[::1] coef_off, const Py_ssize_t[::1] bias_off,
            const Py_ssize_t[::1] slope_off, floating[:, ::1] out, floating[::1] work, int n_threads=1):
    """Network output (after the output activation) for every row, into ``out``.

    Rows go in chunks of ``len(work) // (n_threads * sum(widths[1:]))``
    (``NetworkSpec.widths``),
    shared out between ``n_threads`` threads (BLAS must then run
    single-threaded).
    """
    cdef Net net = make_net(units, acts, act_param, coef_off, bias_off, slope_off, 0,
                            theta.shape[0])
    cdef Py_ssize_t n = out.shape[0], n_out = out.shape[1], c, n_chunks
    cdef Py_ssize_t chunk = work.shape[0] // (max(n_threads, 1) * net.act_size)
    cdef Data d = make_data(X_values, X_indices, X_indptr, n_features, NULL,
                            theta[:0])
    if n_threads < 1:
        raise ValueError("n_threads must be at least 1")
    if n_out != units[units.shape[0] - 1]:
        raise ValueError("out has the wrong number of columns")
    if chunk < 1:
        raise ValueError("workspace too small")
    if slope_off[0] != bias_off[net.n_layers]:
        raise ValueError("fold batch normalization before forward (fastnn._batch_norm.fold)")
    n_chunks = (n + chunk - 1) // chunk
    with nogil:
        if n_threads == 1 or n_chunks == 1:
            for c in range(n_chunks):
                forward_chunk(&net, &d, c, chunk, n, &theta[0], &work[0], &out[0, 0])
        else:
            for c in prange(n_chunks, num_threads=n_threads, schedule="static"):
                forward_chunk(&net, &d, c, chunk, n, &theta[0],
                              &work[0] + threadid() * chunk * net.act_size, &out[0, 0])
    return np.asarray(out)
