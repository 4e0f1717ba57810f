"""fastnn._labels: np.unique and np.searchsorted, faster on small integer ranges."""

import numpy as np
import pytest

from fastnn._labels import distinct_labels, label_codes


@pytest.mark.parametrize(
    "y",
    [
        np.array([3, 1, 2, 3, 1]),
        np.array([0, 0, 0], dtype=np.uint8),
        np.array([-5, 7, -5, 100], dtype=np.int16),
        np.array([np.iinfo(np.int64).max, np.iinfo(np.int64).max - 2]),
        np.array([np.iinfo(np.int64).min, 0, np.iinfo(np.int64).max]),  # too wide: np.unique
        np.array([10**9, 1, 5]),  # too wide for a table
        # uint64 labels past int64's range, which the table shifts labels in
        np.array([2**64 - 1, 2**64 - 2, 2**64 - 1], dtype=np.uint64),
        np.array([2**63, 2**63 - 1], dtype=np.uint64),
        np.array(["b", "a", "b"]),
        np.array([True, False, True]),
        np.array([0.5, 2.0, 0.5]),
    ],
)
def test_same_as_numpy(y):
    classes = distinct_labels(y)
    np.testing.assert_array_equal(classes, np.unique(y), strict=True)
    np.testing.assert_array_equal(label_codes(y, classes), np.searchsorted(classes, y))


@pytest.mark.parametrize(
    "y, classes",
    [
        (np.array([0, 1, 4]), np.array([0, 1, 2])),  # above the classes
        (np.array([-1, 0, 1]), np.array([0, 1])),  # below
        (np.array([0, 1, 1]), np.array([0, 2])),  # a gap
        (np.array(["a", "z"]), np.array(["a", "b"])),
        (np.array([0, 1]), np.array([0.5, 1.0])),  # float classes
    ],
)
def test_unknown_labels_give_none(y, classes):
    assert label_codes(y, classes) is None


def test_classes_outside_the_range_of_y():
    # partial_fit's batch may hold a few of the known classes only.
    classes = np.array([-3, 2, 4, 9])
    np.testing.assert_array_equal(label_codes(np.array([4, 2, 4]), classes), [2, 1, 2])


@pytest.mark.parametrize(
    "y",
    [
        np.array([3, 1, 2, 3, 1]),
        np.array([7, 7, 7], dtype=np.uint8),
        np.array([-5, 7, -5], dtype=np.int16),
        np.array([True, False, True]),
        np.array([False, False]),
        np.array(["b", "a", "b"]),  # through LabelBinarizer.fit
        np.array([0.0, 2.0, 0.0]),
        np.array([[1, 0], [0, 1], [1, 1]]),
    ],
)
def test_fitted_binarizer_matches_label_binarizer(y):
    from sklearn.preprocessing import LabelBinarizer

    from fastnn._labels import fitted_binarizer

    ours, theirs = fitted_binarizer(y), LabelBinarizer().fit(y)
    assert ours.y_type_ == theirs.y_type_
    assert ours.sparse_input_ == theirs.sparse_input_
    np.testing.assert_array_equal(ours.classes_, theirs.classes_, strict=True)
    np.testing.assert_array_equal(ours.transform(y), theirs.transform(y), strict=True)
    np.testing.assert_array_equal(
        ours.inverse_transform(theirs.transform(y)), y, strict=True
    )


def test_classifier_takes_uint64_labels_past_int64():
    # The same model as with the labels 0 and 1, whose order they keep.
    from fastnn import MLPClassifier

    X = np.random.RandomState(0).normal(size=(60, 5))
    y = (X[:, 0] > 0).astype(int)
    big = np.uint64(2**64 - 2) + y.astype(np.uint64)
    ours = MLPClassifier((5,), max_iter=5, random_state=0).fit(X, big)
    plain = MLPClassifier((5,), max_iter=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(ours.classes_, [2**64 - 2, 2**64 - 1])
    np.testing.assert_array_equal(ours.coefs_[0], plain.coefs_[0])
    expected = np.uint64(2**64 - 2) + plain.predict(X).astype(np.uint64)
    np.testing.assert_array_equal(ours.predict(X), expected)
    ours.partial_fit(X, big)

