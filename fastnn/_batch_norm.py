"""Batch normalization: what every backend shares.

A batch-normalized hidden layer computes, in training, over the rows of the
mini-batch (Ioffe & Szegedy, 2015; Keras' ``BatchNormalization`` after a
``Dense`` layer without bias)::

    z = x @ W
    mean, var = z.mean(axis=0), z.var(axis=0)            # biased variance
    y = gamma * (z - mean) / sqrt(var + eps) + b          # b: the layer's bias
    a = act(y)

and after each batch moves its running statistics (Keras' rule)::

    running_mean = momentum * running_mean + (1 - momentum) * mean
    running_var = momentum * running_var + (1 - momentum) * var

The statistics are unweighted: sample weights scale each row's loss, not its
share of the batch's mean and variance (as in Keras).

At predict time the running statistics replace the batch's, which makes the
layer affine in ``z``: ``fold`` merges it into ``W`` and ``b``, so every
backend predicts with its plain forward pass.

This module holds everything fastnn knows about the feature but the
kernels: the parameters' constraints and checks, the fitted attributes and
the check of a fitted model's state (warm_start, partial_fit), and the
reference math (``normalize``, ``update_running_stats``). A backend reads a
normalized layer from ``NetworkSpec.bn_offsets``: layer ``l``'s block
``bn_offsets[l]:bn_offsets[l + 1]`` of the parameters holds gamma, the
running mean and the running variance (empty: not normalized), with
``NetworkSpec.bn_epsilon`` and the epoch's momentum.
"""

from dataclasses import replace
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._network import NetworkSpec, per_hidden_layer

# The estimators' parameter constraints this feature adds.
CONSTRAINTS = {
    "batch_norm": ["boolean", list, tuple],
    "batch_norm_momentum": [Interval(Real, 0, 1, closed="both")],
    "batch_norm_epsilon": [Interval(Real, 0, None, closed="neither")],
}

# The fitted attributes, one array per hidden layer (None where the layer is
# not normalized), viewing the parameter buffer.
ATTRIBUTES = ("batch_norm_scales_", "batch_norm_means_", "batch_norm_variances_")


def fold(net, theta):
    """The network and parameters that predict as ``net`` does with running statistics.

    Parameters
    ----------
    net : NetworkSpec
    theta : ndarray of shape (net.n_params,)

    Returns
    -------
    plain_net : NetworkSpec
        ``net`` without batch normalization (``net`` itself when it has none).
    plain_theta : ndarray of shape (plain_net.n_params,)
        Weights ``W * s`` and biases ``b - s * running_mean`` with
        ``s = gamma / sqrt(running_var + eps)``, computed in float64 and
        stored in ``theta``'s dtype.
    """
    if not net.has_batch_norm:
        return net, theta
    plain = NetworkSpec(tuple(replace(layer, batch_norm=False) for layer in net.layers),
                        net.loss)
    coefs, intercepts = net.views(theta)
    coefs, intercepts = list(coefs), list(intercepts)
    for i, (gamma, mean, var) in enumerate(zip(*net.batch_norm_views(theta))):
        if gamma is None:
            continue
        s = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + net.bn_epsilon)
        coefs[i] = coefs[i] * s
        intercepts[i] = intercepts[i] - s * mean
    return plain, plain.pack(coefs, intercepts, theta.dtype, slopes=net.slope_views(theta))


def fitted_flags(estimator):
    """Which hidden layers of the fitted model have batch normalization."""
    scales = getattr(estimator, "batch_norm_scales_", None)
    if scales is None:
        return (False,) * (len(estimator.coefs_) - 1)
    return tuple(gamma is not None for gamma in scales)


def check_fitted(estimator, flags):
    """Refuse ``flags`` (from ``check_batch_norm``) that differ from the fitted model's."""
    fitted = fitted_flags(estimator)
    if fitted != flags:
        raise ValueError(
            f"The fitted network has batch normalization on hidden layers "
            f"{list(fitted)}, but batch_norm asks for {list(flags)}; it must match "
            "the previous fit when warm_start=True or in partial_fit."
        )


def attach(estimator, net, theta):
    """Set the fitted attributes to views of ``theta`` (hidden layers only)."""
    if net.has_batch_norm:
        scales, means, variances = net.batch_norm_views(theta)
        estimator.batch_norm_scales_ = scales[:-1]
        estimator.batch_norm_means_ = means[:-1]
        estimator.batch_norm_variances_ = variances[:-1]


def normalize(Z, gamma, eps):
    """Batch normalization of ``Z`` over its rows, before the shift.

    Returns ``gamma * xhat`` and what the backward pass and the running
    statistics need: ``xhat``, ``1 / sqrt(var + eps)``, the mean and the
    (biased) variance. The statistics are computed in float64, then cast.
    """
    dtype = Z.dtype
    Z64 = Z.astype(np.float64)
    mean = Z64.mean(axis=0)
    var = ((Z64 - mean) ** 2).mean(axis=0)
    inv_std = (1.0 / np.sqrt(var + eps)).astype(dtype)
    xhat = (Z - mean.astype(dtype)) * inv_std
    return gamma * xhat, (xhat, inv_std, mean.astype(dtype), var.astype(dtype))


def update_running_stats(net, theta, batch_stats, momentum):
    """Move the running statistics in ``theta`` towards a batch's (Keras' rule)."""
    _, means, variances = net.batch_norm_views(theta)
    for mean, var, stats in zip(means, variances, batch_stats):
        if stats is not None:
            mean[...] = momentum * mean + (1 - momentum) * stats[0]
            var[...] = momentum * var + (1 - momentum) * stats[1]


def check_batch_norm(batch_norm, n_hidden, solver):
    """``batch_norm`` as one bool per hidden layer, checked.

    Parameters
    ----------
    batch_norm : bool or sequence of bool
        The estimator's parameter.
    n_hidden : int
        Number of hidden layers.
    solver : str
        The estimator's solver: ``'lbfgs'`` refuses batch normalization.

    Returns
    -------
    flags : tuple of bool
    """
    flags = per_hidden_layer(batch_norm, n_hidden, "batch_norm", "flags", "bool")
    for flag in flags:
        if not isinstance(flag, (bool, np.bool_)):
            raise ValueError(f"batch_norm entries must be bools, got {flag!r}.")
    flags = tuple(bool(flag) for flag in flags)
    if solver == "lbfgs" and any(flags):
        raise ValueError(
            "solver='lbfgs' does not support batch_norm: batch statistics only exist "
            "for mini-batches. Use a stochastic solver (e.g. 'adam') or batch_norm=False."
        )
    return flags
