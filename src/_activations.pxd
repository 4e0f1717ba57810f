# cython: cdivision=True
# Activations, fused with the bias add, and their derivatives.
# Codes come from fastnn/_registry.py (ACTIVATIONS).
from cython cimport floating
from libc.math cimport exp, tanh, expf, tanhf

cdef enum:
    ACT_IDENTITY = 0
    ACT_LOGISTIC = 1
    ACT_TANH = 2
    ACT_RELU = 3
    ACT_SOFTMAX = 4
    ACT_EXP = 5


cdef inline floating _exp(floating x) noexcept nogil:
    if floating is float:
        return expf(x)
    else:
        return exp(x)


cdef inline void bias_activation(floating* Z, const floating* b, Py_ssize_t n_rows,
                                 Py_ssize_t n_cols, int act) noexcept nogil:
    """Z = act(Z + b) in place, row by row (Z is n_rows x n_cols, row-major)."""
    cdef Py_ssize_t i, j
    cdef floating* z
    cdef floating mx, s
    for i in range(n_rows):
        z = Z + i * n_cols
        for j in range(n_cols):
            z[j] = z[j] + b[j]
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


cdef inline void mul_derivative(floating* D, const floating* A, Py_ssize_t n,
                                int act) noexcept nogil:
    """D *= act'(.) given the layer's output A (n values, contiguous)."""
    cdef Py_ssize_t i
    if act == ACT_RELU:
        # A select, not a branch: the sign pattern is random and would mispredict.
        for i in range(n):
            D[i] = 0 if A[i] == 0 else D[i]
    elif act == ACT_TANH:
        for i in range(n):
            D[i] = D[i] * (1 - A[i] * A[i])
    elif act == ACT_LOGISTIC:
        for i in range(n):
            D[i] = D[i] * A[i] * (1 - A[i])
