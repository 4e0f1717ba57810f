"""GEMM work of an MLP, and the time it takes at the machine's GEMM peak.

A lower bound: an epoch cannot finish faster than its matrix products at the
best GEMM rate the BLAS reaches. Every epoch time of the bench also reads as
"x times this bound".
"""


def layer_units(n_features, hidden_layer_sizes, n_outputs):
    """Widths of all layers, input to output."""
    return [n_features, *hidden_layer_sizes, n_outputs]


def n_outputs(task, n_classes=None):
    """Output units: one for regression and binary, one per class otherwise."""
    if task == "regression" or n_classes == 2:
        return 1
    return n_classes


def forward_flops(units, n_samples):
    """FLOPs of the forward GEMMs over ``n_samples`` rows."""
    return n_samples * sum(2 * a * b for a, b in zip(units[:-1], units[1:]))


def epoch_flops(units, n_samples):
    """FLOPs of the GEMMs of one training epoch.

    Forward (``Z = A @ W``), weight gradients (``dW = A.T @ D``, as many FLOPs
    as the forward) and the deltas sent back to every layer but the input
    (``D_prev = D @ W.T``).
    """
    pairs = list(zip(units[:-1], units[1:]))
    backward_deltas = n_samples * sum(2 * a * b for a, b in pairs[1:])
    return 2 * forward_flops(units, n_samples) + backward_deltas
