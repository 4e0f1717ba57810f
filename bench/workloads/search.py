"""Workload 3: hyper-parameter search end to end.

``GridSearchCV``, 3-fold, over the same 24 candidates with each system's
estimator in a ``StandardScaler`` pipeline, on a tabular problem and on
digits (float64, as users' data usually is). Wall time of the whole search,
and whether fastnn picks scikit-learn's best parameters with the same score.
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, ParameterGrid
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .._data import tabular
from .._results import timing_row, workload
from .._systems import quiet_fit
from .._timing import interleaved

TITLE = "GridSearchCV, 3-fold, 24 candidates, float64"
GRID = {
    "mlp__hidden_layer_sizes": [(32,), (64,), (64, 32)],
    "mlp__alpha": [1e-4, 1e-2],
    "mlp__learning_rate_init": [1e-3, 1e-2],
    "mlp__batch_size": [64, 200],
}
TARGET_ID = "tabular"


def problems(quick):
    """``{id: (description, X, y, max_iter)}`` of the run."""
    X_tab, y_tab = tabular("classification", 450 if quick else 5_000, dtype=np.float64)
    X_dig, y_dig = load_digits(return_X_y=True)
    if quick:
        X_dig, y_dig = X_dig[:450], y_dig[:450]
    max_iter = 5 if quick else 30
    return {
        "tabular": (f"tabular {len(X_tab)}x20, 3 classes", X_tab, y_tab, max_iter),
        "digits": (f"digits {len(X_dig)}x64", X_dig, y_dig, max_iter),
    }


def pipeline(system, max_iter):
    """``StandardScaler`` then ``system``'s classifier, as every search of the bench runs it."""
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("mlp", system.estimator("classification", max_iter=max_iter, random_state=0)),
        ]
    )


def searcher(system, X, y, max_iter, grid=GRID, n_jobs=1):
    """A callable running the 3-fold ``GridSearchCV`` of ``system`` over ``grid``."""

    def fit():
        return quiet_fit(GridSearchCV(pipeline(system, max_iter), grid, cv=3, n_jobs=n_jobs),
                         X, y)

    return fit


def _one_fit(system, X, y, max_iter):
    return lambda: quiet_fit(pipeline(system, max_iter), X, y)


def run(ctx):
    """Measure the workload; see the module docstring."""
    n_candidates = len(ParameterGrid(GRID))
    rows = []
    for row_id, (case, X, y, max_iter) in problems(ctx.quick).items():
        ctx.log(f"search {row_id}: {n_candidates} candidates x 3 folds, max_iter={max_iter}")
        calls = {s.name: searcher(s, X, y, max_iter) for s in ctx.present}
        # A whole extra search per system would double the cost: warm up on one fit.
        warmup = {s.name: _one_fit(s, X, y, max_iter) for s in ctx.present}
        timings = interleaved(calls, ctx.repeats, warmup=warmup)
        searches = {name: t.result for name, t in timings.items()}
        best = {
            name: {k.removeprefix("mlp__"): v for k, v in s.best_params_.items()}
            for name, s in searches.items()
        }
        same = {n: best[n] == best["sklearn"] for n in best if n != "sklearn" and "sklearn" in best}
        row = timing_row(
            row_id,
            case,
            timings,
            ctx.systems,
            params={"max_iter": max_iter, "n_candidates": n_candidates, "cv": 3},
            metrics={
                "best score": {n: float(s.best_score_) for n, s in searches.items()},
                "same best params as scikit-learn": same,
            },
        )
        row["best_params"] = {n: {k: repr(v) for k, v in p.items()} for n, p in best.items()}
        rows.append(row)
    return workload(
        TITLE,
        "seconds per search",
        rows,
        ctx.absent(),
        note=(
            f"Grid: {', '.join(f'{k[5:]} {v}' for k, v in GRID.items())}; "
            f"max_iter={rows[0]['params']['max_iter']}, default tol (early stop on the training "
            "loss), random_state=0, n_jobs=1. Warm-up: one fit, not a whole search. PyTorch "
            "runs the same algorithm with other random numbers, so its best parameters may differ."
        ),
    )
