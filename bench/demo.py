"""fastnn's main job: a GridSearchCV over MLPs, beside scikit-learn's.

Runs the same grid on scikit-learn's bundled digits with fastnn's
``MLPClassifier`` and with ``sklearn.neural_network.MLPClassifier``, and prints
the best parameters, the test accuracy and the wall time of each.

Usage: ``python bench/demo.py`` (or ``make demo``).
"""

import time
import warnings

from sklearn import neural_network
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import fastnn

GRID = {
    "mlpclassifier__hidden_layer_sizes": [(64,), (128,), (64, 32)],
    "mlpclassifier__alpha": [1e-4, 1e-2],
    "mlpclassifier__learning_rate_init": [1e-3, 1e-2],
}


def run(cls, X_train, X_test, y_train, y_test):
    pipe = make_pipeline(StandardScaler(), cls(max_iter=100, random_state=0))
    search = GridSearchCV(pipe, GRID, cv=3)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return search, search.score(X_test, y_test), seconds


def main():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    n_candidates = 1
    for values in GRID.values():
        n_candidates *= len(values)
    print(f"GridSearchCV, 3-fold, {n_candidates} candidates, digits ({len(X_train)} train rows)\n")
    rows = []
    for name, cls in [("fastnn", fastnn.MLPClassifier), ("scikit-learn", neural_network.MLPClassifier)]:
        search, accuracy, seconds = run(cls, X_train, X_test, y_train, y_test)
        best = {k.split("__")[1]: v for k, v in search.best_params_.items()}
        rows.append((name, seconds, accuracy, best))
        print(f"{name:>13}: {seconds:6.2f} s  test accuracy {accuracy:.4f}  best {best}")
    speedup = rows[1][1] / rows[0][1]
    same = "the same" if rows[0][3] == rows[1][3] else "different"
    print(f"\nfastnn ran the search {speedup:.1f}x faster and chose {same} parameters.")


if __name__ == "__main__":
    main()
