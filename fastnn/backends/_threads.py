"""How many threads the compiled kernels use, and BLAS kept off their cores.

The Cython backend splits each mini-batch by rows between OpenMP threads,
each calling BLAS on its share. BLAS must then run single-threaded, or its
own thread pool would fight ours for the same cores.
"""

import os
import threading
from contextlib import contextmanager, nullcontext

from threadpoolctl import ThreadpoolController

# Multiply-adds (rows x weights) of a batch per thread. Measured on 2 cores
# (20-feature nets, quiet machine): two threads lose up to 1.7x below about
# 150k multiply-adds a batch and win from about 250k (0.84x at 294k, 0.55x
# at 1.2M), so a second thread starts at 250k.
MIN_WORK_PER_THREAD = 125_000

_blas = None
# Fits running at once in several Python threads share the one BLAS setting:
# the first to start limits it, the last to finish restores it.
_lock = threading.Lock()
_active = 0
_saved = ()


def available_cores():
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def n_threads_for(max_threads, rows, n_weights):
    """Threads worth using for a pass over ``rows`` rows of a net.

    Parameters
    ----------
    max_threads : int
        OpenMP's thread limit (honours ``OMP_NUM_THREADS`` and
        ``threadpoolctl``), 1 when built without OpenMP.
    rows : int
        Rows of one batch (or one chunk of rows).
    n_weights : int
        Weights of the net: the multiply-adds of one row's forward pass.

    Returns
    -------
    n_threads : int
    """
    cap = max(1, min(max_threads, available_cores(), rows))
    return int(max(1, min(cap, rows * n_weights // MIN_WORK_PER_THREAD)))


def chunk_rows(n, n_threads, max_rows):
    """Rows per chunk when predicting ``n`` rows with ``n_threads`` threads.

    Equal chunks, a multiple of the threads in number, at most ``max_rows``
    rows each, so memory stays bounded and every thread gets the same work.
    """
    n_chunks = n_threads * -(-n // (n_threads * max_rows))
    return max(1, -(-n // n_chunks))


def single_threaded_blas(n_threads):
    """Context keeping BLAS on one thread while ``n_threads > 1`` of ours run."""
    if n_threads <= 1:
        return nullcontext()
    return _blas_limited()


def _blas_libraries():
    """(get, set) thread-count functions of each loaded BLAS library."""
    global _blas
    if _blas is None:
        # Listing the loaded libraries is slow: do it once per process.
        _blas = []
        for lib in ThreadpoolController().select(user_api="blas").lib_controllers:
            # threadpoolctl >= 3.8 lets only the first Python thread that limits
            # OpenBLAS change it; a fit in another thread must too, so take the
            # direct setter when there is one (our lock below keeps order).
            setter = getattr(lib, "_real_set_num_threads", lib.set_num_threads)
            _blas.append((lib.get_num_threads, setter))
    return _blas


@contextmanager
def _blas_limited():
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = [(get(), setter) for get, setter in _blas_libraries()]
            for _, setter in _saved:
                setter(1)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                for n, setter in _saved:
                    if n is not None:
                        setter(n)
