"""Inverted dropout: which units each training pass keeps.

A unit's fate is a pure function of the epoch's stream key, the row's
position in the epoch's visiting order and the unit's index counted over all
layers: the 32-bit hash ``hash32(hash32(pos ^ k0) ^ (unit + k1))`` (``k0``,
``k1`` the key's low and high words), read as a uniform draw in [0, 1); the
unit is kept when the draw is at least the layer's rate, and kept outputs are
scaled by ``1 / (1 - rate)`` (so nothing changes at predict time). Nothing
is stored between the forward and the backward pass, the mask does not
depend on how a batch is split between threads, and every backend (Cython,
Numba, CUDA and this NumPy version, the tests' oracle) draws the same masks.

The key of each epoch comes from a seed the estimator draws once per model
from its ``random_state``, and the count of epochs trained so far.

This module holds everything fastnn knows about the feature but the
kernels: the parameter's constraint and check, the model's stream of epoch
keys (kept on the estimator, so warm_start and partial_fit go on with it),
and the reference masks. A backend takes each epoch's :class:`Dropout`.
"""

from dataclasses import dataclass
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._network import per_hidden_layer

# The estimators' parameter constraints this feature adds.
CONSTRAINTS = {"dropout": [Interval(Real, 0, 1, closed="left"), list, tuple]}

_M32 = np.uint64(0xFFFFFFFF)


def hash32(x):
    """The 32-bit mix of ``_scalar.dropout_keeps`` (and ``src/_dropout.pxd``), on an
    array of ``uint64`` values below 2**32."""
    x = x ^ (x >> np.uint64(16))
    x = (x * np.uint64(0x7FEB352D)) & _M32
    x = x ^ (x >> np.uint64(15))
    x = (x * np.uint64(0x846CA68B)) & _M32
    return x ^ (x >> np.uint64(16))


def epoch_key(seed, epoch):
    """The stream key of epoch ``epoch`` (0-based) of a model seeded ``seed``.

    A non-negative integer below 2**63 (so every kernel takes it as int64).
    """
    k0, k1 = np.random.SeedSequence([int(seed), int(epoch)]).generate_state(2, np.uint32)
    return (int(k1) & 0x7FFFFFFF) << 32 | int(k0)


def keep_mask(key, positions, offset, n_units, rate):
    """Which units of a layer the rows at ``positions`` keep.

    Parameters
    ----------
    key : int
        The epoch's stream key (``epoch_key``).
    positions : ndarray of int of shape (n_rows,)
        The rows' positions in the epoch's visiting order.
    offset : int
        Index of the layer's first unit, counted over all layers.
    n_units : int
        Units of the layer.
    rate : float
        The layer's dropout rate.

    Returns
    -------
    mask : ndarray of bool of shape (n_rows, n_units)
    """
    key = np.uint64(key)
    rows = hash32((np.asarray(positions).astype(np.uint64) & _M32) ^ (key & _M32))
    units = (np.arange(offset, offset + n_units, dtype=np.uint64) + (key >> np.uint64(32))) & _M32
    draws = hash32(rows[:, None] ^ units[None, :]).astype(np.float64) * 2.0**-32
    return draws >= rate


def scale(rate):
    """The factor of kept outputs, ``1 / (1 - rate)``."""
    return 1.0 / (1.0 - rate)


@dataclass(frozen=True)
class Dropout:
    """Dropout of one training epoch, as the backends take it.

    Attributes
    ----------
    rates : ndarray of float64 of shape (n_layers,)
        Rate of each layer's outputs; the output layer's is 0.
    key : int
        The epoch's stream key (``epoch_key``).
    """

    rates: np.ndarray
    key: int

    def masks(self, net, positions, dtype):
        """Each layer's factors for the rows at ``positions``: 0 where a unit
        is dropped, ``1 / (1 - rate)`` where kept (None where the rate is 0)."""
        out, offset = [], 0
        for layer, rate in zip(net.layers, self.rates):
            mask = None
            if rate > 0:
                keep = keep_mask(self.key, positions, offset, layer.n_out, rate)
                mask = np.where(keep, dtype.type(scale(rate)), dtype.type(0))
            out.append(mask)
            offset += layer.n_out
        return out


def check_dropout(dropout, n_layers, solver):
    """``dropout`` as one rate per layer (the output layer's 0), checked.

    Parameters
    ----------
    dropout : float or sequence of float
        The estimator's parameter: one rate, or one per hidden layer.
    n_layers : int
        Layers of the network, the output layer included.
    solver : str
        The estimator's solver: ``'lbfgs'`` refuses dropout.

    Returns
    -------
    rates : ndarray of float64 of shape (n_layers,)
    """
    rates = per_hidden_layer(dropout, n_layers - 1, "dropout", "rates", "rate")
    for rate in rates:
        if isinstance(rate, bool) or not isinstance(rate, Real) or not 0 <= rate < 1:
            raise ValueError(f"dropout rates must be numbers in [0, 1), got {rate!r}.")
    if solver == "lbfgs" and any(rates):
        raise ValueError(
            "solver='lbfgs' does not support dropout: its line search needs a "
            "deterministic loss. Use a stochastic solver (e.g. 'adam') or dropout=0."
        )
    return np.array([*rates, 0.0], dtype=np.float64)


def reset_stream(estimator):
    """A new model: it draws a new seed when it first trains with dropout."""
    estimator._dropout_seed = None


def draw_seed(estimator, rates):
    """Draw the model's seed from its ``random_state`` the first time it
    trains with dropout (before any shuffle of the fit is drawn)."""
    if rates is not None and rates.any() and getattr(estimator, "_dropout_seed", None) is None:
        estimator._dropout_seed = int(estimator._random_state.randint(np.iinfo(np.int32).max))
        estimator._dropout_epochs = 0


def epoch_dropout(estimator, rates):
    """The coming epoch's :class:`Dropout`, or None when no rate is above 0.

    Each epoch trained with dropout advances the model's stream.
    """
    if rates is None or not rates.any():
        return None
    key = epoch_key(estimator._dropout_seed, estimator._dropout_epochs)
    estimator._dropout_epochs += 1
    return Dropout(rates, key)
