"""Training data in the form every backend reads."""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class CSRInput:
    """CSR arrays with ``intp`` indices, as the compiled kernels read them.

    scipy's sparse containers may store indices as int32 and downcast what
    they are given, so the kernels get the three arrays in this plain holder.
    """

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple

    @property
    def dtype(self):
        return self.data.dtype

    def to_scipy(self):
        """The same matrix as a ``scipy.sparse.csr_matrix``."""
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


@dataclass
class TrainData:
    """Inputs, encoded targets and weights, in one dtype.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), C-contiguous, or CSRInput
        Input.
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
    """Return ``X`` as a C-contiguous array or a :class:`CSRInput` of ``dtype``.

    A C-contiguous array of the right dtype is returned as is, never copied;
    a sparse matrix is never densified (CSC is converted to CSR).
    """
    if isinstance(X, CSRInput):
        return X
    if sp.issparse(X):
        X = X.tocsr()
        return CSRInput(
            np.ascontiguousarray(X.data, dtype=dtype),
            np.ascontiguousarray(X.indices, dtype=np.intp),
            np.ascontiguousarray(X.indptr, dtype=np.intp),
            X.shape,
        )
    return np.ascontiguousarray(X, dtype=dtype)


def make_train_data(X, Y, sample_weight, dtype):
    """Build a :class:`TrainData`, converting only what is not already right."""
    Y = np.ascontiguousarray(Y, dtype=dtype)
    if Y.ndim == 1:
        Y = Y.reshape(-1, 1)
    if sample_weight is not None:
        sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)
    return TrainData(as_compute_input(X, dtype), Y, sample_weight)


# An empty index array: no CSR indices, or no visiting order.
NO_INDEX = np.empty(0, dtype=np.intp)


def input_args(X):
    """``(values, indices, indptr, n_features)`` of a dense array or a CSRInput.

    The compiled kernels take both kinds in this form: dense rows flattened
    with empty index arrays, or the three CSR arrays.
    """
    if isinstance(X, CSRInput):
        return X.data, X.indices, X.indptr, X.shape[1]
    return X.reshape(-1), NO_INDEX, NO_INDEX, X.shape[1]


def weights_arg(data):
    """The sample weights of a TrainData as the kernels take them: empty when unweighted."""
    if data.sample_weight is None:
        return np.empty(0, dtype=data.dtype)
    return data.sample_weight


def net_args(net):
    """``(units, activation codes, activation parameters, weight offsets, bias
    offsets, prelu slope offsets)`` of a NetworkSpec."""
    coef_off, bias_off = net.offsets()
    return (net.units, net.activation_codes, net.activation_params, coef_off, bias_off,
            net.slope_offsets)


def scratch(cache, size, dtype):
    """A workspace of ``size`` elements, kept in ``cache`` for the next call of the fit."""
    work = cache.get("scratch")
    if work is None or work.shape[0] != size or work.dtype != dtype:
        work = cache["scratch"] = np.empty(size, dtype=dtype)
    return work
