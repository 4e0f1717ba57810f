"""fastnn._param_check: constructor checks skip parameter sets that passed, nothing else."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.datasets import make_classification
from sklearn.utils._param_validation import InvalidParameterError

from fastnn import MLPClassifier, MLPRegressor
from fastnn import _param_check

X, y = make_classification(60, 5, random_state=0)


@pytest.fixture(autouse=True)
def fresh_memory():
    _param_check._passed.clear()
    yield
    _param_check._passed.clear()


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_param_names_are_scikit_learns(cls):
    assert cls._get_param_names() == BaseEstimator._get_param_names.__func__(cls)


def test_a_checked_set_is_remembered_and_an_invalid_one_never():
    MLPClassifier(max_iter=2, batch_size=10).fit(X, y)
    assert len(_param_check._passed) == 1
    MLPClassifier(max_iter=2, batch_size=10).fit(X, y)
    assert len(_param_check._passed) == 1
    for _ in range(2):
        with pytest.raises(InvalidParameterError, match="batch_size"):
            MLPClassifier(max_iter=2, batch_size=0).fit(X, y)
    assert len(_param_check._passed) == 1


@pytest.mark.parametrize(
    "good, bad",
    [
        (dict(batch_size=10), dict(batch_size=10.0)),  # same hash, other type
        (dict(shuffle=True), dict(shuffle=1)),
        (dict(max_iter=np.int64(2)), dict(max_iter=np.float64(2.0))),
    ],
)
def test_equal_values_of_another_type_are_checked_again(good, bad):
    MLPClassifier(**{"max_iter": 2, **good}).fit(X, y)
    # The constraint check itself refuses the value, naming it: a later
    # failure of the fit (float max_iter in range(), ...) does not count.
    (name,) = bad
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        MLPClassifier(**{"max_iter": 2, **bad}).fit(X, y)


def test_values_that_are_not_plain_are_checked_every_time(monkeypatch):
    calls = []
    real = _param_check.validate_parameter_constraints
    monkeypatch.setattr(
        _param_check, "validate_parameter_constraints",
        lambda *a, **k: (calls.append(1), real(*a, **k)),
    )
    for _ in range(2):
        MLPClassifier(max_iter=2, random_state=np.random.RandomState(0)).fit(X, y)
    assert len(calls) == 2 and not _param_check._passed
    for _ in range(2):
        MLPClassifier(max_iter=2, random_state=0).fit(X, y)
    assert len(calls) == 3


def test_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(_param_check, "MAX_REMEMBERED", 3)
    for alpha in range(5):
        MLPClassifier(max_iter=1, alpha=float(alpha)).fit(X, y)
        assert len(_param_check._passed) <= 3
