"""fastnn: fast multi-layer perceptrons behind the scikit-learn API.

``from fastnn import MLPClassifier, MLPRegressor`` replaces the estimators of
``sklearn.neural_network``; the training runs in compiled kernels.
"""

from . import _check_build  # noqa: F401  (readable error if the extension is missing)
from . import callbacks
from ._classifier import MLPClassifier
from ._convert import from_sklearn, to_sklearn
from ._plotting import plot_learning_curves
from ._regressor import MLPRegressor
from ._version import __version__
from .backends import available_backends, get_backend, show_backends

__all__ = [
    "MLPClassifier",
    "MLPRegressor",
    "available_backends",
    "callbacks",
    "from_sklearn",
    "get_backend",
    "plot_learning_curves",
    "show_backends",
    "to_sklearn",
    "__version__",
]
