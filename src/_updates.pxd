# cython: cdivision=True
# Optimizer steps over a slice of the flat parameter buffer (scikit-learn's
# formulas). Codes come from fastnn/_registry.py (OPTIMIZERS).
from cython cimport floating
from libc.math cimport frexp, sqrt, sqrtf, pow

from _registry_codes cimport *


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


cdef inline void step_scalars(int solver, Py_ssize_t t, const double* hyper, double* mu_product,
                              double* out) noexcept nogil:
    """The scalars of step t (1-based) shared by every parameter's update.

    ``hyper`` is laid out as ``HYPER_FIELDS``. ``out[0..2]``:
    sgd/rmsprop/adagrad: the rate; adam/adamw: the bias-corrected rate and
    (adamw) the weights' decay factor; nadam: the coefficients of g and m and
    ``1 - beta_2 ** t``, ``mu_product`` being advanced. The twin of
    ``fastnn.backends._scalar.step_scalars``.
    """
    cdef double mu, mu_next
    cdef double lr = hyper[HYPER_LEARNING_RATE], beta_1 = hyper[HYPER_BETA_1]
    cdef double beta_2 = hyper[HYPER_BETA_2]
    out[0] = lr
    out[1] = 0.0
    out[2] = 0.0
    if solver == OPT_ADAM or solver == OPT_ADAMW:
        out[0] = adam_rate(t, lr, beta_1, beta_2)
        out[1] = 1.0 - lr * hyper[HYPER_WEIGHT_DECAY]
    elif solver == OPT_NADAM:
        mu = beta_1 * (1.0 - 0.5 * pow(0.96, t * NADAM_MOMENTUM_DECAY()))
        mu_next = beta_1 * (1.0 - 0.5 * pow(0.96, (t + 1) * NADAM_MOMENTUM_DECAY()))
        mu_product[0] = mu_product[0] * mu
        out[0] = lr * (1.0 - mu) / (1.0 - mu_product[0])
        out[1] = lr * mu_next / (1.0 - mu_product[0] * mu_next)
        out[2] = 1.0 - pow(beta_2, <double>t)


cdef inline void scale(floating* theta, Py_ssize_t n, double factor) noexcept nogil:
    # theta *= factor (AdamW's decoupled weight decay)
    cdef Py_ssize_t i
    cdef floating f = <floating>factor
    for i in range(n):
        theta[i] = theta[i] * f


cdef inline void rmsprop_step(floating* theta, const floating* g, floating* v, Py_ssize_t n,
                              double lr, double rho, double eps) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating r = <floating>rho, c = <floating>(1 - rho), e = <floating>eps
    cdef floating eta = <floating>lr, gi
    for i in range(n):
        gi = g[i]
        v[i] = r * v[i] + c * (gi * gi)
        if floating is float:
            theta[i] = theta[i] - eta * gi / (sqrtf(v[i]) + e)
        else:
            theta[i] = theta[i] - eta * gi / (sqrt(v[i]) + e)


cdef inline void adagrad_step(floating* theta, const floating* g, floating* acc,
                              Py_ssize_t n, double lr, double eps) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating e = <floating>eps, eta = <floating>lr, gi
    for i in range(n):
        gi = g[i]
        acc[i] = acc[i] + gi * gi
        if floating is float:
            theta[i] = theta[i] - eta * gi / (sqrtf(acc[i]) + e)
        else:
            theta[i] = theta[i] - eta * gi / (sqrt(acc[i]) + e)


cdef inline void nadam_step(floating* theta, const floating* g, floating* m, floating* v,
                            Py_ssize_t n, const double* sc, double beta_1, double beta_2,
                            double eps) noexcept nogil:
    """One Nadam step with ``step_scalars``' coefficients ``sc``."""
    cdef Py_ssize_t i
    cdef floating b1 = <floating>beta_1, b2 = <floating>beta_2
    cdef floating c1 = <floating>(1 - beta_1), c2 = <floating>(1 - beta_2)
    cdef floating cg = <floating>sc[0], cm = <floating>sc[1], bc2 = <floating>sc[2]
    cdef floating e = <floating>eps, gi, d
    for i in range(n):
        gi = g[i]
        m[i] = b1 * m[i] + c1 * gi
        v[i] = b2 * v[i] + c2 * (gi * gi)
        if floating is float:
            d = sqrtf(v[i] / bc2) + e
        else:
            d = sqrt(v[i] / bc2) + e
        theta[i] = theta[i] - cg * gi / d - cm * m[i] / d


cdef inline void optimizer_step(int solver, floating* theta, const floating* g, floating* s1,
                                floating* s2, Py_ssize_t n, Py_ssize_t n_w, const double* sc,
                                const double* hyper) noexcept nogil:
    """One step of optimizer ``solver`` over ``n`` parameters, the first ``n_w`` weights.

    ``s1`` and ``s2`` are the optimizer's buffers (``s2`` unused by those
    with one), ``sc`` the step's ``step_scalars`` and ``hyper`` laid out as
    ``HYPER_FIELDS``; -1 leaves the parameters. The twin of
    ``fastnn.backends._scalar.update``.
    """
    if solver < 0:
        return
    cdef double eps = hyper[HYPER_EPSILON]
    if solver == OPT_SGD:
        sgd_step(theta, g, s1, n, sc[0], hyper[HYPER_MOMENTUM], hyper[HYPER_NESTEROV] != 0)
    elif solver == OPT_ADAM or solver == OPT_ADAMW:
        if solver == OPT_ADAMW:
            # Decoupled weight decay, on the weights only
            scale(theta, n_w, sc[1])
        adam_step(theta, g, s1, s2, n, sc[0], hyper[HYPER_BETA_1], hyper[HYPER_BETA_2], eps)
    elif solver == OPT_RMSPROP:
        rmsprop_step(theta, g, s1, n, sc[0], hyper[HYPER_RHO], eps)
    elif solver == OPT_ADAGRAD:
        adagrad_step(theta, g, s1, n, sc[0], eps)
    elif solver == OPT_NADAM:
        nadam_step(theta, g, s1, s2, n, sc, hyper[HYPER_BETA_1], hyper[HYPER_BETA_2], eps)


cdef inline double exact_inverse(double x) noexcept nogil:
    """``1 / x`` where multiplying by it is dividing by ``x``, else 0.

    That is where x is a power of two, here between ``2 ** -126`` and
    ``2 ** 126`` (so that ``1 / x`` is a normal float too). An unweighted
    batch of ``2 ** j`` rows then averages its gradient by a multiplication,
    with the same bits as the division.
    """
    cdef int e
    if x < 1.1754943508222875e-38 or x > 8.507059173023462e+37:
        return 0.0
    return 1.0 / x if frexp(x, &e) == 0.5 else 0.0


cdef extern from "_adam_step.h" nogil:
    # Adam's update of a slice in one AVX-512 pass (see the header).
    ctypedef struct adam_t "fastnn_adam_t":
        double alpha, sw, inv, decay, beta_1, beta_2, eps, rate
    bint adam_pass_available "fastnn_adam_pass_available" () noexcept
    double adam_pass_s "fastnn_adam_pass_ps" (float* w, const float* g, float* m, float* v,
                                              Py_ssize_t n, Py_ssize_t n_w,
                                              const adam_t* st) noexcept
    double adam_pass_d "fastnn_adam_pass_pd" (double* w, const double* g, double* m,
                                              double* v, Py_ssize_t n, Py_ssize_t n_w,
                                              const adam_t* st) noexcept


cdef inline double adam_pass(floating* w, const floating* g, floating* m, floating* v,
                             Py_ssize_t n, Py_ssize_t n_w, const adam_t* st) noexcept nogil:
    """Complete the gradient sums ``g[:n]`` and take Adam's step, in one pass.

    The first ``n_w`` parameters are weights (penalised, decayed). Returns
    ``sum(w[:n_w] ** 2)`` before the step. Only where
    ``adam_pass_available()``.
    """
    if floating is float:
        return adam_pass_s(w, g, m, v, n, n_w, st)
    else:
        return adam_pass_d(w, g, m, v, n, n_w, st)
