"""Numba's CUDA simulator, made safe and fast for this suite's kernels.

numba-cuda's simulator (0.30) runs each thread of a block as a Python
thread. Two of its parts misbehave under threads:

- ``cuda.shared.array`` looks the launch's array up by the caller's line and
  creates it when missing, without a lock. Two threads of a block that both
  miss create one array each, and the block's threads then share nothing:
  a tiled product or a block sum comes out wrong. Seen as an epoch of the
  CUDA backend that differs from the NumPy reference by about 1e-2, in most
  runs of ``backends/test_cuda.py`` with a 0.1 ms thread switch interval
  (rarely at Python's default 5 ms, under load); a check of every product of
  such runs against NumPy caught a tiled product with wrong entries from
  inputs it had not changed.
- ``cuda.syncthreads()`` is a poll: the launching thread loops over the
  block's threads, never sleeping, until it sees each one waiting. The poll
  competes with the threads it waits for, and takes most of a simulated
  kernel's time.

``install()`` makes the lookup atomic (keyed by the caller's file and line,
as before) and runs each block with a real barrier: a thread that returns
leaves it, as an exited thread does on a GPU, and the launching thread just
joins the block's threads. The simulator's model (one block at a time,
shared memory per launch) is unchanged.
"""

import sys
import threading

import numpy as np


class _Barrier:
    """``syncthreads`` for the live threads of one block."""

    def __init__(self, n_threads):
        self._cond = threading.Condition()
        self._live = n_threads
        self._arrived = 0
        self._generation = 0
        self._failed = False

    def _release(self):
        self._arrived = 0
        self._generation += 1
        self._cond.notify_all()

    def wait(self):
        with self._cond:
            generation = self._generation
            self._arrived += 1
            if self._arrived == self._live:
                self._release()
                return
            while generation == self._generation and not self._failed:
                self._cond.wait()
            if generation == self._generation:
                raise _BlockFailed("another thread of the block raised")

    def leave(self, failed):
        # A thread that returns no longer takes part; one that raised
        # releases the others, which raise in turn.
        with self._cond:
            self._live -= 1
            if failed:
                self._failed = True
                self._cond.notify_all()
            elif self._arrived and self._arrived == self._live:
                self._release()


class _BlockFailed(RuntimeError):
    pass


def install():
    """Run the simulator's thread blocks with ``_Barrier`` (idempotent)."""
    from numba.cuda.simulator import kernel, kernelapi

    if getattr(kernel.BlockManager.run, "_fastnn_barrier", False):
        return

    lock = threading.Lock()
    plain_array = kernelapi.FakeCUDAShared.array

    def shared_array(self, shape, dtype, alignment=None):
        if shape == 0 or alignment is not None:
            # Dynamic shared memory (one buffer) and the simulator's refusals.
            return plain_array(self, shape, dtype, alignment)
        caller = sys._getframe(1)
        key = (caller.f_code.co_filename, caller.f_lineno)
        with lock:
            array = self._allocations.get(key)
            if array is None:
                if isinstance(dtype, kernelapi.types.Type):
                    dtype = kernelapi.numpy_support.as_dtype(dtype)
                array = self._allocations[key] = np.empty(shape, dtype)
        return array

    class BarrierThread(kernel.BlockThread):
        def syncthreads(self):
            if self.abort:
                raise RuntimeError("abort flag set on syncthreads call")
            self.barrier.wait()

        def run(self):
            try:
                super().run()
            finally:
                self.barrier.leave(self.exception is not None)

    def run(self, grid_point, *args):
        barrier = _Barrier(int(np.prod(self._block_dim)))
        threads = []
        for block_point in np.ndindex(*self._block_dim):
            thread = BarrierThread(lambda: self._f(*args), self, grid_point, block_point,
                                   self._debug)
            thread.barrier = barrier
            threads.append(thread)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # The first thread's own error, not a waiter's _BlockFailed.
        errors = [t.exception for t in threads if t.exception]
        errors.sort(key=lambda e: isinstance(e[0], _BlockFailed))
        if errors:
            raise errors[0][0].with_traceback(errors[0][1])

    run._fastnn_barrier = True
    kernel.BlockManager.run = run
    kernelapi.FakeCUDAShared.array = shared_array
