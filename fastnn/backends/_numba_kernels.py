"""Numba CPU kernels: one mini-batch epoch, full-batch loss and gradient, forward.

The entry points (``epoch``, ``loss_grad``, ``forward``) take the named
structures of ``_data``, as the Cython core's do, and run the positional
kernels below them. The work is split like the Cython core's: the layout of
parameters and workspace (``_numba_layout``), a batch's forward and backward
passes (``_numba_layers``), the optimizer step (``_numba_step``), and here
the batch split between threads and the epoch driver. The activation loops
are ``_numba_loops``; their dispatch on activation codes is generated from
the registry (``_numba_dispatch``).
"""

import numpy as np
from numba import get_num_threads, njit, prange
from numba.core.dispatcher import Dispatcher

from . import _numba_dispatch, _numba_layers, _numba_layout, _numba_loops, _numba_step, _scalar
from ._numba_cache import lock_compiles
from ._numba_layers import _raw_loss_grad, _forward
from ._numba_layout import (  # noqa: F401  (workspace_size: the backend's)
    _act_size, _block, _block_size, _ceil_div, _keeps, _slice_start, _thread_work, _widths,
    workspace_size,
)
from ._numba_loops import _jit
from ._numba_step import _clip_scales, _clip_step, _clipping, _finish_step, step_scalars
from ._scalar import H_BETA_1, H_BETA_2, H_CLIPNORM, H_LEARNING_RATE, H_WEIGHT_DECAY

finish_loss = _jit(_scalar.finish_loss)

SGD = _scalar.SGD


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _parallel_step(Xv, Xi, Xp, nf, Y, sw, rows, start, nb, theta, units, widths, acts, act_param,
                   coef_off, bias_off, slope_off, loss, eps, alpha, l1, grad, work, max_batch,
                   gather, T, solver, sc, hyper, state_1, state_2, stats, bounds, var_sq, drop,
                   key):
    # _batch_step's work with T > 1 threads; per-thread sums go to stats (T x 4).
    n_params = theta.shape[0]
    n_coef = coef_off[acts.shape[0]]
    per_max = _ceil_div(max_batch, T)
    tw = _thread_work(widths, max_batch, gather, T, _keeps(acts, drop), False)
    parts = work[T * tw : T * tw + (T - 1) * n_params]
    per = _ceil_div(nb, T)
    n_parts = _ceil_div(nb, per)
    for k in prange(T):
        lo = k * per
        stats[k, 0] = 0.0
        stats[k, 1] = 0.0
        if lo < nb:
            g = grad if k == 0 else parts[(k - 1) * n_params : k * n_params]
            stats[k, 0], stats[k, 1] = _raw_loss_grad(
                Xv, Xi, Xp, nf, Y, sw, rows, start + lo, min(per, nb - lo), theta, units,
                widths, acts, act_param, coef_off, bias_off, slope_off, loss, eps, g,
                work[k * tw : (k + 1) * tw], per_max, drop, key, _no_batch_norm(theta, units))
    sw_sum = 0.0
    for k in range(T):
        sw_sum += stats[k, 1]
    for k in prange(T):
        stats[k, 2], stats[k, 3] = _finish_step(
            theta, grad, parts, n_parts, _slice_start(k, T, n_params),
            _slice_start(k + 1, T, n_params), n_coef, alpha, l1, sw_sum,
            solver, sc, hyper, state_1, state_2, bounds, var_sq[k])
    if _clipping(solver, hyper):
        scales = _clip_scales(var_sq, hyper[H_CLIPNORM])
        for k in prange(T):
            _clip_step(theta, grad, _slice_start(k, T, n_params),
                       _slice_start(k + 1, T, n_params), n_coef, solver, sc, hyper, state_1,
                       state_2, bounds, scales)


@_jit
def _no_batch_norm(theta, units):
    # The bn argument of a pass without batch normalization, of the types an
    # epoch's has (units: a read-only intp array), so one compiled variant serves both.
    return (units[:0], theta[:0], np.empty(0), 0.0, 0.0)


@_jit
def _batch_step(Xv, Xi, Xp, nf, Y, sw, rows, start, nb, theta, units, widths, acts, act_param,
                coef_off, bias_off, slope_off, loss, eps, alpha, l1, grad, work, max_batch,
                gather, n_threads, solver, sc, hyper, state_1, state_2, stats, bounds, var_sq,
                drop, key, bn):
    """Gradient of one batch, split by rows between threads, then the update.

    Thread ``k`` takes rows ``[k * per, (k + 1) * per)`` into its own
    gradient; the parameters are then cut in slices, each thread adding up
    the parts of its slice, completing and stepping them (``solver`` -1:
    no update). Returns the batch loss, L2 term included, as scikit-learn
    computes it. With one thread no parallel region is entered.
    ``stats`` is scratch of shape ``(n_threads, 4)``; ``var_sq``, of shape
    ``(n_threads, n_variables)``, that of clipping (variable starts ``bounds``).
    ``drop`` and ``key`` are dropout's rates (empty: none) and stream;
    ``bn`` batch norm's arguments (``_forward``), which need one thread;
    ``widths`` the layers' linear columns (``_widths``).
    """
    if n_threads == 1:
        total, sw_sum = _raw_loss_grad(
            Xv, Xi, Xp, nf, Y, sw, rows, start, nb, theta, units, widths, acts, act_param,
            coef_off, bias_off, slope_off, loss, eps, grad, work, max_batch, drop, key, bn)
        n_coef = coef_off[acts.shape[0]]
        l2, l1_sum = _finish_step(theta, grad, grad[:0], 1, 0, theta.shape[0], n_coef, alpha,
                                  l1, sw_sum, solver, sc, hyper, state_1, state_2, bounds,
                                  var_sq[0])
        if _clipping(solver, hyper):
            _clip_step(theta, grad, 0, theta.shape[0], n_coef, solver, sc, hyper, state_1,
                       state_2, bounds, _clip_scales(var_sq, hyper[H_CLIPNORM]))
    else:
        _parallel_step(Xv, Xi, Xp, nf, Y, sw, rows, start, nb, theta, units, widths, acts,
                       act_param, coef_off, bias_off, slope_off, loss, eps, alpha, l1, grad, work,
                       max_batch, gather, n_threads, solver, sc, hyper, state_1, state_2,
                       stats, bounds, var_sq, drop, key)
        total = 0.0
        sw_sum = 0.0
        l2 = 0.0
        l1_sum = 0.0
        for k in range(n_threads):
            total += stats[k, 0]
            sw_sum += stats[k, 1]
            l2 += stats[k, 2]
            l1_sum += stats[k, 3]
    value = finish_loss(loss, total, sw_sum, units[units.shape[0] - 1]) + 0.5 * alpha * l2 / sw_sum
    if l1 != 0:
        value += l1 * l1_sum / sw_sum
    return value


def _read_only(*arrays):
    """Read-only views of ``arrays`` (never copies).

    Numba compiles a kernel once per argument type, and an array's type says
    whether it is writeable. The arrays a kernel only reads are passed
    read-only, whatever the caller's are (a read-only X, a memmap, joblib's
    memmaps, a network's frozen offsets), so one compiled variant serves all.
    """
    views = []
    for a in arrays:
        if isinstance(a, np.ndarray) and a.flags.writeable:
            a = a.view()
            a.flags.writeable = False
        views.append(a)
    return tuple(views)


def _eps(theta):
    return float(np.finfo(theta.dtype).eps)


# The entry points take the named structures of ``_data`` in the same order
# as the Cython core's (``fastnn._mlp``), and unpack them here, once.


def epoch(inputs, Y, sample_weight, theta, net, optimizer, plan, grad, work, n_threads=1):
    """Run one epoch of mini-batch training in place (see ``fastnn._mlp.epoch``).

    ``inputs``, ``net``, ``optimizer`` and ``plan`` are the ``KernelInput``,
    ``KernelNet``, ``KernelOptimizer`` and ``KernelEpoch`` of
    ``fastnn.backends._data``. Returns the summed loss and the last step size.
    """
    *net_arrays, loss = net
    return epoch_arrays(
        *_read_only(*inputs, Y, sample_weight), theta, *_read_only(*net_arrays), loss,
        _eps(theta), *_read_only(plan.order), plan.batch_size, plan.alpha, plan.l1, *optimizer,
        grad, work, n_threads, *_read_only(plan.drop), plan.drop_key,
        *_read_only(plan.bn_off), plan.bn_eps, plan.bn_momentum)


def loss_grad(inputs, Y, sample_weight, theta, net, alpha, l1, grad, work, n_threads=1):
    """Full-batch loss (L2 and L1 included) and its gradient, written to ``grad``."""
    *net_arrays, loss = net
    return loss_grad_arrays(*_read_only(*inputs, Y, sample_weight), theta,
                            *_read_only(*net_arrays), loss, _eps(theta), alpha, l1, grad, work,
                            n_threads)


def forward(inputs, theta, net, out, chunk, n_threads=1):
    """Network output for every row, into ``out``, ``chunk`` rows at a time."""
    return forward_arrays(*_read_only(*inputs), theta, *_read_only(*net[:-1]), out, chunk,
                          n_threads)


@_jit
def epoch_arrays(Xv, Xi, Xp, nf, Y, sw, theta, units, acts, act_param, coef_off, bias_off,
                 slope_off, loss, eps, rows, batch_size, alpha, l1, solver, hyper, state_1,
                 state_2, step, grad, work, n_threads, drop, key, bn_off, bn_eps, bn_momentum):
    """``epoch`` with its structures unpacked, argument by argument.

    Returns the sum over batches of (batch loss x batch length), and the
    step size of the last update (bias-corrected for adam and adamw).
    ``step`` holds the step count and nadam's momentum product. ``bn_off``
    (empty: none) places the batch-norm blocks in ``theta``; with any,
    ``n_threads`` must be 1 and ``work`` sized for batch norm.
    """
    n = Y.shape[0]
    bs = min(batch_size, n)
    gather = Xp.shape[0] == 0 and rows.shape[0] > 0
    t = int(step[0])
    mu_product = step[1]
    sc = np.zeros(3)
    sc[0] = hyper[H_LEARNING_RATE]
    acc = 0.0
    stats = np.zeros((n_threads, 4))
    # Clipping's variables: weight matrices, bias vectors, batch-norm blocks
    # (whose norm is gamma's: the running statistics' gradient is 0), then
    # prelu slope vectors.
    bounds = np.unique(np.concatenate((coef_off, bias_off[1:], bn_off[1:], slope_off[1:])))
    var_sq = np.zeros((n_threads, bounds.shape[0] - 1))
    widths = _widths(units, acts, act_param)
    bn = (bn_off, work[:0], np.zeros(2 * _act_size(widths)), bn_eps, bn_momentum)
    if bn_off.shape[0] > 0 and bn_off[-1] > bn_off[0] and n_threads != 1:
        raise ValueError("batch normalization needs n_threads=1")
    # An int64 0: with a literal 0 the first batch's call would compile the
    # batch functions a second time, for Literal[int](0).
    start = n - n
    while start < n:
        nb = min(bs, n - start)
        if solver != SGD:
            t += 1
            sc[0], sc[1], sc[2], mu_product = step_scalars(
                solver, t, hyper[H_LEARNING_RATE], hyper[H_BETA_1], hyper[H_BETA_2],
                hyper[H_WEIGHT_DECAY], mu_product)
        acc += nb * _batch_step(Xv, Xi, Xp, nf, Y, sw, rows, start, nb, theta, units, widths,
                                acts, act_param, coef_off, bias_off, slope_off, loss, eps,
                                alpha, l1, grad, work, bs, gather, n_threads, solver, sc, hyper,
                                state_1, state_2, stats, bounds, var_sq, drop, key, bn)
        step[0] = t
        step[1] = mu_product
        start += nb
    return acc, sc[0]


@_jit
def loss_grad_arrays(Xv, Xi, Xp, nf, Y, sw, theta, units, acts, act_param, coef_off, bias_off,
                     slope_off, loss, eps, alpha, l1, grad, work, n_threads):
    """``loss_grad`` with its structures unpacked, argument by argument."""
    n = Y.shape[0]
    # Arguments of the types an epoch passes (read-only arrays for what it
    # only reads, no literal constants), so the callees compile once for both.
    rows = units[:0]
    return _batch_step(Xv, Xi, Xp, nf, Y, sw, rows, rows.shape[0], n, theta, units,
                       _widths(units, acts, act_param), acts, act_param, coef_off, bias_off,
                       slope_off, loss, eps, alpha, l1, grad, work, n, np.bool_(False),
                       n_threads, np.int64(-1), np.zeros(3), np.zeros(9), grad[:0], grad[:0],
                       np.zeros((n_threads, 4)), np.empty(0, np.intp), np.zeros((n_threads, 0)),
                       act_param[:0], np.int64(0), _no_batch_norm(theta, units))


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def forward_arrays(Xv, Xi, Xp, nf, theta, units, acts, act_param, coef_off, bias_off, slope_off,
                   out, chunk, n_threads):
    """``forward`` with its structures unpacked: chunks are shared out between
    ``n_threads`` threads, each with its own workspace."""
    n = out.shape[0]
    L = acts.shape[0]
    widths = _widths(units, acts, act_param)
    size = _block_size(widths, chunk, False, False, False)
    work = np.empty(n_threads * size, dtype=theta.dtype)
    no_rows = units[:0]  # read-only, as an epoch's order: one compiled _forward for both
    n_chunks = _ceil_div(n, chunk)
    per = _ceil_div(n_chunks, n_threads)
    for k in prange(n_threads):
        w = work[k * size : (k + 1) * size]
        for c in range(k * per, min(n_chunks, (k + 1) * per)):
            start = c * chunk
            nb = min(chunk, n - start)
            _forward(Xv, Xi, Xp, nf, no_rows, start, nb, theta, units, widths, acts, act_param,
                     coef_off, bias_off, slope_off, w, w[:0], w[:0], chunk, act_param[:0],
                     np.int64(0), _no_batch_norm(theta, units))
            out[start : start + nb] = _block(w, chunk, widths, L - 1, nb)
    return out


# Start Numba's threading layer now. A kernel compiled in a process that
# loaded its parallel callees from the disk cache is saved without the
# start-up call (numba/numba#8578); a fresh process that loads it first would
# call into a threading layer never started, through a null address.
get_num_threads()

# Every kernel compiles (or loads from the disk cache) one process at a time,
# so workers starting together on an empty cache compile each kernel once.
# The other modules' kernels too, where this module does not import them.
for _kernel in {id(value): value
                for namespace in (globals(), vars(_numba_loops), vars(_numba_dispatch),
                                  vars(_numba_layout), vars(_numba_layers), vars(_numba_step))
                for value in list(namespace.values())
                if isinstance(value, Dispatcher)}.values():
    lock_compiles(_kernel)
del _kernel
