"""The bench's data: Fashion-MNIST through fastnn's loader, synthetic tabular sets."""

import functools

import numpy as np
from sklearn.datasets import make_classification, make_regression


class DataUnavailable(Exception):
    """A data set cannot be loaded here; the message says why."""


@functools.lru_cache(maxsize=2)
def _fashion_uint8(download):
    try:
        from fastnn.datasets import load_fashion_mnist
    except ImportError as exc:
        raise DataUnavailable(f"fastnn.datasets.load_fashion_mnist is not importable ({exc})")
    try:
        return load_fashion_mnist(data_home=None, download=download)
    except (OSError, ValueError) as exc:
        hint = "" if download else " (--no-download)"
        raise DataUnavailable(f"Fashion-MNIST not loaded{hint}: {type(exc).__name__}: {exc}")


def fashion_mnist(dtype, download, n_train=None, n_test=None):
    """Fashion-MNIST as flat pixel rows scaled to [0, 1].

    Parameters
    ----------
    dtype : numpy dtype
        float32 or float64.
    download : bool
        Whether fastnn's loader may download missing files.
    n_train, n_test : int, default=None
        Keep only the first rows (quick runs); None keeps all.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        ``X_*`` C-contiguous of shape (n, 784) and ``dtype``.

    Raises
    ------
    DataUnavailable
        If the data is neither on disk nor downloadable.
    """
    (X_train, y_train), (X_test, y_test) = _fashion_uint8(download)

    def flat(X, n):
        X = X[:n].reshape(len(X[:n]), -1)
        return np.divide(X, 255, dtype=dtype)  # one pass, no float64 temporary

    return flat(X_train, n_train), y_train[:n_train], flat(X_test, n_test), y_test[:n_test]


def tabular(task, n_samples, n_features=20, dtype=np.float32, n_classes=3, random_state=0):
    """A synthetic tabular problem from scikit-learn's generators.

    Classification: ``make_classification`` with half the features
    informative. Regression: ``make_regression`` with noise, targets
    standardised so one learning rate suits every size.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), C-contiguous, ``dtype``
    y : ndarray of shape (n_samples,)
    """
    if task == "classification":
        X, y = make_classification(
            n_samples,
            n_features,
            n_informative=max(2, n_features // 2),
            n_classes=n_classes,
            random_state=random_state,
        )
    else:
        X, y = make_regression(n_samples, n_features, noise=10.0, random_state=random_state)
        y = ((y - y.mean()) / y.std()).astype(dtype)
    return np.ascontiguousarray(X, dtype=dtype), y
