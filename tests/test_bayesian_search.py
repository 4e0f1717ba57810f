"""fastnn inside a Bayesian optimiser that speaks scikit-learn's API (Optuna)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastnn import MLPClassifier

optuna = pytest.importorskip("optuna", reason="optuna is not installed")
optuna_integration = pytest.importorskip(
    "optuna_integration", reason="optuna-integration (OptunaSearchCV) is not installed"
)

X, y = load_digits(return_X_y=True)
X, y = X[:900], y[:900]
SPACE = {
    "mlpclassifier__alpha": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True),
    "mlpclassifier__learning_rate_init": optuna.distributions.FloatDistribution(
        1e-3, 3e-2, log=True),
    "mlpclassifier__activation": optuna.distributions.CategoricalDistribution(
        ["relu", "gelu", "tanh"]),
}


def _search():
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(32,), max_iter=10,
                                                         random_state=0))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        # OptunaSearchCV is experimental in Optuna; the fits stop at max_iter.
        warnings.simplefilter("ignore")
        search = optuna_integration.OptunaSearchCV(pipe, SPACE, n_trials=6, cv=3,
                                                   random_state=0)
        return search.fit(X, y)


def test_optuna_search_over_fastnn():
    search = _search()
    assert len(search.trials_) == 6
    best = search.best_params_
    assert set(best) == set(SPACE)
    for name, dist in SPACE.items():
        assert dist._contains(dist.to_internal_repr(best[name]))
    # Each trial's score is a plain cross-validation of that candidate.
    pipe = search.estimator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe.set_params(**best), X, y, cv=3)
    assert search.best_score_ == pytest.approx(scores.mean(), abs=1e-12)
    assert search.best_score_ > 0.85
    # The refitted best model is a fitted fastnn pipeline.
    assert isinstance(search.best_estimator_[-1], MLPClassifier)
    assert (search.predict(X) == y).mean() > 0.9


def test_optuna_search_is_reproducible():
    first, second = _search(), _search()
    assert first.best_params_ == second.best_params_
    np.testing.assert_array_equal(
        [t.value for t in first.trials_], [t.value for t in second.trials_]
    )
