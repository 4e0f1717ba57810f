"""fastnn._plain_input: the shortcut returns what validate_data would, or steps aside."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.utils.validation import validate_data

from fastnn import MLPClassifier, MLPRegressor
from fastnn._plain_input import plain_training_data

X, y = make_classification(40, 4, random_state=0)


def _full(est, X, y):
    return validate_data(est, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                         dtype=(np.float64, np.float32), reset=True)


@pytest.mark.parametrize(
    "X_, y_",
    [
        (X, y),
        (X.astype(np.float32), y.astype(np.uint8)),
        (np.asfortranarray(X), y > 0),
        (X[::2], y[::2].astype(float)),
        (X, np.c_[y, 1 - y]),
    ],
)
def test_same_arrays_and_attributes_as_validate_data(X_, y_):
    ours, theirs = MLPClassifier(), MLPClassifier()
    got = plain_training_data(ours, X_, y_, reset=True)
    want = _full(theirs, X_, y_)
    assert got is not None
    assert got[0] is X_ and got[1] is y_
    np.testing.assert_array_equal(got[0], want[0], strict=True)
    np.testing.assert_array_equal(got[1], want[1], strict=True)
    assert ours.n_features_in_ == theirs.n_features_in_
    assert not hasattr(ours, "feature_names_in_")


@pytest.mark.parametrize(
    "X_, y_",
    [
        (X.tolist(), y),
        (X, y.tolist()),
        (X.astype(int), y),
        (np.where(X > 1, np.nan, X), y),
        (np.where(X > 1, np.inf, X), y),
        (X, np.where(y > 0, np.inf, 0.0)),
        (X, y.astype(object)),
        (X, y.astype(str)),
        (X[:0], y[:0]),
        (X, y[:-1]),
        (X[:, None], y),
        (X, y[:, None][:, :0]),
        (np.full_like(X, 1e308), y),  # finite entries whose sum overflows
    ],
)
def test_anything_else_takes_the_full_path(X_, y_):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plain_training_data(MLPClassifier(), X_, y_, reset=True) is None


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_non_finite_input_raises_scikit_learns_error(cls, bad):
    X_ = X.copy()
    X_[3, 1] = bad
    with pytest.raises(ValueError) as ours:
        cls(max_iter=1).fit(X_, y)
    with pytest.raises(ValueError) as theirs:
        _full(cls(), X_, y)
    assert str(ours.value) == str(theirs.value)


def test_feature_names_follow_each_fit():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = MLPClassifier(max_iter=1).fit(frame, y)
    assert list(est.feature_names_in_) == list(frame.columns)
    with pytest.warns(UserWarning, match="feature names"):
        est.partial_fit(X, y)
    est.fit(X, y)
    assert not hasattr(est, "feature_names_in_")
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[:, :3], y)
