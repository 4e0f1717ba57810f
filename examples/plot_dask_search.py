"""
==========================
A search on a Dask cluster
==========================

A hyper-parameter search is a batch of independent fits, which joblib can
send anywhere it has a backend for. With :mod:`dask.distributed`, the fits of
a :class:`~sklearn.model_selection.GridSearchCV` over
:class:`fastnn.MLPClassifier` run on a Dask cluster's workers by wrapping
``search.fit`` in ``joblib.parallel_config(backend="dask")``. This example
starts a local cluster of two worker processes, runs the search there, and
times it beside the same search run one fit at a time in this process.

On a real cluster, replace the local cluster with
``Client("tcp://scheduler-host:8786")``. ``distributed`` is an optional
dependency (``pip install distributed``); without it the example says so and
stops.
"""

# %%
# The search
# ----------
# A pipeline of :class:`~sklearn.preprocessing.StandardScaler` and fastnn's
# MLP on the digits data set, 8 candidates, 3-fold cross-validation: 24 fits,
# plus the refit of the best candidate. The fits are kept short
# (``max_iter=80``), so their
# :class:`~sklearn.exceptions.ConvergenceWarning` is silenced.
#
# ``n_threads=1`` holds each fit to one core, so both runs below do the same
# work per fit and differ only in how many fits run at once. (In a Dask
# worker's thread, fastnn's default ``n_threads=None`` means one core anyway;
# in the main thread it lets a large enough net use every core.)
import os
import time
import warnings

import joblib
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from fastnn import MLPClassifier

try:
    from dask.distributed import Client, LocalCluster
except ImportError as exc:
    Client = None
    print(f"dask.distributed is not available here ({exc}); this example needs "
          "'pip install distributed' and stops.")

# Dask starts its worker processes as fresh interpreters ("spawn"). Run as
# ``python plot_dask_search.py``, each of them imports this file again, under
# the name "__mp_main__": the test below keeps them from running the searches
# (and starting clusters of their own), as in any script that uses
# multiprocessing.
run = Client is not None and __name__ == "__main__"

X, y = load_digits(return_X_y=True)
pipe = Pipeline([
    ("scale", StandardScaler()),
    ("mlp", MLPClassifier(max_iter=80, n_threads=1, random_state=0)),
])
param_grid = {
    "mlp__hidden_layer_sizes": [(64,), (128,), (256,), (128, 128)],
    "mlp__alpha": [1e-4, 1e-2],
}


def timed_search(n_jobs=None):
    search = GridSearchCV(pipe, param_grid, cv=3, n_jobs=n_jobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        start = time.perf_counter()
        search.fit(X, y)
    return time.perf_counter() - start, search


# %%
# One fit at a time, here
# -----------------------
# The reference: ``n_jobs=1``, every fit in this process, one after the other.
if run:
    serial_seconds, serial = timed_search(n_jobs=1)
    print(f"n_jobs=1:            {serial_seconds:6.2f} s, best {serial.best_params_}, "
          f"CV accuracy {serial.best_score_:.4f}")

# %%
# On a Dask cluster
# -----------------
# ``LocalCluster`` starts a scheduler and two worker processes of one thread
# each on this machine; ``Client`` connects to it and becomes the default
# that joblib's ``"dask"`` backend sends work to. ``n_jobs=-1`` lets the
# search submit all its fits at once; the scheduler hands them to the
# workers as they free up. Both context managers close the client and shut
# the workers down at the end of the block, even on an error.
#
# Starting the cluster (new Python processes that import NumPy, scikit-learn
# and fastnn) takes a few seconds of its own, timed separately below; on a
# long-lived cluster it is paid once.
if run:
    start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        startup_seconds = time.perf_counter() - start
        with joblib.parallel_config(backend="dask"):
            dask_seconds, on_dask = timed_search(n_jobs=-1)
        n_workers = len(client.scheduler_info()["workers"])
    print(f"cluster start-up:    {startup_seconds:6.2f} s ({n_workers} workers, "
          f"{os.cpu_count()} cores on this machine)")
    print(f"Dask, {n_workers} workers:     {dask_seconds:6.2f} s, "
          f"best {on_dask.best_params_}, CV accuracy {on_dask.best_score_:.4f}")
    print(f"speed-up over n_jobs=1: {serial_seconds / dask_seconds:.2f}x")
    print("same best parameters:", on_dask.best_params_ == serial.best_params_)

# %%
# The times
# ---------
# Each fit is the same computation wherever it runs, so both searches find
# the same best parameters and scores. The times are those of the machine
# that built this page (its core count is printed above). Two workers can at
# best halve the time; sending each fit its data and collecting the results
# takes some of that gain, and on a machine busy with other work the gain
# shrinks or vanishes. On a cluster with more cores, more workers take more
# of the 24 fits at once.
if run:
    fig, ax = plt.subplots(figsize=(6, 3.2))
    labels = ["n_jobs=1\n(this process)", f"Dask LocalCluster\n({n_workers} workers)"]
    bars = ax.barh(labels, [serial_seconds, dask_seconds], color=["C7", "C0"])
    ax.bar_label(bars, fmt="%.2f s", padding=3)
    ax.set_xlabel("search wall time (s), cluster start-up excluded")
    ax.set_title("GridSearchCV, 8 candidates x 3 folds, digits")
    ax.invert_yaxis()
    ax.margins(x=0.2)
    fig.tight_layout()
    plt.show()
