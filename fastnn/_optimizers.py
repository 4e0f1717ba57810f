"""State of the stochastic optimizers, kept on the estimator between epochs.

The per-step arithmetic runs in the backends' compiled epoch; this module
holds what lives across epochs (moment buffers, step count, learning rate)
and the once-per-epoch schedule rules, which follow scikit-learn's
``SGDOptimizer`` and ``AdamOptimizer`` exactly.
"""

import numpy as np

from ._registry import OPTIMIZERS


class SGDState:
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
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocity = np.zeros(n_params, dtype=dtype)
        self.t = 0

    @property
    def buffers(self):
        return self.velocity, self.velocity[:0]

    def hyper(self):
        """Scalars the compiled update reads: lr, momentum, nesterov, b1, b2, eps."""
        return np.array(
            [self.learning_rate, self.momentum, float(self.nesterov), 0.0, 0.0, 0.0]
        )

    def iteration_ends(self, time_step):
        """Apply the 'invscaling' schedule once an epoch is over."""
        if self.lr_schedule == "invscaling":
            self.learning_rate = float(self.learning_rate_init) / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg, verbose):
        """Return True to stop; with 'adaptive', divide the step by 5 instead."""
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


class AdamState:
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
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.ms = np.zeros(n_params, dtype=dtype)
        self.vs = np.zeros(n_params, dtype=dtype)

    @property
    def buffers(self):
        return self.ms, self.vs

    def hyper(self):
        """Scalars the compiled update reads: lr, momentum, nesterov, b1, b2, eps."""
        return np.array(
            [self.learning_rate_init, 0.0, 0.0, self.beta_1, self.beta_2, self.epsilon]
        )

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, verbose):
        if verbose:
            print(msg + " Stopping.")
        return True


def make_optimizer(estimator, n_params, dtype):
    """Create the optimizer state that ``estimator.solver`` names."""
    if estimator.solver == "sgd":
        return SGDState(
            n_params,
            dtype,
            estimator.learning_rate_init,
            estimator.learning_rate,
            estimator.momentum,
            estimator.nesterovs_momentum,
            estimator.power_t,
        )
    return AdamState(
        n_params,
        dtype,
        estimator.learning_rate_init,
        estimator.beta_1,
        estimator.beta_2,
        estimator.epsilon,
    )
