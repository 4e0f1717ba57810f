"""State of the stochastic optimizers, kept on the estimator between epochs.

The per-step arithmetic runs in the backends' compiled epoch; this module
holds what lives across epochs (moment buffers, step count, learning rate)
and the once-per-epoch schedule rules. ``sgd`` and ``adam`` follow
scikit-learn's ``SGDOptimizer`` and ``AdamOptimizer`` exactly; ``rmsprop``,
``adagrad``, ``adamw`` and ``nadam`` follow PyTorch's formulas (which Keras
shares up to where epsilon goes), see ``fastnn/backends/_scalar.py``.

Every state hands the kernels the same things: ``hyper()`` (float64, laid out
as ``_registry.HYPER_FIELDS``), two buffers the size of the parameters (empty
when unused), and the step counters ``(t, mu_product)``.
"""

import numpy as np

from ._registry import HYPER_FIELDS, OPTIMIZERS


class _State:
    """What every optimizer state shares; subclasses set ``code`` and buffers."""

    # Hyper-parameters a subclass does not have read as 0.
    momentum = nesterov = beta_1 = beta_2 = epsilon = rho = weight_decay = 0.0
    # Keras' clipnorm, set by the estimator before each fit (0: none).
    clipnorm = 0.0

    def __init__(self, learning_rate_init):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.t = 0
        # Nadam's running product of its momentum schedule (1 for the others).
        self.mu_product = 1.0

    def hyper(self):
        """The scalars the compiled update reads, as ``_registry.HYPER_FIELDS``."""
        rest = [float(getattr(self, name)) for name in HYPER_FIELDS[1:]]
        return np.array([float(self._base_rate()), *rest], dtype=np.float64)

    def _base_rate(self):
        return self.learning_rate

    def get_learning_rate(self):
        """The base step size the next updates use (what a schedule reads and sets)."""
        return float(self._base_rate())

    def set_learning_rate(self, rate):
        """Make ``rate`` the base step size of the next updates.

        For schedules outside the optimizer (``fastnn.callbacks``); the
        kernels read it from the next epoch on. Both fields are set: the
        compiled kernels read ``hyper()`` and the NumPy reference reads
        ``learning_rate_init`` for all but ``sgd``.
        """
        rate = float(rate)
        if not (np.isfinite(rate) and rate > 0):
            raise ValueError(
                f"The learning rate must be a positive finite number, got {rate!r}."
            )
        self.learning_rate = self.learning_rate_init = rate

    def counters(self):
        """``[t, mu_product]``: the kernels advance them batch by batch."""
        return np.array([self.t, self.mu_product], dtype=np.float64)

    def set_counters(self, counters):
        self.t = int(counters[0])
        self.mu_product = float(counters[1])

    def record_rate(self, rate):
        """Keep the step size of the epoch's last update as ``learning_rate``."""
        self.learning_rate = rate

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, verbose):
        if verbose:
            print(msg + " Stopping.")
        return True


class SGDState(_State):
    """Stochastic gradient descent with (Nesterov) momentum.

    Parameters
    ----------
    n_params : int
        Size of the flat parameter buffer.
    dtype : numpy dtype
        Dtype of the parameters.
    learning_rate_init : float
        Initial step size.
    lr_schedule : {'constant', 'invscaling', 'adaptive'}
        Learning-rate schedule, applied at the end of each epoch.
    momentum : float
        Momentum coefficient.
    nesterov : bool
        Whether to use Nesterov's momentum.
    power_t : float
        Exponent of the 'invscaling' schedule.
    """

    code = OPTIMIZERS["sgd"]

    def __init__(self, n_params, dtype, learning_rate_init, lr_schedule, momentum, nesterov, power_t):
        super().__init__(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocity = np.zeros(n_params, dtype=dtype)

    @property
    def buffers(self):
        return self.velocity, self.velocity[:0]

    def set_learning_rate(self, rate):
        """Make ``rate`` the step size of the next updates.

        With 'invscaling' the whole schedule is scaled, so it decays on from
        ``rate``: ``learning_rate_init`` is multiplied by ``rate / learning_rate``.
        """
        if self.lr_schedule != "invscaling":
            return super().set_learning_rate(rate)
        previous_rate, initial_rate = self.learning_rate, self.learning_rate_init
        super().set_learning_rate(rate)
        self.learning_rate_init = float(initial_rate) * self.learning_rate / previous_rate

    def iteration_ends(self, time_step):
        """Apply the 'invscaling' schedule once an epoch is over."""
        if self.lr_schedule == "invscaling":
            self.learning_rate = float(self.learning_rate_init) / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg, verbose):
        """Return True to stop; with 'adaptive', divide the step by 5 instead."""
        if self.lr_schedule != "adaptive":
            return super().trigger_stopping(msg, verbose)
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


class AdamState(_State):
    """Adam (Kingma and Ba), with scikit-learn's bias correction of the step.

    Parameters
    ----------
    n_params : int
        Size of the flat parameter buffer.
    dtype : numpy dtype
        Dtype of the parameters.
    learning_rate_init : float
        Base step size.
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates.
    epsilon : float
        Added to the denominator for numerical stability.
    """

    code = OPTIMIZERS["adam"]

    def __init__(self, n_params, dtype, learning_rate_init, beta_1, beta_2, epsilon):
        super().__init__(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.ms = np.zeros(n_params, dtype=dtype)
        self.vs = np.zeros(n_params, dtype=dtype)

    @property
    def buffers(self):
        return self.ms, self.vs

    def _base_rate(self):
        # learning_rate is the last bias-corrected step; each step starts again
        # from the base rate.
        return self.learning_rate_init


class AdamWState(AdamState):
    """AdamW (Loshchilov and Hutter): Adam with decoupled weight decay.

    Before each Adam step the weights (not the biases, as with ``alpha``) are
    multiplied by ``1 - learning_rate_init * weight_decay``, as PyTorch's and
    Keras' AdamW do. With ``weight_decay=0`` it is Adam.
    """

    code = OPTIMIZERS["adamw"]

    def __init__(self, n_params, dtype, learning_rate_init, beta_1, beta_2, epsilon,
                 weight_decay):
        super().__init__(n_params, dtype, learning_rate_init, beta_1, beta_2, epsilon)
        self.weight_decay = weight_decay


class NadamState(AdamState):
    """Nadam (Dozat): Adam with Nesterov momentum and a momentum schedule.

    ``mu_t = beta_1 * (1 - 0.5 * 0.96 ** (0.004 t))``; the step of each
    parameter is ``lr (1 - mu_t) / (1 - prod_{i<=t} mu_i) * g / d +
    lr mu_{t+1} / (1 - prod_{i<=t+1} mu_i) * m / d`` with
    ``d = sqrt(v / (1 - beta_2 ** t)) + epsilon`` (PyTorch's NAdam).
    """

    code = OPTIMIZERS["nadam"]

    def record_rate(self, rate):
        # Nadam's steps have two coefficients; learning_rate stays the base rate.
        pass


class RMSpropState(_State):
    """RMSprop (Hinton): ``v = rho v + (1 - rho) g^2``, step ``lr g / (sqrt(v) + eps)``."""

    code = OPTIMIZERS["rmsprop"]

    def __init__(self, n_params, dtype, learning_rate_init, rho, epsilon):
        super().__init__(learning_rate_init)
        self.rho = rho
        self.epsilon = epsilon
        self.vs = np.zeros(n_params, dtype=dtype)

    @property
    def buffers(self):
        return self.vs, self.vs[:0]


class AdagradState(_State):
    """Adagrad (Duchi et al.): ``G += g^2``, step ``lr g / (sqrt(G) + eps)``."""

    code = OPTIMIZERS["adagrad"]

    def __init__(self, n_params, dtype, learning_rate_init, epsilon):
        super().__init__(learning_rate_init)
        self.epsilon = epsilon
        self.accumulator = np.zeros(n_params, dtype=dtype)

    @property
    def buffers(self):
        return self.accumulator, self.accumulator[:0]


def make_optimizer(estimator, n_params, dtype):
    """Create the optimizer state that ``estimator.solver`` names."""
    e = estimator
    solver = e.solver
    if solver == "sgd":
        return SGDState(n_params, dtype, e.learning_rate_init, e.learning_rate, e.momentum,
                        e.nesterovs_momentum, e.power_t)
    if solver == "rmsprop":
        return RMSpropState(n_params, dtype, e.learning_rate_init, e.rho, e.epsilon)
    if solver == "adagrad":
        return AdagradState(n_params, dtype, e.learning_rate_init, e.epsilon)
    if solver == "adamw":
        return AdamWState(n_params, dtype, e.learning_rate_init, e.beta_1, e.beta_2,
                          e.epsilon, e.weight_decay)
    cls = NadamState if solver == "nadam" else AdamState
    return cls(n_params, dtype, e.learning_rate_init, e.beta_1, e.beta_2, e.epsilon)
