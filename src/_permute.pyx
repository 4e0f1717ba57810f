# cython: boundscheck=False, wraparound=False, cdivision=True
"""numpy's ``RandomState.shuffle`` of an index array, without the GIL.

The loop is ``_shuffle.pxd``'s, shared with the compiled epoch, which draws
the next epoch's order on a second thread while it trains
(``fastnn._shuffle``). numpy holds the GIL for the whole shuffle; this
releases it for a long one.
"""
from numpy.random cimport bitgen_t

from _shuffle cimport generator_of, shuffle_indices

# Shorter shuffles (about 8 ns a sample) keep the GIL: taking it back after
# one may wait for the Python another thread runs, up to the interpreter's
# 5 ms switch interval, far longer than the shuffle itself.
cdef Py_ssize_t NOGIL_MIN = 1 << 17


def shuffle(random_state, Py_ssize_t[::1] x):
    """Shuffle ``x`` in place exactly as ``random_state.shuffle(x)`` would.

    Parameters
    ----------
    random_state : numpy.random.RandomState
        Its bit generator is advanced (under the generator's lock).
    x : ndarray of intp, contiguous
    """
    cdef bitgen_t* g = generator_of(random_state)
    cdef Py_ssize_t* first = &x[0] if x.shape[0] > 0 else NULL
    with random_state._bit_generator.lock:
        if x.shape[0] < NOGIL_MIN:
            shuffle_indices(g, first, x.shape[0])
        else:
            with nogil:
                shuffle_indices(g, first, x.shape[0])
