"""The estimators' shared documentation, written once.

:class:`~fastnn.MLPClassifier` and :class:`~fastnn.MLPRegressor` take the
same parameters and have the same fitted attributes, apart from a few of
their own (``class_weight`` and ``classes_``; ``loss``). Their docstrings
hold those few and a ``%(parameters)s`` / ``%(attributes)s`` line where
:func:`document_estimator` puts the shared entries below, so the two cannot
drift apart. ``{score}`` and ``{split}`` are the words that differ: what the
validation score is, and how the validation split is drawn.
"""

import textwrap

# scikit-learn's parameters first, in its order, then the ones fastnn adds.
SHARED_PARAMETERS = """\
hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
    The ith element is the number of neurons in the ith hidden layer.
activation : str or list of str, default='relu'
    Activation of the hidden layers: one name for all, or a list with one
    name per hidden layer. scikit-learn's ``'identity'``, ``'logistic'``
    (alias ``'sigmoid'``), ``'tanh'`` and ``'relu'``, and ``'leaky_relu'``
    (slope ``negative_slope`` below 0), ``'prelu'`` (a slope per unit,
    learned, starting at ``negative_slope``; Keras' ``PReLU``), ``'elu'``
    (alpha 1), ``'selu'``, ``'gelu'`` (exact, with erf), ``'swish'``
    (alias ``'silu'``), ``'softplus'`` and ``'maxout'`` (Goodfellow et
    al.: each unit the largest of ``maxout_pieces`` linear pieces).
solver : {'lbfgs', 'sgd', 'adam', 'rmsprop', 'adagrad', 'adamw', 'nadam'}, default='adam'
    The solver for weight optimization. ``'lbfgs'``, ``'sgd'`` and
    ``'adam'`` are scikit-learn's. ``'rmsprop'`` (decay ``rho``),
    ``'adagrad'``, ``'adamw'`` (Adam with decoupled ``weight_decay``) and
    ``'nadam'`` (Adam with Nesterov momentum, Dozat's momentum schedule)
    follow PyTorch's formulas, ``epsilon`` added to the root of the
    second moment; they use ``learning_rate_init`` as a constant rate,
    and ``beta_1``, ``beta_2`` and ``epsilon`` as Adam does.
alpha : float, default=0.0001
    Strength of the L2 regularization term, divided by the sample size
    (sum of sample weights) when added to the loss.
batch_size : int or 'auto', default='auto'
    Size of mini-batches for the stochastic solvers;
    ``'auto'`` means ``min(200, n_samples)``.
learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
    Learning-rate schedule of ``solver='sgd'``.
learning_rate_init : float, default=0.001
    Initial learning rate of the stochastic solvers: the start of
    ``'sgd'``'s schedule, and the constant rate of the others.
power_t : float, default=0.5
    Exponent of the ``'invscaling'`` schedule.
max_iter : int, default=200
    Maximum number of epochs (stochastic solvers) or iterations (L-BFGS).
shuffle : bool, default=True
    Whether to shuffle the samples at each epoch.
random_state : int, RandomState instance or None, default=None
    Seeds weight initialisation, the early-stopping split and shuffling,
    drawing the same numbers as scikit-learn.
tol : float, default=1e-4
    Tolerance for the optimization.
verbose : bool, default=False
    Whether to print progress messages to stdout.
warm_start : bool, default=False
    Reuse the previous solution as initialization.
momentum : float, default=0.9
    Momentum of ``solver='sgd'``.
nesterovs_momentum : bool, default=True
    Whether to use Nesterov's momentum.
early_stopping : bool, default=False
    Hold out ``validation_fraction`` of the data{split}, or use ``fit``'s
    ``X_val``/``y_val``, and stop when the validation {score} stops
    improving; the best weights are restored (see
    ``restore_best_weights``).
validation_fraction : float, default=0.1
    Proportion of training data set aside for early stopping.
beta_1 : float, default=0.9
    Decay rate of Adam's first moment estimates.
beta_2 : float, default=0.999
    Decay rate of Adam's second moment estimates.
epsilon : float, default=1e-8
    Adam's numerical stability constant.
n_iter_no_change : int, default=10
    Maximum number of epochs not meeting the ``tol`` improvement.
max_fun : int, default=15000
    Maximum number of loss function calls of ``solver='lbfgs'``.
backend : str, default='auto'
    Which kernels run the math: ``'cython'`` (Cython and BLAS),
    ``'numba'`` (Numba on the CPU), ``'cuda'`` (Numba on an NVIDIA GPU) or
    ``'numpy'`` (the slow reference). ``'auto'`` picks the fastest CPU
    backend installed (see ``fastnn.show_backends()``).
n_threads : int or None, default=None
    Threads one fit or prediction may use: the compiled kernels' own
    threads (OpenMP, Numba) and BLAS's, bounded together so they never
    ask for more cores than this. None: every core when called from the
    main thread, and one thread when called from any other thread
    (joblib's threading backend, Dask's worker threads), where other fits
    run beside it. -1: every core, wherever it is called. Small networks
    use fewer threads than the bound when more would not pay. Under
    joblib's process backend (loky, the default of ``n_jobs``) each
    worker is already limited to its share of the cores. The thread
    count changes only the order in which a batch's gradient is
    summed, so models trained with different counts agree to rounding.
negative_slope : float, default=0.2
    Slope of ``'leaky_relu'`` for negative inputs (Keras' default), and
    the initial slope of ``'prelu'``'s units; not negative.
maxout_pieces : int, default=2
    Linear pieces of each ``'maxout'`` unit. A maxout layer of ``n``
    units has ``n * maxout_pieces`` weight columns (``coefs_`` of shape
    ``(n_in, n * maxout_pieces)``, unit ``j`` reading columns
    ``j * maxout_pieces`` to ``(j + 1) * maxout_pieces - 1``), its
    intercepts and batch-norm statistics one per column; the gradient of
    a unit goes to its largest piece (the first, on a tie). 1 makes the
    layer linear.
init : str, default='sklearn'
    Weight initialisation. ``'sklearn'``: scikit-learn's own scheme
    (Glorot-uniform weights and biases, the same numbers for the same
    ``random_state``). Keras' ``'glorot_uniform'``, ``'glorot_normal'``,
    ``'he_uniform'``, ``'he_normal'``, ``'lecun_uniform'`` and
    ``'lecun_normal'`` (normal ones truncated at two standard
    deviations), with zero biases. ``'zeros'``: every weight and bias 0,
    which the network cannot learn its way out of (all hidden units stay
    alike).
rho : float, default=0.9
    Decay rate of ``solver='rmsprop'``'s mean square of the gradients
    (Keras' default).
weight_decay : float, default=0.004
    Decoupled weight decay of ``solver='adamw'`` (Keras' default): each
    step first multiplies the weights, not the biases, by
    ``1 - learning_rate_init * weight_decay``.
l1 : float, default=0.0
    Strength of the L1 penalty on the weights (not the biases), beside
    ``alpha``'s L2 one and scaled like it: ``l1 * sum(|W|)`` divided by
    the sample size (sum of sample weights) is added to the loss. Its
    subgradient at a zero weight is 0.
restore_best_weights : bool, default=True
    With ``early_stopping=True``, end with the weights of the epoch of
    best validation score (scikit-learn's behaviour) rather than the last
    epoch's (Keras' ``EarlyStopping`` default).
clipnorm : float or None, default=None
    Keras' ``clipnorm`` for the stochastic solvers: before each step,
    the gradient (penalties included) of every weight matrix, bias
    vector, batch-norm scale vector and prelu slope vector is scaled down
    to an L2 norm of at most ``clipnorm``, each on its own. None: no
    clipping. L-BFGS ignores it.
dropout : float or list of float, default=0.0
    Inverted dropout on the hidden layers' outputs, for the stochastic
    solvers (Keras' ``Dropout`` after each hidden layer): the rate, in
    [0, 1), of every hidden layer, or a list with one rate per hidden
    layer. In training each unit is dropped with that probability and
    the kept ones are scaled by ``1 / (1 - rate)``; predictions (and the
    validation scores and losses) use the whole network. The masks are
    drawn from ``random_state``, so the same seed gives the same model,
    whatever the backend or the number of threads. ``loss_curve_`` is
    the loss of the thinned networks, as Keras reports it. L-BFGS, whose
    line search needs a deterministic loss, refuses a rate above 0.
batch_norm : bool or list of bool, default=False
    Batch normalization of the hidden layers (Keras' ``Dense`` without
    bias, ``BatchNormalization``, then the activation): ``x @ W`` is
    normalized over the mini-batch, scaled by a learned ``gamma``
    (``batch_norm_scales_``) and shifted by the layer's intercept, which
    plays the part of ``beta``. True or False for every hidden layer,
    or a list with one flag per hidden layer. Predictions (and
    validation scores) use running statistics
    (``batch_norm_means_``, ``batch_norm_variances_``) that training
    updates after every batch; they carry on across ``partial_fit`` and
    ``warm_start``. Statistics ignore sample weights, as in Keras.
    Stochastic solvers only: L-BFGS refuses it.
batch_norm_momentum : float, default=0.99
    Keras' ``momentum`` of the running statistics:
    ``running = momentum * running + (1 - momentum) * batch``, after
    every batch. With few batches in all (small data, few epochs) the
    running statistics lag behind the weights and predictions suffer:
    lower it (0.9 is PyTorch's default).
batch_norm_epsilon : float, default=1e-3
    Added to the variance before its square root (Keras' default).
"""

SHARED_ATTRIBUTES = """\
loss_ : float
    The current loss computed with the loss function.
best_loss_ : float or None
    The minimum loss reached (None with ``early_stopping=True``).
loss_curve_ : list of shape (n_iter_,)
    Loss at each epoch (stochastic solvers).
validation_scores_ : list of shape (n_iter_,) or None
    Validation {score} after each epoch, with ``early_stopping=True`` or
    ``fit``'s ``X_val``; None without a validation set.
validation_loss_curve_ : list of shape (n_iter_,) or None
    Validation loss after each epoch, beside ``validation_scores_``:
    scikit-learn's loss of the validation set taken as one batch (the L2
    and L1 terms divided by its size, as a batch's are).
best_validation_score_ : float or None
    Best validation {score}, with ``early_stopping=True``.
history_ : dict of lists
    Per epoch of the stochastic solvers, Keras-style: ``'loss'`` (as
    ``loss_curve_``), ``'val_loss'`` and ``'val_score'`` (with a
    validation set), ``'learning_rate'`` (the optimizer's rate at the
    epoch's end: scikit-learn's bias-corrected step for Adam) and
    ``'epoch_seconds'`` (training plus validation). Continued by
    ``warm_start`` and ``partial_fit`` like ``loss_curve_``.
t_ : int
    Number of training samples seen by the solver.
coefs_ : list of shape (n_layers - 1,)
    Weight matrices; views into one flat parameter buffer.
intercepts_ : list of shape (n_layers - 1,)
    Bias vectors; views into the same buffer.
batch_norm_scales_ : list of shape (n_layers - 2,)
    With ``batch_norm``: each hidden layer's learned scale ``gamma``
    (None for a layer without batch normalization); views into the
    same buffer. Absent when no layer has batch normalization.
batch_norm_means_ : list of shape (n_layers - 2,)
    Running means of the batch-normalized layers (None for the others).
batch_norm_variances_ : list of shape (n_layers - 2,)
    Running variances of the batch-normalized layers (None for the others).
prelu_slopes_ : list of shape (n_layers - 2,)
    With ``activation='prelu'`` on some layer: each prelu layer's learned
    slopes, one per unit (None for the other layers); views into the same
    buffer, trained by the solver without the ``alpha``/``l1`` penalties
    or AdamW's decay (as biases). Absent when no layer uses prelu.
n_features_in_ : int
    Number of features seen during fit.
feature_names_in_ : ndarray of shape (n_features_in_,)
    Names of features seen during fit, when they are all strings.
n_iter_ : int
    Number of iterations the solver has run.
n_layers_ : int
    Number of layers.
n_outputs_ : int
    Number of outputs.
out_activation_ : str
    Name of the output activation function.
"""


def _fill(text, indent, **words):
    for key, word in words.items():
        text = text.replace("{" + key + "}", word)
    return textwrap.indent(text, indent).rstrip("\n")


def document_estimator(**words):
    """Class decorator: the shared parameters and attributes in the docstring.

    Parameters
    ----------
    **words : str
        The estimator's ``score`` (what its validation score is) and
        ``split`` (how its validation split is drawn, as a parenthesis).

    Returns
    -------
    decorate : callable
        Replaces the docstring's ``%(parameters)s`` and ``%(attributes)s``
        lines with :data:`SHARED_PARAMETERS` and :data:`SHARED_ATTRIBUTES`.
    """

    def decorate(cls):
        doc = cls.__doc__
        for marker, text in (("parameters", SHARED_PARAMETERS), ("attributes", SHARED_ATTRIBUTES)):
            line = f"    %({marker})s"
            if doc.count(line) != 1:
                raise ValueError(f"{cls.__name__}'s docstring needs one {line.strip()!r} line")
            doc = doc.replace(line, _fill(text, "    ", **words))
        cls.__doc__ = doc
        return cls

    return decorate
