"""Training data in the form every backend reads, and the kernels' arguments.

The compiled engines (``fastnn._mlp``, ``backends/_numba_kernels.py``) take
the same named structures in the same order: the input (:class:`KernelInput`),
the targets and weights, the parameters, the network (:class:`KernelNet`),
and for an epoch the optimizer (:class:`KernelOptimizer`) and the epoch's
plan (:class:`KernelEpoch`). Each engine unpacks them in one place.
"""

from dataclasses import dataclass
from typing import NamedTuple

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


def check_fits_dtype(values, dtype, name):
    """Refuse values that casting to a float32 ``dtype`` would turn into infinities.

    A float32 model (one first fitted on float32 data) trains on float64
    input cast to float32; a value beyond float32's range would become inf
    and ruin the model. One pass over the values, before any training.

    Raises
    ------
    ValueError
        Naming ``name``, the first value out of range and its position.
    """
    if values is None or np.dtype(dtype) != np.float32:
        return
    data = values.data if sp.issparse(values) else np.asarray(values)
    if data.dtype.kind != "f" or data.dtype.itemsize <= 4 or data.size == 0:
        return
    limit = float(np.finfo(np.float32).max)
    # Written so that a NaN (refused before this, by the input checks) passes.
    if not (data.max() > limit or data.min() < -limit):
        return
    flat = data.reshape(-1)
    at = int(np.flatnonzero(np.abs(flat) > limit)[0])
    where = "" if sp.issparse(values) else " at index {}".format(
        tuple(int(i) for i in np.unravel_index(at, data.shape)))
    raise ValueError(
        f"{name} holds {float(flat[at]):g}{where}, outside float32's range "
        f"(+-{limit:.4g}), and "
        "the model is float32 (it was first fitted on float32 data): scale the data, or "
        "fit a new model on float64 data."
    )


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


class KernelInput(NamedTuple):
    """The input as the kernels take it: dense or CSR alike."""

    values: np.ndarray      # dense X flattened (C order), or the CSR data
    indices: np.ndarray     # CSR column indices (intp); empty when dense
    indptr: np.ndarray      # CSR row starts (intp); empty when dense
    n_features: int


class KernelNet(NamedTuple):
    """A :class:`fastnn._network.NetworkSpec` as the kernels take it."""

    units: np.ndarray       # intp, n_layers + 1 unit counts, input first
    acts: np.ndarray        # int32 activation code of each layer
    act_param: np.ndarray   # float64: leaky_relu's slope, a maxout layer's pieces
    coef_off: np.ndarray    # intp start of each weight matrix in theta, and the end
    bias_off: np.ndarray    # intp start of each bias vector in theta, and the end
    slope_off: np.ndarray   # intp start of each prelu slope block in theta, and the end
    loss: int               # LOSSES code


class KernelOptimizer(NamedTuple):
    """The optimizer's state as an epoch takes it (``fastnn._optimizers``)."""

    solver: int             # OPTIMIZERS code
    hyper: np.ndarray       # float64, laid out by _registry.HYPER_FIELDS
    state_1: np.ndarray     # velocity, first moments, mean or sum of squares
    state_2: np.ndarray     # second moments (adam, adamw, nadam); else unused
    step: np.ndarray        # float64 (step count, nadam's momentum product), updated


class KernelEpoch(NamedTuple):
    """What one epoch does besides the optimizer's step."""

    order: np.ndarray       # intp visiting order; empty: 0, 1, ..., n - 1
    batch_size: int
    alpha: float            # L2 penalty
    l1: float               # L1 penalty
    drop: np.ndarray        # float64 dropout rate per layer (output 0); empty: none
    drop_key: int           # the epoch's dropout stream (fastnn._dropout.epoch_key)
    bn_off: np.ndarray      # intp batch-norm block starts (NetworkSpec.bn_offsets); empty: none
    bn_eps: float
    bn_momentum: float


def input_args(X):
    """The :class:`KernelInput` of a dense array or a CSRInput.

    The compiled kernels take both kinds in this form: dense rows flattened
    with empty index arrays, or the three CSR arrays.
    """
    if isinstance(X, CSRInput):
        return KernelInput(X.data, X.indices, X.indptr, X.shape[1])
    return KernelInput(X.reshape(-1), NO_INDEX, NO_INDEX, X.shape[1])


def weights_arg(data):
    """The sample weights of a TrainData as the kernels take them: empty when unweighted."""
    if data.sample_weight is None:
        return np.empty(0, dtype=data.dtype)
    return data.sample_weight


def net_args(net):
    """The :class:`KernelNet` of a NetworkSpec."""
    coef_off, bias_off = net.offsets()
    return KernelNet(net.units, net.activation_codes, net.activation_params, coef_off,
                     bias_off, net.slope_offsets, net.loss_code)


# No dropout rates: an epoch without dropout.
NO_DROPOUT = np.zeros(0)


def epoch_plan(net, order, batch_size, alpha, l1, dropout, bn_momentum):
    """The :class:`KernelEpoch` of a ``Backend.epoch`` call's arguments."""
    return KernelEpoch(
        NO_INDEX if order is None else order, int(batch_size), float(alpha), float(l1),
        NO_DROPOUT if dropout is None else dropout.rates, 0 if dropout is None else dropout.key,
        net.bn_offsets if net.has_batch_norm else NO_INDEX, net.bn_epsilon, float(bn_momentum),
    )


def optimizer_args(optimizer):
    """The :class:`KernelOptimizer` of an optimizer state; its ``step`` is a
    new array, to hand back with ``optimizer.set_counters`` after the epoch."""
    state_1, state_2 = optimizer.buffers
    return KernelOptimizer(optimizer.code, optimizer.hyper(), state_1, state_2,
                           optimizer.counters())


def scratch(cache, size, dtype):
    """A workspace of ``size`` elements, kept in ``cache`` for the next call of the fit."""
    work = cache.get("scratch")
    if work is None or work.shape[0] != size or work.dtype != dtype:
        work = cache["scratch"] = np.empty(size, dtype=dtype)
    return work
