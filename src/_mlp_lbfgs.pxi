# Included by _mlp.pyx (one module, so calls between the parts inline).
# The full-batch pass L-BFGS calls once per function evaluation: ``loss_grad``.

def loss_grad(inputs, Y, sample_weight, theta, net, alpha, l1, grad, work, n_threads=1):
    """Full-batch loss (L2 and L1 included) and its gradient, written to ``grad``.

    ``inputs`` is a ``KernelInput`` and ``net`` a ``KernelNet``
    (``fastnn.backends._data``); ``sample_weight`` is empty when unweighted.
    ``work`` holds ``workspace_size(units, acts, n_samples, False, n_threads,
    n_params)`` elements; with ``n_threads > 1`` the rows are split between
    threads and BLAS must run single-threaded.
    """
    return _loss_grad_arrays(*inputs, Y, sample_weight, theta, *net, alpha, l1, grad, work,
                             n_threads)


def _loss_grad_arrays(const floating[::1] X_values, const Py_ssize_t[::1] X_indices,
                      const Py_ssize_t[::1] X_indptr, Py_ssize_t n_features,
                      const floating[:, ::1] Y, const floating[::1] sample_weight,
                      const floating[::1] theta,
                      const Py_ssize_t[::1] units, const int[::1] acts,
                      const double[::1] act_param, const Py_ssize_t[::1] coef_off,
                      const Py_ssize_t[::1] bias_off, const Py_ssize_t[::1] slope_off, int loss,
                      double alpha, double l1, floating[::1] grad, floating[::1] work,
                      int n_threads):
    """``loss_grad`` with its structures unpacked, argument by argument."""
    cdef Net net = make_net(units, acts, act_param, coef_off, bias_off, slope_off, loss,
                            theta.shape[0])
    cdef Py_ssize_t n = Y.shape[0], n_params = theta.shape[0]
    cdef Data d = make_data(X_values, X_indices, X_indptr, n_features, &Y[0, 0],
                            sample_weight)
    cdef double value
    cdef double[::1] stats = np.zeros(STATS * max(n_threads, 1))
    cdef Parts parts
    cdef Step s
    if n_threads < 1:
        raise ValueError("n_threads must be at least 1")
    if grad.shape[0] != n_params:
        raise ValueError("grad must match theta")
    if slope_off[0] != bias_off[net.n_layers]:
        raise ValueError("batch normalization is for epoch only")
    if work.shape[0] < work_size(net.act_size, n_features, width(&net, 0), n, False,
                                 n_threads, n_params, net.keep, False, False):
        raise ValueError("workspace too small")
    parts = make_parts(&net, n, False, n_threads, n_params, &work[0], &stats[0], False)
    s.solver = -1
    s.hyper = NULL
    s.clipnorm = 0.0
    with nogil:
        # theta is only read: no update follows (solver -1).
        value = batch_step(&net, &d, NULL, 0, n, <floating*>&theta[0], &grad[0],
                           &parts, &s, alpha, l1)
    return value
