"""One source of truth for the names the engine understands.

Every backend reads its integer codes from here, so a name added here is the
only place where a new activation, loss or optimizer is declared.
"""

# Activations, hidden and output. The codes are what compiled kernels switch on.
ACTIVATIONS = {
    "identity": 0,
    "logistic": 1,
    "tanh": 2,
    "relu": 3,
    "softmax": 4,
    "exp": 5,
}

# Activations a user may put on a hidden layer (the rest are output-only).
HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")

# Losses, each paired with the output activation whose canonical link makes
# the output delta simply ``prediction - target``.
LOSSES = {
    "squared_error": 0,
    "log_loss": 1,
    "binary_log_loss": 2,
    "poisson": 3,
}

OUTPUT_ACTIVATION_OF_LOSS = {
    "squared_error": "identity",
    "log_loss": "softmax",
    "binary_log_loss": "logistic",
    "poisson": "exp",
}

# Stochastic optimizers run inside the compiled epoch.
OPTIMIZERS = {
    "sgd": 0,
    "adam": 1,
}

STOCHASTIC_SOLVERS = tuple(OPTIMIZERS)
