"""Pure-NumPy reference backend: slow, obvious, and the oracle of the tests.

Written layer by layer with plain NumPy, independently of the compiled code,
so that agreement between the two means something.
"""

import numpy as np
from scipy.special import erf, expit, xlogy

from .._batch_norm import normalize, update_running_stats
from .._maxout import maxout, maxout_backward as _maxout_backward
from .._prelu import slope_gradient
from .._registry import ELU_ALPHA, NADAM_MOMENTUM_DECAY, OPTIMIZERS, SELU_ALPHA, SELU_SCALE

# Python floats, so float32 arrays stay float32 (NumPy 2 promotion rules).
_SQRT_HALF = float(np.sqrt(0.5))
_INV_SQRT_2PI = float(1 / np.sqrt(2 * np.pi))

from ._base import Backend
from ._data import CSRInput


def _activate(name, Z, param=0.0):
    if name == "identity":
        return Z
    if name == "logistic":
        return expit(Z)
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.maximum(Z, 0)
    if name in ("leaky_relu", "prelu"):
        # prelu's param is the vector of its units' learned slopes.
        return np.where(Z > 0, Z, param * Z)
    if name == "elu":
        return np.where(Z > 0, Z, ELU_ALPHA * np.expm1(np.minimum(Z, 0)))
    if name == "selu":
        return SELU_SCALE * np.where(Z > 0, Z, SELU_ALPHA * np.expm1(np.minimum(Z, 0)))
    if name == "gelu":
        return 0.5 * Z * (1 + erf(Z * _SQRT_HALF))
    if name == "swish":
        return Z * expit(Z)
    if name == "softplus":
        return np.logaddexp(0, Z)
    if name == "maxout":
        return maxout(Z, int(param))
    if name == "exp":
        return np.exp(Z)
    if name == "softmax":
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)
    raise ValueError(f"unknown activation {name!r}")


def _derivative(name, Z, A, param=0.0):
    """d act / d z at the pre-activation Z (A = act(Z), for the classic formulas)."""
    if name == "identity":
        return np.ones_like(A)
    if name == "logistic":
        return A * (1 - A)
    if name == "tanh":
        return 1 - A**2
    if name == "relu":
        return (A != 0).astype(A.dtype)
    if name in ("leaky_relu", "prelu"):
        return np.where(Z > 0, 1, param).astype(A.dtype)
    if name == "elu":
        return np.where(Z > 0, 1, ELU_ALPHA * np.exp(np.minimum(Z, 0))).astype(A.dtype)
    if name == "selu":
        slope = SELU_SCALE * np.where(Z > 0, 1, SELU_ALPHA * np.exp(np.minimum(Z, 0)))
        return slope.astype(A.dtype)
    if name == "gelu":
        return 0.5 * (1 + erf(Z * _SQRT_HALF)) + Z * np.exp(-0.5 * Z**2) * _INV_SQRT_2PI
    if name == "swish":
        s = expit(Z)
        return s * (1 + Z * (1 - s))
    if name == "softplus":
        return expit(Z)
    raise ValueError(f"no derivative for {name!r}")


def batch_loss(name, Y, P, sample_weight):
    """Mean loss ``name`` of outputs ``P`` against targets ``Y`` (weighted by ``sample_weight``)."""
    eps = np.finfo(P.dtype).eps
    if name == "squared_error":
        per_sample = ((Y - P) ** 2).mean(axis=1) / 2
    elif name == "poisson":
        per_sample = (xlogy(Y, Y / P) - Y + P).sum(axis=1)
    elif name == "log_loss":
        per_sample = -xlogy(Y, np.clip(P, eps, 1 - eps)).sum(axis=1)
    elif name == "binary_log_loss":
        Q = np.clip(P, eps, 1 - eps)
        per_sample = -(xlogy(Y, Q) + xlogy(1 - Y, 1 - Q)).sum(axis=1)
    else:
        raise ValueError(f"unknown loss {name!r}")
    return float(np.average(per_sample, weights=sample_weight))


def penalty_loss(coefs, alpha, l1, sw_sum):
    """The L2 and L1 terms of a batch's loss: scaled by its weight sum ``sw_sum``."""
    loss = 0.5 * alpha * sum(float(np.sum(W * W)) for W in coefs) / sw_sum
    if l1:
        loss += l1 * sum(float(np.sum(np.abs(W))) for W in coefs) / sw_sum
    return loss


def _forward_layers(net, theta, X, masks=None):
    """Pre-activations, outputs and derivative inputs of every layer.

    ``outputs[0]`` is the input. ``masks`` (one per layer, None for none)
    multiplies a layer's outputs (inverted dropout); ``kept[i]`` is what
    layer i's derivative reads: its outputs before the mask. Batch-normalized
    layers use the batch's statistics (training mode); ``norms[i]`` holds
    layer i's ``normalize`` results (None for the other layers). A prelu
    layer's parameter is its slopes in ``theta``. A maxout layer's ``pres``
    are its ``width`` linear columns, its outputs the ``n_out`` maxima.
    """
    coefs, intercepts = net.views(theta)
    scales = net.batch_norm_views(theta)[0]
    params = [layer.param if s is None else s
              for layer, s in zip(net.layers, net.slope_views(theta))]
    if isinstance(X, CSRInput):
        X = X.to_scipy()
    if masks is None:
        masks = [None] * len(net.layers)
    outputs, pres, kept, norms = [X], [None], [None], [None]
    for layer, W, b, mask, gamma, param in zip(net.layers, coefs, intercepts, masks, scales,
                                               params):
        if layer.batch_norm:
            Z, norm = normalize(outputs[-1] @ W, gamma, float(net.bn_epsilon))
            pres.append(Z + b)
            norms.append(norm)
        else:
            pres.append(outputs[-1] @ W + b)
            norms.append(None)
        kept.append(_activate(layer.activation, pres[-1], param))
        outputs.append(kept[-1] if mask is None else kept[-1] * mask)
    return pres, outputs, kept, norms


def forward_all(net, theta, X):
    """Outputs of every layer, input first (the list has n_layers + 1 arrays).

    Batch-normalized layers use the statistics of the rows of ``X``.
    """
    return _forward_layers(net, theta, X)[1]


def loss_and_gradient(net, theta, X, Y, sample_weight, alpha, l1=0.0, masks=None,
                      batch_stats=None):
    """Loss of one batch and its gradient as a flat array like ``theta``.

    The L1 term's subgradient at a zero weight is 0. ``masks`` are dropout's
    factors of each layer's outputs (``fastnn._dropout.Dropout.masks``),
    fixed for the batch. Batch-normalized layers normalize over the rows of
    ``X``; their running statistics get gradient 0, and ``batch_stats``, if
    a list, receives each layer's ``(mean, var)`` of the batch (None for the
    other layers). A prelu unit's slope gets ``sum(dL/da * min(z, 0))``.
    """
    coefs, _ = net.views(theta)
    scales = net.batch_norm_views(theta)[0]
    slopes = net.slope_views(theta)
    pres, outputs, kept, norms = _forward_layers(net, theta, X, masks)
    if batch_stats is not None:
        batch_stats.extend(None if norm is None else norm[2:] for norm in norms[1:])
    n = X.shape[0]
    sw_sum = n if sample_weight is None else sample_weight.sum()
    loss = batch_loss(net.loss, Y, outputs[-1], sample_weight)
    loss += penalty_loss(coefs, alpha, l1, sw_sum)

    grad = np.zeros_like(theta)
    grad_coefs, grad_intercepts = net.views(grad)
    grad_scales = net.batch_norm_views(grad)[0]
    grad_slopes = net.slope_views(grad)
    # With the canonical output activation, dL/dz of the output is P - Y.
    delta = outputs[-1] - Y
    if sample_weight is not None:
        delta = delta * sample_weight[:, None]
    for i in range(len(net.layers) - 1, -1, -1):
        penalty = alpha * coefs[i]
        if l1:
            penalty = penalty + l1 * np.sign(coefs[i])
        grad_intercepts[i][...] = delta.sum(axis=0) / sw_sum
        if norms[i + 1] is not None:
            # Through the normalization: dL/dgamma, then dL/d(x @ W).
            xhat, inv_std = norms[i + 1][:2]
            d_gamma = (delta * xhat).sum(axis=0)
            grad_scales[i][...] = d_gamma / sw_sum
            delta = (scales[i] * inv_std) * (
                delta - delta.sum(axis=0) / n - xhat * (d_gamma / n)
            )
        grad_coefs[i][...] = (outputs[i].T @ delta + penalty) / sw_sum
        if i > 0:
            layer = net.layers[i - 1]
            delta = delta @ coefs[i].T
            if masks is not None and masks[i - 1] is not None:
                delta = delta * masks[i - 1]
            param = layer.param
            if slopes[i - 1] is not None:
                param = slopes[i - 1]
                grad_slopes[i - 1][...] = slope_gradient(delta, pres[i]) / sw_sum
            if layer.activation == "maxout":
                delta = _maxout_backward(delta, pres[i], layer.pieces)
            else:
                delta = delta * _derivative(layer.activation, pres[i], kept[i], param)
    return loss, grad


def clip_by_norm(net, grad, clipnorm):
    """Keras' ``clipnorm``: scale each weight matrix's, bias vector's,
    batch-norm scale's and prelu slope vector's gradient to an L2 norm of at
    most ``clipnorm`` (in place; 0 or None: no clipping)."""
    if not clipnorm:
        return
    coefs, intercepts = net.views(grad)
    scales = [g for g in net.batch_norm_views(grad)[0] if g is not None]
    slopes = [g for g in net.slope_views(grad) if g is not None]
    for g in (*coefs, *intercepts, *scales, *slopes):
        norm = float(np.sqrt(np.sum(g.astype(np.float64) ** 2)))
        if norm > clipnorm:
            g *= g.dtype.type(clipnorm / norm)


def optimizer_step(optimizer, theta, grad, n_coef):
    """Apply one step of ``optimizer`` (a ``fastnn._optimizers`` state) to ``theta``.

    ``theta[:n_coef]`` are the weights (AdamW decays only them).
    Returns the step size to report as ``learning_rate``. Written from the
    papers' formulas, apart from the kernels' ``_scalar`` code.
    """
    o = optimizer
    if o.code == OPTIMIZERS["sgd"]:
        lr, mu = o.learning_rate, o.momentum
        update = mu * o.velocity - lr * grad
        o.velocity[...] = update
        if o.nesterov:
            update = mu * update - lr * grad
        theta += update
        return lr
    o.t += 1
    lr, eps = o.learning_rate_init, o.epsilon
    if o.code == OPTIMIZERS["rmsprop"]:
        o.vs[...] = o.rho * o.vs + (1 - o.rho) * grad**2
        theta -= lr * grad / (np.sqrt(o.vs) + eps)
        return lr
    if o.code == OPTIMIZERS["adagrad"]:
        o.accumulator += grad**2
        theta -= lr * grad / (np.sqrt(o.accumulator) + eps)
        return lr
    b1, b2 = o.beta_1, o.beta_2
    o.ms[...] = b1 * o.ms + (1 - b1) * grad
    o.vs[...] = b2 * o.vs + (1 - b2) * grad**2
    if o.code == OPTIMIZERS["nadam"]:
        mu = b1 * (1 - 0.5 * 0.96 ** (o.t * NADAM_MOMENTUM_DECAY))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((o.t + 1) * NADAM_MOMENTUM_DECAY))
        o.mu_product *= mu
        denom = np.sqrt(o.vs / (1 - b2**o.t)) + eps
        theta -= lr * (1 - mu) / (1 - o.mu_product) * grad / denom
        theta -= lr * mu_next / (1 - o.mu_product * mu_next) * o.ms / denom
        return lr
    if o.code == OPTIMIZERS["adamw"]:
        theta[:n_coef] *= 1 - lr * o.weight_decay
    rate = float(lr * np.sqrt(1 - b2**o.t) / (1 - b1**o.t))
    theta += -rate * o.ms / (np.sqrt(o.vs) + eps)
    return rate


def describe():
    """One line for ``show_backends``."""
    return "pure-NumPy reference: slow, the tests' oracle"


class NumpyBackend(Backend):
    """Reference implementation in NumPy (``backend="numpy"``)."""

    name = "numpy"

    def forward(self, net, theta, X):
        return np.asarray(forward_all(net, theta, X)[-1])

    def loss_grad(self, net, theta, data, alpha, grad, cache=None, l1=0.0):
        loss, g = loss_and_gradient(net, theta, data.X, data.Y, data.sample_weight, alpha, l1)
        grad[...] = g
        return loss

    def epoch(self, net, theta, optimizer, data, order, batch_size, alpha, cache, l1=0.0,
              dropout=None, bn_momentum=0.99, ahead=None):
        n = data.n_samples
        X = data.X.to_scipy() if isinstance(data.X, CSRInput) else data.X
        if order is None:
            order = np.arange(n)
        accumulated = 0.0
        n_coef = int(net.offsets()[0][-1])
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            sw = None if data.sample_weight is None else data.sample_weight[idx]
            masks = None
            if dropout is not None:
                masks = dropout.masks(net, np.arange(start, start + len(idx)), theta.dtype)
            batch_stats = []
            loss, grad = loss_and_gradient(net, theta, X[idx], data.Y[idx], sw, alpha, l1,
                                           masks, batch_stats)
            update_running_stats(net, theta, batch_stats, bn_momentum)
            accumulated += loss * len(idx)
            clip_by_norm(net, grad, optimizer.clipnorm)
            optimizer.record_rate(optimizer_step(optimizer, theta, grad, n_coef))
        return accumulated
