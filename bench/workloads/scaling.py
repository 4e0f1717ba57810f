"""Workload 7: seconds per epoch as n_samples and hidden width grow.

100 features, 10 classes, float32, one hidden layer, batch 256. Each point is
also divided by the GEMM lower bound (the epoch's GEMM FLOPs at the measured
sgemm peak), drawn as the bound line of the log-log plot.
"""

import numpy as np

from .._data import tabular
from .._flops import epoch_flops, layer_units
from .._machine import peak_flops
from .._results import timing_row, workload
from .._systems import epochs_fit
from .._timing import interleaved

TITLE = "Scaling: seconds per epoch, 100 features, 10 classes, float32, batch 256"
N_FEATURES, N_CLASSES, BATCH = 100, 10, 256


def series(quick):
    """``[(series, n_samples, width)]``: growing n at width 256, growing width at fixed n."""
    if quick:
        ns, widths, n_fixed = (500, 2_000, 8_000), (16, 64, 256), 4_000
    else:
        ns, widths, n_fixed = (1_000, 3_000, 10_000, 30_000, 100_000), (16, 64, 256, 1024), 20_000
    return [("n_samples", n, 256) for n in ns] + [("width", n_fixed, w) for w in widths]


def run(ctx):
    """Measure the workload; see the module docstring."""
    budget = 10_000 if ctx.quick else 100_000
    rows = []
    for name, n, width in series(ctx.quick):
        X, y = tabular("classification", n, N_FEATURES, np.float32, N_CLASSES)
        epochs = max(1, -(-budget // n))
        ctx.log(f"scaling {name}: n={n} width={width}, {epochs} epochs")
        params = dict(hidden_layer_sizes=(width,), batch_size=BATCH)
        calls = {
            s.name: epochs_fit(s, "classification", X, y, epochs, **params) for s in ctx.present
        }
        timings = interleaved(calls, ctx.repeats, per=epochs)
        units = layer_units(N_FEATURES, (width,), N_CLASSES)
        row = timing_row(
            f"{name}-{n}-{width}",
            f"n={n}, width {width}",
            timings,
            ctx.systems,
            params={**params, "n_samples": n, "epochs": epochs},
            bound_s=epoch_flops(units, n) / peak_flops(ctx.machine, np.float32),
        )
        row["series"], row["x"] = name, n if name == "n_samples" else width
        rows.append(row)
    return workload(
        TITLE,
        "seconds per epoch",
        rows,
        ctx.absent(),
        note=f"Epochs per fit: enough for about {budget} samples, at least 1.",
    )
