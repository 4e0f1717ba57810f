# Included by _mlp.pyx (one module, so calls between the parts inline).
# Splitting a batch between threads: by rows (each thread's loss and gradient
# in its own buffers, added up by parameter slices) or, for a large first
# layer, by input features; and the workspace all of it needs.

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
