# cython: cdivision=True
# Activations, fused with the bias add, and their derivatives.
# Codes and constants come from fastnn/_registry.py (ACTIVATIONS, through the
# generated _registry_codes.pxd); the formulas are those of
# fastnn/backends/_scalar.py, which the Numba backends compile.
from cython cimport floating
from libc.math cimport exp, expf, expm1, expm1f, erf, erff, log1p, log1pf, tanh, tanhf
from libc.string cimport memcpy

from _registry_codes cimport *

# GELU's 1/sqrt(2) and 1/sqrt(2 pi). A .pxd cannot hold initialised globals.
cdef inline double SQRT_HALF() noexcept nogil:
    return 0.7071067811865476


cdef inline double INV_SQRT_2PI() noexcept nogil:
    return 0.3989422804014327


cdef inline floating _exp(floating x) noexcept nogil:
    if floating is float:
        return expf(x)
    else:
        return exp(x)


cdef inline floating _expm1(floating x) noexcept nogil:
    if floating is float:
        return expm1f(x)
    else:
        return expm1(x)


cdef inline floating _erf(floating x) noexcept nogil:
    if floating is float:
        return erff(x)
    else:
        return erf(x)


cdef inline floating _log1p(floating x) noexcept nogil:
    if floating is float:
        return log1pf(x)
    else:
        return log1p(x)


cdef inline void bias_activation(floating* Z, const floating* b, Py_ssize_t n_rows,
                                 Py_ssize_t n_cols, int act, double param,
                                 floating* pre, const floating* slopes) noexcept nogil:
    """Z = act(Z + b) in place, row by row (Z is n_rows x n_cols, row-major).

    ``pre``, unless NULL, receives Z + b (the pre-activations). ``param`` is
    the activation's parameter (leaky_relu's slope); ``slopes`` holds
    prelu's slope of each unit (NULL for the other activations).
    """
    cdef Py_ssize_t i, j
    cdef floating* z
    cdef floating mx, s, x
    cdef floating slope = <floating>param
    cdef floating ea = <floating>ELU_ALPHA(), sa = <floating>(SELU_SCALE() * SELU_ALPHA())
    cdef floating ss = <floating>SELU_SCALE(), rh = <floating>SQRT_HALF()
    if act == ACT_RELU and pre == NULL:
        # One pass: the most common hidden layer.
        for i in range(n_rows):
            z = Z + i * n_cols
            for j in range(n_cols):
                x = z[j] + b[j]
                # `x < 0` keeps NaN as NaN, like np.maximum(x, 0).
                z[j] = 0 if x < 0 else x
        return
    for i in range(n_rows):
        z = Z + i * n_cols
        for j in range(n_cols):
            z[j] = z[j] + b[j]
        if pre != NULL:
            memcpy(pre + i * n_cols, z, n_cols * sizeof(floating))
        if act == ACT_RELU:
            for j in range(n_cols):
                # `x < 0` keeps NaN as NaN, like np.maximum(x, 0).
                z[j] = 0 if z[j] < 0 else z[j]
        elif act == ACT_TANH:
            for j in range(n_cols):
                if floating is float:
                    z[j] = tanhf(z[j])
                else:
                    z[j] = tanh(z[j])
        elif act == ACT_LOGISTIC:
            for j in range(n_cols):
                z[j] = 1 / (1 + _exp(-z[j]))
        elif act == ACT_EXP:
            for j in range(n_cols):
                z[j] = _exp(z[j])
        elif act == ACT_LEAKY_RELU:
            for j in range(n_cols):
                z[j] = z[j] if z[j] > 0 else slope * z[j]
        elif act == ACT_PRELU:
            for j in range(n_cols):
                z[j] = z[j] if z[j] > 0 else slopes[j] * z[j]
        elif act == ACT_ELU:
            for j in range(n_cols):
                z[j] = z[j] if z[j] > 0 else ea * _expm1(z[j])
        elif act == ACT_SELU:
            for j in range(n_cols):
                z[j] = ss * z[j] if z[j] > 0 else sa * _expm1(z[j])
        elif act == ACT_GELU:
            for j in range(n_cols):
                z[j] = <floating>0.5 * z[j] * (1 + _erf(z[j] * rh))
        elif act == ACT_SWISH:
            for j in range(n_cols):
                z[j] = z[j] / (1 + _exp(-z[j]))
        elif act == ACT_SOFTPLUS:
            for j in range(n_cols):
                # log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)
                x = z[j]
                z[j] = (x if x > 0 else 0) + _log1p(_exp(-x if x > 0 else x))
        elif act == ACT_SOFTMAX:
            # z = exp(z - max(z)) / sum, in scikit-learn's order of operations.
            mx = z[0]
            for j in range(1, n_cols):
                if z[j] > mx:
                    mx = z[j]
            s = 0
            for j in range(n_cols):
                z[j] = _exp(z[j] - mx)
                s = s + z[j]
            for j in range(n_cols):
                z[j] = z[j] / s


cdef inline void mul_derivative(floating* D, const floating* V, Py_ssize_t n,
                                int act, double param) noexcept nogil:
    """D *= act'(.) for n contiguous units.

    ``V`` holds the units' outputs a, or their inputs z where
    ``derivative_from_input(act)``.
    """
    cdef Py_ssize_t i
    cdef floating slope = <floating>param, ea = <floating>ELU_ALPHA()
    cdef floating sa = <floating>(SELU_SCALE() * SELU_ALPHA()), ss = <floating>SELU_SCALE()
    cdef floating rh = <floating>SQRT_HALF(), rp = <floating>INV_SQRT_2PI(), sg
    if act == ACT_RELU:
        # A select, not a branch: the sign pattern is random and would mispredict.
        for i in range(n):
            D[i] = 0 if V[i] == 0 else D[i]
    elif act == ACT_TANH:
        for i in range(n):
            D[i] = D[i] * (1 - V[i] * V[i])
    elif act == ACT_LOGISTIC:
        for i in range(n):
            D[i] = D[i] * V[i] * (1 - V[i])
    elif act == ACT_LEAKY_RELU:
        # a > 0 exactly where z > 0, as the slope is not negative.
        for i in range(n):
            D[i] = D[i] if V[i] > 0 else D[i] * slope
    elif act == ACT_ELU:
        for i in range(n):
            D[i] = D[i] if V[i] > 0 else D[i] * (V[i] + ea)
    elif act == ACT_SELU:
        for i in range(n):
            D[i] = D[i] * ss if V[i] > 0 else D[i] * (V[i] + sa)
    elif act == ACT_SOFTPLUS:
        # sigmoid(z) = 1 - e^-a
        for i in range(n):
            D[i] = -D[i] * _expm1(-V[i])
    elif act == ACT_GELU:
        for i in range(n):
            D[i] = D[i] * (<floating>0.5 * (1 + _erf(V[i] * rh))
                           + V[i] * rp * _exp(<floating>-0.5 * V[i] * V[i]))
    elif act == ACT_SWISH:
        for i in range(n):
            sg = 1 / (1 + _exp(-V[i]))
            D[i] = D[i] * sg * (1 + V[i] * (1 - sg))


cdef inline void prelu_backward(floating* D, const floating* Z, const floating* slopes,
                                floating* g_slopes, Py_ssize_t n_rows,
                                Py_ssize_t n_cols) noexcept nogil:
    """prelu's backward pass over a block of rows (row-major, n_cols units).

    ``D`` holds dL/da; ``g_slopes`` gets each unit's dL/dslope,
    ``sum(D * min(z, 0))`` over the rows in row order, then ``D`` becomes
    dL/dz = ``D`` where z > 0, ``slope * D`` elsewhere. ``Z`` holds the
    pre-activations.
    """
    cdef Py_ssize_t i, j
    cdef floating* d
    cdef const floating* z
    for j in range(n_cols):
        g_slopes[j] = 0
    for i in range(n_rows):
        d = D + i * n_cols
        z = Z + i * n_cols
        for j in range(n_cols):
            g_slopes[j] = g_slopes[j] + d[j] * (z[j] if z[j] < 0 else 0)
            d[j] = d[j] if z[j] > 0 else slopes[j] * d[j]


cdef inline void maxout_forward(floating* Z, Py_ssize_t n_rows, Py_ssize_t n_units,
                                Py_ssize_t k) noexcept nogil:
    """Each unit's largest piece, in place: Z (n_rows x n_units * k) becomes
    its first n_rows * n_units elements, n_rows x n_units.

    Unit j of a row reads columns ``j * k`` to ``j * k + k - 1``. Writing in
    increasing order never overwrites a piece still to be read.
    """
    cdef Py_ssize_t r, j, i
    cdef const floating* z
    cdef floating best
    for r in range(n_rows):
        for j in range(n_units):
            z = Z + (r * n_units + j) * k
            best = z[0]
            for i in range(1, k):
                # A NaN wins, as in NumPy's max.
                if z[i] > best or (z[i] != z[i] and best == best):
                    best = z[i]
            Z[r * n_units + j] = best


cdef inline void maxout_backward(floating* D, const floating* Z, Py_ssize_t n_rows,
                                 Py_ssize_t n_units, Py_ssize_t k) noexcept nogil:
    """dL/da (the first n_rows x n_units of D) to dL/dz (n_rows x n_units * k),
    in place: each unit's delta goes to its first largest piece of Z (the
    pre-activations), the other pieces get 0.

    Going from the last unit back, every write lands at or after the delta it
    replaces, so no delta is overwritten before it is read.
    """
    cdef Py_ssize_t r, j, i, best
    cdef const floating* z
    cdef floating d
    cdef floating* out
    for r in range(n_rows - 1, -1, -1):
        for j in range(n_units - 1, -1, -1):
            z = Z + (r * n_units + j) * k
            d = D[r * n_units + j]
            best = 0
            for i in range(1, k):
                if z[i] > z[best] or (z[i] != z[i] and z[best] == z[best]):
                    best = i
            out = D + (r * n_units + j) * k
            for i in range(k):
                out[i] = 0
            out[best] = d
