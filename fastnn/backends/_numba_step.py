"""The Numba CPU kernels' optimizer step over a slice of the parameters.

A batch's gradient is completed (penalties, the average over the batch),
clipped where Keras' ``clipnorm`` asks, and stepped by the solver's update
from ``_scalar`` (the CUDA kernels' too) through the generated
``optimizer_step``, slice by slice so threads can share the work.
"""

import numpy as np
from numba import njit

from . import _scalar
from ._numba_dispatch import optimizer_step
from ._numba_loops import _jit, coefficients
from ._scalar import H_CLIPNORM

l1_subgradient = njit(cache=True, nogil=True, error_model="numpy", inline="always")(
    _scalar.l1_subgradient)
step_scalars = _jit(_scalar.step_scalars)
clip_factor = _jit(_scalar.clip_factor)


@_jit
def _step(theta, grad, n_w, solver, sc, hyper, state_1, state_2):
    """The optimizer's update of every parameter from a completed gradient.

    ``sc`` holds the step's ``step_scalars``; ``theta[:n_w]`` are weights.
    """
    k = coefficients(sc, hyper, theta.dtype.type)
    optimizer_step(theta, grad, n_w, solver, k, state_1, state_2)


@_jit
def _complete(theta, grad, n_coef, alpha, l1, sw_sum):
    # grad = (grad + alpha * W [+ l1 * sign(W)]) / sw_sum on weights (theta[:n_coef]),
    # grad / sw_sum after.
    a = theta.dtype.type(alpha)
    s = theta.dtype.type(sw_sum)
    if l1 == 0:
        for i in range(n_coef):
            grad[i] = (grad[i] + a * theta[i]) / s
    else:
        b = theta.dtype.type(l1)
        for i in range(n_coef):
            w = theta[i]
            grad[i] = (grad[i] + a * w + l1_subgradient(w, b)) / s
    for i in range(n_coef, grad.shape[0]):
        grad[i] = grad[i] / s


@_jit
def _clipping(solver, hyper):
    # Keras' clipnorm (hyper[H_CLIPNORM], 0: off) applies when there is a step.
    return solver >= 0 and hyper[H_CLIPNORM] > 0


@_jit
def _finish_step(theta, grad, parts, n_parts, lo, hi, n_coef, alpha, l1, sw_sum, solver, sc,
                 hyper, state_1, state_2, bounds, var_sq):
    """Parameters ``[lo, hi)``: complete the gradient, then step.

    The gradient is ``grad`` plus the other threads' ``parts``, plus
    ``alpha * W`` (and ``l1 * sign(W)``) on weights (``theta[:n_coef]``),
    divided by the batch's weight sum (scikit-learn's order of operations).
    Returns ``sum(W ** 2)`` and ``sum(|W|)`` over the range's weights, before
    the update. When clipping, the step waits for every range's gradient
    (``_clip_step``): the range's sums of squared gradients per variable
    (starts ``bounds``) go to ``var_sq`` instead.
    """
    n_params = theta.shape[0]
    c = max(lo, min(hi, n_coef))
    l2 = np.dot(theta[lo:c], theta[lo:c]) if alpha != 0 and c > lo else 0.0
    l1_sum = 0.0
    if l1 != 0:
        for i in range(lo, c):
            l1_sum += abs(theta[i])
    for q in range(1, n_parts):
        part = parts[(q - 1) * n_params : q * n_params]
        for i in range(lo, hi):
            grad[i] += part[i]
    # Whole passes: measured faster here than L1-sized blocks (unlike in C).
    _complete(theta[lo:hi], grad[lo:hi], c - lo, alpha, l1, sw_sum)
    if _clipping(solver, hyper):
        for v in range(bounds.shape[0] - 1):
            sq = 0.0
            for i in range(max(lo, bounds[v]), min(hi, bounds[v + 1])):
                sq += grad[i] * grad[i]
            var_sq[v] = sq
    else:
        _step(theta[lo:hi], grad[lo:hi], c - lo, solver, sc, hyper, state_1[lo:hi],
              state_2[lo:hi])
    return l2, l1_sum


@_jit
def _clip_scales(var_sq, clipnorm):
    """Each variable's factor ``clipnorm / max(norm, clipnorm)`` (Keras' clip_by_norm)."""
    n_vars = var_sq.shape[1]
    scales = np.empty(n_vars)
    for v in range(n_vars):
        scales[v] = clip_factor(var_sq[:, v].sum(), clipnorm)
    return scales


@_jit
def _clip_step(theta, grad, lo, hi, n_coef, solver, sc, hyper, state_1, state_2, bounds, scales):
    """Parameters ``[lo, hi)``: scale each variable's gradient by its factor, then step."""
    for v in range(bounds.shape[0] - 1):
        if scales[v] != 1.0:
            f = theta.dtype.type(scales[v])
            for i in range(max(lo, bounds[v]), min(hi, bounds[v + 1])):
                grad[i] = grad[i] * f
    c = max(lo, min(hi, n_coef))
    _step(theta[lo:hi], grad[lo:hi], c - lo, solver, sc, hyper, state_1[lo:hi], state_2[lo:hi])
