# cython: cdivision=True
# Batch normalization of one layer over a mini-batch (fastnn/_batch_norm.py
# documents the math; fastnn/backends/_numpy.py holds the reference).
# Every loop runs over rows with the columns innermost, for row-major blocks.
from cython cimport floating
from libc.math cimport sqrt


cdef inline void bn_forward(floating* Z, floating* xhat, double* mean, double* inv_std,
                            const floating* gamma, floating* run_mean, floating* run_var,
                            Py_ssize_t nb, Py_ssize_t n, double eps,
                            double momentum) noexcept nogil:
    """Normalize ``Z`` (nb x n) in place to ``gamma * xhat``, keeping ``xhat``.

    The batch mean and biased variance are summed in double (two passes);
    ``mean`` and ``inv_std`` (n each) receive the mean and
    ``1 / sqrt(var + eps)``, and the running statistics move towards the
    batch's by ``momentum``.
    """
    cdef Py_ssize_t r, j
    cdef double d
    cdef floating m, s
    cdef floating keep = <floating>momentum, take = <floating>(1.0 - momentum)
    for j in range(n):
        mean[j] = 0.0
        inv_std[j] = 0.0
    for r in range(nb):
        for j in range(n):
            mean[j] += Z[r * n + j]
    for j in range(n):
        mean[j] /= nb
    # inv_std holds the sum of squared deviations until the last loop.
    for r in range(nb):
        for j in range(n):
            d = Z[r * n + j] - mean[j]
            inv_std[j] += d * d
    for j in range(n):
        d = inv_std[j] / nb
        run_mean[j] = keep * run_mean[j] + take * <floating>mean[j]
        run_var[j] = keep * run_var[j] + take * <floating>d
        inv_std[j] = 1.0 / sqrt(d + eps)
    for r in range(nb):
        for j in range(n):
            m = <floating>mean[j]
            s = <floating>inv_std[j]
            xhat[r * n + j] = (Z[r * n + j] - m) * s
            Z[r * n + j] = gamma[j] * xhat[r * n + j]


cdef inline void bn_backward(floating* D, const floating* xhat, const double* inv_std,
                             const floating* gamma, const floating* d_beta,
                             floating* g_block, double* acc, Py_ssize_t nb,
                             Py_ssize_t n) noexcept nogil:
    """Turn ``D`` = dL/dy (nb x n) into dL/d(x @ W) in place.

    ``d_beta`` holds the column sums of ``D``. ``g_block`` is the layer's
    gradient block (gamma, running mean, running variance): dL/dgamma, then
    zeros. ``acc`` (n doubles) is scratch.
    """
    cdef Py_ssize_t r, j
    cdef floating c, b, g
    for j in range(n):
        acc[j] = 0.0
    for r in range(nb):
        for j in range(n):
            acc[j] += D[r * n + j] * xhat[r * n + j]
    for j in range(n):
        g_block[j] = <floating>acc[j]
        g_block[n + j] = 0
        g_block[2 * n + j] = 0
    for r in range(nb):
        for j in range(n):
            c = gamma[j] * <floating>inv_std[j]
            b = d_beta[j] / nb
            g = g_block[j] / nb
            D[r * n + j] = c * (D[r * n + j] - b - xhat[r * n + j] * g)
