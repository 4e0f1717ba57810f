"""Searches over fastnn run in threads, in loky processes and on a Dask cluster.

Each parallel search is compared with the same search run sequentially
with one thread per fit (``n_threads=1``), which is what every fit of a
parallel search uses by default: the scores must be equal, not just close.
"""

import os
import warnings

import joblib
import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastnn import MLPClassifier
from _backends import CPU_KERNELS

X, y = load_digits(return_X_y=True)
X, y = X[:900], y[:900]
GRID = {"mlpclassifier__hidden_layer_sizes": [(16,), (32,)],
        "mlpclassifier__alpha": [1e-4, 1e-2]}
DISTRIBUTIONS = {"mlpclassifier__alpha": loguniform(1e-5, 1e-1),
                 "mlpclassifier__learning_rate_init": loguniform(1e-3, 3e-2)}
SEARCHES = {
    "grid": lambda pipe, n_jobs: GridSearchCV(pipe, GRID, cv=3, n_jobs=n_jobs),
    "randomized": lambda pipe, n_jobs: RandomizedSearchCV(
        pipe, DISTRIBUTIONS, n_iter=4, cv=3, n_jobs=n_jobs, random_state=0),
}


def _pipeline(**params):
    return make_pipeline(StandardScaler(),
                         MLPClassifier(max_iter=8, random_state=0, **params))


def _search(kind, n_jobs, **params):
    search = SEARCHES[kind](_pipeline(**params), n_jobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return search.fit(X, y)


def _assert_same_search(search, reference):
    assert search.best_params_ == reference.best_params_
    for key in ("mean_test_score", "std_test_score", "rank_test_score",
                "split0_test_score", "split1_test_score", "split2_test_score"):
        np.testing.assert_array_equal(search.cv_results_[key], reference.cv_results_[key])
    assert search.best_score_ == reference.best_score_


@pytest.fixture(scope="module")
def sequential():
    """Each search run with n_jobs=1 and one thread per fit."""
    return {kind: _search(kind, 1, n_threads=1) for kind in SEARCHES}


@pytest.mark.parametrize("kind", sorted(SEARCHES))
def test_threading_backend_equals_sequential(kind, sequential):
    # Fits in joblib's threads run on one thread each by default.
    with joblib.parallel_config(backend="threading"):
        search = _search(kind, 2)
    _assert_same_search(search, sequential[kind])


def _fit_in_worker(backend):
    """A fit in a loky worker: its pid, its Numba compilations and loads from disk."""
    from fastnn.backends import _numba_kernels as kernels

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=0,
                            backend=backend).fit(X, y)
    entry_points = (kernels.epoch_arrays, kernels.forward_arrays)
    compiled = sum(sum(f.stats.cache_misses.values()) for f in entry_points)
    loaded = sum(sum(f.stats.cache_hits.values()) for f in entry_points)
    return os.getpid(), compiled, loaded, est.predict_proba(X)


def test_loky_workers_load_numba_kernels_from_the_disk_cache():
    # Compiled once (here, or by an earlier test), then cached on disk
    # (Numba's cache=True): workers load the kernels, never compile them.
    reference = _fit_in_worker("numba")[3]
    results = joblib.Parallel(n_jobs=2, backend="loky")(
        joblib.delayed(_fit_in_worker)("numba") for _ in range(6)
    )
    pids = {pid for pid, *_ in results}
    assert os.getpid() not in pids and len(pids) <= 2
    assert all(compiled == 0 for _, compiled, _, _ in results)
    # A worker loads each kernel once, on its first fit.
    assert sum(loaded > 0 for _, _, loaded, _ in results) >= len(pids)
    for *_, proba in results:
        np.testing.assert_allclose(proba, reference, rtol=1e-10)


@pytest.mark.parametrize("backend", CPU_KERNELS)
def test_loky_backend_equals_sequential(backend, sequential):
    # loky limits each worker's OpenMP, BLAS and Numba threads to its share
    # of the cores (one each on two cores); one thread on any machine here.
    with joblib.parallel_config(backend="loky", inner_max_num_threads=1):
        search = _search("grid", 2, backend=backend)
    _assert_same_search(search, sequential["grid"] if backend == "cython"
                        else _search("grid", 1, backend=backend, n_threads=1))


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    # Real worker processes, on the loopback interface only.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  worker_dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.mark.parametrize("kind", sorted(SEARCHES))
def test_dask_cluster_equals_sequential(kind, sequential, dask_client):
    from distributed import get_task_stream

    workers = dask_client.scheduler_info()["workers"]
    assert len(workers) == 2
    with get_task_stream(dask_client) as tasks, joblib.parallel_config(backend="dask"):
        search = _search(kind, -1)
    _assert_same_search(search, sequential[kind])
    # The fits ran in the cluster's two worker processes.
    assert {task["worker"] for task in tasks.data} == set(workers)
    pids = dask_client.run(os.getpid)
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
