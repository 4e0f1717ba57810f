# Included by _mlp.pyx (one module, so calls between the parts inline).
# The epoch driver: one batch (forward, backward, step), the batch loop with
# its Ctrl-C checks, and ``epoch``, the entry point of mini-batch training.

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
    value = (finish_loss(total, sw_sum, net.units[net.n_layers], net.loss)
             + 0.5 * alpha * l2 / sw_sum)
    if l1 != 0:
        value = value + l1 * l1_sum / sw_sum
    return value


def epoch(inputs, Y, sample_weight, theta, net, optimizer, plan, grad, work, n_threads=1,
          ahead_state=None, ahead_target=None, split_first=False, ahead_beside=True):
    """Run one epoch of mini-batch training in place; return the summed loss.

    Parameters
    ----------
    inputs : KernelInput
        The input (``fastnn.backends._data``): dense rows flattened (empty
        index arrays), or CSR arrays.
    Y : ndarray of shape (n_samples, n_outputs)
        Targets, the output layer's encoding.
    sample_weight : ndarray of shape (n_samples,) or (0,)
        Per-sample weights, empty when unweighted.
    theta : ndarray of shape (n_params,)
        Flat parameters, updated in place.
    net : KernelNet
        The network (``fastnn._network.NetworkSpec``; ``slope_off`` is its
        ``slope_offsets``) and the loss code.
    optimizer : KernelOptimizer
        ``solver``: the ``OPTIMIZERS`` code; ``hyper``: lr, momentum,
        nesterov, beta_1, beta_2, epsilon, rho, weight_decay, clipnorm
        (``_registry.HYPER_FIELDS``; clipnorm 0 means none); ``state_1``,
        ``state_2``: velocity (sgd), first and second moments (adam, adamw,
        nadam), mean square (rmsprop) or sum of squares (adagrad), updated
        in place; ``step``: the step count and nadam's momentum product,
        updated in place after every batch (sgd counts no steps).
    plan : KernelEpoch
        ``order``: visiting order of the samples (empty: 0, 1, ..., n - 1);
        ``batch_size``: rows per mini-batch, the last batch taking the
        remainder; ``alpha``, ``l1``: the L2 and L1 penalties; ``drop``,
        ``drop_key``, ``bn_off``, ``bn_eps``, ``bn_momentum``: as below
        (an empty ``drop`` or ``bn_off``: none).
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
    return _epoch_arrays(
        *inputs, Y, sample_weight, theta, *net, plan.order, plan.batch_size, plan.alpha,
        plan.l1, *optimizer, grad, work, n_threads,
        plan.drop if plan.drop.shape[0] > 0 else None, plan.drop_key,
        plan.bn_off if plan.bn_off.shape[0] > 0 else None, plan.bn_eps, plan.bn_momentum,
        ahead_state, ahead_target, split_first, ahead_beside)


def _epoch_arrays(const floating[::1] X_values, const Py_ssize_t[::1] X_indices,
                  const Py_ssize_t[::1] X_indptr, Py_ssize_t n_features,
                  const floating[:, ::1] Y, const floating[::1] sample_weight,
                  floating[::1] theta,
                  const Py_ssize_t[::1] units, const int[::1] acts, const double[::1] act_param,
                  const Py_ssize_t[::1] coef_off, const Py_ssize_t[::1] bias_off,
                  const Py_ssize_t[::1] slope_off, int loss, const Py_ssize_t[::1] order,
                  Py_ssize_t batch_size, double alpha, double l1,
                  int solver, const double[::1] hyper, floating[::1] state_1,
                  floating[::1] state_2, double[::1] step,
                  floating[::1] grad, floating[::1] work, int n_threads,
                  const double[::1] drop, uint64_t drop_key,
                  const Py_ssize_t[::1] bn_off, double bn_eps, double bn_momentum,
                  ahead_state, Py_ssize_t[::1] ahead_target, bint split_first,
                  bint ahead_beside):
    """``epoch`` with its structures unpacked, argument by argument."""
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
    s.hyper = &hyper[0]
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
            step_scalars(s.solver, t, hyper, &mu_product, s.sc)
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
