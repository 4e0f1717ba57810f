# Products with the input rows reached through pointers (_rows_gemm.h): the
# first layer of a shuffled batch without gathering its rows.
from cython cimport floating

cdef extern from "_rows_gemm.h" nogil:
    bint rows_available "fastnn_rows_available" () noexcept
    void rows_gemm_s "fastnn_rows_gemm_s" (int trans, Py_ssize_t m, Py_ssize_t n,
                                           Py_ssize_t k, const float** a, const float* b,
                                           Py_ssize_t ldb, float* c,
                                           Py_ssize_t ldc) noexcept
    void rows_gemm_d "fastnn_rows_gemm_d" (int trans, Py_ssize_t m, Py_ssize_t n,
                                           Py_ssize_t k, const double** a, const double* b,
                                           Py_ssize_t ldb, double* c,
                                           Py_ssize_t ldc) noexcept


cdef inline void rows_gemm(bint trans, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                           const floating** a, const floating* b, Py_ssize_t ldb,
                           floating* c, Py_ssize_t ldc) noexcept nogil:
    """C (m x n, row-major) = A @ B, or A.T @ B when ``trans``.

    ``a[i]`` points at row i of A (m x k), or of A (k x m) when ``trans``;
    B has k rows. C is overwritten.
    """
    if m == 0 or n == 0:
        return
    if floating is float:
        rows_gemm_s(trans, m, n, k, a, b, ldb, c, ldc)
    else:
        rows_gemm_d(trans, m, n, k, a, b, ldb, c, ldc)
