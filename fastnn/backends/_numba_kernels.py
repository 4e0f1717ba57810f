"""Numba CPU kernels: one mini-batch epoch, full-batch loss and gradient, forward.

The layout is the Cython core's (``src/_mlp.pyx``): flat parameters
``theta`` (every weight matrix, then every bias), and a workspace holding
each layer's outputs and deltas for ``max_batch`` rows, so the batch loop
allocates nothing. GEMMs go through ``np.dot(a, b, out)``, which Numba turns
into BLAS calls; everything else is loops over the scalar functions of
``_scalar``, shared with the CUDA kernels.

The input is either dense (``Xv`` is ``X`` flattened, ``Xp`` empty) or CSR
(``Xv``/``Xi``/``Xp``), multiplied only in the first layer by sparse x dense
loops. ``rows`` is the visiting order, empty for 0, 1, ..., n - 1.

A maxout layer of ``n`` units with ``k`` pieces is ``width = n * k`` linear
columns wide (``widths``, from ``units``, ``acts`` and ``act_param``): its
blocks hold ``max_batch x width`` values, and its compact ``nb x n`` outputs
(and their deltas dL/da) live at the start of its block.
"""

import numpy as np
from numba import get_num_threads, njit, prange
from numba.core.dispatcher import Dispatcher

from . import _numba_dispatch, _numba_loops, _scalar
from ._scalar import (H_BETA_1, H_BETA_2, H_CLIPNORM, H_EPSILON, H_LEARNING_RATE, H_MOMENTUM,
                      H_NESTEROV, H_RHO, H_WEIGHT_DECAY)
from ._numba_cache import lock_compiles
from ._numba_loops import _act_loop, _jit, activate, backprop
# Generated from fastnn/_registry.py by setup.py: one inlined loop per activation code.
from ._numba_dispatch import _backprop, _bias_activation, derivative_from_input

loss_term = _jit(_scalar.loss_term)
finish_loss = _jit(_scalar.finish_loss)
l1_subgradient = njit(cache=True, nogil=True, error_model="numpy", inline="always")(
    _scalar.l1_subgradient)
sgd_update = _jit(_scalar.sgd_update)
adam_update = _jit(_scalar.adam_update)
rmsprop_update = _jit(_scalar.rmsprop_update)
adagrad_update = _jit(_scalar.adagrad_update)
nadam_update = _jit(_scalar.nadam_update)
step_scalars = _jit(_scalar.step_scalars)
clip_factor = _jit(_scalar.clip_factor)
dropout_keeps = njit(cache=True, nogil=True, error_model="numpy", inline="always")(
    _scalar.dropout_keeps)

IDENTITY = _scalar.IDENTITY
PRELU = _scalar.PRELU
MAXOUT = _scalar.MAXOUT
SGD = _scalar.SGD
ADAM = _scalar.ADAM
RMSPROP = _scalar.RMSPROP
ADAGRAD = _scalar.ADAGRAD
ADAMW = _scalar.ADAMW
NADAM = _scalar.NADAM


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
def _block_size(widths, max_batch, gather, keep, norm):
    # Outputs and deltas of every layer for max_batch rows, pre-activations
    # if kept, normalized products with batch norm, then gathered rows.
    return max_batch * ((2 + keep + norm) * _act_size(widths) + (widths[0] if gather else 0))


@_jit
def _normalized(bn_off, l):
    # Whether layer l has batch normalization (bn_off empty: no layer has).
    return bn_off.shape[0] > 0 and bn_off[l + 1] > bn_off[l]


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


@_jit
def _step(theta, grad, n_w, solver, sc, hyper, state_1, state_2):
    """The optimizer's update of every parameter from a completed gradient.

    ``sc`` holds the step's ``step_scalars``; ``theta[:n_w]`` are weights.
    """
    dt = theta.dtype.type
    lr_, b1, b2 = dt(sc[0]), dt(hyper[H_BETA_1]), dt(hyper[H_BETA_2])
    e = dt(hyper[H_EPSILON])
    if solver == SGD:
        mu, nesterov = dt(hyper[H_MOMENTUM]), hyper[H_NESTEROV] != 0
        for i in range(theta.shape[0]):
            theta[i], state_1[i] = sgd_update(theta[i], grad[i], state_1[i], lr_, mu, nesterov)
    elif solver == ADAM or solver == ADAMW:
        if solver == ADAMW:
            # Decoupled weight decay, on the weights only
            decay = dt(sc[1])
            for i in range(n_w):
                theta[i] = theta[i] * decay
        for i in range(theta.shape[0]):
            theta[i], state_1[i], state_2[i] = adam_update(
                theta[i], grad[i], state_1[i], state_2[i], lr_, b1, b2, e
            )
    elif solver == RMSPROP:
        rho = dt(hyper[H_RHO])
        for i in range(theta.shape[0]):
            theta[i], state_1[i] = rmsprop_update(theta[i], grad[i], state_1[i], lr_, rho, e)
    elif solver == ADAGRAD:
        for i in range(theta.shape[0]):
            theta[i], state_1[i] = adagrad_update(theta[i], grad[i], state_1[i], lr_, e)
    elif solver == NADAM:
        c_m, bc2 = dt(sc[1]), dt(sc[2])
        for i in range(theta.shape[0]):
            theta[i], state_1[i], state_2[i] = nadam_update(
                theta[i], grad[i], state_1[i], state_2[i], lr_, c_m, bc2, b1, b2, e
            )


@_jit
def _complete(theta, grad, n_coef, alpha, l1, sw_sum):
    # grad = (grad + alpha * W [+ l1 * sign(W)]) / sw_sum on weights (theta[:n_coef]),
    # grad / sw_sum after.
    a = theta.dtype.type(alpha)
    s = theta.dtype.type(sw_sum)
    if l1 == 0:
        for i in range(n_coef):
            grad[i] = (grad[i] + a * theta[i]) / s
    else:
        b = theta.dtype.type(l1)
        for i in range(n_coef):
            w = theta[i]
            grad[i] = (grad[i] + a * w + l1_subgradient(w, b)) / s
    for i in range(n_coef, grad.shape[0]):
        grad[i] = grad[i] / s


@_jit
def _clipping(solver, hyper):
    # Keras' clipnorm (hyper[H_CLIPNORM], 0: off) applies when there is a step.
    return solver >= 0 and hyper[H_CLIPNORM] > 0


@_jit
def _finish_step(theta, grad, parts, n_parts, lo, hi, n_coef, alpha, l1, sw_sum, solver, sc,
                 hyper, state_1, state_2, bounds, var_sq):
    """Parameters ``[lo, hi)``: complete the gradient, then step.

    The gradient is ``grad`` plus the other threads' ``parts``, plus
    ``alpha * W`` (and ``l1 * sign(W)``) on weights (``theta[:n_coef]``),
    divided by the batch's weight sum (scikit-learn's order of operations).
    Returns ``sum(W ** 2)`` and ``sum(|W|)`` over the range's weights, before
    the update. When clipping, the step waits for every range's gradient
    (``_clip_step``): the range's sums of squared gradients per variable
    (starts ``bounds``) go to ``var_sq`` instead.
    """
    n_params = theta.shape[0]
    c = max(lo, min(hi, n_coef))
    l2 = np.dot(theta[lo:c], theta[lo:c]) if alpha != 0 and c > lo else 0.0
    l1_sum = 0.0
    if l1 != 0:
        for i in range(lo, c):
            l1_sum += abs(theta[i])
    for q in range(1, n_parts):
        part = parts[(q - 1) * n_params : q * n_params]
        for i in range(lo, hi):
            grad[i] += part[i]
    # Whole passes: measured faster here than L1-sized blocks (unlike in C).
    _complete(theta[lo:hi], grad[lo:hi], c - lo, alpha, l1, sw_sum)
    if _clipping(solver, hyper):
        for v in range(bounds.shape[0] - 1):
            sq = 0.0
            for i in range(max(lo, bounds[v]), min(hi, bounds[v + 1])):
                sq += grad[i] * grad[i]
            var_sq[v] = sq
    else:
        _step(theta[lo:hi], grad[lo:hi], c - lo, solver, sc, hyper, state_1[lo:hi],
              state_2[lo:hi])
    return l2, l1_sum


@_jit
def _clip_scales(var_sq, clipnorm):
    """Each variable's factor ``clipnorm / max(norm, clipnorm)`` (Keras' clip_by_norm)."""
    n_vars = var_sq.shape[1]
    scales = np.empty(n_vars)
    for v in range(n_vars):
        scales[v] = clip_factor(var_sq[:, v].sum(), clipnorm)
    return scales


@_jit
def _clip_step(theta, grad, lo, hi, n_coef, solver, sc, hyper, state_1, state_2, bounds, scales):
    """Parameters ``[lo, hi)``: scale each variable's gradient by its factor, then step."""
    for v in range(bounds.shape[0] - 1):
        if scales[v] != 1.0:
            f = theta.dtype.type(scales[v])
            for i in range(max(lo, bounds[v]), min(hi, bounds[v + 1])):
                grad[i] = grad[i] * f
    c = max(lo, min(hi, n_coef))
    _step(theta[lo:hi], grad[lo:hi], c - lo, solver, sc, hyper, state_1[lo:hi], state_2[lo:hi])


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
# The loops and the generated dispatch too, where this module does not import them.
for _kernel in {id(value): value
                for namespace in (globals(), vars(_numba_loops), vars(_numba_dispatch))
                for value in list(namespace.values())
                if isinstance(value, Dispatcher)}.values():
    lock_compiles(_kernel)
del _kernel
