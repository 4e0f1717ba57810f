# Included by _mlp.pyx (one module, so calls between the parts inline).
# Switches and probes of the AVX-512 kernels (``_rows_gemm.h``,
# ``_adam_step.h``): on by default where the CPU has AVX-512.

cdef bint switch(bint* setting, enable, bint available, str what) except -1:
    # The setting before the call; ``enable`` (unless None) sets it, where
    # the CPU can (``what``: the message's subject and verb).
    cdef bint before = setting[0]
    if enable is not None:
        if enable and not available:
            raise ValueError(f"{what} a CPU with AVX-512")
        setting[0] = bool(enable)
    return before


def row_kernels(enable=None):
    """Whether the row kernels run where they can; ``enable`` sets it.

    The row kernels (``_rows_gemm.h``, AVX-512) multiply a split first
    layer's batch rows where they lie in X (without them the rows are
    gathered for BLAS), and take the hidden layers' products whose shapes
    suit them (``rows_fit``) from BLAS. They are on by default where the
    CPU has AVX-512. Returns the setting in force before the call.

    Raises
    ------
    ValueError
        If asked to enable them on a CPU without AVX-512.
    """
    return switch(&ROWS_KERNEL, enable, rows_available(), "the row kernels need")


def one_pass_adam(enable=None):
    """Whether Adam's step runs in one pass where it can; ``enable`` sets it.

    The pass (``_adam_step.h``, AVX-512) completes a slice's gradient and
    takes Adam's (or AdamW's) step together, with the same results as the
    separate passes; it serves epochs without an L1 penalty or clipping. On
    by default where the CPU has AVX-512. Returns the setting in force
    before the call.

    Raises
    ------
    ValueError
        If asked to enable it on a CPU without AVX-512.
    """
    return switch(&ADAM_PASS, enable, adam_pass_available(), "the one-pass Adam step needs")


def rows_fit_shape(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, Py_ssize_t itemsize):
    """Whether a product C (m x n), inner length k, goes to the row kernels (``rows_fit``)."""
    return rows_fit(m, n, k, itemsize)


def rows_matmul(const floating[:, ::1] X, rows, Py_ssize_t first, Py_ssize_t count,
                const floating[:, ::1] B, op="nn", keep=False, outer=False, skip=False):
    """A product of ``A = X[rows, first:first + count]`` by the row kernels.

    ``op`` is ``"nn"`` (``A @ B``), ``"tn"`` (``A.T @ B``) or ``"nt"``
    (``A @ B.T``). With ``rows`` None the kernels step through all of X's
    rows at its stride, as for a hidden layer; else they follow a pointer
    per row, as for a split first layer. With ``keep`` (``"nn"`` and
    ``"nt"``) the copy of A the kernels make on the way is returned too, as
    ``(product, copy)``. With ``outer`` (``"nn"`` only) the product runs
    row-outer, as a float64 split first layer's does. Exposed for tests; on
    a CPU without AVX-512 the kernels' plain C loops run. With ``skip``
    (``"tn"`` only) the product passes over A's stretches of zeros, as a
    split first layer's weight gradient does.
    """
    cdef Py_ssize_t n, i, k, kind
    cdef Py_ssize_t[::1] picked
    if op not in ("nn", "tn", "nt"):
        raise ValueError(f"op must be 'nn', 'tn' or 'nt', got {op!r}")
    if keep and op == "tn":
        raise ValueError("keep is for op 'nn' and 'nt'")
    if outer and op != "nn":
        raise ValueError("outer is for op 'nn'")
    if skip and op != "tn":
        raise ValueError("skip is for op 'tn'")
    kind = {"nn": ROWS_NN, "tn": ROWS_TN, "nt": ROWS_NT}[op]
    if not 0 <= first <= first + count <= X.shape[1]:
        raise ValueError("columns out of range")
    picked = np.arange(X.shape[0], dtype=np.intp) if rows is None else np.asarray(rows, np.intp)
    n = picked.shape[0]
    for i in range(n):
        if not 0 <= picked[i] < X.shape[0]:
            raise ValueError("row index out of range")
    # B's side that meets A's: rows of B (count for nn, n for tn), or its columns (nt).
    k = n if kind == ROWS_TN else count
    if (B.shape[1] if kind == ROWS_NT else B.shape[0]) != k:
        raise ValueError("B's shape does not match A's")
    out = np.zeros((count if kind == ROWS_TN else n, B.shape[0] if kind == ROWS_NT else B.shape[1]),
                   dtype=np.float32 if floating is float else np.float64)
    cdef floating[:, ::1] C = out
    # NaN where the kernels copy nothing.
    kept = np.full((n, count), np.nan, dtype=out.dtype)
    cdef floating[:, ::1] K = kept
    cdef Py_ssize_t[::1] ptrs = np.empty(max(n, 1), dtype=np.intp)
    cdef const floating** a = <const floating**>&ptrs[0]
    cdef floating[::1] packed = np.empty(rows_work_size(B.shape[1], k, sizeof(floating))
                                         if outer else
                                         rows_tn_work_size(count, sizeof(floating))
                                         if skip else 1, dtype=out.dtype)
    for i in range(n):
        a[i] = &X[picked[i], 0] + first
    if C.shape[0] > 0 and C.shape[1] > 0:
        rows_gemm(kind, C.shape[0], C.shape[1], k, NULL if rows is None else a,
                  &X[0, 0] + first if X.shape[0] > 0 else NULL, X.shape[1],
                  &B[0, 0] if B.shape[0] > 0 and B.shape[1] > 0 else NULL, B.shape[1],
                  &C[0, 0], C.shape[1], &K[0, 0] if keep and K.size > 0 else NULL, count,
                  &packed[0] if outer or skip else NULL)
    return (out, kept) if keep else out
