"""
========================================
Bayesian hyper-parameter search (Optuna)
========================================

A grid search spends as many fits on hopeless corners of the grid as on good
ones. A Bayesian optimiser instead picks each new candidate from the scores
of the earlier ones. This example runs Optuna's
:class:`optuna_integration.OptunaSearchCV`, which has scikit-learn's search
API, over a pipeline of :class:`~sklearn.preprocessing.StandardScaler` and
:class:`fastnn.MLPClassifier` on the digits data set, then plots the
cross-validated accuracy of each trial and the best one so far.

Optuna is an optional dependency (``pip install optuna optuna-integration``);
without it the example says so and stops.
"""

# %%
# Imports
# -------
# Only Optuna and its scikit-learn integration are optional here.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from fastnn import MLPClassifier

try:
    import optuna
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )
    from optuna_integration import OptunaSearchCV
except ImportError as exc:
    optuna = None
    print(f"Optuna is not available here ({exc}); this example needs "
          "'pip install optuna optuna-integration' and stops.")

# %%
# The search space
# ----------------
# Optuna describes each hyper-parameter by a distribution: the L2 penalty
# ``alpha`` and the learning rate on a log scale, the width of the one hidden
# layer as an integer (scikit-learn and fastnn accept an int for
# ``hidden_layer_sizes``), and the activation among three of fastnn's. Each
# trial is a 3-fold cross-validation of one candidate; the fits are kept
# short (``max_iter=30``), so their
# :class:`~sklearn.exceptions.ConvergenceWarning` is silenced. These nets are
# small, so ``n_threads=1`` keeps each fit on one core: splitting their
# batches between cores gains little, and loses much when another program
# keeps one of the cores busy.
X, y = load_digits(return_X_y=True)
pipe = Pipeline([
    ("scale", StandardScaler()),
    ("mlp", MLPClassifier(max_iter=30, n_threads=1, random_state=0)),
])

if optuna is not None:
    search_space = {
        "mlp__alpha": FloatDistribution(1e-5, 1e-1, log=True),
        "mlp__learning_rate_init": FloatDistribution(1e-4, 3e-2, log=True),
        "mlp__hidden_layer_sizes": IntDistribution(16, 128, log=True),
        "mlp__activation": CategoricalDistribution(["relu", "tanh", "gelu"]),
    }

# %%
# Run the search
# --------------
# ``random_state`` seeds Optuna's sampler (TPE), so the page shows the same
# trials on every build. Optuna's own notices are silenced as well: that
# ``OptunaSearchCV`` is experimental, and a deprecation inside Optuna that
# the integration triggers on each trial (nothing to do with fastnn).
if optuna is not None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        warnings.simplefilter("ignore", category=optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")
        search = OptunaSearchCV(pipe, search_space, n_trials=24, cv=3, random_state=0)
        search.fit(X, y)

    print(f"{len(search.trials_)} trials, best CV accuracy {search.best_score_:.4f} "
          f"(trial {search.best_trial_.number})")
    for name, value in search.best_params_.items():
        shown = f"{value:.3g}" if isinstance(value, float) else value
        print(f"  {name.removeprefix('mlp__')}: {shown}")

# %%
# Score per trial
# ---------------
# The first trials are drawn at random (TPE's start-up); afterwards the
# sampler proposes candidates like the good ones, so the poor scores thin out.
# The black line steps up whenever a trial beats every earlier one. Each dot's
# colour is its activation function.
if optuna is not None:
    trials = [t for t in search.trials_ if t.value is not None]
    numbers = np.array([t.number for t in trials])
    values = np.array([t.value for t in trials])
    activations = [t.params["mlp__activation"] for t in trials]

    fig, ax = plt.subplots(figsize=(7, 4))
    for i, name in enumerate(["relu", "tanh", "gelu"]):
        mask = np.array([a == name for a in activations])
        ax.scatter(numbers[mask], values[mask], color=f"C{i}", label=name, zorder=3)
    ax.step(numbers, np.maximum.accumulate(values), where="post", color="black",
            label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("mean 3-fold CV accuracy")
    ax.set_ylim(max(0.0, values.min() - 0.02), 1.0)
    ax.set_title("OptunaSearchCV over StandardScaler + fastnn MLPClassifier")
    ax.legend(loc="lower right")
    fig.tight_layout()
    plt.show()
