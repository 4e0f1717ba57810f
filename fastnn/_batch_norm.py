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
"""

from dataclasses import replace

import numpy as np

from ._network import NetworkSpec


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
    if isinstance(batch_norm, (list, tuple)):
        flags = tuple(batch_norm)
        if len(flags) != n_hidden:
            raise ValueError(
                f"batch_norm lists {len(flags)} flags, but the network has {n_hidden} "
                "hidden layers (hidden_layer_sizes); give one per hidden layer or a "
                "single bool."
            )
    else:
        flags = (batch_norm,) * n_hidden
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
