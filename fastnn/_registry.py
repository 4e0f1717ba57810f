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
    "leaky_relu": 6,
    "elu": 7,
    "selu": 8,
    "gelu": 9,
    "swish": 10,
    "softplus": 11,
    "prelu": 12,
    "maxout": 13,
}

# Activations a user may put on a hidden layer (the rest are output-only).
HIDDEN_ACTIVATIONS = (
    "identity", "logistic", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu", "gelu",
    "swish", "softplus", "maxout",
)

# Activations the engines run with code of their own rather than through their
# unit-by-unit loops: softmax spans a row, prelu learns a slope per unit and
# maxout takes the largest of several columns. Every other activation is one
# formula of one unit (``backends/_scalar.py``, ``src/_activations.pxd``).
LAYER_ACTIVATIONS = ("softmax", "prelu", "maxout")

# Other names users may pass, and the activation each one means.
ACTIVATION_ALIASES = {"sigmoid": "logistic", "silu": "swish"}

# Activations whose derivative is computed from the pre-activation z (the
# others from their output a, which saves keeping z during training). prelu's
# learned slope may reach 0 or below, so its output cannot give back z;
# maxout's output does not say which piece won.
DERIVATIVE_FROM_INPUT = ("gelu", "swish", "prelu", "maxout")

# Constants of the fixed-parameter activations (Keras' and PyTorch's values).
ELU_ALPHA = 1.0
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

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

# Stochastic optimizers run inside the compiled epoch. Each one declares:
# - code: what compiled kernels switch on;
# - buffers: the arrays it keeps, each the size of the parameters (one or two);
# - hyper: the HYPER_FIELDS its update reads besides the learning rate;
# - reports_rate: whether its step's first scalar is the step size, kept as
#   the state's ``learning_rate`` (scikit-learn's Adam keeps its
#   bias-corrected rate); Nadam's two coefficients are not one rate.
# Its formulas, once per language: the NumPy reference
# (``backends/_numpy.py``), Cython (``src/_updates.pxd``: ``optimizer_step``)
# and Numba, CPU and CUDA (``backends/_scalar.py``: ``update``), with
# ``step_scalars`` where a step has scalars of its own.
OPTIMIZER_SPECS = {
    "sgd": dict(code=0, buffers=("velocity",), hyper=("momentum", "nesterov"),
                reports_rate=True),
    "adam": dict(code=1, buffers=("ms", "vs"), hyper=("beta_1", "beta_2", "epsilon"),
                 reports_rate=True),
    "rmsprop": dict(code=2, buffers=("vs",), hyper=("rho", "epsilon"), reports_rate=True),
    "adagrad": dict(code=3, buffers=("accumulator",), hyper=("epsilon",), reports_rate=True),
    "adamw": dict(code=4, buffers=("ms", "vs"),
                  hyper=("beta_1", "beta_2", "epsilon", "weight_decay"), reports_rate=True),
    "nadam": dict(code=5, buffers=("ms", "vs"), hyper=("beta_1", "beta_2", "epsilon"),
                  reports_rate=False),
}

OPTIMIZERS = {name: spec["code"] for name, spec in OPTIMIZER_SPECS.items()}

# Nadam's momentum schedule, mu_t = beta_1 * (1 - 0.5 * 0.96 ** (t * decay))
# (Dozat 2016, with Keras' and PyTorch's decay).
NADAM_MOMENTUM_DECAY = 0.004

# Layout of the float64 ``hyper`` array each optimizer hands the kernels
# (clipnorm 0: no clipping).
HYPER_FIELDS = (
    "learning_rate", "momentum", "nesterov", "beta_1", "beta_2", "epsilon", "rho",
    "weight_decay", "clipnorm",
)

# The estimator parameter a hyper field is read from, where the names differ.
HYPER_PARAMETERS = {"nesterov": "nesterovs_momentum"}

STOCHASTIC_SOLVERS = tuple(OPTIMIZERS)
