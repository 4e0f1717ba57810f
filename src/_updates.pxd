# cython: cdivision=True
# Optimizer steps over a slice of the flat parameter buffer (scikit-learn's
# formulas). Codes come from fastnn/_registry.py (OPTIMIZERS).
from cython cimport floating
from libc.math cimport sqrt, sqrtf, pow

cdef enum:
    OPT_SGD = 0
    OPT_ADAM = 1


cdef inline void sgd_step(floating* theta, const floating* g, floating* vel,
                          Py_ssize_t n, double lr, double momentum,
                          bint nesterov) noexcept nogil:
    # u = momentum * v - lr * g; v = u; nesterov: u = momentum * v - lr * g
    cdef Py_ssize_t i
    cdef floating mu = <floating>momentum, eta = <floating>lr, u
    for i in range(n):
        u = mu * vel[i] - eta * g[i]
        vel[i] = u
        if nesterov:
            u = mu * u - eta * g[i]
        theta[i] = theta[i] + u


cdef inline double adam_rate(Py_ssize_t t, double lr_init, double beta_1,
                             double beta_2) noexcept nogil:
    """Adam's bias-corrected step size at step count t (1-based)."""
    return lr_init * sqrt(1 - pow(beta_2, <double>t)) / (1 - pow(beta_1, <double>t))


cdef inline void adam_step(floating* theta, const floating* g, floating* m,
                           floating* v, Py_ssize_t n, double lr, double beta_1,
                           double beta_2, double eps) noexcept nogil:
    """One Adam step with the bias-corrected rate ``lr`` (see ``adam_rate``)."""
    cdef Py_ssize_t i
    cdef floating b1 = <floating>beta_1, b2 = <floating>beta_2
    cdef floating c1 = <floating>(1 - beta_1), c2 = <floating>(1 - beta_2)
    cdef floating e = <floating>eps, neg_lr = <floating>(-lr), gi
    for i in range(n):
        gi = g[i]
        m[i] = b1 * m[i] + c1 * gi
        v[i] = b2 * v[i] + c2 * (gi * gi)
        if floating is float:
            theta[i] = theta[i] + neg_lr * m[i] / (sqrtf(v[i]) + e)
        else:
            theta[i] = theta[i] + neg_lr * m[i] / (sqrt(v[i]) + e)
