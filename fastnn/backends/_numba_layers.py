"""The Numba CPU kernels' forward and backward passes over one batch.

GEMMs go through ``np.dot(a, b, out)``, which Numba turns into BLAS calls;
everything else is loops over the scalar functions of ``_scalar``, shared
with the CUDA kernels. The input is either dense (``Xv`` is ``X`` flattened,
``Xp`` empty) or CSR (``Xv``/``Xi``/``Xp``), multiplied only in the first
layer by sparse x dense loops. ``rows`` is the visiting order, empty for 0,
1, ..., n - 1. Layer features: dropout (``_drop_units``), batch
normalization (``_bn_forward``, ``_bn_backward``), prelu and maxout.
"""

import numpy as np
from numba import njit

from . import _scalar
# Generated from fastnn/_registry.py by setup.py: one inlined loop per activation code.
from ._numba_dispatch import _backprop, _bias_activation, derivative_from_input
from ._numba_layout import (
    _act_size, _block, _keeps, _normalized, _outputs, _sample_at, _span, _unit_offset, _weights,
)
from ._numba_loops import _act_loop, _jit, activate, backprop

loss_term = _jit(_scalar.loss_term)
dropout_keeps = njit(cache=True, nogil=True, error_model="numpy", inline="always")(
    _scalar.dropout_keeps)

IDENTITY = _scalar.IDENTITY
PRELU = _scalar.PRELU
MAXOUT = _scalar.MAXOUT


@_jit
def _drop_units(A, rate, key, pos0, offset):
    """Inverted dropout of a layer's rows ``pos0, pos0 + 1, ...`` of the epoch
    (units ``offset + j`` counted over all layers), in place: kept entries
    scaled by ``1 / (1 - rate)``, dropped ones 0 (``fastnn._dropout``).
    The same call masks the outputs forward and the deltas backward."""
    s = A.dtype.type(1.0 / (1.0 - rate))
    for r in range(A.shape[0]):
        for j in range(A.shape[1]):
            A[r, j] = A[r, j] * s if dropout_keeps(key, pos0 + r, offset + j, rate) else 0


@_jit
def _bn_forward(Z, xhat, mean, inv_std, gamma, run_mean, run_var, eps, momentum):
    """Normalize ``Z`` over its rows in place to ``gamma * xhat``, keeping ``xhat``.

    Mean and biased variance summed in float64 (two passes) into ``mean``
    and ``inv_std`` (``1 / sqrt(var + eps)``); the running statistics move
    by ``momentum`` (``fastnn._batch_norm``; the twin of ``src/_batch_norm.pxd``).
    """
    nb, n = Z.shape
    dt = Z.dtype.type
    keep, take = dt(momentum), dt(1.0 - momentum)
    mean[:] = 0.0
    inv_std[:] = 0.0
    for r in range(nb):
        for j in range(n):
            mean[j] += Z[r, j]
    for j in range(n):
        mean[j] /= nb
    for r in range(nb):
        for j in range(n):
            d = Z[r, j] - mean[j]
            inv_std[j] += d * d
    for j in range(n):
        var = inv_std[j] / nb
        run_mean[j] = keep * run_mean[j] + take * dt(mean[j])
        run_var[j] = keep * run_var[j] + take * dt(var)
        inv_std[j] = 1.0 / np.sqrt(var + eps)
    for r in range(nb):
        for j in range(n):
            x = (Z[r, j] - dt(mean[j])) * dt(inv_std[j])
            xhat[r, j] = x
            Z[r, j] = gamma[j] * x


@_jit
def _bn_backward(D, xhat, inv_std, gamma, d_beta, g_block, acc):
    """Turn ``D`` = dL/dy into dL/d(x @ W) in place; dL/dgamma (then zeros
    for the running statistics) into the layer's gradient block ``g_block``.
    ``d_beta`` holds the column sums of ``D``; ``acc`` is float64 scratch."""
    nb, n = D.shape
    dt = D.dtype.type
    acc[:] = 0.0
    for r in range(nb):
        for j in range(n):
            acc[j] += D[r, j] * xhat[r, j]
    for j in range(n):
        g_block[j] = dt(acc[j])
        g_block[n + j] = 0
        g_block[2 * n + j] = 0
    # In D's precision throughout, as the reference computes it.
    m = dt(nb)
    for r in range(nb):
        for j in range(n):
            c = gamma[j] * dt(inv_std[j])
            D[r, j] = c * (D[r, j] - d_beta[j] / m - xhat[r, j] * (g_block[j] / m))


@_jit
def _prelu_forward(Z, b, slopes, pre):
    """Z = prelu(Z + b) in place with each unit's slope; Z + b goes to ``pre``
    unless it is empty."""
    _act_loop(Z, b, IDENTITY, 0.0, pre)
    for r in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            Z[r, j] = activate(PRELU, Z[r, j], slopes[j])


@_jit
def _prelu_backward(D, Zp, slopes, g):
    """prelu's backward pass: ``g`` gets each unit's dL/dslope,
    ``sum(D * min(z, 0))`` in row order, then ``D`` (dL/da) becomes dL/dz.
    ``Zp`` holds the pre-activations (the twin of ``prelu_backward`` in
    ``src/_activations.pxd``)."""
    zero = D.dtype.type(0)
    g[:] = 0
    for r in range(D.shape[0]):
        for j in range(D.shape[1]):
            z = Zp[r, j]
            g[j] += D[r, j] * (z if z < 0 else zero)
            D[r, j] = backprop(PRELU, D[r, j], z, slopes[j])


@_jit
def _maxout_forward(Z, nb, n, k, b, pre):
    """Maxout of ``Z + b`` in place, ``Z`` the flat ``nb x (n * k)`` products:
    unit ``j`` of row ``r`` becomes the first largest of its ``k`` columns
    ``j * k, ...``, written compact (``nb x n``) at the start of ``Z``.
    ``Z + b`` goes to ``pre`` (``nb x (n * k)``) unless it is empty.

    Front to back, each value is read before any output lands on it.
    """
    keep = pre.shape[0] > 0
    w = n * k
    for r in range(nb):
        for j in range(n):
            c = j * k
            m = Z[r * w + c] + b[c]
            if keep:
                pre[r, c] = m
            for p in range(1, k):
                z = Z[r * w + c + p] + b[c + p]
                if keep:
                    pre[r, c + p] = z
                # A NaN wins, as in NumPy's max.
                if z > m or (z != z and m == m):
                    m = z
            Z[r * n + j] = m


@_jit
def _maxout_backward(D, nb, n, k, Zp):
    """maxout's backward pass in place: ``D``, flat, holds dL/da compact
    (``nb x n``) at its start and becomes dL/dz (``nb x (n * k)``): each
    unit's delta goes to its first largest piece of ``Zp`` (the kept
    ``Z + b``), 0 to the others (``_maxout_backward`` of ``_numpy``).

    Back to front, each delta is read before any dL/dz lands on it.
    """
    w = n * k
    zero = D.dtype.type(0)
    for r in range(nb - 1, -1, -1):
        for j in range(n - 1, -1, -1):
            d = D[r * n + j]
            c = j * k
            best = 0
            m = Zp[r, c]
            for p in range(1, k):
                z = Zp[r, c + p]
                if z > m or (z != z and m == m):
                    m = z
                    best = p
            for p in range(k):
                D[r * w + c + p] = d if p == best else zero


@_jit
def _gather(Xv, nf, rows, start, nb, xbuf):
    # The shuffled rows of a dense X, copied into one block for GEMM.
    xin = xbuf[: nb * nf].reshape(nb, nf)
    for r in range(nb):
        i = rows[start + r]
        xin[r] = Xv[i * nf : (i + 1) * nf]
    return xin


@_jit
def _sparse_first_layer(Xv, Xi, Xp, rows, start, W, Z):
    # Z = X_batch @ W with X_batch sparse: one axpy per stored value.
    Z[:] = 0
    for r in range(Z.shape[0]):
        i = _sample_at(rows, start, r)
        z = Z[r]
        for p in range(Xp[i], Xp[i + 1]):
            v = Xv[p]
            w = W[Xi[p]]
            for j in range(z.shape[0]):
                z[j] += v * w[j]


@_jit
def _forward(Xv, Xi, Xp, nf, rows, start, nb, theta, units, widths, acts, act_param,
             coef_off, bias_off, slope_off, buf, pres, xbuf, max_batch, drop, key, bn):
    """Fill every layer's output block for a batch; return the dense input used.

    ``widths`` are the layers' linear columns (``_widths``). ``pres`` (laid
    out like ``buf``), unless empty, receives what each layer's derivative
    reads where the outputs cannot serve: the pre-activations of gelu,
    swish, prelu and maxout (all its pieces), the outputs before the mask of
    the layers with dropout (rates ``drop``, empty for none; row ``r`` of the
    batch is row ``start + r`` of the epoch). prelu layers read their slopes
    at ``slope_off`` in ``theta``. ``bn`` is batch norm's
    ``(bn_off, xhats, stats, eps, momentum)``: block starts in ``theta``
    (empty: no batch norm), the normalized products (laid out like ``buf``),
    float64 scratch for each linear column's batch mean and inverse
    deviation (``2 * act_size``), epsilon and the running statistics' momentum. For
    sparse input the returned array is an empty placeholder.
    """
    bn_off, xhats, bn_stats, bn_eps, bn_momentum = bn
    act_size = _act_size(widths)
    sparse = Xp.shape[0] > 0
    if sparse:
        xin = xbuf[:0].reshape(0, nf)
    elif rows.shape[0] > 0:
        xin = _gather(Xv, nf, rows, start, nb, xbuf)
    else:
        xin = Xv[start * nf : (start + nb) * nf].reshape(nb, nf)
    Z = _block(buf, max_batch, widths, 0, nb)
    if sparse:
        _sparse_first_layer(Xv, Xi, Xp, rows, start,
                            _weights(theta, units, widths, coef_off, 0), Z)
    else:
        np.dot(xin, _weights(theta, units, widths, coef_off, 0), Z)
    for l in range(acts.shape[0]):
        if l > 0:
            Z = _block(buf, max_batch, widths, l, nb)
            np.dot(_outputs(buf, max_batch, units, widths, l - 1, nb),
                   _weights(theta, units, widths, coef_off, l), Z)
        kept = _block(pres, max_batch, widths, l, nb) if pres.shape[0] > 0 else Z[:0]
        if _normalized(bn_off, l):
            n = widths[l + 1]
            u = _unit_offset(widths, l)
            g = theta[bn_off[l] : bn_off[l + 1]]
            _bn_forward(Z, _block(xhats, max_batch, widths, l, nb), bn_stats[u : u + n],
                        bn_stats[act_size + u : act_size + u + n], g[:n], g[n : 2 * n],
                        g[2 * n :], bn_eps, bn_momentum)
        b = theta[bias_off[l] : bias_off[l] + widths[l + 1]]
        if acts[l] == PRELU:
            _prelu_forward(Z, b, theta[slope_off[l] : slope_off[l + 1]], kept)
        elif acts[l] == MAXOUT:
            # Z + b kept whole; the compact outputs overwrite the start of the block.
            n = units[l + 1]
            _maxout_forward(_span(buf, max_batch, widths, l, nb * widths[l + 1]), nb, n,
                            widths[l + 1] // n, b, kept)
        else:
            _bias_activation(Z, b, acts[l], act_param[l],
                             kept if derivative_from_input(acts[l]) else Z[:0])
        if drop.shape[0] > 0 and l < acts.shape[0] - 1 and drop[l] > 0:
            if not derivative_from_input(acts[l]):
                kept[:] = Z
            # Units numbered over the outputs of all layers, not their widths.
            _drop_units(_outputs(buf, max_batch, units, widths, l, nb), drop[l], key, start,
                        _unit_offset(units, l))
    return xin


@_jit
def _column_sums(D, out):
    out[:] = 0
    for r in range(D.shape[0]):
        d = D[r]
        for j in range(out.shape[0]):
            out[j] += d[j]


@_jit
def _raw_loss_grad(Xv, Xi, Xp, nf, Y, sw, rows, start, nb, theta, units, widths, acts,
                   act_param, coef_off, bias_off, slope_off, loss, eps, grad, work, max_batch,
                   drop, key, bn):
    """Summed loss of a batch and its summed gradient, written to ``grad``.

    Nothing is averaged or penalised yet (``_finish_step``). Returns the weighted
    sum of per-sample losses and the sum of the weights. With batch norm
    (``bn``, see ``_forward``; its xhats are placed here) the rows must be
    the whole batch.
    """
    L = acts.shape[0]
    bn_off, _, bn_stats, bn_eps, bn_momentum = bn
    act_size = _act_size(widths)
    # Outputs, deltas, pre-activations (if kept), normalized products (with
    # batch norm), then gathered rows.
    size = act_size * max_batch
    n_pre = size if _keeps(acts, drop) else 0
    n_norm = size if bn_off.shape[0] > 0 else 0
    outs = work[:size]
    deltas = work[size : 2 * size]
    pres = work[2 * size : 2 * size + n_pre]
    xhats = work[2 * size + n_pre : 2 * size + n_pre + n_norm]
    xbuf = work[2 * size + n_pre + n_norm :]
    xin = _forward(Xv, Xi, Xp, nf, rows, start, nb, theta, units, widths, acts, act_param,
                   coef_off, bias_off, slope_off, outs, pres, xbuf, max_batch, drop, key,
                   (bn_off, xhats, bn_stats, bn_eps, bn_momentum))

    # Output layer: loss and delta = (prediction - target) * weight.
    P = _block(outs, max_batch, widths, L - 1, nb)
    D = _block(deltas, max_batch, widths, L - 1, nb)
    n_out = units[L]
    total = 0.0
    weights = 0.0
    for r in range(nb):
        i = _sample_at(rows, start, r)
        wr = sw[i] if sw.shape[0] > 0 else 1.0
        s = 0.0
        for j in range(n_out):
            s += loss_term(loss, Y[i, j], P[r, j], eps)
            D[r, j] = (P[r, j] - Y[i, j]) * wr
        total += wr * s
        weights += wr

    # D: dL/dz of layer l, nb x widths[l + 1].
    for l in range(L - 1, -1, -1):
        gW = _weights(grad, units, widths, coef_off, l)
        gb = grad[bias_off[l] : bias_off[l] + widths[l + 1]]
        _column_sums(D, gb)
        if _normalized(bn_off, l):
            # D becomes dL/d(x @ W); the bias sums above are dL/dbeta. The
            # layer's batch means, no longer needed, serve as scratch.
            n = widths[l + 1]
            u = _unit_offset(widths, l)
            _bn_backward(D, _block(xhats, max_batch, widths, l, nb),
                         bn_stats[act_size + u : act_size + u + n],
                         theta[bn_off[l] : bn_off[l] + n], gb,
                         grad[bn_off[l] : bn_off[l + 1]], bn_stats[u : u + n])
        if l == 0:
            if Xp.shape[0] > 0:
                # gW = X_batch.T @ D with X_batch sparse: scatter the rows of D.
                gW[:] = 0
                for r in range(nb):
                    i = _sample_at(rows, start, r)
                    d = D[r]
                    for p in range(Xp[i], Xp[i + 1]):
                        v = Xv[p]
                        g = gW[Xi[p]]
                        for j in range(g.shape[0]):
                            g[j] += v * d[j]
            else:
                np.dot(xin.T, D, gW)
        else:
            np.dot(_outputs(outs, max_batch, units, widths, l - 1, nb).T, D, gW)
        if l > 0:
            # D_prev = (D @ W.T) * act'(A_prev), dL/da compact first.
            D_prev = _outputs(deltas, max_batch, units, widths, l - 1, nb)
            np.dot(D, _weights(theta, units, widths, coef_off, l).T, D_prev)
            code = acts[l - 1]
            dropped = drop.shape[0] > 0 and drop[l - 1] > 0
            if dropped:
                # Dropped units pass no delta; kept ones are scaled as forward.
                _drop_units(D_prev, drop[l - 1], key, start, _unit_offset(units, l - 1))
            src = pres if dropped or derivative_from_input(code) else outs
            V = _block(src, max_batch, widths, l - 1, nb)
            if code == PRELU:
                _prelu_backward(D_prev, V, theta[slope_off[l - 1] : slope_off[l]],
                                grad[slope_off[l - 1] : slope_off[l]])
            elif code == MAXOUT:
                # dL/da spreads in place to the layer's whole width.
                n = units[l]
                _maxout_backward(_span(deltas, max_batch, widths, l - 1, nb * widths[l]), nb,
                                 n, widths[l] // n, V)
                D_prev = _block(deltas, max_batch, widths, l - 1, nb)
            else:
                _backprop(D_prev, V, code, act_param[l - 1])
            D = D_prev
    return total, weights
