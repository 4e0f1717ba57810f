"""scikit-learn's conformance suite over both estimators."""

from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
    parametrize_with_checks,
)

from fastnn import MLPClassifier, MLPRegressor


@parametrize_with_checks([MLPClassifier(max_iter=100), MLPRegressor(max_iter=100)])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_sample_weight_equivalence_with_sklearn_settings():
    # The settings scikit-learn's own common tests use for its MLPs.
    check_sample_weight_equivalence_on_dense_data(
        "MLPClassifier", MLPClassifier(solver="lbfgs", max_iter=100)
    )
    check_sample_weight_equivalence_on_dense_data(
        "MLPRegressor", MLPRegressor(solver="sgd", tol=1e-2, random_state=42, max_iter=100)
    )
