"""The suite's fixes to Numba's CUDA simulator (``tests/_cudasim.py``)."""

import os

import numpy as np
import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
    pytest.skip("the simulator is not in use", allow_module_level=True)
cuda = pytest.importorskip("numba.cuda")
import numba  # noqa: E402

TPB = 8


@cuda.jit
def _block_sums(x, out):
    # Each thread's value through shared memory; thread 0 sums the block.
    shared = cuda.shared.array(TPB, numba.float64)
    t = cuda.threadIdx.x
    shared[t] = x[cuda.grid(1)]
    cuda.syncthreads()
    if t == 0:
        s = 0.0
        for i in range(TPB):
            s += shared[i]
        out[cuda.blockIdx.x] = s


@cuda.jit
def _two_arrays(out):
    # Two shared arrays, on two lines, are two arrays.
    a = cuda.shared.array(TPB, numba.float64)
    b = cuda.shared.array(TPB, numba.float64)
    t = cuda.threadIdx.x
    a[t] = t
    b[t] = -t
    cuda.syncthreads()
    out[t] = a[(t + 1) % TPB] + 10 * b[(t + 2) % TPB]


@cuda.jit
def _some_return(out):
    # Odd threads leave; the even ones meet at two barriers.
    t = cuda.threadIdx.x
    if t % 2 == 1:
        return
    out[t] = 1.0
    cuda.syncthreads()
    v = out[(t + 2) % TPB]
    cuda.syncthreads()
    out[t] += v


@cuda.jit
def _one_raises(out):
    t = cuda.threadIdx.x
    if t == 3:
        out[100] = 1.0  # out of bounds
    cuda.syncthreads()
    out[t] = t


def test_block_threads_share_their_shared_array():
    x = np.arange(TPB * 50, dtype=np.float64)
    out = np.zeros(50)
    for _ in range(3):
        _block_sums[50, TPB](x, out)
        np.testing.assert_array_equal(out, x.reshape(50, TPB).sum(axis=1))


def test_shared_array_lookup_is_atomic(monkeypatch):
    # A slow allocation gives every thread of the block the time to miss the
    # lookup: without its lock, each would get an array of its own.
    import time

    empty = np.empty

    def slow_empty(*args, **kwargs):
        time.sleep(0.002)
        return empty(*args, **kwargs)

    x = np.arange(TPB * 3, dtype=np.float64)
    out = np.zeros(3)
    monkeypatch.setattr(np, "empty", slow_empty)
    _block_sums[3, TPB](x, out)
    monkeypatch.undo()
    np.testing.assert_array_equal(out, x.reshape(3, TPB).sum(axis=1))


def test_shared_arrays_on_two_lines_are_distinct():
    out = np.zeros(TPB)
    _two_arrays[1, TPB](out)
    t = np.arange(TPB)
    np.testing.assert_array_equal(out, (t + 1) % TPB - 10 * ((t + 2) % TPB))


def test_threads_that_return_leave_the_barrier():
    out = np.zeros(TPB)
    _some_return[1, TPB](out)
    np.testing.assert_array_equal(out, np.where(np.arange(TPB) % 2 == 0, 2.0, 0.0))


def test_a_thread_error_is_raised_and_frees_the_block():
    with pytest.raises(IndexError, match=r"tid=\[3, 0, 0\]"):
        _one_raises[1, TPB](np.zeros(TPB))
    # The simulator is usable afterwards.
    out = np.zeros(TPB)
    _some_return[1, TPB](out)
    assert out[0] == 2.0
