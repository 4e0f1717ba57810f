"""The Numba CPU kernels' layout: layer widths, workspace blocks, thread shares.

The layout is the Cython core's (``src/_mlp.pyx``): flat parameters
``theta`` (every weight matrix, then every bias, the batch-norm blocks and
the prelu slopes), and a workspace holding each layer's outputs and deltas
for ``max_batch`` rows, so the batch loop allocates nothing. A maxout layer
of ``n`` units with ``k`` pieces is ``width = n * k`` linear columns wide
(``widths``, from ``units``, ``acts`` and ``act_param``): its blocks hold
``max_batch x width`` values, and its compact ``nb x n`` outputs (and their
deltas dL/da) live at the start of its block.
"""

import numpy as np

from . import _scalar
from ._numba_dispatch import derivative_from_input
from ._numba_loops import _jit

PRELU = _scalar.PRELU
MAXOUT = _scalar.MAXOUT


@_jit
def _widths(units, acts, act_param):
    """Linear columns of each layer, input first, like ``units``: ``units[l + 1]
    * k`` for a maxout layer ``l`` of ``k = act_param[l]`` pieces."""
    widths = np.empty(units.shape[0], np.intp)
    widths[:] = units
    for l in range(acts.shape[0]):
        if acts[l] == MAXOUT:
            widths[l + 1] = units[l + 1] * int(act_param[l])
    return widths


@_jit
def _act_size(widths):
    # One row of every layer's linear columns.
    act_size = 0
    for l in range(1, widths.shape[0]):
        act_size += widths[l]
    return act_size


@_jit
def _keeps(acts, drop):
    # Training keeps what derivatives read where the outputs cannot serve:
    # pre-activations (a derivative needs them) or outputs before dropout's mask.
    for l in range(acts.shape[0] - 1):
        if derivative_from_input(acts[l]) or (drop.shape[0] > 0 and drop[l] > 0):
            return True
    return False


@_jit
def _block_size(widths, max_batch, gather, keep, norm):
    # Outputs and deltas of every layer for max_batch rows, pre-activations
    # if kept, normalized products with batch norm, then gathered rows.
    return max_batch * ((2 + keep + norm) * _act_size(widths) + (widths[0] if gather else 0))


@_jit
def _normalized(bn_off, l):
    # Whether layer l has batch normalization (bn_off empty: no layer has).
    return bn_off.shape[0] > 0 and bn_off[l + 1] > bn_off[l]


@_jit
def _sample_at(rows, start, r):
    # Row r of the batch starting at start: through the visiting order, if any.
    return rows[start + r] if rows.shape[0] > 0 else start + r


@_jit
def _unit_offset(units, l):
    # Index of layer l's first unit (or linear column, given widths), counted
    # over all layers.
    off = 0
    for k in range(1, l + 1):
        off += units[k]
    return off


@_jit
def _span(buf, max_batch, widths, l, size):
    # The first size values of layer l's block, in a buffer of per-layer
    # blocks of max_batch x widths[l + 1] values each.
    off = _unit_offset(widths, l) * max_batch
    return buf[off : off + size]


@_jit
def _block(buf, max_batch, widths, l, nb):
    # Layer l's nb rows of linear columns.
    n = widths[l + 1]
    return _span(buf, max_batch, widths, l, nb * n).reshape(nb, n)


@_jit
def _outputs(buf, max_batch, units, widths, l, nb):
    # Layer l's nb rows of outputs (or dL/da): compact, at the start of its
    # block (the whole block but for maxout).
    n = units[l + 1]
    return _span(buf, max_batch, widths, l, nb * n).reshape(nb, n)


@_jit
def _weights(theta, units, widths, coef_off, l):
    return theta[coef_off[l] : coef_off[l + 1]].reshape(units[l], widths[l + 1])


@_jit
def _ceil_div(a, b):
    return (a + b - 1) // b


@_jit
def _slice_start(k, n_threads, n):
    # Thread k's slice of the parameters, cut at multiples of 16 for SIMD.
    return n if k >= n_threads else (k * n // n_threads) // 16 * 16


@_jit
def _thread_work(widths, max_batch, gather, n_threads, keep, norm):
    # One thread's block of the workspace (its rows' outputs, deltas, gathered rows).
    return _block_size(widths, _ceil_div(max_batch, n_threads), gather, keep, norm)


@_jit
def workspace_size(units, acts, max_batch, gather, n_threads, drop, batch_norm=False,
                   act_param=None):
    """Elements of ``work`` for ``n_threads`` threads sharing each batch by rows.

    Every thread holds its rows' outputs and deltas (what derivatives read
    when the outputs cannot serve, with the activations ``acts`` and dropout
    rates ``drop``; normalized products, with ``batch_norm``; gathered
    rows), and every thread but the first its own gradient (batch norm runs
    on one thread: none). ``act_param`` (the activations' parameters) gives
    the maxout layers' pieces; it may be left out when no layer is maxout.
    """
    if act_param is None:
        widths = _widths(units, acts, np.ones(acts.shape[0]))
    else:
        widths = _widths(units, acts, act_param)
    n_params = 0
    for l in range(units.shape[0] - 1):
        # Weights and biases, and prelu's slopes.
        n_params += (units[l] + 1) * widths[l + 1] + (acts[l] == PRELU) * units[l + 1]
    keep = _keeps(acts, drop)
    return (n_threads * _thread_work(widths, max_batch, gather, n_threads, keep, batch_norm)
            + (n_threads - 1) * n_params)
