"""What the numbers were measured on: CPU, thread pools, versions, GEMM peak."""

import os
import platform
import time
from importlib import metadata

import numpy as np
from scipy.linalg import blas
from threadpoolctl import threadpool_info, threadpool_limits

_ISA_FLAGS = ("avx2", "fma", "avx512f")
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_POOL_KEYS = ("user_api", "internal_api", "version", "num_threads", "prefix")


def _cpuinfo():
    """First processor's ``model name`` and ``flags`` from /proc/cpuinfo (Linux)."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "flags") and key not in info:
                    info[key] = value.strip()
    except OSError:
        pass
    return info


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def gemm_peak(dtype, n=2048, repeats=5):
    """Best GEMM rate of the BLAS that fastnn calls, in FLOP/s.

    fastnn calls BLAS through ``scipy.linalg.cython_blas``, so the peak is
    measured through ``scipy.linalg.blas`` (the same library), on n x n
    Fortran-ordered matrices, best of ``repeats`` after one warm-up.

    Parameters
    ----------
    dtype : numpy dtype
        float32 (sgemm) or float64 (dgemm).
    n : int, default=2048
        Matrix size.
    repeats : int, default=5
        Timed products.

    Returns
    -------
    flops_per_second : float
    """
    a = np.asfortranarray(np.random.default_rng(0).random((n, n), dtype=dtype))
    gemm = blas.sgemm if np.dtype(dtype) == np.float32 else blas.dgemm
    gemm(1.0, a, a)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        gemm(1.0, a, a)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def limit_threads(n, with_torch):
    """Cap every BLAS / OpenMP pool (and PyTorch's intra-op pool) at ``n`` threads.

    On a machine another job is using, BLAS threads that wait on a busy core
    make every GEMM many times slower; one thread per system keeps the
    comparison fair there.

    Returns
    -------
    limiter : threadpoolctl.threadpool_limits
        Keep it referenced for the run.
    """
    if with_torch:
        import torch

        torch.set_num_threads(n)
    return threadpool_limits(limits=n)


def machine_class(machine, gpu_only=False):
    """The class of machine a run stands for, the name of its reference result.

    ``bench/results/`` keeps one reference result per class: ``gpu`` for a
    run of the GPU workload alone, else the CPU's widest vector extension
    that the kernels use (``cpu-avx512``, ``cpu-avx2``, or ``cpu-<arch>``).
    """
    if gpu_only:
        return "gpu"
    for flag, name in (("avx512f", "cpu-avx512"), ("avx2", "cpu-avx2")):
        if flag in machine["isa"]:
            return name
    return f"cpu-{platform.machine().lower() or 'other'}"


def describe(with_torch, quick):
    """The machine and software of this run, as a JSON-ready dict.

    Parameters
    ----------
    with_torch : bool
        Whether PyTorch takes part (its version and thread count are recorded).
    quick : bool
        Quick run: fewer GEMM repeats.

    Returns
    -------
    machine : dict
    """
    cpu = _cpuinfo()
    flags = set(cpu.get("flags", "").split())
    versions = {d: _version(d) for d in ("numpy", "scipy", "scikit-learn", "fastnn", "matplotlib")}
    torch_threads = None
    if with_torch:
        import torch

        versions["torch"] = torch.__version__
        torch_threads = torch.get_num_threads()
    peaks = {dt: gemm_peak(dt, repeats=3 if quick else 5) for dt in (np.float32, np.float64)}
    return {
        "cpu": cpu.get("model name") or platform.processor() or platform.machine(),
        "isa": [f for f in _ISA_FLAGS if f in flags],
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        # Every thread pool loaded in this process (after torch's import, when used).
        "thread_pools": [{k: pool.get(k) for k in _POOL_KEYS} for pool in threadpool_info()],
        "torch_threads": torch_threads,
        "thread_env": {v: os.environ[v] for v in _THREAD_VARIABLES if v in os.environ},
        "sgemm_peak_gflops": peaks[np.float32] / 1e9,
        "dgemm_peak_gflops": peaks[np.float64] / 1e9,
        "load_average_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def peak_flops(machine, dtype):
    """GEMM peak (FLOP/s) recorded in ``machine`` for ``dtype``."""
    key = "sgemm_peak_gflops" if np.dtype(dtype) == np.float32 else "dgemm_peak_gflops"
    return machine[key] * 1e9
