"""State of the stochastic optimizers, kept on the estimator between epochs.

The per-step arithmetic runs in the backends' compiled epoch; this module
holds what lives across epochs (moment buffers, step count, learning rate)
and the once-per-epoch schedule rules. ``sgd`` and ``adam`` follow
scikit-learn's ``SGDOptimizer`` and ``AdamOptimizer`` exactly; ``rmsprop``,
``adagrad``, ``adamw`` and ``nadam`` follow PyTorch's formulas (which Keras
shares up to where epsilon goes), see ``fastnn/backends/_scalar.py``.

One class serves every optimizer, from its entry in
``_registry.OPTIMIZER_SPECS`` (its buffers and hyper-parameters); SGD adds
its learning-rate schedules. Every state hands the kernels the same things:
``hyper()`` (float64, laid out as ``_registry.HYPER_FIELDS``), two buffers
the size of the parameters (the second empty when unused), and the step
counters ``(t, mu_product)``.
"""

import numpy as np

from ._registry import HYPER_FIELDS, HYPER_PARAMETERS, OPTIMIZER_SPECS


class OptimizerState:
    """The state of a stochastic optimizer, between epochs.

    Parameters
    ----------
    name : str
        A key of ``_registry.OPTIMIZER_SPECS``.
    n_params : int
        Size of the flat parameter buffer.
    dtype : numpy dtype
        Dtype of the parameters, and of the optimizer's buffers.
    learning_rate_init : float
        Base step size.
    **hyper
        The optimizer's hyper-parameters, by their ``HYPER_FIELDS`` names
        (the spec's ``hyper``), for example ``beta_1`` for Adam.

    Attributes
    ----------
    code : int
        The optimizer's code, as the kernels switch on it.
    learning_rate : float
        The step size of the last update (for Adam, bias-corrected).
    t : int
        Number of steps taken.
    """

    # Hyper-parameters an optimizer does not have read as 0.
    momentum = nesterov = beta_1 = beta_2 = epsilon = rho = weight_decay = 0.0
    # Keras' clipnorm, set by the estimator before each fit (0: none).
    clipnorm = 0.0

    def __init__(self, name, n_params, dtype, learning_rate_init, **hyper):
        spec = OPTIMIZER_SPECS[name]
        if set(hyper) != set(spec["hyper"]):
            raise TypeError(
                f"The {name!r} optimizer takes the hyper-parameters {spec['hyper']}, "
                f"got {tuple(hyper)}."
            )
        self.name = name
        self.code = spec["code"]
        for field, value in hyper.items():
            setattr(self, field, value)
        for buffer in spec["buffers"]:
            setattr(self, buffer, np.zeros(n_params, dtype=dtype))
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.t = 0
        # Nadam's running product of its momentum schedule (1 for the others).
        self.mu_product = 1.0

    @property
    def buffers(self):
        """The two buffers the kernels update (the second empty when unused)."""
        names = OPTIMIZER_SPECS[self.name]["buffers"]
        first = getattr(self, names[0])
        return first, getattr(self, names[1]) if len(names) > 1 else first[:0]

    def hyper(self):
        """The scalars the compiled update reads, as ``_registry.HYPER_FIELDS``."""
        rest = [float(getattr(self, name)) for name in HYPER_FIELDS[1:]]
        return np.array([float(self._base_rate()), *rest], dtype=np.float64)

    def _base_rate(self):
        # learning_rate may be the last bias-corrected step; each step starts
        # again from the base rate.
        return self.learning_rate_init

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
        if OPTIMIZER_SPECS[self.name]["reports_rate"]:
            self.learning_rate = rate

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, verbose):
        if verbose:
            print(msg + " Stopping.")
        return True


class SGDState(OptimizerState):
    """Stochastic gradient descent with (Nesterov) momentum and scikit-learn's schedules.

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
    power_t : float
        Exponent of the 'invscaling' schedule.
    momentum : float
        Momentum coefficient.
    nesterov : bool
        Whether to use Nesterov's momentum.
    """

    def __init__(self, n_params, dtype, learning_rate_init, lr_schedule, power_t, *,
                 momentum, nesterov):
        super().__init__("sgd", n_params, dtype, learning_rate_init, momentum=momentum,
                         nesterov=nesterov)
        self.lr_schedule = lr_schedule
        self.power_t = power_t

    def _base_rate(self):
        # The schedules change learning_rate itself.
        return self.learning_rate

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
            try:
                decay = (time_step + 1) ** self.power_t
            except OverflowError:  # a huge power_t: the rate is 0 to a float
                decay = float("inf")
            self.learning_rate = float(self.learning_rate_init) / decay

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


def make_optimizer(estimator, n_params, dtype):
    """Create the state of the optimizer ``estimator.solver`` names.

    Its hyper-parameters are read from the estimator's parameters of the
    same names (``_registry.HYPER_PARAMETERS`` maps those that differ).
    """
    solver = estimator.solver
    hyper = {field: getattr(estimator, HYPER_PARAMETERS.get(field, field))
             for field in OPTIMIZER_SPECS[solver]["hyper"]}
    if solver == "sgd":
        return SGDState(n_params, dtype, estimator.learning_rate_init, estimator.learning_rate,
                        estimator.power_t, **hyper)
    return OptimizerState(solver, n_params, dtype, estimator.learning_rate_init, **hyper)
