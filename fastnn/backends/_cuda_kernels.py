"""Numba CUDA kernels: tiled GEMM with fused epilogues, row and column kernels.

Matrices are flat, row-major device arrays with a leading dimension, as in
BLAS, so one GEMM kernel serves every product of training:

- forward ``Z = A @ W`` with the bias add and activation fused in its epilogue;
- weight gradients ``gW = A.T @ D`` (A read transposed);
- deltas ``D_prev = (D @ W.T) * act'(A_prev)`` with the derivative fused.

The GEMM is shared-memory tiled (``BM x BK`` and ``BK x BN`` tiles) and
register-blocked (each thread computes ``TM x TN`` outputs). Tile sizes and
threads per block come from a :class:`CudaConfig`, so the tests can run
every edge-tile branch on Numba's simulator with tiny tiles.

Reductions accumulate in float64 whatever the dtype and in a fixed order, so
a fit is reproducible run to run. The activation, loss and optimizer math is
``_scalar``'s, compiled as device functions.
"""

import functools
import math
from dataclasses import dataclass

import numba
from numba import cuda

from . import _scalar

# GEMM epilogues.
EPI_STORE = 0
EPI_BIAS_ACT = 1
EPI_BACKPROP = 2
EPI_BIAS_ACT_KEEP = 3  # EPI_BIAS_ACT that also stores the pre-activations in aux

_device = cuda.jit(device=True)
activate = _device(_scalar.activate)
backprop = _device(_scalar.backprop)
loss_term = _device(_scalar.loss_term)
finish_loss = _device(_scalar.finish_loss)
l1_subgradient = _device(_scalar.l1_subgradient)
update = _device(_scalar.update)
clip_factor = _device(_scalar.clip_factor)
dropout_keeps = _device(_scalar.dropout_keeps)

SOFTMAX = _scalar.SOFTMAX
IDENTITY = _scalar.IDENTITY
PRELU = _scalar.PRELU


@dataclass(frozen=True)
class CudaConfig:
    """Launch geometry of the kernels.

    Attributes
    ----------
    bm, bn, bk : int
        GEMM tile: ``bm x bn`` outputs per block, ``bk`` deep per step.
    tm, tn : int
        Outputs per thread (register block); a block has
        ``(bm // tm) * (bn // tn)`` threads.
    tpb : int
        Threads per block of the element-wise, row and column kernels (a
        power of two: the reductions halve it).
    """

    bm: int = 64
    bn: int = 64
    bk: int = 16
    tm: int = 4
    tn: int = 4
    tpb: int = 256

    def __post_init__(self):
        if self.bm % self.tm or self.bn % self.tn:
            raise ValueError("bm and bn must be multiples of tm and tn")
        if self.tpb < 1 or self.tpb & (self.tpb - 1):
            raise ValueError("tpb must be a power of two")


def blocks(n, per):
    """Blocks of ``per`` threads covering ``n`` items (at least one)."""
    return max(1, -(-n // per))


@functools.lru_cache(maxsize=None)
def gemm_kernel(dtype, config):
    """The tiled GEMM kernel for ``dtype`` (a NumPy dtype) and ``config``.

    ``C[M, N] = op(A)[M, K] @ op(B)[K, N]`` then the epilogue ``epi``: plain
    store, ``activate(code, C + bias[col], param)`` (also storing ``C +
    bias[col]`` in ``aux`` for ``EPI_BIAS_ACT_KEEP``), or ``backprop(code, C,
    aux[row, col], param)`` (``aux`` shares C's layout). ``op`` transposes when
    the flag is set: A is then stored ``K x M`` and B ``N x K``. Launch it
    with grid ``(blocks(N, bn), blocks(M, bm))`` and block
    ``(bn // tn, bm // tm)``.
    """
    nbtype = numba.from_dtype(dtype)
    BM, BN, BK, TM, TN = config.bm, config.bn, config.bk, config.tm, config.tn
    TX, TY = BN // TN, BM // TM
    NT = TX * TY

    @cuda.jit
    def gemm(M, N, K, A, lda, trans_a, B, ldb, trans_b, C, ldc, epi, bias, aux, code, param):
        As = cuda.shared.array((BK, BM), nbtype)
        Bs = cuda.shared.array((BK, BN), nbtype)
        acc = cuda.local.array((TM, TN), nbtype)
        a_reg = cuda.local.array(TM, nbtype)
        b_reg = cuda.local.array(TN, nbtype)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        tid = ty * TX + tx
        row0 = cuda.blockIdx.y * BM
        col0 = cuda.blockIdx.x * BN
        for i in range(TM):
            for j in range(TN):
                acc[i, j] = 0
        for k0 in range(0, K, BK):
            # Stage the tiles; consecutive threads read consecutive addresses.
            for e in range(tid, BM * BK, NT):
                if trans_a:
                    kk, ii = e // BM, e % BM
                else:
                    ii, kk = e // BK, e % BK
                gi, gk = row0 + ii, k0 + kk
                v = 0
                if gi < M and gk < K:
                    v = A[gk * lda + gi] if trans_a else A[gi * lda + gk]
                As[kk, ii] = v
            for e in range(tid, BK * BN, NT):
                if trans_b:
                    jj, kk = e // BK, e % BK
                else:
                    kk, jj = e // BN, e % BN
                gj, gk = col0 + jj, k0 + kk
                v = 0
                if gj < N and gk < K:
                    v = B[gj * ldb + gk] if trans_b else B[gk * ldb + gj]
                Bs[kk, jj] = v
            cuda.syncthreads()
            for kk in range(BK):
                for i in range(TM):
                    a_reg[i] = As[kk, ty + i * TY]
                for j in range(TN):
                    b_reg[j] = Bs[kk, tx + j * TX]
                for i in range(TM):
                    for j in range(TN):
                        acc[i, j] += a_reg[i] * b_reg[j]
            cuda.syncthreads()
        for i in range(TM):
            gi = row0 + ty + i * TY
            if gi < M:
                for j in range(TN):
                    gj = col0 + tx + j * TX
                    if gj < N:
                        v = acc[i, j]
                        if epi == EPI_BIAS_ACT or epi == EPI_BIAS_ACT_KEEP:
                            v = v + bias[gj]
                            if epi == EPI_BIAS_ACT_KEEP:
                                aux[gi * ldc + gj] = v
                            v = activate(code, v, param)
                        elif epi == EPI_BACKPROP:
                            v = backprop(code, v, aux[gi * ldc + gj], param)
                        C[gi * ldc + gj] = v

    return gemm


@cuda.jit
def gather_rows(X, nf, rows, start, nb, out):
    """``out[r, :] = X[rows[start + r], :]`` for the batch's ``nb`` rows."""
    e = cuda.grid(1)
    if e < nb * nf:
        r, j = e // nf, e % nf
        out[e] = X[rows[start + r] * nf + j]


@cuda.jit(device=True)
def _softmax(p, n):
    # exp(p - max(p)) / sum in place, in scikit-learn's order of operations.
    mx = p[0]
    for j in range(1, n):
        if p[j] > mx:
            mx = p[j]
    s = p[0] * 0
    for j in range(n):
        p[j] = math.exp(p[j] - mx)
        s += p[j]
    for j in range(n):
        p[j] = p[j] / s


@cuda.jit
def output_rows(P, n_out, softmax, Y, sw, rows, start, nb, loss, eps, D, row_loss, row_w):
    """Per row of the batch: softmax if asked, loss, and delta ``(P - Y) * w``.

    One thread per row. ``rows`` empty means rows ``start, start + 1, ...``;
    ``sw`` empty means unit weights.
    """
    r = cuda.grid(1)
    if r < nb:
        i = rows[start + r] if rows.shape[0] > 0 else start + r
        p = P[r * n_out : (r + 1) * n_out]
        if softmax:
            _softmax(p, n_out)
        w = sw[i] if sw.shape[0] > 0 else 1.0
        total = 0.0
        for j in range(n_out):
            y = Y[i * n_out + j]
            total += loss_term(loss, y, p[j], eps)
            D[r * n_out + j] = (p[j] - y) * w
        row_loss[r] = w * total
        row_w[r] = w


@cuda.jit
def drop_units(A, kept, nb, n, rate, scale, key, pos0, offset):
    """Inverted dropout of a layer's ``nb x n`` outputs in place.

    Row ``r`` is row ``pos0 + r`` of the epoch and unit ``j`` unit
    ``offset + j`` of the network (``fastnn._dropout``): kept entries are
    scaled by ``scale``, dropped ones set to 0. ``kept``, unless empty, gets
    the outputs before the mask, which the derivative reads.
    """
    e = cuda.grid(1)
    if e < nb * n:
        v = A[e]
        if kept.shape[0] > 0:
            kept[e] = v
        A[e] = v * scale if dropout_keeps(key, pos0 + e // n, offset + e % n, rate) else 0


@cuda.jit
def drop_backprop(D, V, nb, n, rate, scale, key, pos0, offset, code, param):
    """A dropout layer's deltas: the forward pass's mask, then ``backprop``
    with ``V``, what the derivative reads (``drop_units``' ``kept``, or the
    pre-activations)."""
    e = cuda.grid(1)
    if e < nb * n:
        D[e] = D[e] * scale if dropout_keeps(key, pos0 + e // n, offset + e % n, rate) else 0
        D[e] = backprop(code, D[e], V[e], param)


@cuda.jit
def prelu_apply(Z, slopes, nb, n):
    """prelu in place on an ``nb x n`` block of pre-activations, each unit with its slope."""
    e = cuda.grid(1)
    if e < nb * n:
        Z[e] = activate(PRELU, Z[e], slopes[e % n])


@cuda.jit
def prelu_backward(D, Zp, slopes, nb, n, g_slopes):
    """prelu's backward pass, one thread per unit: ``g_slopes`` gets
    dL/dslope, ``sum(D * min(z, 0))`` (float64 sum, rows in order), then
    ``D`` (dL/da) becomes dL/dz. ``Zp`` holds the pre-activations."""
    j = cuda.grid(1)
    if j < n:
        s = 0.0
        for r in range(nb):
            e = r * n + j
            z = Zp[e]
            if z < 0:
                s += D[e] * z
            D[e] = backprop(PRELU, D[e], z, slopes[j])
        g_slopes[j] = s


@cuda.jit(device=True)
def _first_max(Z, base, k):
    # Index of the first largest of Z[base : base + k] (a NaN wins, as in NumPy).
    best = 0
    for p in range(1, k):
        v = Z[base + p]
        m = Z[base + best]
        if v > m or (v != v and m == m):
            best = p
    return best


@cuda.jit
def maxout_apply(Zp, A, nb, n, k):
    """maxout's outputs: ``A`` (``nb x n``) gets the largest of each unit's
    ``k`` pieces, side by side in ``Zp`` (``nb x n * k``, after the shift).
    One thread per output."""
    e = cuda.grid(1)
    if e < nb * n:
        A[e] = Zp[e * k + _first_max(Zp, e * k, k)]


@cuda.jit
def maxout_backward(Da, Zp, D, nb, n, k):
    """maxout's deltas, one thread per unit and row: ``D`` (``nb x n * k``)
    gets dL/da (``Da``, ``nb x n``) at the first largest piece of ``Zp``
    (the kept pre-activations), 0 at the others."""
    e = cuda.grid(1)
    if e < nb * n:
        best = _first_max(Zp, e * k, k)
        for p in range(k):
            D[e * k + p] = Da[e] if p == best else 0


@cuda.jit
def softmax_rows(P, n_out, nb):
    """Softmax of each of ``nb`` rows in place (prediction)."""
    r = cuda.grid(1)
    if r < nb:
        _softmax(P[r * n_out : (r + 1) * n_out], n_out)


@cuda.jit
def column_sums(D, nb, n, out):
    """``out[j] = sum(D[:, j])`` (float64 accumulation, rows in order)."""
    j = cuda.grid(1)
    if j < n:
        s = 0.0
        for r in range(nb):
            s += D[r * n + j]
        out[j] = s


@cuda.jit
def bn_stats(Z, nb, n, eps, keep, take, mean, inv_std, run_mean, run_var):
    """Batch normalization's statistics of the ``nb x n`` block ``Z``, one
    thread per column (``fastnn._batch_norm``; twin of ``src/_batch_norm.pxd``).

    Mean and biased variance are summed in float64, rows in order (two
    passes); ``mean`` and ``inv_std`` (``1 / sqrt(var + eps)``), in Z's
    dtype, receive them, and the running statistics move by ``keep`` and
    ``take`` (momentum and 1 - momentum, in Z's dtype).
    """
    j = cuda.grid(1)
    if j < n:
        m = 0.0
        for r in range(nb):
            m += Z[r * n + j]
        m /= nb
        q = 0.0
        for r in range(nb):
            d = Z[r * n + j] - m
            q += d * d
        var = q / nb
        # Stored first, so the running update reads them in Z's dtype.
        mean[j] = m
        inv_std[j] = var
        run_mean[j] = keep * run_mean[j] + take * mean[j]
        run_var[j] = keep * run_var[j] + take * inv_std[j]
        inv_std[j] = 1.0 / math.sqrt(var + eps)


@cuda.jit
def bn_apply(Z, xhat, mean, inv_std, gamma, b, pre, nb, n, code, param):
    """Normalize, scale, shift and activate ``Z`` in place, keeping the
    normalized values in ``xhat`` and, unless ``pre`` is empty, the
    pre-activations in ``pre``."""
    e = cuda.grid(1)
    if e < nb * n:
        j = e % n
        x = (Z[e] - mean[j]) * inv_std[j]
        xhat[e] = x
        y = gamma[j] * x + b[j]
        if pre.shape[0] > 0:
            pre[e] = y
        Z[e] = activate(code, y, param)


@cuda.jit
def bn_grad(D, xhat, nb, n, g_block):
    """A normalized layer's gradient block, one thread per column:
    dL/dgamma (float64 sum, rows in order), then 0 for the running statistics."""
    j = cuda.grid(1)
    if j < n:
        s = 0.0
        for r in range(nb):
            s += D[r * n + j] * xhat[r * n + j]
        g_block[j] = s
        g_block[n + j] = 0
        g_block[2 * n + j] = 0


@cuda.jit
def bn_backward(D, xhat, inv_std, gamma, d_beta, g_gamma, nb, n, rows):
    """``D`` = dL/dy becomes dL/d(x @ W) in place; ``d_beta`` and ``g_gamma``
    are the columns' sums of D and of D * xhat, ``rows`` is nb in D's dtype."""
    e = cuda.grid(1)
    if e < nb * n:
        j = e % n
        c = gamma[j] * inv_std[j]
        D[e] = c * (D[e] - d_beta[j] / rows - xhat[e] * (g_gamma[j] / rows))


@cuda.jit(device=True)
def step(theta, i, g, n_coef, solver, k, state_1, state_2):
    """The optimizer's step of parameter ``i`` from its completed gradient ``g``.

    ``k`` holds the step's ``_scalar.coefficients``; ``state_2`` is empty
    for optimizers with one buffer; ``solver`` -1 leaves the parameter.
    """
    if solver < 0:
        return
    two = state_2.shape[0] > 0
    s2 = state_2[i] if two else g
    theta[i], state_1[i], s2 = update(solver, theta[i], g, state_1[i], s2, i < n_coef, k)
    if two:
        state_2[i] = s2


@cuda.jit
def clip_step(theta, grad, bounds, scales, n_coef, solver, k, state_1, state_2):
    """Scale each completed gradient by its variable's clipping factor, then step."""
    i = cuda.grid(1)
    if i < theta.shape[0]:
        v = 0
        while bounds[v + 1] <= i:
            v += 1
        g = grad[i]
        if scales[v] != 1.0:
            g = g * scales[v]
            grad[i] = g
        step(theta, i, g, n_coef, solver, k, state_1, state_2)


@functools.lru_cache(maxsize=None)
def reduction_kernels(tpb):
    """Kernels that sum in one block of ``tpb`` threads, in a fixed order."""

    @cuda.jit(device=True)
    def block_sum(shared, value):
        # Tree sum of one value per thread; thread 0 gets the total.
        t = cuda.threadIdx.x
        shared[t] = value
        cuda.syncthreads()
        half = tpb // 2
        while half > 0:
            if t < half:
                shared[t] += shared[t + half]
            cuda.syncthreads()
            half //= 2
        return shared[0]

    @cuda.jit
    def sum_rows(row_loss, row_w, nb, sums):
        """One block: ``sums[0] = sum(row_loss)``, ``sums[1] = sum(row_w)``."""
        shared = cuda.shared.array(tpb, numba.float64)
        t = cuda.threadIdx.x
        a = 0.0
        b = 0.0
        for r in range(t, nb, tpb):
            a += row_loss[r]
            b += row_w[r]
        a = block_sum(shared, a)
        b = block_sum(shared, b)
        if t == 0:
            sums[0] = a
            sums[1] = b

    @cuda.jit
    def finish_step(theta, grad, n_coef, alpha, l1, sums, solver, k, state_1, state_2,
                    penalty_parts):
        """Complete each parameter's gradient, then step it (``solver`` -1: no step).

        ``k`` holds the step's ``_scalar.coefficients``.

        ``grad = (grad + alpha * W + l1 * sign(W)) / sum(w)`` on weights
        (``theta[:n_coef]``), ``grad / sum(w)`` on biases, ``sum(w)`` read
        from ``sums[1]``. Each block writes the penalty of its weights,
        ``0.5 * alpha * sum(W ** 2) + l1 * sum(|W|)`` before the step, to
        ``penalty_parts[block]``.
        """
        shared = cuda.shared.array(tpb, numba.float64)
        i = cuda.grid(1)
        sq = 0.0
        if i < theta.shape[0]:
            w = theta[i]
            g = grad[i]
            s = sums[1]
            if i < n_coef:
                sq = 0.5 * alpha * (w * w) + l1 * abs(w)
                g = (g + alpha * w + l1_subgradient(w, l1)) / s
            else:
                g = g / s
            grad[i] = g
            step(theta, i, g, n_coef, solver, k, state_1, state_2)
        sq = block_sum(shared, sq)
        if cuda.threadIdx.x == 0:
            penalty_parts[cuda.blockIdx.x] = sq

    @cuda.jit
    def clip_scales(grad, bounds, clipnorm, scales):
        """One block per variable: ``scales[v] = clipnorm / max(norm, clipnorm)``.

        Variable ``v`` is ``grad[bounds[v]:bounds[v + 1]]``; Keras' clip_by_norm.
        """
        shared = cuda.shared.array(tpb, numba.float64)
        v = cuda.blockIdx.x
        s = 0.0
        for i in range(bounds[v] + cuda.threadIdx.x, bounds[v + 1], tpb):
            s += grad[i] * grad[i]
        s = block_sum(shared, s)
        if cuda.threadIdx.x == 0:
            scales[v] = clip_factor(s, clipnorm)

    @cuda.jit
    def batch_loss(sums, penalty_parts, nb, n_out, loss, acc, accumulate):
        """One block: the batch loss (penalties included); ``acc[0] += nb * loss`` or ``= loss``."""
        shared = cuda.shared.array(tpb, numba.float64)
        t = cuda.threadIdx.x
        s = 0.0
        for k in range(t, penalty_parts.shape[0], tpb):
            s += penalty_parts[k]
        s = block_sum(shared, s)
        if t == 0:
            value = finish_loss(loss, sums[0], sums[1], n_out) + s / sums[1]
            if accumulate:
                acc[0] += nb * value
            else:
                acc[0] = value

    return sum_rows, finish_step, batch_loss, clip_scales
