"""Scalar pieces of the math, written once for every Numba target.

Each function is plain Python that Numba compiles both for the CPU
(``njit``, in ``_numba_kernels``) and as a CUDA device function
(``cuda.jit(device=True)``, in ``_cuda_kernels``), so the CPU and GPU
backends share one definition of every activation, loss term and optimizer
update. Only arithmetic, ``math`` and NumPy's integer scalars are used, as
both targets require. The
formulas and their order of operations are scikit-learn's (see
``src/_activations.pxd``, ``_losses.pxd`` and ``_updates.pxd`` for the
Cython twins).
"""

import math

import numpy as np

from .._registry import (
    ACTIVATIONS, ELU_ALPHA, HYPER_FIELDS, LOSSES, NADAM_MOMENTUM_DECAY, OPTIMIZERS, SELU_ALPHA,
    SELU_SCALE,
)

# Module constants: Numba freezes them into the compiled code.
IDENTITY = ACTIVATIONS["identity"]
LOGISTIC = ACTIVATIONS["logistic"]
TANH = ACTIVATIONS["tanh"]
RELU = ACTIVATIONS["relu"]
SOFTMAX = ACTIVATIONS["softmax"]
EXP = ACTIVATIONS["exp"]
LEAKY_RELU = ACTIVATIONS["leaky_relu"]
ELU = ACTIVATIONS["elu"]
SELU = ACTIVATIONS["selu"]
GELU = ACTIVATIONS["gelu"]
SWISH = ACTIVATIONS["swish"]
SOFTPLUS = ACTIVATIONS["softplus"]
PRELU = ACTIVATIONS["prelu"]
# Not elementwise: each kernel takes the max over a unit's pieces itself.
MAXOUT = ACTIVATIONS["maxout"]

# 1 / sqrt(2) and 1 / sqrt(2 pi), for GELU.
_SQRT_HALF = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327

SQUARED = LOSSES["squared_error"]
LOG = LOSSES["log_loss"]
BINARY_LOG = LOSSES["binary_log_loss"]
POISSON = LOSSES["poisson"]

SGD = OPTIMIZERS["sgd"]
ADAM = OPTIMIZERS["adam"]
RMSPROP = OPTIMIZERS["rmsprop"]
ADAGRAD = OPTIMIZERS["adagrad"]
ADAMW = OPTIMIZERS["adamw"]
NADAM = OPTIMIZERS["nadam"]

# Positions of the optimizers' scalars in the ``hyper`` array the kernels get.
H_LEARNING_RATE = HYPER_FIELDS.index("learning_rate")
H_MOMENTUM = HYPER_FIELDS.index("momentum")
H_NESTEROV = HYPER_FIELDS.index("nesterov")
H_BETA_1 = HYPER_FIELDS.index("beta_1")
H_BETA_2 = HYPER_FIELDS.index("beta_2")
H_EPSILON = HYPER_FIELDS.index("epsilon")
H_RHO = HYPER_FIELDS.index("rho")
H_WEIGHT_DECAY = HYPER_FIELDS.index("weight_decay")
H_CLIPNORM = HYPER_FIELDS.index("clipnorm")

# Positions in the tuple of ``coefficients``: the step's scalars, then the
# hyper fields after the learning rate.
K_RATE, K_STEP_1, K_STEP_2 = 0, 1, 2
K_MOMENTUM = 2 + H_MOMENTUM
K_NESTEROV = 2 + H_NESTEROV
K_BETA_1 = 2 + H_BETA_1
K_BETA_2 = 2 + H_BETA_2
K_EPSILON = 2 + H_EPSILON
K_RHO = 2 + H_RHO


def activate(code, z, param):
    """Element-wise activation ``code`` of ``z`` (softmax is row-wise: not here).

    ``param`` is the layer's activation parameter (leaky_relu's slope), or
    for prelu the unit's learned slope.
    """
    if code == RELU:
        # `z < 0` keeps NaN as NaN, like np.maximum(z, 0).
        return 0.0 if z < 0 else z
    if code == LOGISTIC:
        return 1.0 / (1.0 + math.exp(-z))
    if code == TANH:
        return math.tanh(z)
    if code == EXP:
        return math.exp(z)
    if code == LEAKY_RELU or code == PRELU:
        return z if z > 0 else param * z
    if code == ELU:
        return z if z > 0 else ELU_ALPHA * math.expm1(z)
    if code == SELU:
        return SELU_SCALE * z if z > 0 else (SELU_SCALE * SELU_ALPHA) * math.expm1(z)
    if code == GELU:
        return 0.5 * z * (1.0 + math.erf(z * _SQRT_HALF))
    if code == SWISH:
        return z / (1.0 + math.exp(-z))
    if code == SOFTPLUS:
        # log(1 + e^z) without overflow: max(z, 0) + log1p(e^-|z|)
        return (z if z > 0 else 0.0) + math.log1p(math.exp(-abs(z)))
    return z


def backprop(code, d, v, param):
    """``d`` times the derivative of activation ``code`` at one unit.

    ``v`` is the unit's output ``a``, or its input ``z`` for the activations
    of ``_registry.DERIVATIVE_FROM_INPUT`` (gelu, swish, prelu). ``param`` is
    as for ``activate``.
    """
    if code == RELU:
        # A select, not a product: the delta of a dead unit is exactly 0.
        return 0.0 if v == 0 else d
    if code == LOGISTIC:
        return d * v * (1 - v)
    if code == TANH:
        return d * (1 - v * v)
    if code == LEAKY_RELU or code == PRELU:
        # leaky_relu: a > 0 exactly where z > 0, as the slope is not negative.
        return d if v > 0 else d * param
    if code == ELU:
        return d if v > 0 else d * (v + ELU_ALPHA)
    if code == SELU:
        return d * SELU_SCALE if v > 0 else d * (v + SELU_SCALE * SELU_ALPHA)
    if code == SOFTPLUS:
        # sigmoid(z) = 1 - e^-a
        return -d * math.expm1(-v)
    if code == GELU:
        cdf = 0.5 * (1.0 + math.erf(v * _SQRT_HALF))
        return d * (cdf + v * _INV_SQRT_2PI * math.exp(-0.5 * v * v))
    if code == SWISH:
        s = 1.0 / (1.0 + math.exp(-v))
        return d * s * (1.0 + v * (1.0 - s))
    return d


def loss_term(code, y, p, eps):
    """One output's share of a sample's loss, before ``finish_loss``.

    ``y`` is the target, ``p`` the prediction, ``eps`` the dtype's machine
    epsilon: log losses clip ``p`` to ``[eps, 1 - eps]``, and ``x log(y)`` is
    0 where ``x == 0`` (``scipy.special.xlogy``). Self-contained, as device
    functions cannot call plain Python helpers.
    """
    if code == SQUARED:
        return (y - p) * (y - p)
    if code == POISSON:
        return (0.0 if y == 0 else y * math.log(y / p)) - y + p
    q = eps if p < eps else (1 - eps if p > 1 - eps else p)
    s = 0.0 if y == 0 else y * math.log(q)
    if code == BINARY_LOG and y != 1:
        s += (1 - y) * math.log(1 - q)
    return s


def finish_loss(code, total, sw_sum, n_out):
    """Turn a weighted sum of ``loss_term`` values into scikit-learn's batch loss."""
    if code == SQUARED:
        return 0.5 * total / sw_sum / n_out
    if code == LOG or code == BINARY_LOG:
        return -total / sw_sum
    return total / sw_sum


def l1_subgradient(w, l1):
    """``l1 * sign(w)``, 0 at ``w == 0``, in the type of ``l1``."""
    if w > 0:
        return l1
    if w < 0:
        return -l1
    return l1 - l1


def clip_factor(sum_sq, clipnorm):
    """Keras' clip_by_norm factor ``clipnorm / max(norm, clipnorm)`` of a gradient
    whose squares sum to ``sum_sq``."""
    norm = math.sqrt(sum_sq)
    return clipnorm / norm if norm > clipnorm else 1.0


def step_scalars(solver, t, lr, beta_1, beta_2, weight_decay, mu_product):
    """The scalars of step ``t`` (1-based) shared by every parameter's update.

    Returns ``(s0, s1, s2, mu_product)``: for sgd, rmsprop and adagrad
    ``s0`` is the rate ``lr``; for adam and adamw the bias-corrected rate
    ``lr sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)``, and for adamw ``s1`` the weights' decay factor
    ``1 - lr * weight_decay``; for nadam the coefficients of ``g`` and ``m``
    and the second moment's bias correction ``1 - beta_2 ** t``, and the
    running product of the momentum schedule, updated.
    """
    if solver == ADAM or solver == ADAMW:
        rate = lr * math.sqrt(1 - math.pow(beta_2, t)) / (1 - math.pow(beta_1, t))
        return rate, 1.0 - lr * weight_decay, 0.0, mu_product
    if solver == NADAM:
        mu = beta_1 * (1.0 - 0.5 * math.pow(0.96, t * NADAM_MOMENTUM_DECAY))
        mu_next = beta_1 * (1.0 - 0.5 * math.pow(0.96, (t + 1) * NADAM_MOMENTUM_DECAY))
        mu_product = mu_product * mu
        c_g = lr * (1.0 - mu) / (1.0 - mu_product)
        c_m = lr * mu_next / (1.0 - mu_product * mu_next)
        return c_g, c_m, 1.0 - math.pow(beta_2, t), mu_product
    return lr, 0.0, 0.0, mu_product


def coefficients(sc, hyper, dt):
    """What every ``update`` of a step reads, in the parameters' type ``dt``.

    The step's three ``step_scalars`` ``sc``, then the ``hyper`` fields
    after the learning rate (positions ``K_*``), as one tuple.
    """
    return (dt(sc[0]), dt(sc[1]), dt(sc[2]), dt(hyper[1]), dt(hyper[2]), dt(hyper[3]),
            dt(hyper[4]), dt(hyper[5]), dt(hyper[6]), dt(hyper[7]), dt(hyper[8]))


def update(solver, w, g, s1, s2, is_weight, k):
    """One step of a parameter by optimizer ``solver``; returns ``(w, s1, s2)``.

    ``g`` is the parameter's completed gradient, ``s1`` and ``s2`` its
    entries of the optimizer's buffers (``s2`` is returned as it is by
    optimizers with one buffer), ``is_weight`` whether it is a weight rather
    than a bias, and ``k`` the step's ``coefficients``. ``solver`` -1 (no
    step) leaves it.
    """
    rate, eps = k[K_RATE], k[K_EPSILON]
    if solver == SGD:
        # u = momentum * v - lr * g; v = u; nesterov: u = momentum * v - lr * g
        momentum = k[K_MOMENTUM]
        u = momentum * s1 - rate * g
        s1 = u
        if k[K_NESTEROV] != 0:
            u = momentum * u - rate * g
        return w + u, s1, s2
    if solver == ADAM or solver == ADAMW:
        # Bias-corrected rate; AdamW first decays the weights (step_scalars' s1)
        beta_1, beta_2 = k[K_BETA_1], k[K_BETA_2]
        if solver == ADAMW and is_weight:
            w = w * k[K_STEP_1]
        s1 = beta_1 * s1 + (1 - beta_1) * g
        s2 = beta_2 * s2 + (1 - beta_2) * (g * g)
        return w - rate * s1 / (math.sqrt(s2) + eps), s1, s2
    if solver == RMSPROP:
        rho = k[K_RHO]
        s1 = rho * s1 + (1 - rho) * (g * g)
        return w - rate * g / (math.sqrt(s1) + eps), s1, s2
    if solver == ADAGRAD:
        s1 = s1 + g * g
        return w - rate * g / (math.sqrt(s1) + eps), s1, s2
    if solver == NADAM:
        # The coefficients of g and m, and the second moment's bias correction
        beta_1, beta_2 = k[K_BETA_1], k[K_BETA_2]
        s1 = beta_1 * s1 + (1 - beta_1) * g
        s2 = beta_2 * s2 + (1 - beta_2) * (g * g)
        d = math.sqrt(s2 / k[K_STEP_2]) + eps
        return w - rate * g / d - k[K_STEP_1] * s1 / d, s1, s2
    return w, s1, s2


# Dropout's hash (``fastnn._dropout`` documents the stream). Unsigned 64-bit
# constants, so Numba keeps the integer arithmetic unsigned; every product
# is of two numbers below 2**32, so none overflows (the simulator warns).
_M32 = np.uint64(0xFFFFFFFF)
_H1 = np.uint64(0x7FEB352D)
_H2 = np.uint64(0x846CA68B)
_S15 = np.uint64(15)
_S16 = np.uint64(16)
_S32 = np.uint64(32)
_INV_2_32 = 2.0**-32


def dropout_keeps(key, pos, unit, rate):
    """Whether dropout keeps unit ``unit`` (counted over all layers) of the row
    at position ``pos`` of the epoch, for stream ``key``: its uniform draw
    ``hash(hash(pos ^ k0) ^ (unit + k1)) / 2**32`` is at least ``rate``.

    Self-contained (device functions cannot call plain Python helpers): the
    loop's two rounds are the two hashes.
    """
    x = (np.uint64(pos) & _M32) ^ (np.uint64(key) & _M32)
    for round in range(2):
        x = x ^ (x >> _S16)
        x = (x * _H1) & _M32
        x = x ^ (x >> _S15)
        x = (x * _H2) & _M32
        x = x ^ (x >> _S16)
        if round == 0:
            x = x ^ ((np.uint64(unit) + (np.uint64(key) >> _S32)) & _M32)
    return float(x) * _INV_2_32 >= rate
