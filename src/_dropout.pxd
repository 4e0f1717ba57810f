# cython: cdivision=True
# Inverted dropout's masks, drawn from a counter-based hash (fastnn/_dropout.py
# documents the stream; fastnn/backends/_scalar.py holds the Numba twin).
from cython cimport floating
from libc.stdint cimport uint32_t, uint64_t


cdef inline uint32_t hash32(uint32_t x) noexcept nogil:
    # A bijective mix of 32 bits; products wrap modulo 2**32.
    x = x ^ (x >> 16)
    x = x * <uint32_t>0x7feb352d
    x = x ^ (x >> 15)
    x = x * <uint32_t>0x846ca68b
    return x ^ (x >> 16)


cdef inline void drop_units(floating* A, Py_ssize_t n_rows, Py_ssize_t n_cols, double rate,
                            uint64_t key, Py_ssize_t pos0, Py_ssize_t offset) noexcept nogil:
    """Mask rows ``pos0, pos0 + 1, ...`` of the epoch at units ``offset + j``.

    Kept entries of A (n_rows x n_cols, row-major) are scaled by
    ``1 / (1 - rate)``, dropped ones set to 0. Applied to a layer's outputs
    in the forward pass and to its deltas in the backward pass: the same mask.
    """
    cdef floating s = <floating>(1.0 / (1.0 - rate))
    cdef uint32_t k1 = <uint32_t>(key >> 32), row
    cdef Py_ssize_t r, j
    cdef floating* a
    for r in range(n_rows):
        row = hash32(<uint32_t>(pos0 + r) ^ <uint32_t>key)
        a = A + r * n_cols
        for j in range(n_cols):
            a[j] = a[j] * s if (<double>hash32(row ^ (<uint32_t>(offset + j) + k1))
                                * 2.3283064365386963e-10 >= rate) else 0
