# cython: boundscheck=False, wraparound=False, cdivision=True
"""numpy's ``RandomState.shuffle`` of an index array, without the GIL.

The same Fisher-Yates walk and the same bounded draws (numpy's
``random_interval``: mask to the smallest power of two above the bound, redraw
until in range) from the generator's own bit stream, so the permutation and the
generator's state afterwards are exactly those of ``RandomState.shuffle``. numpy
holds the GIL for the whole shuffle; this does not, so a shuffle on another
thread can overlap a compiled epoch.
"""
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport uint64_t
from numpy.random cimport bitgen_t


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


def shuffle(random_state, Py_ssize_t[::1] x):
    """Shuffle ``x`` in place exactly as ``random_state.shuffle(x)`` would.

    Parameters
    ----------
    random_state : numpy.random.RandomState
        Its bit generator is advanced (under the generator's lock).
    x : ndarray of intp, contiguous
    """
    bit_generator = random_state._bit_generator
    cdef bitgen_t* g = <bitgen_t*>PyCapsule_GetPointer(bit_generator.capsule, "BitGenerator")
    cdef Py_ssize_t i, j, tmp
    with bit_generator.lock, nogil:
        for i in range(x.shape[0] - 1, 0, -1):
            j = <Py_ssize_t>bounded(g, <uint64_t>i)
            tmp = x[j]
            x[j] = x[i]
            x[i] = tmp
