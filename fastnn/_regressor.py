"""MLPRegressor: the drop-in for scikit-learn's multi-layer perceptron regressor."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._docstrings import document_estimator
from ._multilayer_perceptron import BaseMultilayerPerceptron
from ._plain_input import plain_training_data


@document_estimator(score="R2 score", split="")
class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    """Multi-layer Perceptron regressor, a drop-in for scikit-learn's.

    Optimizes the (half) squared error or the half Poisson deviance with
    L-BFGS or a mini-batch stochastic solver; parameters, attributes and, in float64
    with the same ``random_state``, the learned model are those of
    :class:`sklearn.neural_network.MLPRegressor`.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        The loss; 'poisson' uses an exponential output (log link) and
        needs ``y >= 0``.
    %(parameters)s

    Attributes
    ----------
    %(attributes)s

    See Also
    --------
    MLPClassifier : Multi-layer Perceptron classifier.
    sklearn.neural_network.MLPRegressor : The estimator this one replaces.

    Examples
    --------
    >>> from fastnn import MLPRegressor
    >>> from sklearn.datasets import make_regression
    >>> X, y = make_regression(n_samples=200, n_features=20, random_state=1)
    >>> reg = MLPRegressor(random_state=1, max_iter=2000, tol=0.1).fit(X, y)
    >>> reg.score(X, y) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss="squared_error",
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
            loss=loss,
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

    def predict(self, X):
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        check_is_fitted(self)
        return self._predict(X)

    _score_function = staticmethod(r2_score)

    def _targets_as_given(self, Y):
        """Targets as ``fit`` took them, from their 2-D form ``Y``."""
        return Y.ravel() if Y.shape[1] == 1 else Y

    def _validation_targets(self, y_val):
        """``y_val`` as scored and as trained on (2-D), checked against ``y``."""
        y_val = check_array(y_val, ensure_2d=False, dtype="numeric", input_name="y_val")
        Y_val = y_val.reshape(-1, 1) if y_val.ndim == 1 else y_val
        if Y_val.ndim != 2 or Y_val.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y_val must have {self.n_outputs_} output(s) like y, got shape {y_val.shape}."
            )
        if self.loss == "poisson" and np.any(y_val < 0):
            raise ValueError(
                "Some value(s) of y_val are negative which is not allowed for "
                "loss='poisson' (its log link needs y >= 0)."
            )
        return y_val, Y_val

    def _decode(self, y_pred):
        """Predictions from network outputs (1-D for one output)."""
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _validate_input(self, X, y, incremental, reset):
        # y_numeric only converts object targets, which take the full path.
        plain = plain_training_data(self, X, y, reset)
        X, y = plain if plain is not None else validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for "
                "loss='poisson' (its log link needs y >= 0)."
            )
        return X, y

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : ndarray of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            Trained MLP model.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)
