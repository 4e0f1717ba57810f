"""Workload: the hyper-parameter search of ``search`` run in parallel (issue #6).

The 24-candidate, 3-fold ``GridSearchCV`` of the ``search`` workload, on its
tabular problem, run by joblib four ways: ``n_jobs=1``; ``n_jobs=2`` on
threads (fastnn's compiled epochs release the GIL, scikit-learn's Python
loop holds it); ``n_jobs=2`` on loky processes (joblib's default); and on a
Dask ``LocalCluster`` of two single-threaded worker processes, through
``joblib.parallel_config(backend="dask")``. Wall time of the whole search,
each system beside scikit-learn's estimator on the same grid.

With ``n_jobs=1`` fastnn already runs the grid's larger candidates (batch
200 of ``(64,)`` and ``(64, 32)``) on both cores, so two joblib workers cannot
halve that search. The small nets, the grid's 12 candidates at batch 64,
fit on one thread either way: their search, sequential and on threads, shows
how close to 2x candidates running side by side get; the same search on
loky processes, which share no GIL but send each fit its data and return
its result, compares the two ways of running them.
"""

import contextlib

import joblib
from sklearn.model_selection import ParameterGrid

from .._results import timing_row, workload
from .._timing import interleaved
from . import search

TITLE = ("GridSearchCV of the search workload, 24 candidates x 3 folds (and its 12 small nets), "
         "in parallel")
TARGET_ID = "small-threads"
GRID_TARGET_ID = "threads"
# The whole grid, and its small nets: the candidates at batch 64, whose fits
# take one thread even with n_jobs=1.
GRIDS = {"all": search.GRID, "small": {**search.GRID, "mlp__batch_size": [64]}}
# Rows: (id, what the table shows, joblib backend or None, n_jobs, grid). The
# speedups of a grid's rows are over its first row, its n_jobs=1 search.
MODES = [
    ("sequential", "n_jobs=1", None, 1, "all"),
    ("threads", "n_jobs=2, threads", "threading", 2, "all"),
    ("loky", "n_jobs=2, loky processes", "loky", 2, "all"),
    ("dask", "Dask LocalCluster, 2 workers x 1 thread", "dask", -1, "all"),
    ("small-sequential", "small nets (12 candidates at batch 64), n_jobs=1", None, 1, "small"),
    ("small-threads", "small nets, n_jobs=2, threads", "threading", 2, "small"),
    ("small-loky", "small nets, n_jobs=2, loky processes", "loky", 2, "small"),
]
# A small search through the same backend before timing: it starts the loky
# or Dask workers and imports the systems there.
WARMUP_ROWS = 300
WARMUP_GRID = {"mlp__alpha": [1e-4, 1e-2]}


@contextlib.contextmanager
def _dask_cluster():
    """A Client on a 2-worker LocalCluster (loopback only), or None without distributed."""
    try:
        import distributed
    except ImportError:
        yield None
        return
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  worker_dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def _in_backend(fn, backend):
    def call():
        if backend is None:
            return fn()
        with joblib.parallel_config(backend=backend):
            return fn()

    return call


def run(ctx):
    """Measure the workload; see the module docstring."""
    description, X, y, max_iter = search.problems(ctx.quick)[search.TARGET_ID]
    # PyTorch's estimator is the bench's own wrapper, not a system users search.
    systems = [s for s in ctx.present if s.name != "pytorch"]
    not_applicable = {"pytorch": "not run: the comparison is with scikit-learn's estimator"}
    rows, skipped = [], []
    with _dask_cluster() as client:
        for row_id, label, backend, n_jobs, grid in MODES:
            if backend == "dask" and client is None:
                skipped.append({"case": label, "reason": "dask.distributed is not installed"})
                continue
            ctx.log(f"parallel search: {label}, {description}")
            calls = {s.name: _in_backend(search.searcher(s, X, y, max_iter, GRIDS[grid], n_jobs),
                                         backend) for s in systems}
            warmup = {s.name: _in_backend(search.searcher(s, X[:WARMUP_ROWS], y[:WARMUP_ROWS], 2,
                                                          WARMUP_GRID, n_jobs), backend)
                      for s in systems}
            timings = interleaved(calls, ctx.repeats, warmup=warmup)
            best = {n: t.result.best_params_ for n, t in timings.items()}
            row = timing_row(row_id, label, timings, ctx.systems,
                             params={"backend": backend, "n_jobs": n_jobs,
                                     "max_iter": max_iter, "cv": 3,
                                     "grid": grid, "n_candidates": len(ParameterGrid(GRIDS[grid]))},
                             metrics={"best score": {n: float(t.result.best_score_)
                                                     for n, t in timings.items()}})
            row["best_params"] = {n: {k: repr(v) for k, v in p.items()} for n, p in best.items()}
            rows.append(row)
    _add_speedups(rows)
    return workload(
        TITLE,
        "seconds per search",
        rows,
        ctx.absent(not_applicable),
        skipped_cases=skipped,
        note=(
            f"{description}, {search.TITLE.split(', ', 1)[1]}, max_iter={max_iter}, grid of "
            "the search workload (small nets: its candidates at batch 64, which fastnn fits "
            "on one thread even with n_jobs=1; the larger ones take both cores there), "
            "random_state=0. fastnn's default n_threads=None gives each "
            "fit in joblib's threads one thread; loky gives each worker process its share of "
            "the cores (joblib's inner_max_num_threads). Warm-up: a 2-candidate search "
            f"on {WARMUP_ROWS} rows through the same joblib backend (starts the workers). "
            "speedup: seconds with n_jobs=1 on the same grid / seconds of the row, per system."
        ),
    )


def _add_speedups(rows):
    """Each row's speedup over n_jobs=1 on its grid, and whether it found the same best params."""
    bases = {}
    for row in rows:
        base = bases.setdefault(row["params"]["grid"], row)
        row["metrics"]["speedup over n_jobs=1"] = {
            n: base["seconds"][n] / s
            for n, s in row["seconds"].items()
            if s is not None and base["seconds"].get(n) is not None
        }
        row["metrics"]["same best params as n_jobs=1"] = {
            n: p == base["best_params"].get(n) for n, p in row["best_params"].items()
        }
