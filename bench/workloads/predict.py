"""Workload 5: prediction, one row (latency) and 10,000 rows (throughput).

Two fitted float32 models: the Fashion-MNIST shape 784-256-128-10 and a
tabular (64, 64) net on 20 features. Weights come from one epoch on random
data; prediction time does not depend on their values.
"""

import numpy as np

from .._data import tabular
from .._flops import forward_flops
from .._machine import peak_flops
from .._results import timing_row, workload
from .._systems import epochs_fit
from .._timing import interleaved

TITLE = "Prediction (predict), float32"
N_ROWS = 10_000


def models():
    """``{id: (description, X, y, hidden)}``: training data of each model."""
    rng = np.random.default_rng(0)
    X_img = rng.random((N_ROWS, 784), dtype=np.float32)
    y_img = rng.integers(0, 10, N_ROWS)
    X_tab, y_tab = tabular("classification", N_ROWS, dtype=np.float32)
    return {
        "fashion-shape": ("784-256-128-10", X_img, y_img, (256, 128)),
        "tabular": ("20-64-64-3", X_tab, y_tab, (64, 64)),
    }


def run(ctx):
    """Measure the workload; see the module docstring."""
    loops = 50 if ctx.quick else 1000
    batches = 1 if ctx.quick else 10
    rows = []
    for model_id, (shape, X, y, hidden) in models().items():
        fitted = {
            s.name: epochs_fit(s, "classification", X, y, 1, hidden_layer_sizes=hidden)()
            for s in ctx.present
        }
        units = [int(u) for u in shape.split("-")]
        one = X[:1]

        def latency(est):
            def call():
                for _ in range(loops):
                    est.predict(one)

            return call

        def throughput(est):
            def call():
                for _ in range(batches):
                    est.predict(X)

            return call

        ctx.log(f"predict {model_id}: {loops} single rows, {batches} x {N_ROWS} rows")
        t_one = interleaved({n: latency(e) for n, e in fitted.items()}, ctx.repeats, per=loops)
        rows.append(
            timing_row(
                f"{model_id}-1",
                f"{shape}: 1 row (latency)",
                t_one,
                ctx.systems,
                params={"hidden_layer_sizes": hidden, "rows": 1, "calls_per_repeat": loops},
            )
        )
        t_many = interleaved(
            {n: throughput(e) for n, e in fitted.items()}, ctx.repeats, per=batches
        )
        rows.append(
            timing_row(
                f"{model_id}-{N_ROWS}",
                f"{shape}: {N_ROWS} rows (throughput)",
                t_many,
                ctx.systems,
                params={"hidden_layer_sizes": hidden, "rows": N_ROWS, "calls_per_repeat": batches},
                bound_s=forward_flops(units, N_ROWS) / peak_flops(ctx.machine, np.float32),
                metrics={"rows per second": {n: N_ROWS / t.median for n, t in t_many.items()}},
            )
        )
    return workload(
        TITLE,
        "seconds per predict call",
        rows,
        ctx.absent(),
        note=(
            "Each system's public predict on a NumPy array (input checks and conversion "
            "included). Latency: median over repeats of the mean of "
            f"{loops} one-row calls."
        ),
    )
