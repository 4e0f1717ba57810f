# Products with the input rows reached through pointers, or at a stride
# (_rows_gemm.h): the first layer of a shuffled batch without gathering its
# rows, and the hidden layers' moderate products.
from cython cimport floating

cdef extern from "_rows_gemm.h" nogil:
    enum:
        ROWS_NN "FASTNN_NN"
        ROWS_TN "FASTNN_TN"
        ROWS_NT "FASTNN_NT"
    bint rows_available "fastnn_rows_available" () noexcept
    Py_ssize_t rows_work_size "fastnn_rows_work_size" (Py_ssize_t n, Py_ssize_t k,
                                                       Py_ssize_t itemsize) noexcept
    Py_ssize_t rows_tn_work_size "fastnn_rows_tn_work_size" (Py_ssize_t m,
                                                             Py_ssize_t itemsize) noexcept
    void rows_gemm_s "fastnn_rows_gemm_s" (int op, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                                           const float** a, const float* a0, Py_ssize_t lda,
                                           const float* b, Py_ssize_t ldb, float* c,
                                           Py_ssize_t ldc, float* ac, Py_ssize_t ldac,
                                           float* work) noexcept
    void rows_gemm_d "fastnn_rows_gemm_d" (int op, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                                           const double** a, const double* a0,
                                           Py_ssize_t lda, const double* b, Py_ssize_t ldb,
                                           double* c, Py_ssize_t ldc, double* ac,
                                           Py_ssize_t ldac, double* work) noexcept


cdef inline void rows_gemm(int op, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                           const floating** a, const floating* a0, Py_ssize_t lda,
                           const floating* b, Py_ssize_t ldb, floating* c,
                           Py_ssize_t ldc, floating* ac=NULL, Py_ssize_t ldac=0,
                           floating* work=NULL) noexcept nogil:
    """C (m x n, row-major) = A @ B (``ROWS_NN``), A.T @ B (``ROWS_TN``) or A @ B.T (``ROWS_NT``).

    ``a[i]`` points at row i of A (m x k, or k x m for ``ROWS_TN``), or,
    with ``a`` NULL, the rows lie ``lda`` apart from ``a0``. B has k rows
    (n rows for ``ROWS_NT``). C is overwritten. Unless ``ac`` is NULL
    (``ROWS_NN`` and ``ROWS_NT`` only), A is copied there too, its rows
    ``ldac`` apart. With ``work`` for ``ROWS_NN`` (``rows_work_size``
    elements) the product runs row-outer, B packed whole there; for
    ``ROWS_TN`` (``rows_tn_work_size`` elements) it passes over the
    stretches of A that are all zeros (the same bits).
    """
    if m == 0 or n == 0:
        return
    if floating is float:
        rows_gemm_s(op, m, n, k, a, a0, lda, b, ldb, c, ldc, ac, ldac, work)
    else:
        rows_gemm_d(op, m, n, k, a, a0, lda, b, ldb, c, ldc, ac, ldac, work)


cdef inline bint rows_fit(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                          Py_ssize_t itemsize) noexcept nogil:
    """Whether the kernels beat BLAS on a product of contiguous operands.

    C (m x n) with inner length k. Measured against OpenBLAS on one core:
    below 2**20 multiply-adds its small-matrix kernels win; from there the
    row kernels do where every side holds at least 32 and each operand at
    most 512 KiB (their blocks then stay in L2; past that BLAS's cache
    blocking wins).
    """
    return (min(m, min(n, k)) >= 32 and m * n * k >= 1048576
            and m * k * itemsize <= 524288 and k * n * itemsize <= 524288)
