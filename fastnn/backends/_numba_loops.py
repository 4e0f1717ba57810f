"""The Numba CPU kernels' loops, one per activation or optimizer code.

``_act_loop``, ``_backprop_loop`` and ``_step_loop`` are inlined where they
are called with a constant code, so the branches of ``_scalar.activate``,
``_scalar.backprop`` and ``_scalar.update`` fold away and each loop
vectorizes. The dispatchers that call them once per code
(``_bias_activation``, ``_backprop``, ``optimizer_step``) are generated from
``fastnn/_registry.py`` at build time into ``_numba_dispatch.py``: the
registry's activations and optimizers are the only lists.
"""

import numpy as np
from numba import njit

from . import _scalar

# error_model="numpy": no ZeroDivisionError checks, whose branches stop loops vectorising.
_jit = njit(cache=True, nogil=True, error_model="numpy")
_inline = njit(cache=True, nogil=True, error_model="numpy", inline="always")

# Activations inline where they are called with a constant code (see _act_loop).
activate = _inline(_scalar.activate)
backprop = _inline(_scalar.backprop)
update = _inline(_scalar.update)
coefficients = _inline(_scalar.coefficients)

IDENTITY = _scalar.IDENTITY
SOFTMAX = _scalar.SOFTMAX


@_jit
def _softmax_rows(Z):
    # exp(z - max(z)) / sum, row by row, in scikit-learn's order of operations.
    for r in range(Z.shape[0]):
        z = Z[r]
        mx = z[0]
        for j in range(1, z.shape[0]):
            if z[j] > mx:
                mx = z[j]
        s = z.dtype.type(0)
        for j in range(z.shape[0]):
            z[j] = np.exp(z[j] - mx)
            s += z[j]
        for j in range(z.shape[0]):
            z[j] = z[j] / s


@_inline
def _act_loop(Z, b, code, param, pre):
    # Z = act(Z + b), keeping Z + b in pre if it has rows. Inlined where code
    # is a constant, so the activation's branches fold away and the loop vectorises.
    keep = pre.shape[0] > 0
    for r in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            z = Z[r, j] + b[j]
            if keep:
                pre[r, j] = z
            Z[r, j] = activate(code, z, param)


@_inline
def _backprop_loop(D, V, code, param):
    for r in range(D.shape[0]):
        for j in range(D.shape[1]):
            D[r, j] = backprop(code, D[r, j], V[r, j], param)


@_inline
def _step_loop(theta, grad, n_w, code, n_buffers, k, state_1, state_2):
    """One step of optimizer ``code`` over ``theta`` (weights below ``n_w``).

    ``k``: the step's ``_scalar.coefficients``; ``state_2`` is read and
    written only by optimizers with ``n_buffers`` 2.
    """
    for i in range(theta.shape[0]):
        s2 = state_2[i] if n_buffers == 2 else theta[i]
        theta[i], state_1[i], s2 = update(code, theta[i], grad[i], state_1[i], s2, i < n_w, k)
        if n_buffers == 2:
            state_2[i] = s2
