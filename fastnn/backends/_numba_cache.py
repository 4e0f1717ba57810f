"""One process at a time compiles fastnn's Numba kernels into the disk cache.

With Numba's ``cache=True`` alone, workers that start together on an empty
cache (loky or Dask workers, pytest-xdist workers) all compile the same
kernels, each taking tens of seconds, and write the same index and data files
at once, which Numba does not guard against (numba/numba#4807,
numba/numba#10128).

Here a kernel's ``compile`` (which Numba calls only when a process has no
compiled version of the kernel for the argument types) runs under an
exclusive lock on a file in the kernels' cache directory. The first process
compiles and saves; the others wait, then load its cache entry instead of
compiling their own. A process holds the lock once, however deeply the
kernels it compiles call each other; threads of a process take turns.
Where no lock can be had (no ``fcntl``, a read-only directory), compiles
run unlocked, as plain Numba does.
"""

import contextlib
import functools
import os
import threading

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None

LOCK_NAME = "fastnn-numba-compile.lock"

# Re-entrant within a thread (a kernel's compile types its callees, whose
# compile runs nested); other threads wait for the outermost one to finish.
_thread_lock = threading.RLock()
_held = {"depth": 0, "fd": None}


def _forget_in_child():
    # A child forked while a thread compiled inherits neither that thread nor
    # its turn: it starts with the lock free (the parent's flock is the
    # parent's; the inherited descriptor is closed without touching it).
    global _thread_lock
    _thread_lock = threading.RLock()
    if _held["fd"] is not None:
        os.close(_held["fd"])
    _held.update(depth=0, fd=None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def lock_path(dispatcher):
    """The lock file beside a dispatcher's disk cache, or None without one.

    Parameters
    ----------
    dispatcher : numba Dispatcher
        A kernel compiled with ``cache=True``.

    Returns
    -------
    path : str or None
    """
    cache_dir = getattr(getattr(dispatcher, "_cache", None), "_cache_path", None)
    return None if cache_dir is None else os.path.join(cache_dir, LOCK_NAME)


def _open_locked(path):
    # An exclusive flock, held until the descriptor is closed (or the
    # process dies, so a killed compile never blocks the others).
    if fcntl is None or path is None:
        return None
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        os.close(fd)
        return None
    return fd


@contextlib.contextmanager
def compile_lock(path):
    """Hold the inter-process compile lock at ``path`` (re-entrant).

    Parameters
    ----------
    path : str or None
        Lock file; None runs the body without an inter-process lock.
    """
    with _thread_lock:
        if _held["depth"] == 0:
            _held["fd"] = _open_locked(path)
        _held["depth"] += 1
        try:
            yield
        finally:
            _held["depth"] -= 1
            if _held["depth"] == 0 and _held["fd"] is not None:
                os.close(_held["fd"])  # releases the flock
                _held["fd"] = None


def lock_compiles(dispatcher):
    """Make ``dispatcher`` compile (or load from the cache) under the lock.

    Parameters
    ----------
    dispatcher : numba Dispatcher
        A kernel compiled with ``cache=True``; changed in place.

    Returns
    -------
    dispatcher : numba Dispatcher
    """
    path = lock_path(dispatcher)
    compile_unlocked = dispatcher.compile

    @functools.wraps(compile_unlocked)
    def compile(sig):
        with compile_lock(path):
            return compile_unlocked(sig)

    dispatcher.compile = compile
    return dispatcher
