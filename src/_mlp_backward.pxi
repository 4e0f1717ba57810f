# Included by _mlp.pyx (one module, so calls between the parts inline).
# Backward pass: a batch's summed loss and gradient (``raw_loss_grad``).

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
