"""MLPClassifier: the drop-in for scikit-learn's multi-layer perceptron classifier."""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from ._docstrings import document_estimator
from ._labels import fitted_binarizer, label_codes
from ._multilayer_perceptron import BaseMultilayerPerceptron
from ._plain_input import plain_training_data


@document_estimator(score="accuracy", split=" (stratified)")
class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    """Multi-layer Perceptron classifier, a drop-in for scikit-learn's.

    Optimizes the log-loss with L-BFGS or a mini-batch stochastic solver
    (SGD, Adam, AdamW, Nadam, RMSprop or Adagrad). Parameters, defaults, fitted attributes and, in
    float64 with the same ``random_state``, the learned model are those of
    :class:`sklearn.neural_network.MLPClassifier`; the training runs in
    compiled code (one call per epoch) chosen by ``backend``.

    Parameters
    ----------
    %(parameters)s
    class_weight : dict, list of dict, 'balanced' or None, default=None
        Weights of the classes, multiplying ``sample_weight`` (as in
        scikit-learn's other classifiers): ``{label: weight}``, for
        multilabel targets a list of ``{0: w0, 1: w1}`` dicts (one per
        output), or ``'balanced'``: ``n_samples / (n_classes * count)``
        from the ``y`` given to ``fit``. Like sample weights, they weigh the
        average loss of a batch. ``'balanced'`` is refused by
        ``partial_fit``, which never sees all the data: compute the weights
        once (``sklearn.utils.class_weight.compute_class_weight``) and pass
        the dict.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels for each output.
    %(attributes)s

    See Also
    --------
    MLPRegressor : Multi-layer Perceptron regressor.
    sklearn.neural_network.MLPClassifier : The estimator this one replaces.

    Examples
    --------
    >>> from fastnn import MLPClassifier
    >>> from sklearn.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(random_state=0, max_iter=50).fit(X / 16, y)
    >>> clf.score(X / 16, y) > 0.95
    True
    """

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, list, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        backend="auto",
        n_threads=None,
        negative_slope=0.2,
        maxout_pieces=2,
        init="sklearn",
        rho=0.9,
        weight_decay=0.004,
        l1=0.0,
        restore_best_weights=True,
        clipnorm=None,
        dropout=0.0,
        batch_norm=False,
        batch_norm_momentum=0.99,
        batch_norm_epsilon=1e-3,
        class_weight=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss="log_loss",
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            backend=backend,
            n_threads=n_threads,
            negative_slope=negative_slope,
            maxout_pieces=maxout_pieces,
            init=init,
            rho=rho,
            weight_decay=weight_decay,
            l1=l1,
            restore_best_weights=restore_best_weights,
            clipnorm=clipnorm,
            dropout=dropout,
            batch_norm=batch_norm,
            batch_norm_momentum=batch_norm_momentum,
            batch_norm_epsilon=batch_norm_epsilon,
        )
        self.class_weight = class_weight

    def _validate_input(self, X, y, incremental, reset):
        plain = plain_training_data(self, X, y, reset)
        X, y = plain if plain is not None else validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)

        # A fresh fit (re)defines the classes; warm_start and partial_fit
        # must see only classes the model already knows.
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = fitted_binarizer(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        if len(self.classes_) < 2 and self._label_binarizer.y_type_ != "multilabel-indicator":
            raise ValueError(
                "MLPClassifier needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {self.classes_[0]!r}."
            )
        # bool keeps float32 data from being upcast; the backend casts to X's dtype.
        return X, self._encode_labels(y)

    def _weigh_samples(self, Y, sample_weight):
        """``sample_weight`` times the class weight of each sample's label(s)."""
        if self.class_weight is None:
            return sample_weight
        if isinstance(self.class_weight, dict):
            classes = set(self.classes_)
            unknown = [k for k in self.class_weight if k not in classes]
            if unknown:
                raise ValueError(
                    f"class_weight names labels that are not classes of y: {unknown}; "
                    f"the classes are {list(self.classes_)}."
                )
        _check_class_weight_values(self.class_weight)
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            labels = Y.astype(np.intp)
        elif Y.shape[1] == 1:
            labels = self.classes_[Y[:, 0].astype(np.intp)]
        else:
            labels = self.classes_[Y.argmax(axis=1)]
        weights = compute_sample_weight(self.class_weight, labels)
        if sample_weight is None:
            return weights
        with np.errstate(over="ignore"):
            weights = sample_weight * weights
        if not np.isfinite(weights).all():
            raise ValueError("sample_weight times class_weight overflows: scale the weights "
                             "down (only their ratios matter).")
        return weights

    def _encode_labels(self, y):
        """``self._label_binarizer.transform(y)`` as bool, y's labels being known.

        Single-label targets are encoded directly (LabelBinarizer's rule: one
        column ``y == classes_[1]`` for two classes, else one-hot), skipping the
        target-type inference that transform repeats after fit; anything else,
        or a label not in ``classes_``, goes through the binarizer.
        """
        lb = self._label_binarizer
        classes = self.classes_
        if y.ndim == 1 and lb.y_type_ in ("binary", "multiclass") and len(classes) >= 2:
            codes = label_codes(y, classes)
            if codes is not None:
                if lb.y_type_ == "binary":
                    return (codes == 1)[:, np.newaxis]
                Y = np.zeros((y.shape[0], len(classes)), dtype=bool)
                Y[np.arange(y.shape[0]), codes] = True
                return Y
        return lb.transform(y).astype(bool)

    def predict(self, X):
        """Predict using the multi-layer perceptron classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        check_is_fitted(self)
        return self._predict(X)

    _score_function = staticmethod(accuracy_score)

    def _targets_as_given(self, Y):
        """Labels of the encoded targets ``Y`` (for callbacks that score)."""
        return self._label_binarizer.inverse_transform(Y)

    def _validation_targets(self, y_val):
        """``y_val`` as scored (labels) and as trained on (encoded), checked against ``y``."""
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            if (
                y_val.ndim != 2
                or y_val.shape[1] != self.n_outputs_
                or not np.isin(y_val, (0, 1)).all()
            ):
                raise ValueError(
                    f"y_val must be a 0/1 indicator matrix with {self.n_outputs_} columns "
                    "like y (multilabel targets)."
                )
            return y_val, y_val.astype(bool)
        if y_val.ndim != 1:
            raise ValueError(f"y_val must be 1-D like y, got shape {y_val.shape}.")
        known = set(self.classes_.tolist())
        unknown = [label for label in unique_labels(y_val).tolist() if label not in known]
        if unknown:
            raise ValueError(
                f"y_val has labels that are not classes of y: {unknown}; the classes "
                f"are {self.classes_.tolist()}."
            )
        return y_val, self._encode_labels(y_val)

    def _decode(self, y_pred):
        """Labels from network outputs."""
        if self._label_binarizer.y_type_ == "multiclass":
            # LabelBinarizer.inverse_transform's own rule, minus its checks
            # (a third of a one-row predict).
            return self.classes_.take(y_pred.argmax(axis=1), mode="clip")
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array of shape (n_classes,), default=None
            Classes across all calls to partial_fit; required on the first call.

        Returns
        -------
        self : object
            Trained MLP model.
        """
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: each call sees "
                "only a part of the data. Compute the weights once with "
                "sklearn.utils.class_weight.compute_class_weight and pass them as a dict."
            )
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict_log_proba(self, X):
        """Return the log of probability estimates.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``.
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``.
        """
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _check_class_weight_values(class_weight):
    """Refuse a class weight that is not a finite number >= 0 (as for ``sample_weight``)."""
    dicts = [class_weight] if isinstance(class_weight, dict) else (
        class_weight if isinstance(class_weight, list) else [])
    for weights in dicts:
        if not isinstance(weights, dict):
            raise TypeError(f"class_weight's list must hold dicts, got {weights!r}.")
        for label, weight in weights.items():
            if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, (Real, np.number)):
                raise TypeError(f"class_weight of class {label!r} must be a number, "
                                f"got {weight!r}.")
            if not (np.isfinite(weight) and weight >= 0):
                raise ValueError(f"class_weight of class {label!r} must be a finite number "
                                 f">= 0, got {weight!r}.")

