"""Workload 2: small tabular nets, where per-batch overhead is everything.

scikit-learn's ``make_classification`` (3 classes) and ``make_regression``,
20 features, float32: n in {1e3, 1e4, 1e5} (quick: 1e3), hidden (32,) and
(64, 64), batch 64 and 200; plus the target case 20000 x 20, (32,), batch 64.
"""

import itertools

import numpy as np

from .._data import tabular
from .._flops import epoch_flops, layer_units, n_outputs
from .._machine import peak_flops
from .._results import timing_row, workload
from .._systems import epochs_fit
from .._timing import interleaved

TITLE = "Small tabular nets, 20 features, float32, adam"
N_CLASSES = 3
TARGET_ID = "classification-20000-(32,)-b64"


def cases(quick):
    """``(task, n, hidden, batch)`` of the run; the target case comes first."""
    sizes = (1_000,) if quick else (1_000, 10_000, 100_000)
    grid = itertools.product(
        ("classification", "regression"), sizes, ((32,), (64, 64)), (64, 200)
    )
    return [("classification", 20_000, (32,), 64), *grid]


def epochs_for(n, quick):
    """Enough epochs that each fit sees ~2e5 samples (1e4 when quick): set-up stays small."""
    budget = 10_000 if quick else 200_000
    return max(2, -(-budget // n))


def run(ctx):
    """Measure the workload; see the module docstring."""
    rows = []
    for task, n, hidden, batch in cases(ctx.quick):
        X, y = tabular(task, n, dtype=np.float32, n_classes=N_CLASSES)
        epochs = epochs_for(n, ctx.quick)
        row_id = f"{task}-{n}-{hidden}-b{batch}".replace(" ", "")
        ctx.log(f"tabular {row_id}: {epochs} epochs")
        params = dict(hidden_layer_sizes=hidden, batch_size=batch)
        calls = {s.name: epochs_fit(s, task, X, y, epochs, **params) for s in ctx.present}
        timings = interleaved(calls, ctx.repeats, per=epochs)
        units = layer_units(X.shape[1], hidden, n_outputs(task, N_CLASSES))
        rows.append(
            timing_row(
                row_id,
                f"{task[:5]}. {n}x20 {hidden} batch {batch}"
                + (" (target case)" if row_id == TARGET_ID else ""),
                timings,
                ctx.systems,
                params={**params, "task": task, "n_samples": n, "epochs": epochs},
                bound_s=epoch_flops(units, n) / peak_flops(ctx.machine, np.float32),
            )
        )
    return workload(
        TITLE,
        "seconds per epoch",
        rows,
        ctx.absent(),
        note="Epochs per fit: enough for about 2e5 samples (1e4 when quick), at least 2.",
    )
