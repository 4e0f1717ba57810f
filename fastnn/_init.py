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
    scikit-learn's for the same ``random_state``.

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
        bound = np.sqrt(factor / (layer.n_in + layer.n_out))
        coefs.append(random_state.uniform(-bound, bound, (layer.n_in, layer.n_out)))
        intercepts.append(random_state.uniform(-bound, bound, layer.n_out))
    return net.pack(coefs, intercepts, dtype)
