"""
==========================================
Grid and randomized search over a pipeline
==========================================

:class:`fastnn.MLPClassifier` is a scikit-learn estimator, so it goes into a
:class:`~sklearn.pipeline.Pipeline` and through
:class:`~sklearn.model_selection.GridSearchCV` and
:class:`~sklearn.model_selection.RandomizedSearchCV` unchanged. This example
runs each search twice on the digits data set, once with fastnn's MLP and once
with :class:`sklearn.neural_network.MLPClassifier`, and compares the wall
time and the parameters each search picks.

In float64 and with the same ``random_state``, fastnn learns the same model
as scikit-learn, so the two searches should score the candidates alike and
pick the same best parameters; only the time differs.
"""

# %%
# The data and the two pipelines
# ------------------------------
# Each pipeline standardizes the 64 pixel features, then fits an MLP. The
# fits are kept short (``max_iter=40``) so that the page builds quickly; the
# :class:`~sklearn.exceptions.ConvergenceWarning` this causes is deliberate
# and silenced below.
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from fastnn import MLPClassifier

X, y = load_digits(return_X_y=True)


def make_pipeline(mlp_class):
    return Pipeline([
        ("scale", StandardScaler()),
        ("mlp", mlp_class(max_iter=40, random_state=0)),
    ])


# %%
# Searches
# --------
# The grid has 4 candidates, the randomized search draws 6 from continuous
# distributions; both use 3-fold cross-validation, one fit at a time
# (``n_jobs=None``). The randomized search gets a fixed ``random_state``, so
# both libraries see the same 6 candidates.
param_grid = {
    "mlp__hidden_layer_sizes": [(32,), (64,)],
    "mlp__alpha": [1e-4, 1e-2],
}
param_distributions = {
    "mlp__hidden_layer_sizes": [(32,), (64,), (64, 32)],
    "mlp__alpha": loguniform(1e-5, 1e-1),
    "mlp__learning_rate_init": loguniform(1e-4, 1e-2),
}


def make_search(kind, mlp_class):
    if kind == "GridSearchCV":
        return GridSearchCV(make_pipeline(mlp_class), param_grid, cv=3)
    return RandomizedSearchCV(
        make_pipeline(mlp_class), param_distributions, n_iter=6, cv=3, random_state=0
    )


# %%
# Run and time them
# -----------------
# The times below are those of the machine that built this page (a shared
# machine's timings vary from run to run); run the example on yours to see
# its own. Both libraries may use every core for one fit: fastnn splits a
# large enough batch between threads, scikit-learn's matrix products use
# threaded BLAS. On a machine where another program keeps a core busy, such
# threads spend their time waiting for each other; ``n_threads=1`` then
# keeps each fastnn fit on one core (see the backends example).
times = {}
for kind in ("GridSearchCV", "RandomizedSearchCV"):
    for library, mlp_class in (("fastnn", MLPClassifier),
                               ("scikit-learn", SklearnMLPClassifier)):
        search = make_search(kind, mlp_class)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            start = time.perf_counter()
            search.fit(X, y)
            times[kind, library] = time.perf_counter() - start
        best = {k.removeprefix("mlp__"): v for k, v in search.best_params_.items()}
        best = {k: (f"{v:.3g}" if isinstance(v, float) else v) for k, v in best.items()}
        print(f"{kind:<18} {library:<12} {times[kind, library]:6.2f} s  "
              f"best CV accuracy {search.best_score_:.4f}  best {best}")
    ratio = times[kind, "fastnn"] / times[kind, "scikit-learn"]
    print(f"{kind:<18} fastnn / scikit-learn time: {ratio:.3f} "
          f"({1 / ratio:.1f}x faster)\n")

# %%
# Plot the times
# --------------
# One pair of bars per search. Both sides do the same Python work around each
# fit (cloning, scaling, scoring); fastnn's epochs run in compiled code.
kinds = ["GridSearchCV", "RandomizedSearchCV"]
positions = np.arange(len(kinds))
width = 0.38
fig, ax = plt.subplots(figsize=(6.5, 4))
for offset, library, color in ((-width / 2, "fastnn", "C0"),
                               (width / 2, "scikit-learn", "C1")):
    values = [times[kind, library] for kind in kinds]
    bars = ax.bar(positions + offset, values, width, label=library, color=color)
    ax.bar_label(bars, fmt="%.2f s", padding=2)
ax.set_xticks(positions, [f"{k}\n({n} fits)" for k, n in zip(kinds, (4 * 3 + 1, 6 * 3 + 1))])
ax.set_ylabel("wall time (s)")
ax.set_title("Search over StandardScaler + MLPClassifier, digits")
ax.margins(y=0.15)
ax.legend()
fig.tight_layout()
plt.show()
