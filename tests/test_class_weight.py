"""``class_weight`` on the classifier."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import recall_score

from fastnn import MLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

PARAMS = dict(hidden_layer_sizes=(8,), max_iter=20, random_state=0, tol=0)


def test_balanced_improves_minority_recall():
    X, y = make_classification(2000, 10, n_informative=3, weights=[0.95, 0.05], flip_y=0,
                               class_sep=0.5, random_state=0)
    X_test, y_test = X[1000:], y[1000:]
    plain = MLPClassifier(**PARAMS).fit(X[:1000], y[:1000])
    balanced = MLPClassifier(class_weight="balanced", **PARAMS).fit(X[:1000], y[:1000])
    r_plain = recall_score(y_test, plain.predict(X_test))
    r_balanced = recall_score(y_test, balanced.predict(X_test))
    assert r_balanced > r_plain + 0.2, (r_plain, r_balanced)


def test_dict_equals_the_same_sample_weights():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = np.array(["cat", "dog", "eel"])[rng.randint(3, size=60)]
    cw = {"cat": 3.0, "eel": 0.5}  # dog: 1
    sw = rng.uniform(0.5, 2, size=60)
    per_sample = np.array([cw.get(label, 1.0) for label in y])
    a = MLPClassifier(class_weight=cw, **PARAMS).fit(X, y, sample_weight=sw)
    b = MLPClassifier(**PARAMS).fit(X, y, sample_weight=sw * per_sample)
    for wa, wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(wa, wb)


def test_binary_and_multilabel():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(50, 3))
    y = rng.randint(2, size=50)
    a = MLPClassifier(class_weight={1: 4.0}, **PARAMS).fit(X, y)
    b = MLPClassifier(**PARAMS).fit(X, y, sample_weight=np.where(y == 1, 4.0, 1.0))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    Y = rng.randint(2, size=(50, 2))
    cw = [{0: 1.0, 1: 2.0}, {0: 3.0, 1: 1.0}]
    sw = np.where(Y[:, 0] == 1, 2.0, 1.0) * np.where(Y[:, 1] == 1, 1.0, 3.0)
    a = MLPClassifier(class_weight=cw, **PARAMS).fit(X, Y)
    b = MLPClassifier(**PARAMS).fit(X, Y, sample_weight=sw)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_clear_errors():
    X = np.random.RandomState(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="labels that are not classes of y: \\['spam'\\]"):
        MLPClassifier(class_weight={"spam": 2.0}, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="'balanced' is not supported by partial_fit"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="class_weight"):
        MLPClassifier(class_weight="heavy").fit(X, y)
    # A dict is fine in partial_fit.
    MLPClassifier(class_weight={1: 2.0}).partial_fit(X, y, classes=[0, 1])


@pytest.mark.parametrize("weight,error,match", [
    (-1.0, ValueError, r"class_weight of class 1 must be a finite number >= 0, got -1.0"),
    (np.nan, ValueError, "class_weight of class 1 must be a finite number >= 0, got nan"),
    (np.inf, ValueError, "class_weight of class 1 must be a finite number >= 0, got inf"),
    ("2", TypeError, "class_weight of class 1 must be a number, got '2'"),
    (True, TypeError, "class_weight of class 1 must be a number, got True"),
])
def test_weights_must_be_finite_and_non_negative(weight, error, match):
    # As the documented refusal of a negative sample_weight: before any training.
    X, y = make_classification(60, 4, random_state=0)
    model = MLPClassifier(class_weight={0: 1.0, 1: weight}, **PARAMS)
    with pytest.raises(error, match=match):
        model.fit(X, y)
    assert not hasattr(model, "coefs_")
    with pytest.raises(error, match=match):
        MLPClassifier(class_weight=[{0: 1.0, 1: weight}], **PARAMS).fit(X, np.c_[y, 1 - y])


def test_weights_whose_product_overflows_are_refused():
    X, y = make_classification(60, 4, random_state=0)
    with pytest.raises(ValueError, match="sample_weight times class_weight overflows"):
        MLPClassifier(class_weight={0: 1e300, 1: 1.0}, **PARAMS).fit(
            X, y, sample_weight=np.full(60, 1e300))
