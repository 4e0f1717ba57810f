"""Conversion between fitted fastnn and scikit-learn estimators.

``to_sklearn`` hands a fitted fastnn model to tools written for
``sklearn.neural_network`` (exporters such as skl2onnx, explainers);
``from_sklearn`` brings a fitted scikit-learn model into fastnn, to predict
or keep training with the compiled kernels. Both copy the parameters and
the fitted attributes, so the two models predict the same, and neither
shares memory with the other.
"""

import copy
import warnings

import numpy as np
from sklearn import neural_network
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from ._batch_norm import fold
from ._classifier import MLPClassifier
from ._multilayer_perceptron import BaseMultilayerPerceptron
from ._regressor import MLPRegressor

# scikit-learn's hidden activations and solvers.
SKLEARN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
SKLEARN_SOLVERS = ("lbfgs", "sgd", "adam")

# Fitted attributes both libraries set, beyond the parameter arrays.
SHARED_ATTRIBUTES = (
    "n_features_in_", "feature_names_in_", "classes_", "_label_binarizer", "n_iter_",
    "n_layers_", "n_outputs_", "out_activation_", "loss_", "best_loss_", "loss_curve_",
    "validation_scores_", "best_validation_score_", "t_", "_no_improvement_count",
)


def _copy_attributes(source, target):
    """Deep copies of the ``SHARED_ATTRIBUTES`` that ``source`` has, set on ``target``."""
    for name in SHARED_ATTRIBUTES:
        if name in source.__dict__:
            setattr(target, name, copy.deepcopy(source.__dict__[name]))


# fastnn parameters that change nothing a converted model learned: where and
# on how many threads the backend ran, and the parameters of activations
# to_sklearn refuses.
NOT_TRAINING_SETTINGS = ("backend", "n_threads", "negative_slope", "maxout_pieces")


def _fastnn_only_settings(est, shared):
    """``name=value`` of ``est``'s training settings off their defaults that are not
    among scikit-learn's parameters ``shared``."""
    defaults = type(est)().get_params()
    return [f"{name}={value!r}" for name, value in est.get_params().items()
            if name not in shared and name not in NOT_TRAINING_SETTINGS
            and repr(value) != repr(defaults[name])]


def _sklearn_class(est):
    return neural_network.MLPClassifier if is_classifier(est) else neural_network.MLPRegressor


def to_sklearn(estimator):
    """The equivalent fitted ``sklearn.neural_network`` estimator.

    Parameters
    ----------
    estimator : fastnn.MLPClassifier or fastnn.MLPRegressor
        A fitted model whose hidden layers all use one of scikit-learn's
        activations (``'identity'``, ``'logistic'``, ``'tanh'``, ``'relu'``).
        Batch normalization is folded into the weights (it is affine at
        predict time); dropout, which only acts in training, is left out.

    Returns
    -------
    sklearn_estimator : sklearn.neural_network.MLPClassifier or MLPRegressor
        Fitted: ``coefs_``, ``intercepts_`` and the other fitted attributes
        are copies, so it predicts as ``estimator`` does (to rounding, with
        batch normalization). Its parameters are ``estimator``'s; where
        scikit-learn cannot take one (a solver it lacks), its default is used
        and a ``UserWarning`` lists it, with the fastnn-only training settings
        (dropout, batch normalization, ...) that a refit would not reproduce.

    Raises
    ------
    TypeError
        If ``estimator`` is not a fastnn MLP.
    ValueError
        If a hidden layer uses an activation scikit-learn lacks (or layers
        use different ones), or the model has trained prelu slopes.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from fastnn import MLPClassifier, to_sklearn
    >>> X, y = load_iris(return_X_y=True)
    >>> est = MLPClassifier(max_iter=300, random_state=0).fit(X, y)
    >>> sk = to_sklearn(est)
    >>> type(sk).__module__
    'sklearn.neural_network._multilayer_perceptron'
    >>> bool((sk.predict(X) == est.predict(X)).all())
    True
    """
    if not isinstance(estimator, BaseMultilayerPerceptron):
        raise TypeError(
            "to_sklearn converts fastnn.MLPClassifier and fastnn.MLPRegressor; got "
            f"{type(estimator).__name__}."
        )
    check_is_fitted(estimator, "coefs_")
    net = estimator._network()
    hidden = [layer.activation for layer in net.layers[:-1]]
    foreign = sorted({a for a in hidden if a not in SKLEARN_ACTIVATIONS})
    if foreign:
        raise ValueError(
            f"scikit-learn's MLPs have no {foreign} activation; to_sklearn converts models "
            f"whose hidden layers use one of {list(SKLEARN_ACTIVATIONS)}."
        )
    if len(set(hidden)) > 1:
        raise ValueError(
            f"The hidden layers use different activations {hidden}; scikit-learn's MLPs "
            "use one activation for every hidden layer."
        )
    net, theta = fold(net, estimator._flat_params(net))
    coefs, intercepts = net.views(theta.copy())

    sk_class = _sklearn_class(estimator)
    shared = sk_class().get_params()
    params = {name: value for name, value in estimator.get_params().items() if name in shared}
    params["activation"] = hidden[0] if hidden else shared["activation"]
    unsupported = _fastnn_only_settings(estimator, shared)
    if params["solver"] not in SKLEARN_SOLVERS:
        unsupported.append(f"solver={params['solver']!r} (scikit-learn's estimator gets "
                           f"{shared['solver']!r})")
        params["solver"] = shared["solver"]
    if unsupported:
        warnings.warn(
            "The scikit-learn estimator predicts as the fastnn model does, but these "
            "fastnn training settings have no scikit-learn equivalent and would not be "
            f"used if it were refitted: {', '.join(unsupported)}.",
            UserWarning,
            stacklevel=2,
        )
    sk = sk_class(**params)
    _copy_attributes(estimator, sk)
    sk.coefs_, sk.intercepts_ = list(coefs), list(intercepts)
    # What scikit-learn's early stopping restores at the end of a warm-started fit.
    sk._best_coefs = [c.copy() for c in sk.coefs_]
    sk._best_intercepts = [b.copy() for b in sk.intercepts_]
    return sk


def from_sklearn(estimator):
    """The equivalent fitted fastnn estimator of a scikit-learn MLP.

    Parameters
    ----------
    estimator : sklearn.neural_network.MLPClassifier or MLPRegressor
        A fitted model.

    Returns
    -------
    fastnn_estimator : fastnn.MLPClassifier or fastnn.MLPRegressor
        Fitted, with ``estimator``'s parameters (fastnn's other parameters
        at their defaults) and copies of its fitted attributes: it predicts
        as ``estimator`` does, and ``partial_fit`` or a ``warm_start`` fit
        continues from its weights. Validation losses, which scikit-learn
        does not record, are NaN in ``validation_loss_curve_``.

    Raises
    ------
    TypeError
        If ``estimator`` is not one of scikit-learn's MLPs.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neural_network import MLPClassifier
    >>> from fastnn import from_sklearn
    >>> X, y = load_iris(return_X_y=True)
    >>> sk = MLPClassifier(max_iter=300, random_state=0).fit(X, y)
    >>> est = from_sklearn(sk)
    >>> bool((est.predict(X) == sk.predict(X)).all())
    True
    """
    if isinstance(estimator, neural_network.MLPClassifier):
        fastnn_class = MLPClassifier
    elif isinstance(estimator, neural_network.MLPRegressor):
        fastnn_class = MLPRegressor
    else:
        raise TypeError(
            "from_sklearn converts sklearn.neural_network.MLPClassifier and MLPRegressor; "
            f"got {type(estimator).__name__}."
        )
    check_is_fitted(estimator, "coefs_")
    est = fastnn_class(**estimator.get_params())
    _copy_attributes(estimator, est)
    est.coefs_ = [np.array(c) for c in estimator.coefs_]
    est.intercepts_ = [np.array(b) for b in estimator.intercepts_]
    scores = getattr(est, "validation_scores_", None)
    est.validation_loss_curve_ = None if scores is None else [np.nan] * len(scores)
    # Packs the parameters into fastnn's flat buffer, which they then view.
    est._best_theta = est._flat_params(est._network()).copy()
    return est
