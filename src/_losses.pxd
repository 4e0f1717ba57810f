# cython: cdivision=True
# Losses of a mini-batch and the output delta (prediction - target).
# Codes come from fastnn/_registry.py (LOSSES, through _registry_codes.pxd); each loss is paired with its
# canonical output activation, so the delta needs no activation derivative.
from cython cimport floating
from libc.math cimport log, logf

from _registry_codes cimport *


cdef inline double _log(floating x) noexcept nogil:
    if floating is float:
        return logf(x)
    else:
        return log(x)


cdef inline double _xlogy(floating x, floating y) noexcept nogil:
    # scipy.special.xlogy: 0 where x == 0, else x * log(y)
    if x == 0:
        return 0.0
    return x * _log(y)


cdef inline double sample_loss(const floating* p, const floating* y, Py_ssize_t n_out,
                               int loss, floating eps) noexcept nogil:
    """Loss of one sample summed over outputs (squared error not yet halved/averaged)."""
    cdef Py_ssize_t j, k, nz
    cdef double s = 0.0
    cdef floating q
    if loss == LOSS_SQUARED_ERROR:
        for j in range(n_out):
            s += (y[j] - p[j]) * (y[j] - p[j])
    elif loss == LOSS_LOG_LOSS:
        # A one-hot row (the classifier's targets) needs one log: find its
        # hot entry by selects, not branches, which would mispredict.
        k = 0
        nz = 0
        for j in range(n_out):
            nz += y[j] != 0
            k = j if y[j] != 0 else k
        if nz == 1 and y[k] == 1:
            q = p[k]
            q = eps if q < eps else (1 - eps if q > 1 - eps else q)
            return _log(q)
        for j in range(n_out):
            q = p[j]
            q = eps if q < eps else (1 - eps if q > 1 - eps else q)
            s += _xlogy(y[j], q)
    elif loss == LOSS_BINARY_LOG_LOSS:
        for j in range(n_out):
            q = p[j]
            q = eps if q < eps else (1 - eps if q > 1 - eps else q)
            s += _xlogy(y[j], q) + _xlogy(<floating>(1 - y[j]), <floating>(1 - q))
    elif loss == LOSS_POISSON:
        for j in range(n_out):
            s += _xlogy(y[j], <floating>(y[j] / p[j])) - y[j] + p[j]
    return s


cdef inline double finish_loss(double total, double sw_sum, Py_ssize_t n_out,
                               int loss) noexcept nogil:
    """Turn a weighted sum of per-sample losses into scikit-learn's batch loss."""
    if loss == LOSS_SQUARED_ERROR:
        return 0.5 * total / sw_sum / n_out
    if loss == LOSS_LOG_LOSS or loss == LOSS_BINARY_LOG_LOSS:
        return -total / sw_sum
    return total / sw_sum
