"""Training data in the form every backend reads."""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class TrainData:
    """Inputs, encoded targets and weights, in one dtype.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), C-contiguous, or CSR matrix
        Input; a CSR matrix has ``intp`` indices.
    Y : ndarray of shape (n_samples, n_outputs), C-contiguous
        Targets as the output layer sees them (one-hot, 0/1 or real values).
    sample_weight : ndarray of shape (n_samples,) or None
        Per-sample weights.
    """

    X: object
    Y: np.ndarray
    sample_weight: object = None

    @property
    def n_samples(self):
        return self.Y.shape[0]

    @property
    def dtype(self):
        return self.Y.dtype


def as_compute_input(X, dtype):
    """Return ``X`` as a C-contiguous array or CSR matrix of ``dtype``.

    A C-contiguous array of the right dtype is returned as is, never copied.
    """
    if sp.issparse(X):
        X = X.tocsr().astype(dtype, copy=False)
        if X.indices.dtype != np.intp or X.indptr.dtype != np.intp:
            # The kernels index with intp; copy the index arrays, never the values.
            X = sp.csr_matrix(
                (X.data, X.indices.astype(np.intp), X.indptr.astype(np.intp)),
                shape=X.shape,
                copy=False,
            )
        return X
    return np.ascontiguousarray(X, dtype=dtype)


def make_train_data(X, Y, sample_weight, dtype):
    """Build a :class:`TrainData`, converting only what is not already right."""
    Y = np.ascontiguousarray(Y, dtype=dtype)
    if Y.ndim == 1:
        Y = Y.reshape(-1, 1)
    if sample_weight is not None:
        sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)
    return TrainData(as_compute_input(X, dtype), Y, sample_weight)
