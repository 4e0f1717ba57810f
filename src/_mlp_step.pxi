# Included by _mlp.pyx (one module, so calls between the parts inline).
# The optimizer step of a batch's completed gradient, by parameter slices:
# the penalties, Keras' clipnorm and the update of each solver.

cdef struct Step:
    # The optimizer update applied after a batch's gradient is complete.
    int solver                  # OPTIMIZERS code, or -1 for no update
    const double* hyper         # laid out as HYPER_FIELDS
    double sc[3]                # this step's step_scalars (sc[0]: the rate)
    void* state_1
    void* state_2
    # Keras' clipnorm: each variable's gradient scaled to norm <= clipnorm
    # (0: off). Variables: the weight matrices, then the bias vectors.
    double clipnorm
    Py_ssize_t n_vars
    const Py_ssize_t* bounds    # n_vars + 1 variable starts in theta
    double* var_sq              # n_threads x n_vars sums of squared gradients
    double* var_scale           # n_vars factors


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
    optimizer_step(s.solver, theta + a, grad + a, <floating*>s.state_1 + a,
                   <floating*>s.state_2 + a, b - a, c_end - a, s.sc, s.hyper)


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
    st.beta_1 = s.hyper[HYPER_BETA_1]
    st.beta_2 = s.hyper[HYPER_BETA_2]
    st.eps = s.hyper[HYPER_EPSILON]
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
    cdef Py_ssize_t n = w.shape[0], i
    cdef adam_t st
    cdef Step s
    cdef double l2 = 0.0
    cdef double hyper[N_HYPER]
    if g.shape[0] != n or m.shape[0] != n or v.shape[0] != n:
        raise ValueError("w, g, m and v must have the same length")
    if not 0 <= n_weights <= n:
        raise ValueError("n_weights out of range")
    if one_pass and not adam_pass_available():
        raise ValueError("the one-pass Adam step needs a CPU with AVX-512")
    if n == 0:
        return 0.0
    s.solver = OPT_ADAM if decay == 1.0 else OPT_ADAMW
    for i in range(N_HYPER):
        hyper[i] = 0.0
    hyper[HYPER_BETA_1], hyper[HYPER_BETA_2], hyper[HYPER_EPSILON] = beta_1, beta_2, eps
    s.hyper = hyper
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
