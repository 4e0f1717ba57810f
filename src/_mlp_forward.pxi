# Included by _mlp.pyx (one module, so calls between the parts inline).
# Forward pass: a batch's layer outputs, and ``forward`` (prediction).

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


cdef void forward_chunk(Net* net, Data* d, Py_ssize_t c, Py_ssize_t chunk, Py_ssize_t n,
                        const floating* theta, floating* work, floating* out) noexcept nogil:
    """Network output of rows ``[c * chunk, (c + 1) * chunk)`` into ``out``."""
    cdef Py_ssize_t start = c * chunk, nb = min(chunk, n - start)
    cdef Py_ssize_t n_out = net.units[net.n_layers]
    forward_batch(net, d, NULL, start, nb, theta, work, NULL, NULL, NULL, chunk, NULL, 0)
    memcpy(out + start * n_out, work + chunk * (net.act_size - n_out),
           nb * n_out * sizeof(floating))


def forward(inputs, theta, net, out, work, n_threads=1):
    """Network output (after the output activation) for every row, into ``out``.

    ``inputs`` is a ``KernelInput`` and ``net`` a ``KernelNet``
    (``fastnn.backends._data``); ``out`` has one row per input row. Rows go
    in chunks of ``len(work) // (n_threads * sum(widths[1:]))``
    (``NetworkSpec.widths``), shared out between ``n_threads`` threads (BLAS
    must then run single-threaded).
    """
    return _forward_arrays(*inputs, theta, net.units, net.acts, net.act_param, net.coef_off,
                           net.bias_off, net.slope_off, out, work, n_threads)


def _forward_arrays(const floating[::1] X_values, const Py_ssize_t[::1] X_indices,
                    const Py_ssize_t[::1] X_indptr, Py_ssize_t n_features,
                    const floating[::1] theta,
                    const Py_ssize_t[::1] units, const int[::1] acts,
                    const double[::1] act_param, const Py_ssize_t[::1] coef_off,
                    const Py_ssize_t[::1] bias_off, const Py_ssize_t[::1] slope_off,
                    floating[:, ::1] out, floating[::1] work, int n_threads):
    """``forward`` with its structures unpacked, argument by argument."""
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
