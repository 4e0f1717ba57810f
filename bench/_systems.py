"""The systems compared: each fastnn backend, scikit-learn, PyTorch CPU.

Every system is a pair of estimator factories with scikit-learn's
parameters, so a workload writes its fit once and runs it on all of them. A
system that cannot run here (PyTorch not installed, a fastnn backend whose
dependency is missing) is kept, marked absent with the reason, so the
report can say so.
"""

import functools
import warnings
from dataclasses import dataclass

from sklearn import neural_network
from sklearn.exceptions import ConvergenceWarning

import fastnn

# The pure-NumPy backend is the tests' slow oracle; benched only when named.
NOT_BENCHED_BY_DEFAULT = ("numpy",)


@dataclass(frozen=True)
class System:
    """One column of the comparison.

    Attributes
    ----------
    name : str
        Key in the results: ``fastnn-<backend>``, ``sklearn`` or ``pytorch``.
    label : str
        Name shown in tables and plots.
    classifier, regressor : callable or None
        Estimator factories taking scikit-learn's MLP parameters.
    is_fastnn : bool
        Whether this is a fastnn backend (the numerator of every ratio).
    absent : str or None
        Why the system cannot run here; None when it can.
    """

    name: str
    label: str
    classifier: object = None
    regressor: object = None
    is_fastnn: bool = False
    absent: str = None

    def estimator(self, task, **params):
        """An unfitted estimator for ``task`` ('classification' or 'regression')."""
        factory = self.classifier if task == "classification" else self.regressor
        return factory(**params)


def _fastnn_system(backend):
    name, label = f"fastnn-{backend}", f"fastnn[{backend}]"
    try:
        fastnn.get_backend(backend)
    except ImportError as exc:
        return System(name, label, is_fastnn=True, absent=f"backend cannot run here: {exc}")
    if backend == "cuda" and "simulator" in fastnn.backends.backend_status()["cuda"][1]:
        return System(name, label, is_fastnn=True,
                      absent="runs on Numba's CUDA simulator here: its timings mean nothing")
    return System(
        name,
        label,
        functools.partial(fastnn.MLPClassifier, backend=backend),
        functools.partial(fastnn.MLPRegressor, backend=backend),
        is_fastnn=True,
    )


def _torch_system(enabled):
    name, label = "pytorch", "PyTorch CPU"
    if not enabled:
        return System(name, label, absent="left out (--no-torch)")
    try:
        from ._torch_mlp import TorchMLPClassifier, TorchMLPRegressor
    except ImportError as exc:
        return System(name, label, absent=f"not importable ({exc})")
    return System(name, label, TorchMLPClassifier, TorchMLPRegressor)


def default_backends():
    """fastnn backends benched when ``--backends`` is not given."""
    return [b for b in fastnn.available_backends() if b not in NOT_BENCHED_BY_DEFAULT]


def build_systems(backends, with_torch):
    """All systems of a run, fastnn backends first.

    Parameters
    ----------
    backends : list of str
        fastnn backends to bench.
    with_torch : bool
        Whether to try PyTorch.

    Returns
    -------
    systems : list of System
    """
    unknown = sorted(set(backends) - set(fastnn.available_backends()))
    if unknown:
        raise ValueError(
            f"Unknown fastnn backend(s) {unknown}; known: {list(fastnn.available_backends())}."
        )
    sklearn = System(
        "sklearn", "scikit-learn", neural_network.MLPClassifier, neural_network.MLPRegressor
    )
    return [*(_fastnn_system(b) for b in backends), sklearn, _torch_system(with_torch)]


def quiet_fit(est, X, y):
    """``est.fit(X, y)`` with ConvergenceWarning silenced (fixed epoch counts end unconverged)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def epochs_fit(system, task, X, y, epochs, **params):
    """A callable that trains exactly ``epochs`` epochs and returns the estimator.

    ``tol=0`` and an unreachable ``n_iter_no_change`` switch off early
    stopping, so every system runs the same number of epochs.
    """

    def fit():
        est = system.estimator(
            task, max_iter=epochs, tol=0.0, n_iter_no_change=10**9, random_state=0, **params
        )
        return quiet_fit(est, X, y)

    return fit
