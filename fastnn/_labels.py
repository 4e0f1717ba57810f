"""Class labels of 1-D targets: the distinct ones, and each sample's index among them.

Both are what ``np.unique`` and ``np.searchsorted`` give; integer labels in a
range not much wider than the number of samples (the usual ``0..k-1``) take
a counting pass and a table look-up instead, several times faster on the
large ``y`` a fit starts with.
"""

import numpy as np
from sklearn.preprocessing import LabelBinarizer

# Integer labels whose range is at most this many times the sample count
# go through a table of that range.
MAX_RANGE_PER_SAMPLE = 4


def _small_int_range(y):
    """``(min, max)`` of integer ``y`` when a table over the range is cheap, else None."""
    if y.dtype.kind not in "iu" or y.size == 0:
        return None
    lo, hi = int(y.min()), int(y.max())
    # The table shifts labels in int64: uint64 labels past its range go to np.unique.
    if hi > np.iinfo(np.int64).max or hi - lo > MAX_RANGE_PER_SAMPLE * y.size + 256:
        return None
    return lo, hi


def distinct_labels(y):
    """The sorted distinct labels of 1-D ``y``: ``np.unique(y)``."""
    bounds = _small_int_range(y)
    if bounds is None:
        return np.unique(y)
    lo, _ = bounds
    # Shift in int64 so labels near the dtype's limits cannot wrap.
    counts = np.bincount(y.astype(np.int64) - lo)
    return (np.flatnonzero(counts) + lo).astype(y.dtype)


def label_codes(y, classes):
    """Index of each label of 1-D ``y`` in sorted ``classes``, or None if one is not there."""
    bounds = _small_int_range(y) if classes.dtype.kind in "iu" else None
    if bounds is not None:
        lo, hi = bounds
        table = np.full(hi - lo + 1, -1, dtype=np.intp)
        inside = (classes >= lo) & (classes <= hi)
        table[classes[inside].astype(np.int64) - lo] = np.flatnonzero(inside)
        codes = table[y.astype(np.int64) - lo]
        return None if (codes < 0).any() else codes
    codes = np.searchsorted(classes, y)
    if not np.array_equal(classes.take(codes, mode="clip"), y):
        return None
    return codes


def fitted_binarizer(y):
    """``LabelBinarizer().fit(y)``, faster for 1-D bool, integer or string labels.

    The binarizer infers the target type and the classes from ``y``, each
    scan taking a pass over it; for these labels both come out the same
    from the distinct labels alone, found in one pass. For bool and integer
    labels its fitted state then follows directly (``type_of_target``: at
    most two labels is "binary", more "multiclass"; ``unique_labels`` gives
    them back in the same dtype), skipping the type inference, a fixed cost
    that dominates small fits. Anything else (float, object, 2-D) goes
    through ``LabelBinarizer.fit`` unchanged.
    """
    binarizer = LabelBinarizer()
    if y.ndim != 1 or y.dtype.kind not in "biuU" or y.size == 0:
        return binarizer.fit(y)
    distinct = distinct_labels(y)
    if distinct.dtype.kind == "U":
        return binarizer.fit(distinct)
    binarizer.y_type_ = "binary" if distinct.size <= 2 else "multiclass"
    binarizer.sparse_input_ = False
    binarizer.classes_ = distinct
    return binarizer
