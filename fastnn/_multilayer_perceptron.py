"""The base of MLPClassifier and MLPRegressor: fitting over fastnn's backends.

The estimators (``_classifier.py``, ``_regressor.py``) keep scikit-learn's contract (parameters, fitted attributes,
random-number use, warnings) and hand every piece of math to a backend
(``fastnn.backends``): one compiled call per epoch for the stochastic solvers,
one compiled loss-and-gradient call per L-BFGS evaluation.
"""

import functools
import warnings
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.optimize
from sklearn.base import BaseEstimator, _fit_context, is_classifier
from sklearn.callback import CallbackSupportMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
    validate_data,
)

from . import _batch_norm, _dropout, _maxout, _prelu
from ._batch_norm import check_batch_norm, fold
from ._divergence import FitStart
from ._init import INIT_SCHEMES, keras_init, sklearn_uniform_init
from ._network import NetworkSpec, check_fits_in_memory, check_hidden_layer_sizes
from ._optimizers import make_optimizer
from ._param_check import check_params, init_param_names
from ._persistence import check_format, stamp
from ._registry import ACTIVATION_ALIASES, HIDDEN_ACTIVATIONS, STOCHASTIC_SOLVERS
from ._shuffle import EpochOrders
from ._sparse_input import check_sparse_structure
from ._validation import EpochClock, ValidationSet, record
from .backends import available_backends, get_backend
from .backends._data import as_compute_input, check_fits_dtype, make_train_data
from .backends._threads import thread_limit


@functools.lru_cache(maxsize=64)
def _network_spec(units, activation, loss, negative_slope, batch_norm, bn_epsilon,
                  maxout_pieces):
    # One spec per architecture, so its cached arrays outlive a predict call.
    return NetworkSpec.from_units(units, activation, loss, negative_slope, batch_norm,
                                  bn_epsilon, maxout_pieces)


_ACTIVATION_NAMES = frozenset(HIDDEN_ACTIVATIONS) | frozenset(ACTIVATION_ALIASES)

# Every fitted per-layer list that views the parameter buffer beside
# coefs_ and intercepts_ (one entry per hidden layer, None where unused).
_LAYER_ATTRIBUTES = (*_batch_norm.ATTRIBUTES, *_prelu.ATTRIBUTES)


def _canonical_activation(name):
    """The registry name of an activation given by a user (aliases resolved)."""
    if not isinstance(name, str) or name not in _ACTIVATION_NAMES:
        raise ValueError(
            f"activation entries must be among {sorted(_ACTIVATION_NAMES)}, got {name!r}."
        )
    return ACTIVATION_ALIASES.get(name, name)


class BaseMultilayerPerceptron(CallbackSupportMixin, BaseEstimator, ABC):
    """Shared fitting logic of :class:`MLPClassifier` and :class:`MLPRegressor`.

    Parameters live on the estimator; the network math runs in the backend
    named by ``backend``. Weights are stored in one flat buffer and exposed as
    ``coefs_`` / ``intercepts_`` views into it.

    Callbacks follow scikit-learn's protocol (``sklearn.callback``, set with
    ``set_callbacks``): ``fit`` is the root task and, for the stochastic
    solvers, each epoch a subtask, whose end hook may stop training.
    """

    @classmethod
    def _get_param_names(cls):
        # BaseEstimator's, without introspecting __init__ at every get_params.
        return list(init_param_names(cls))

    def _validate_params(self):
        check_params(self)

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_ACTIVATION_NAMES)), list, tuple],
        "solver": [StrOptions({"lbfgs", *STOCHASTIC_SOLVERS})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "backend": [StrOptions({"auto", *available_backends()})],
        "n_threads": [Interval(Integral, 1, None, closed="left"), Options(Integral, {-1}), None],
        "negative_slope": [Interval(Real, 0, None, closed="left")],
        **_maxout.CONSTRAINTS,
        "init": [StrOptions(set(INIT_SCHEMES))],
        "rho": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "restore_best_weights": ["boolean"],
        "clipnorm": [Interval(Real, 0, None, closed="neither"), None],
        **_dropout.CONSTRAINTS,
        **_batch_norm.CONSTRAINTS,
    }

    @abstractmethod
    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        loss,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        max_fun,
        backend,
        n_threads,
        negative_slope,
        maxout_pieces,
        init,
        rho,
        weight_decay,
        l1,
        restore_best_weights,
        clipnorm,
        dropout,
        batch_norm,
        batch_norm_momentum,
        batch_norm_epsilon,
    ):
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.backend = backend
        self.n_threads = n_threads
        self.negative_slope = negative_slope
        self.maxout_pieces = maxout_pieces
        self.rho = rho
        self.weight_decay = weight_decay
        self.l1 = l1
        self.restore_best_weights = restore_best_weights
        self.clipnorm = clipnorm
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.batch_norm_momentum = batch_norm_momentum
        self.batch_norm_epsilon = batch_norm_epsilon
        self.init = init

    # ------------------------------------------------------------------ network

    @property
    def _training_loss(self):
        """Loss the output layer is trained with (binary/multilabel use sigmoids)."""
        if self.loss == "log_loss" and self.out_activation_ == "logistic":
            return "binary_log_loss"
        return self.loss

    def _hidden_activations(self):
        """``activation`` with aliases resolved: a name, or a tuple of names.

        ``NetworkSpec.from_units`` checks that a tuple has one per hidden layer.
        """
        if isinstance(self.activation, str):
            return _canonical_activation(self.activation)
        return tuple(_canonical_activation(a) for a in self.activation)

    def _fitted_units(self):
        """Layer widths of the fitted model, input first: each layer's input
        width, then the outputs (a maxout layer's ``coefs_`` are wider)."""
        return [c.shape[0] for c in self.coefs_] + [self.coefs_[-1].shape[1]]

    def _network(self):
        """The :class:`NetworkSpec` of the fitted (or initialised) model."""
        net = _network_spec(tuple(self._fitted_units()), self._hidden_activations(),
                            self._training_loss, float(self.negative_slope),
                            _batch_norm.fitted_flags(self), float(self.batch_norm_epsilon),
                            int(self.maxout_pieces))
        _maxout.check_fitted(self, net)
        return net

    def _flat_params(self, net):
        """Flat parameter buffer that ``coefs_`` / ``intercepts_`` (and the
        batch-norm lists) view.

        Reuses ``self._theta`` while the public lists still view it; otherwise
        (after unpickling, or when a user replaced ``coefs_``) packs them anew.
        """
        _prelu.check_fitted(self, net)
        theta = getattr(self, "_theta", None)
        if theta is not None:
            # The views we handed out, held here, so identity means unchanged.
            views = self._theta_views
            current = self._param_arrays()
            if len(current) == len(views) and all(a is b for a, b in zip(current, views)):
                return theta
        batch_norm = None
        if net.has_batch_norm:
            batch_norm = tuple([*arrays, None] for arrays in (
                self.batch_norm_scales_, self.batch_norm_means_, self.batch_norm_variances_))
        slopes = getattr(self, "prelu_slopes_", None)
        theta = net.pack(self.coefs_, self.intercepts_, self.coefs_[0].dtype, batch_norm,
                         None if slopes is None else [*slopes, None])
        self._set_params_from(net, theta)
        return theta

    def _set_params_from(self, net, theta):
        """Make ``theta`` the parameter buffer and the public parameter lists its views."""
        self._theta = theta
        self.coefs_, self.intercepts_ = net.views(theta)
        _batch_norm.attach(self, net, theta)
        _prelu.attach(self, net, theta)
        self._theta_views = self._param_arrays()

    def _param_arrays(self):
        """The public parameter arrays (``coefs_``, ``intercepts_``, batch
        norm's, prelu's slopes)."""
        arrays = [*self.coefs_, *self.intercepts_]
        for name in _LAYER_ATTRIBUTES:
            arrays.extend(a for a in getattr(self, name, ()) if a is not None)
        return tuple(arrays)

    def _initialize(self, y, layer_units, dtype, batch_norm=()):
        """Set up a new model: output activation, weights and solver bookkeeping."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)

        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"

        hidden = self._hidden_activations()
        net = NetworkSpec.from_units(layer_units, hidden, self._training_loss,
                                     float(self.negative_slope), batch_norm,
                                     float(self.batch_norm_epsilon), int(self.maxout_pieces))
        check_fits_in_memory(net, dtype)
        for name in _LAYER_ATTRIBUTES:
            self.__dict__.pop(name, None)
        if self.init == "sklearn":
            theta = sklearn_uniform_init(net, self._random_state, hidden, dtype)
        else:
            theta = keras_init(net, self._random_state, self.init, dtype)
        self._set_params_from(net, theta)
        self._best_theta = theta.copy()
        _dropout.reset_stream(self)

        if self.solver in STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self.history_ = {}
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.validation_loss_curve_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.validation_loss_curve_ = None
                self.best_validation_score_ = None

    # ---------------------------------------------------------------------- fit

    def _fit(self, X, y, sample_weight=None, incremental=False, X_val=None, y_val=None,
             sample_weight_val=None):
        check_sparse_structure(X)
        check_sparse_structure(X_val, "X_val")
        hidden_layer_sizes = check_hidden_layer_sizes(self.hidden_layer_sizes)

        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        stochastic = self.solver in STOCHASTIC_SOLVERS
        callback_ctx = None
        if not incremental:
            callback_ctx = self._init_callback_context(max_subtasks=self.max_iter if stochastic else 0)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        n_samples, n_features = X.shape
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
        sample_weight = self._weigh_samples(y, sample_weight)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        self.n_outputs_ = y.shape[1]
        layer_units = [n_features] + hidden_layer_sizes + [self.n_outputs_]
        dropout_rates = _dropout.check_dropout(self.dropout, len(layer_units) - 1, self.solver)
        batch_norm = check_batch_norm(self.batch_norm, len(hidden_layer_sizes), self.solver)
        validation = self._user_validation_set(X_val, y_val, sample_weight_val, X.dtype)
        hooks = dict(X=X, y=functools.partial(self._targets_as_given, y),
                     metadata=None if sample_weight is None else {"sample_weight": sample_weight})
        if callback_ctx is not None:
            callback_ctx.call_on_fit_task_begin(estimator=self, **hooks)

        # A float32 model casts what it trains on: nothing may overflow.
        model_dtype = X.dtype if first_pass else self.coefs_[0].dtype
        for values, name in ((X, "X"), (y, "y"), (sample_weight, "sample_weight")):
            check_fits_dtype(values, model_dtype, name)

        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype, batch_norm)
        else:
            fitted_units = self._fitted_units()
            if fitted_units != layer_units:
                raise ValueError(
                    f"The fitted network has layer sizes {fitted_units}, but this call "
                    f"needs {layer_units}; hidden_layer_sizes and the data must match "
                    "the previous fit when warm_start=True or in partial_fit."
                )
            _batch_norm.check_fitted(self, batch_norm)

        net = self._network()
        theta = self._flat_params(net)
        backend = get_backend(self.backend)
        rows = self._batch_rows(X.shape[0]) if stochastic else X.shape[0]
        start = FitStart(self, theta, continuing=not first_pass)
        with thread_limit(self.n_threads), backend.fit_scope(net, rows):
            if stochastic:
                self._fit_stochastic(
                    backend, net, theta, X, y, sample_weight, incremental, validation,
                    callback_ctx, dropout_rates,
                )
            else:
                self._fit_lbfgs(backend, net, theta, X, y, sample_weight)

        # Callbacks end first: one may restore finite weights (EarlyStopping).
        if callback_ctx is not None:
            callback_ctx.call_on_fit_task_end(
                estimator=self, reconstruction_attributes=self._reconstruction_attributes, **hooks
            )
        if not np.isfinite(self._theta).all():
            how = start.restore(self, self._theta)
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                f" contain large values and need to be preprocessed. {how}"
            )
        return self

    def _reconstruction_attributes(self):
        """Fitted attributes a copy of the estimator needs to predict as the model is now.

        Callbacks get such a copy (``fitted_estimator``); the weights are
        copied, as training goes on changing them in place.
        """
        attributes = {
            "coefs_": [c.copy() for c in self.coefs_],
            "intercepts_": [b.copy() for b in self.intercepts_],
        }
        for name in _LAYER_ATTRIBUTES:
            if hasattr(self, name):
                attributes[name] = [None if a is None else a.copy() for a in getattr(self, name)]
        return attributes

    def _batch_rows(self, n_samples):
        """Rows per mini-batch on ``n_samples`` training rows."""
        if self.batch_size == "auto":
            return min(200, n_samples)
        return int(np.clip(self.batch_size, 1, n_samples))

    def _weigh_samples(self, y, sample_weight):
        """The sample weights training uses, given the encoded targets (hook)."""
        return sample_weight

    def _fit_lbfgs(self, backend, net, theta, X, y, sample_weight):
        data = make_train_data(X, y, sample_weight, theta.dtype)
        grad = np.empty_like(theta)
        cache = {}

        def loss_and_grad(x):
            # L-BFGS-B iterates in float64; the model keeps its own dtype.
            theta[...] = x
            loss = backend.loss_grad(net, theta, data, self.alpha, grad, cache, l1=self.l1)
            return loss, grad.astype(np.float64)

        iprint = 1 if (self.verbose is True or self.verbose >= 1) else -1
        opt_res = scipy.optimize.minimize(
            loss_and_grad,
            theta.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            options={
                "maxfun": self.max_fun,
                "maxiter": self.max_iter,
                "gtol": self.tol,
                **_get_additional_lbfgs_options_dict("iprint", iprint),
            },
        )
        self.n_iter_ = _check_optimize_result("lbfgs", opt_res, self.max_iter)
        self.loss_ = opt_res.fun
        theta[...] = opt_res.x

    def _user_validation_set(self, X_val, y_val, sample_weight_val, dtype):
        """The :class:`ValidationSet` of ``fit``'s ``X_val``/``y_val``, or None.

        Checked like the training data, and against it: the same features
        (count and names), classes the model knows, the same outputs.
        """
        if X_val is None and y_val is None:
            if sample_weight_val is not None:
                raise ValueError("sample_weight_val is given, but X_val and y_val are not.")
            return None
        if y_val is None:
            raise ValueError("X_val is provided, but y_val was not provided.")
        if X_val is None:
            raise ValueError("y_val is provided, but X_val was not provided.")
        X_val = validate_data(self, X_val, accept_sparse=["csr", "csc"], dtype=dtype, reset=False)
        y_val = check_array(y_val, ensure_2d=False, dtype=None, input_name="y_val")
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        check_consistent_length(X_val, y_val)
        sw = None
        if sample_weight_val is not None:
            try:
                sw = _check_sample_weight(sample_weight_val, X_val, ensure_non_negative=True)
            except ValueError as error:
                raise ValueError(f"sample_weight_val: {error}") from error
        y_val, Y_val = self._validation_targets(y_val)
        return ValidationSet(X_val, y_val, Y_val, sw)

    def _split_validation(self, X, y, sample_weight):
        """Hold out scikit-learn's validation split for early stopping.

        Returns the training part and the held-out :class:`ValidationSet`.
        """
        stratify = y if (is_classifier(self) and self.n_outputs_ == 1) else None
        arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
        parts = train_test_split(
            *arrays,
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        X_train, X_val, y_train, y_val = parts[:4]
        sw_train, sw_val = parts[4:] if sample_weight is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        labels = y_val
        if is_classifier(self):
            labels = self._label_binarizer.inverse_transform(y_val)
        return X_train, y_train, sw_train, ValidationSet(X_val, labels, y_val, sw_val)

    def _fit_stochastic(self, backend, net, theta, X, y, sample_weight, incremental,
                        validation=None, callback_ctx=None, dropout_rates=None):
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = make_optimizer(self, theta.shape[0], theta.dtype)
        optimizer = self._optimizer
        _dropout.draw_seed(self, dropout_rates)
        # Read each fit, so set_params between partial_fit calls takes effect.
        optimizer.clipnorm = 0.0 if self.clipnorm is None else float(self.clipnorm)

        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        X_train, y_train, sw_train = X, y, sample_weight
        if validation is None and early_stopping:
            X_train, y_train, sw_train, validation = self._split_validation(X, y, sample_weight)
        if validation is not None and self.validation_scores_ is None:
            # Curves without early stopping (fit's X_val, y_val).
            self.validation_scores_ = []
            self.validation_loss_curve_ = []
        history = self.__dict__.setdefault("history_", {})
        # Epoch subtasks only where a callback will hear of them.
        if not getattr(self, "_skl_callbacks", None):
            callback_ctx = None
        hooks = dict(
            X=X_train, y=functools.partial(self._targets_as_given, y_train),
            metadata=None if sw_train is None else {"sample_weight": sw_train},
            reconstruction_attributes=self._reconstruction_attributes,
        )

        n_samples = X_train.shape[0]
        data = make_train_data(X_train, y_train, sw_train, theta.dtype)
        orders = EpochOrders(n_samples, self._random_state, ahead=not incremental)

        if self.batch_size != "auto" and self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than "
                "sample size. It is going to be clipped"
            )
        batch_size = self._batch_rows(n_samples)

        cache = {}
        clock = EpochClock()
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                order = None
                if self.shuffle:
                    # This epoch cannot end training early when its no-improvement
                    # count stays within n_iter_no_change, whatever its loss.
                    # A callback may stop any epoch.
                    next_runs = (
                        self.n_iter_ + 1 < self.max_iter
                        and self._no_improvement_count < self.n_iter_no_change
                        and callback_ctx is None
                    )
                    order = orders.next(next_runs=next_runs and not incremental)
                if callback_ctx is not None:
                    epoch_ctx = callback_ctx.subcontext(task_name="epoch")
                    epoch_ctx.call_on_fit_task_begin(estimator=self, **hooks)
                accumulated = backend.epoch(
                    net, theta, optimizer, data, order, batch_size, self.alpha, cache,
                    l1=self.l1, dropout=_dropout.epoch_dropout(self, dropout_rates),
                    bn_momentum=float(self.batch_norm_momentum), ahead=orders.offer,
                )
                self.n_iter_ += 1
                self.loss_ = accumulated / n_samples
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))

                measured = {}
                if validation is not None:
                    score, val_loss = validation.measure(self)
                    self.validation_scores_.append(score)
                    self.validation_loss_curve_.append(val_loss)
                    measured = dict(val_loss=val_loss, val_score=score)
                    if self.verbose:
                        print("Validation score: %f" % score)
                self._update_no_improvement_count(early_stopping, measured.get("val_score"))
                record(history, loss=self.loss_, **measured,
                       learning_rate=optimizer.learning_rate, epoch_seconds=clock.lap())
                optimizer.iteration_ends(self.t_)
                # A callback may stop training at the end of an epoch.
                if callback_ctx is not None and epoch_ctx.call_on_fit_task_end(
                    estimator=self, **hooks
                ):
                    break

                if self._no_improvement_count > self.n_iter_no_change:
                    if early_stopping:
                        msg = (
                            "Validation score did not improve more than "
                            "tol=%f for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )
                    else:
                        msg = (
                            "Training loss did not improve more than tol=%f"
                            " for %d consecutive epochs." % (self.tol, self.n_iter_no_change)
                        )
                    if optimizer.trigger_stopping(msg, self.verbose):
                        break
                    self._no_improvement_count = 0

                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) "
                        "reached and the optimization hasn't converged yet." % self.max_iter,
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")

        if early_stopping and self.restore_best_weights:
            theta[...] = self._best_theta

    def _update_no_improvement_count(self, early_stopping, score):
        """scikit-learn's stopping rule: on the validation score, or the training loss."""
        if early_stopping:
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_theta = self._theta.copy()
        else:
            last = self.loss_curve_[-1]
            if last > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if last < self.best_loss_:
                self.best_loss_ = last

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in
            regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            A validation set, measured after every epoch of the stochastic
            solvers (``validation_scores_``, ``validation_loss_curve_``,
            ``history_``), as in scikit-learn's ``HistGradientBoosting``
            estimators. With ``early_stopping=True`` it replaces the
            ``validation_fraction`` split: all of ``X`` trains and stopping
            watches this set. Without early stopping it is only measured (a
            difference from ``HistGradientBoosting``, which refuses it then).
            In a ``Pipeline``, ``transform_input=["X_val"]`` transforms it
            like ``X``. Not used by ``solver='lbfgs'``.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Targets of ``X_val``; classes must be among those of ``y``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples (``class_weight`` does not
            apply to them).

        Returns
        -------
        self : object
            Returns a trained MLP model.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False, X_val=X_val,
                         y_val=y_val, sample_weight_val=sample_weight_val)

    def _check_solver(self):
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

    # ------------------------------------------------------------------ predict

    def _forward_pass_fast(self, X, check_input=True):
        """Output of the network (after the output activation) for ``X``."""
        if check_input:
            X = self._validate_predict_input(X)
        net = self._network()
        # Batch norm's running statistics folded into the weights.
        net, theta = fold(net, self._flat_params(net))
        # Compute in float32 only when both the data and the model are float32.
        dtype = np.float32 if (X.dtype == np.float32 and theta.dtype == np.float32) else np.float64
        X = as_compute_input(X, dtype)
        with thread_limit(self.n_threads):
            return get_backend(self.backend).forward(net, theta.astype(dtype, copy=False), X)

    def _validate_predict_input(self, X):
        """``validate_data(self, X, reset=False)``, short-cut when it would be a no-op.

        A plain 2-D float32/float64 ndarray with the fitted number of columns,
        at least one row and only finite values passes scikit-learn's checks
        unchanged (and warns of nothing when the model saw no feature names);
        the full validation costs more than predicting one row, so it runs
        only for anything else. Its errors and warnings are then the same.
        """
        if (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in (np.float32, np.float64)
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
            # A NaN or inf makes the sum non-finite (so may an overflow: then
            # the full check decides).
            and np.isfinite(X.sum())
        ):
            return X
        check_sparse_structure(X)
        return validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)

    def _predict(self, X, check_input=True):
        return self._decode(self._forward_pass_fast(X, check_input=check_input))

    def _score_outputs(self, P, y, sample_weight):
        """``score`` of the network outputs ``P`` against ``y``; NaN if a prediction is not finite."""
        y_pred = self._decode(P)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return self._score_function(y, y_pred, sample_weight=sample_weight)

    def __getstate__(self):
        # A copy: the state may be the live __dict__ (Python >= 3.11), which
        # pickling or copy.copy must not change.
        state = dict(super().__getstate__())
        # The flat buffer is rebuilt from coefs_/intercepts_ after unpickling.
        state.pop("_theta", None)
        state.pop("_theta_views", None)
        return stamp(state)

    def __setstate__(self, state):
        super().__setstate__(check_format(dict(state), type(self).__name__))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
