"""A shortcut through ``validate_data`` for plain NumPy training data.

For a float ``X`` and an integer, bool or float ``y``, both exact
``numpy.ndarray`` instances with matching lengths, scikit-learn's checks
return the arrays unchanged once they are known to be finite and the
feature names and count are recorded. Doing only that costs a fraction of
the full checks, a fixed cost that weighs on small fits. Anything else,
and any array that fails a check, takes the full path, which converts or
raises exactly as scikit-learn does.
"""

import numpy as np
from sklearn.utils.validation import _check_feature_names, _check_n_features

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def plain_training_data(estimator, X, y, reset):
    """``validate_data(estimator, X, y, multi_output=True, dtype=floats)``, or None.

    Parameters
    ----------
    estimator : estimator instance
        Gets ``n_features_in_`` and ``feature_names_in_`` as validate_data sets them.
    X : object
        Training input.
    y : object
        Targets.
    reset : bool
        Whether this fit defines the features (see ``validate_data``).

    Returns
    -------
    (X, y) or None
        The arrays themselves, or None when the full checks must run.
    """
    if type(X) is not np.ndarray or type(y) is not np.ndarray:
        return None
    if X.ndim != 2 or X.dtype not in _FLOATS or X.shape[0] < 1 or X.shape[1] < 1:
        return None
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0] or y.dtype.kind not in "biuf":
        return None
    if y.ndim == 2 and y.shape[1] < 1:
        return None
    # A finite sum means finite entries (scikit-learn's own quick test); a
    # sum that overflows sends large finite data down the full path.
    with np.errstate(over="ignore"):
        if not np.isfinite(X.sum()) or (y.dtype.kind == "f" and not np.isfinite(y.sum())):
            return None
    _check_feature_names(estimator, X, reset=reset)
    _check_n_features(estimator, X, reset=reset)
    return X, y
