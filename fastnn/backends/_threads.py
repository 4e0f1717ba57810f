"""How many threads the compiled kernels use, and BLAS kept off their cores.

The Cython backend splits each mini-batch by rows between OpenMP threads,
each calling BLAS on its share (a large first layer by input features
instead, see ``split_first_layer``). BLAS must then run single-threaded, or
its own thread pool would fight ours for the same cores.

A fit or a prediction may also be bounded as a whole (the estimators'
``n_threads``, see ``thread_limit``): the bound caps our threads and BLAS's
for as long as it is held, in the Python thread holding it.
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

# Weights of the first layer from which a multi-threaded epoch splits it by
# input features rather than by rows (``split_first_layer``).
SPLIT_MIN_WEIGHTS = 65_536

_blas = None
# Fits running at once in several Python threads share the one BLAS setting:
# the first to start saves it, each holds BLAS to at most the lowest limit
# asked for, and the last to finish restores it.
_lock = threading.Lock()
_limits = []
_saved = ()
# The bound on the threads of the fit running in each Python thread.
_local = threading.local()


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
    cap = max(1, min(_cores_allowed(max_threads), rows))
    return int(max(1, min(cap, rows * n_weights // MIN_WORK_PER_THREAD)))


def split_first_layer(net, n_threads):
    """Whether an epoch on ``n_threads`` threads splits the first layer by features.

    Split by rows, every thread multiplies by the whole first weight matrix,
    which the other threads' steps have just written, and adds up a gradient
    part of its size: past ``SPLIT_MIN_WEIGHTS`` weights that traffic
    between the cores' caches costs more than splitting the layer's products
    by input features, with one more synchronization per batch.
    """
    return n_threads > 1 and net.units[0] * net.widths[1] >= SPLIT_MIN_WEIGHTS


def spare_thread(max_threads):
    """Whether a second thread may work beside a one-thread epoch.

    It may when OpenMP, the cores and the bound of the fit running in this
    Python thread (``thread_limit``) all allow two threads.
    """
    return _cores_allowed(max_threads) >= 2


def _cores_allowed(max_threads):
    limit = getattr(_local, "limit", None) or max_threads
    return min(max_threads, limit, available_cores())


def chunk_rows(n, n_threads, max_rows):
    """Rows per chunk when predicting ``n`` rows with ``n_threads`` threads.

    Equal chunks, a multiple of the threads in number, at most ``max_rows``
    rows each, so memory stays bounded and every thread gets the same work.
    """
    n_chunks = n_threads * -(-n // (n_threads * max_rows))
    return max(1, -(-n // n_chunks))


def resolve_limit(n_threads):
    """Threads one fit may use for the estimators' ``n_threads`` parameter.

    Parameters
    ----------
    n_threads : int or None
        A positive count; -1 for every core; None for every core in the
        main thread and one thread in any other (joblib's threading
        backend, a Dask worker's threads), where other fits run beside it.

    Returns
    -------
    limit : int or None
        None for no bound beyond the cores and OpenMP's own limit.
    """
    if n_threads is None:
        return None if threading.current_thread() is threading.main_thread() else 1
    return None if n_threads == -1 else int(n_threads)


def thread_limit(n_threads):
    """Context bounding the threads of the fit or prediction run inside it.

    Our kernels' threads (``n_threads_for``) and BLAS's are held to
    ``resolve_limit(n_threads)`` in the calling Python thread. Without a
    bound it is a no-op context (it sits on every prediction's path).
    """
    limit = resolve_limit(n_threads)
    return nullcontext() if limit is None else _bounded(limit)


@contextmanager
def _bounded(limit):
    outer = getattr(_local, "limit", None)
    _local.limit = limit if outer is None else min(limit, outer)
    try:
        with _blas_limited(_local.limit):
            yield
    finally:
        _local.limit = outer


def single_threaded_blas(n_threads):
    """Context keeping BLAS on one thread while ``n_threads > 1`` of ours run."""
    if n_threads <= 1:
        return nullcontext()
    return _blas_limited(1)


def blas_threads():
    """The most threads a loaded BLAS library would use now (1 without one)."""
    return max([get() or 1 for get, _ in _blas_libraries()], default=1)


# OpenBLAS runs a product on one thread up to m * n * k of 65536 times its
# GEMM_MULTITHREAD_THRESHOLD (4 by default), and a dot product up to 10000
# entries (interface/gemm.c and interface/dot.c).
_ONE_THREAD_GEMM = 65536 * 4
_ONE_THREAD_DOT = 10000


def blas_runs_one_thread(net, rows):
    """Whether an epoch's BLAS calls (batches of ``rows``) all run on one thread.

    True where BLAS is held to one thread, or where every product and dot
    product of the epoch is below the sizes at which OpenBLAS starts threads.
    """
    # The sizes first: asking the BLAS libraries costs more than the products' sizes.
    largest = max(rows * layer.n_in * layer.width for layer in net.layers)
    if largest <= _ONE_THREAD_GEMM and net.n_params <= _ONE_THREAD_DOT:
        return True
    return blas_threads() == 1


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


def _apply_blas_limit():
    # Each library at most the lowest limit held, never above its own setting.
    bound = min(_limits)
    for n, setter in _saved:
        setter(bound if n is None else min(n, bound))


@contextmanager
def _blas_limited(n):
    """Context holding every BLAS library to at most ``n`` threads."""
    global _saved
    with _lock:
        if not _limits:
            _saved = [(get(), setter) for get, setter in _blas_libraries()]
        _limits.append(n)
        _apply_blas_limit()
    try:
        yield
    finally:
        with _lock:
            _limits.remove(n)
            if _limits:
                _apply_blas_limit()
            else:
                for n_saved, setter in _saved:
                    if n_saved is not None:
                        setter(n_saved)
