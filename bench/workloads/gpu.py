"""Workload 8: the GPU (issue #4): fastnn's CUDA backend against PyTorch CUDA.

Fashion-MNIST 784-256-128-10, relu, adam, float32: seconds per epoch at batch
256 and 4096, ``backend="cuda"`` beside PyTorch (eager, same algorithm, see
``bench._torch_mlp``) on the same GPU, interleaved like every other workload;
and the tiled GEMM kernel's TFLOP/s on 4096 x 4096 x 4096 float32 beside
cuBLAS's (through PyTorch). Without a usable GPU (or on Numba's simulator,
whose timings mean nothing) the workload is skipped and says why: its rows
are "not measured".
"""

import time

import numpy as np

from .._data import DataUnavailable, fashion_mnist
from .._results import skipped, timing_row, workload
from .._systems import System, epochs_fit
from .._timing import interleaved

TITLE = "GPU: Fashion-MNIST 784-256-128-10 float32, fastnn CUDA vs PyTorch CUDA"
PARAMS = dict(hidden_layer_sizes=(256, 128), activation="relu", solver="adam")
BATCHES = (256, 4096)
GEMM_SIZE = 4096


def _gpu_or_reason():
    """``(None, detail)`` when a real GPU runs fastnn's CUDA backend, else ``(reason, None)``."""
    from fastnn.backends._cuda import cuda_status

    ok, detail = cuda_status()
    if not ok:
        return f"not measured: {detail}", None
    if not detail.startswith("GPU"):
        return f"not measured: {detail}", None
    return None, detail


def _systems():
    import functools

    import fastnn

    cuda = System(
        "fastnn-cuda",
        "fastnn[cuda]",
        functools.partial(fastnn.MLPClassifier, backend="cuda"),
        functools.partial(fastnn.MLPRegressor, backend="cuda"),
        is_fastnn=True,
    )
    try:
        import torch

        if not torch.cuda.is_available():
            raise ImportError("torch.cuda.is_available() is False")
        from .._torch_mlp import TorchMLPClassifier, TorchMLPRegressor
    except ImportError as exc:
        return [cuda, System("pytorch-cuda", "PyTorch CUDA", absent=f"not usable ({exc})")]
    torch_cuda = System(
        "pytorch-cuda",
        "PyTorch CUDA",
        functools.partial(TorchMLPClassifier, device="cuda"),
        functools.partial(TorchMLPRegressor, device="cuda"),
    )
    return [cuda, torch_cuda]


def _gemm_tflops(repeats):
    """TFLOP/s of fastnn's tiled GEMM and of cuBLAS (PyTorch) at GEMM_SIZE^3, float32."""
    from numba import cuda

    from fastnn import get_backend

    n = GEMM_SIZE
    be = get_backend("cuda")
    rng = np.random.default_rng(0)
    a = cuda.to_device(rng.standard_normal(n * n, dtype=np.float32))
    b = cuda.to_device(rng.standard_normal(n * n, dtype=np.float32))
    c = cuda.device_array(n * n, np.float32)

    def ours():
        be._gemm(np.float32, n, n, n, a, n, False, b, n, False, c, n)
        cuda.synchronize()

    calls = {"fastnn-cuda": ours}  # the other key: cuBLAS, timed through PyTorch
    try:
        import torch

        ta = torch.randn(n, n, device="cuda")
        tb = torch.randn(n, n, device="cuda")

        def cublas():
            torch.matmul(ta, tb)
            torch.cuda.synchronize()

        calls["pytorch-cuda"] = cublas
    except Exception:  # noqa: BLE001  (no PyTorch CUDA: fastnn's number alone)
        pass
    flops = 2.0 * n**3
    out = {}
    for name, fn in calls.items():
        fn()  # compile / warm up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        out[name] = flops / float(np.median(times)) / 1e12
    return out


def run(ctx):
    """Measure the workload; see the module docstring."""
    reason, device = _gpu_or_reason()
    if reason:
        return skipped(TITLE, reason)
    n_train, epochs = (4000, 2) if ctx.quick else (None, 3)
    try:
        X, y, _, _ = fashion_mnist(np.float32, ctx.download, n_train, 100)
    except DataUnavailable as exc:
        return skipped(TITLE, str(exc))
    systems = _systems()
    present = [s for s in systems if s.absent is None]
    rows = []
    for batch in BATCHES:
        ctx.log(f"gpu fashion batch {batch}: {len(X)} rows, {epochs} epochs")
        calls = {
            s.name: epochs_fit(s, "classification", X, y, epochs, batch_size=batch, **PARAMS)
            for s in present
        }
        timings = interleaved(calls, ctx.repeats, per=epochs)
        rows.append(timing_row(f"fashion-b{batch}", f"batch {batch}, {len(X)} rows", timings,
                               systems, params={**PARAMS, "batch_size": batch, "epochs": epochs}))
    # The GEMM comparison rides on the first row as a metric (PyTorch's = cuBLAS).
    tflops = _gemm_tflops(max(3, ctx.repeats))
    rows[0]["metrics"][f"GEMM {GEMM_SIZE}^3 f32 TFLOP/s"] = tflops
    if "pytorch-cuda" in tflops:
        share = tflops["fastnn-cuda"] / tflops["pytorch-cuda"]
        rows[0]["metrics"]["GEMM TFLOP/s / cuBLAS"] = {"fastnn-cuda": share}
    absent = {s.name: s.absent for s in systems if s.absent}
    result = workload(TITLE, "seconds per epoch", rows, absent,
                      note=f"{device}; PyTorch's GEMM TFLOP/s is cuBLAS's (torch.matmul).")
    result["labels"] = {s.name: s.label for s in systems}
    return result
