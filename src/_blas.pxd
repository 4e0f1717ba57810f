# Row-major GEMM over the fused type `floating`, calling scipy's BLAS.
from cython cimport floating
from scipy.linalg.cython_blas cimport sgemm, dgemm, sdot, ddot


cdef inline void gemm(bint trans_a, bint trans_b, int m, int n, int k,
                      floating alpha, const floating* A, int lda,
                      const floating* B, int ldb,
                      floating beta, floating* C, int ldc) noexcept nogil:
    """C (m x n, row-major) = alpha * op(A) @ op(B) + beta * C.

    BLAS is column-major: a row-major matrix is its transpose there, so
    C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T by swapping operands.
    """
    cdef char ta = b'T' if trans_a else b'N'
    cdef char tb = b'T' if trans_b else b'N'
    if m == 0 or n == 0:
        return
    if floating is float:
        sgemm(&tb, &ta, &n, &m, &k, &alpha, <float*>B, &ldb, <float*>A, &lda,
              &beta, C, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &alpha, <double*>B, &ldb, <double*>A, &lda,
              &beta, C, &ldc)


cdef inline floating sumsq(const floating* x, int n) noexcept nogil:
    """sum(x ** 2), as np.dot(x, x)."""
    cdef int one = 1
    if n == 0:
        return 0
    if floating is float:
        return sdot(&n, <float*>x, &one, <float*>x, &one)
    else:
        return ddot(&n, <double*>x, &one, <double*>x, &one)
