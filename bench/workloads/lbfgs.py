"""Workload 4: the L-BFGS solver, whole fit, on digits and a regression set."""

import numpy as np
from sklearn.datasets import load_digits

from .._data import tabular
from .._results import timing_row, workload
from .._systems import quiet_fit
from .._timing import interleaved

TITLE = "lbfgs, whole fit, float64"
NOT_APPLICABLE = {
    "pytorch": "not comparable: torch.optim.LBFGS is not scipy's L-BFGS-B with its line search"
}


def problems(quick):
    """``{id: (description, task, X, y, hidden, max_iter)}`` of the run."""
    X_dig, y_dig = load_digits(return_X_y=True)
    X_reg, y_reg = tabular("regression", 1_000 if quick else 10_000, dtype=np.float64)
    max_iter = 20 if quick else 200
    return {
        "digits": (
            "digits 1797x64, (100,)", "classification", X_dig / 16.0, y_dig, (100,), max_iter
        ),
        "regression": (
            f"regression {len(X_reg)}x20, (64,)", "regression", X_reg, y_reg, (64,), max_iter
        ),
    }


def run(ctx):
    """Measure the workload; see the module docstring."""
    systems = [s for s in ctx.present if s.name not in NOT_APPLICABLE]
    rows = []
    for row_id, (case, task, X, y, hidden, max_iter) in problems(ctx.quick).items():
        ctx.log(f"lbfgs {row_id}: max_iter={max_iter}")

        def fit(system):
            est = system.estimator(
                task, solver="lbfgs", hidden_layer_sizes=hidden, max_iter=max_iter, random_state=0
            )
            return lambda: quiet_fit(est, X, y)

        timings = interleaved({s.name: fit(s) for s in systems}, ctx.repeats)
        fitted = {n: t.result for n, t in timings.items()}
        rows.append(
            timing_row(
                row_id,
                case,
                timings,
                ctx.systems,
                params={"task": task, "hidden_layer_sizes": hidden, "max_iter": max_iter},
                metrics={
                    "iterations": {n: int(e.n_iter_) for n, e in fitted.items()},
                    "final loss": {n: float(e.loss_) for n, e in fitted.items()},
                },
            )
        )
    return workload(
        TITLE,
        "seconds per fit",
        rows,
        ctx.absent(NOT_APPLICABLE),
        note="Same iterations and final loss as scikit-learn mean the same optimisation ran.",
    )
