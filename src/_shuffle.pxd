# numpy's RandomState.shuffle of an index array, as a nogil C loop.
#
# The same Fisher-Yates walk and the same bounded draws (numpy's
# ``random_interval``: mask to the smallest power of two above the bound,
# redraw until in range) from the generator's own bit stream, so the
# permutation and the generator's state afterwards are exactly those of
# ``RandomState.shuffle``. The caller holds the generator's lock.
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport uint64_t
from numpy.random cimport bitgen_t


cdef inline bitgen_t* generator_of(random_state) except NULL:
    """The C interface of a ``RandomState``'s bit generator."""
    return <bitgen_t*>PyCapsule_GetPointer(random_state._bit_generator.capsule,
                                           "BitGenerator")


cdef inline uint64_t bounded(bitgen_t* g, uint64_t high) noexcept nogil:
    """A uniform draw from [0, high], as numpy's ``random_interval``."""
    cdef uint64_t mask = high, value
    if high == 0:
        return 0
    mask |= mask >> 1
    mask |= mask >> 2
    mask |= mask >> 4
    mask |= mask >> 8
    mask |= mask >> 16
    mask |= mask >> 32
    if high <= 0xffffffffUL:
        value = g.next_uint32(g.state) & mask
        while value > high:
            value = g.next_uint32(g.state) & mask
    else:
        value = g.next_uint64(g.state) & mask
        while value > high:
            value = g.next_uint64(g.state) & mask
    return value


cdef inline void shuffle_indices(bitgen_t* g, Py_ssize_t* x, Py_ssize_t n) noexcept nogil:
    """Shuffle ``x[:n]`` in place as ``RandomState.shuffle`` would."""
    cdef Py_ssize_t i, j, tmp
    for i in range(n - 1, 0, -1):
        j = <Py_ssize_t>bounded(g, <uint64_t>i)
        tmp = x[j]
        x[j] = x[i]
        x[i] = tmp
