"""Workload 6: peak extra memory during fit, as a multiple of X.nbytes.

Measured with ``tracemalloc``: NumPy reports every array allocation to it,
so a copy of X made anywhere in fit shows up in the peak, exactly and
independently of the allocator's reuse of freed pages. Memory allocated
outside NumPy and Python (BLAS buffers, PyTorch's own allocator) is not
seen, so PyTorch is left out. fastnn must not copy a C-contiguous float32 X.
"""

import tracemalloc

import numpy as np

from .._data import DataUnavailable, fashion_mnist, tabular
from .._results import metric_row, workload
from .._systems import epochs_fit

TITLE = "Peak extra memory during fit (tracemalloc), 1 epoch"
NOT_APPLICABLE = {"pytorch": "not measured: PyTorch's allocator is invisible to tracemalloc"}
TARGET_ID = "fashion-float32"


def traced_fit(fit):
    """Run ``fit()`` under tracemalloc; return (peak extra bytes, bytes kept after)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        est = fit()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del est
    return peak - base, current - base


def cases(ctx):
    """``(id, description, X, y, params)``; Fashion-MNIST only when it loads.

    Returns
    -------
    cases : list of tuple
    skipped : list of dict
    """
    n_train = 4000 if ctx.quick else None
    fashion = dict(hidden_layer_sizes=(256, 128), batch_size=256)
    found, skipped = [], []
    try:
        X, y, _, _ = fashion_mnist(np.float32, ctx.download, n_train, 1)
        found.append((TARGET_ID, f"Fashion-MNIST {len(X)}x784 float32", X, y, fashion))
    except DataUnavailable as exc:
        skipped.append({"case": "Fashion-MNIST float32", "reason": str(exc)})
    n = 20_000 if ctx.quick else 100_000
    small = dict(hidden_layer_sizes=(32,), batch_size=200)
    for dtype in (np.float32, np.float64):
        X, y = tabular("classification", n, dtype=dtype)
        name = np.dtype(dtype).name
        found.append((f"tabular-{name}", f"tabular {n}x20 {name}", X, y, small))
    return found, skipped


def run(ctx):
    """Measure the workload; see the module docstring."""
    systems = [s for s in ctx.present if s.name not in NOT_APPLICABLE]
    found, skipped = cases(ctx)
    rows = []
    for row_id, case, X, y, params in found:
        ctx.log(f"memory {row_id}: X is {X.nbytes / 1e6:.1f} MB")
        peak, peak_mb, kept = {}, {}, {}
        for s in systems:
            extra, after = traced_fit(epochs_fit(s, "classification", X, y, 1, **params))
            peak[s.name], kept[s.name] = extra / X.nbytes, after / X.nbytes
            peak_mb[s.name] = extra / 1e6
        rows.append(
            metric_row(
                row_id,
                f"{case} (X: {X.nbytes / 1e6:.1f} MB)",
                {
                    "peak extra / X.nbytes": peak,
                    "peak extra MB": peak_mb,
                    "kept after fit / X.nbytes": kept,
                },
                params={**params, "X_nbytes": X.nbytes},
            )
        )
    return workload(
        TITLE,
        "multiples of X.nbytes",
        rows,
        ctx.absent(NOT_APPLICABLE),
        note=(
            "tracemalloc sees NumPy and Python allocations (a copy of X shows as +1.0x), not "
            "BLAS internals or PyTorch. Goal: fastnn at most 1.0x extra for Fashion-MNIST."
        ),
        skipped_cases=skipped,
    )
