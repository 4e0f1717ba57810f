"""Weight initialisation schemes."""

import numpy as np


def _glorot_factor(activation):
    # scikit-learn's: 2 for logistic units, else 6.
    return 2.0 if activation == "logistic" else 6.0


def sklearn_uniform_init(net, random_state, hidden_activation, dtype):
    """scikit-learn's scheme: Glorot-uniform weights and biases, drawn layer by layer.

    For each layer, in order, the weights then the biases are drawn from
    ``U(-b, b)`` with ``b = sqrt(factor / (fan_in + fan_out))`` (factor 2 for
    logistic hidden units, else 6), in float64, then cast to ``dtype``.
    Drawing in this exact order keeps the numbers identical to
    scikit-learn's for the same ``random_state``. A maxout layer's fan-out is
    its number of weight columns.

    Parameters
    ----------
    net : NetworkSpec
    random_state : numpy.random.RandomState
    hidden_activation : str or tuple of str
        One name sets every layer's factor, as in scikit-learn. With one name
        per hidden layer, each layer takes its own activation's factor and
        the output layer the last hidden layer's.
    dtype : numpy dtype

    Returns
    -------
    theta : ndarray of shape (net.n_params,)
    """
    n_layers = len(net.layers)
    if isinstance(hidden_activation, str):
        factors = [_glorot_factor(hidden_activation)] * n_layers
    else:
        factors = [_glorot_factor(a) for a in hidden_activation]
        factors.append(factors[-1] if factors else 6.0)
    coefs, intercepts = [], []
    for layer, factor in zip(net.layers, factors):
        bound = np.sqrt(factor / (layer.n_in + layer.width))
        coefs.append(random_state.uniform(-bound, bound, (layer.n_in, layer.width)))
        intercepts.append(random_state.uniform(-bound, bound, layer.width))
    return net.pack(coefs, intercepts, dtype)


# Keras' schemes: (variance scale, fan used, distribution). Biases start at 0.
KERAS_SCHEMES = {
    "glorot_uniform": (1.0, "avg", "uniform"),
    "glorot_normal": (1.0, "avg", "normal"),
    "he_uniform": (2.0, "in", "uniform"),
    "he_normal": (2.0, "in", "normal"),
    "lecun_uniform": (1.0, "in", "uniform"),
    "lecun_normal": (1.0, "in", "normal"),
}

INIT_SCHEMES = ("sklearn", *KERAS_SCHEMES, "zeros")

# Standard deviation of a standard normal truncated to [-2, 2]: dividing by it
# gives the truncated draws the intended variance (Keras' VarianceScaling).
_TRUNCATED_STD = 0.87962566103423978


def _truncated_normal(random_state, std, shape):
    """Normal draws of standard deviation ``std`` redrawn until within 2 std."""
    out = random_state.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = random_state.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return out * std


def keras_init(net, random_state, scheme, dtype):
    """Keras' variance-scaling schemes, or all zeros.

    ``scale / fan`` is the weights' variance, with ``fan`` the layer's
    fan-in, or the mean of fan-in and fan-out for the Glorot schemes:
    uniform on ``[-limit, limit]`` with ``limit = sqrt(3 * scale / fan)``,
    or normal truncated at two standard deviations. Biases start at 0.
    Layers are drawn in order from ``random_state``, in float64, then cast.
    A maxout layer's fan-out is its number of weight columns (as for Keras'
    ``Dense`` layer feeding a max over pieces).

    Parameters
    ----------
    net : NetworkSpec
    random_state : numpy.random.RandomState
    scheme : str
        A key of ``KERAS_SCHEMES``, or ``"zeros"``.
    dtype : numpy dtype

    Returns
    -------
    theta : ndarray of shape (net.n_params,)
    """
    coefs, intercepts = [], []
    for layer in net.layers:
        shape = (layer.n_in, layer.width)
        intercepts.append(np.zeros(layer.width))
        if scheme == "zeros":
            coefs.append(np.zeros(shape))
            continue
        scale, fan_mode, distribution = KERAS_SCHEMES[scheme]
        fan = layer.n_in if fan_mode == "in" else (layer.n_in + layer.width) / 2
        if distribution == "uniform":
            limit = np.sqrt(3.0 * scale / fan)
            coefs.append(random_state.uniform(-limit, limit, shape))
        else:
            coefs.append(_truncated_normal(random_state, np.sqrt(scale / fan) / _TRUNCATED_STD,
                                           shape))
    return net.pack(coefs, intercepts, dtype)
