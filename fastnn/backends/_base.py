"""The contract between the estimators and the kernels.

A backend is whatever runs the math of a :class:`fastnn._network.NetworkSpec`
on a flat parameter buffer ``theta`` (laid out by ``NetworkSpec.offsets``).
The estimators call only the methods below, so a new backend (Numba,
CUDA, ...) plugs in without touching them.

Conventions shared by every method:

- ``theta``, the input and the targets have one dtype, float32 or float64;
  results come back in that dtype.
- The input is a C-contiguous ndarray or a CSR matrix with ``intp`` indices
  (see ``fastnn.backends._data.as_compute_input``).
- Batch-normalized layers (``fastnn._batch_norm``) appear only in ``epoch``:
  the estimators fold the running statistics into the weights before
  ``forward``, and L-BFGS (``loss_grad``) refuses batch normalization.
- Losses follow scikit-learn's ``LOSS_FUNCTIONS`` (with ``sample_weight`` as
  weights of the average) plus ``0.5 * alpha * sum(W ** 2) / sum(weights)``
  (and ``l1 * sum(|W|) / sum(weights)`` when ``l1`` is given); gradients are
  those of scikit-learn's ``_backprop``.
"""

from contextlib import nullcontext
from dataclasses import dataclass

from ._data import CSRInput


@dataclass(frozen=True)
class Capabilities:
    """What a backend can run, declared where it is registered.

    The estimators refuse what a backend cannot run before any kernel does,
    and the tests read these to choose the backends each check runs on.

    Parameters
    ----------
    device : {"cpu", "cuda"}, default="cpu"
        Where the kernels run.
    sparse : bool, default=True
        Whether it takes CSR input.
    threads : bool, default=False
        Whether its kernels split a batch between CPU threads
        (``n_threads``).
    split_first_layer : bool, default=False
        Whether an epoch on several threads may split a large first layer
        by input features (dense input only).
    reference : bool, default=False
        Whether it is the pure-NumPy oracle the others are checked against.
    dtypes : tuple of str, default=("float32", "float64")
        The floating dtypes it computes in.
    """

    device: str = "cpu"
    sparse: bool = True
    threads: bool = False
    split_first_layer: bool = False
    reference: bool = False
    dtypes: tuple = ("float32", "float64")


class Backend:
    """Base class documenting the backend interface.

    Attributes
    ----------
    name : str
        Name users pass as ``backend=``.
    capabilities : Capabilities
        What it can run, as registered in ``fastnn.backends``.
    """

    name = None

    @property
    def capabilities(self):
        """What this backend can run: its registered :class:`Capabilities`."""
        from . import backend_capabilities

        return backend_capabilities(self.name)

    def check_input(self, X):
        """Refuse input this backend cannot take, naming the backends that can.

        Parameters
        ----------
        X : ndarray or CSRInput

        Raises
        ------
        ValueError
            If ``X`` is sparse and the backend takes no sparse input.
        """
        if isinstance(X, CSRInput) and not self.capabilities.sparse:
            from . import backends_with

            raise ValueError(
                f"backend={self.name!r} does not support sparse input; use backend="
                f"{' or '.join(map(repr, backends_with(sparse=True, reference=False)))}, "
                "or pass a dense array."
            )

    def fit_scope(self, net, rows):
        """Context held around a whole fit (every epoch, or every L-BFGS call).

        A backend sets up here what should last the fit rather than one call
        (the Cython backend keeps BLAS single-threaded while its own threads
        run). The default does nothing.

        Parameters
        ----------
        net : NetworkSpec
        rows : int
            Rows per training pass: the batch size, or all rows for L-BFGS.

        Returns
        -------
        context : context manager
        """
        return nullcontext()

    def forward(self, net, theta, X):
        """Network output, after the output activation.

        Parameters
        ----------
        net : NetworkSpec
        theta : ndarray of shape (n_params,)
        X : ndarray or CSR matrix of shape (n_samples, n_features)

        Returns
        -------
        out : ndarray of shape (n_samples, n_outputs)
        """
        raise NotImplementedError

    def loss_grad(self, net, theta, data, alpha, grad, cache=None, l1=0.0):
        """Full-batch loss, with its gradient written into ``grad``.

        Parameters
        ----------
        net : NetworkSpec
        theta : ndarray of shape (n_params,)
        data : TrainData
        alpha : float
            L2 penalty.
        grad : ndarray of shape (n_params,)
            Output buffer.
        cache : dict or None
            Scratch space the backend may keep across the calls of one fit
            (L-BFGS calls it once per function evaluation); None for none.
        l1 : float, default=0.0
            L1 penalty: ``l1 * sum(|W|) / sum(weights)`` is added to the loss
            and ``l1 * sign(W) / sum(weights)`` to the weights' gradient.

        Returns
        -------
        loss : float
        """
        raise NotImplementedError

    def epoch(self, net, theta, optimizer, data, order, batch_size, alpha, cache, l1=0.0,
              dropout=None, bn_momentum=0.99, ahead=None):
        """One pass of mini-batch training over ``data``, updating ``theta`` in place.

        Parameters
        ----------
        net : NetworkSpec
        theta : ndarray of shape (n_params,)
        optimizer : a ``fastnn._optimizers`` state
            Its buffers and step count are updated in place.
        data : TrainData
        order : ndarray of intp of shape (n_samples,) or None
            Order in which samples are visited; None means 0, 1, ..., n - 1.
        batch_size : int
            Samples per mini-batch; the last batch holds the remainder.
        alpha : float
            L2 penalty.
        cache : dict
            Scratch space the backend may keep across the epochs of one fit.
        l1 : float, default=0.0
            L1 penalty, as in ``loss_grad``.
        dropout : fastnn._dropout.Dropout or None, default=None
            The epoch's inverted dropout: per-layer rates and the stream key
            that fixes every mask (``fastnn._dropout`` defines the masks, the
            same in every backend). The row at position ``p`` of the
            visiting order is masked by its position, not by its sample.
        bn_momentum : float, default=0.99
            Momentum of the running statistics of the batch-normalized layers
            (``fastnn._batch_norm``), which the epoch updates in ``theta``
            after each batch. Unused when ``net`` has no batch normalization.
        ahead : fastnn._shuffle.AheadOrder or None, default=None
            The next epoch's order, which the backend may draw while this
            epoch trains (and then sets ``ahead.drawn``); one that does not
            ignores it.

        Returns
        -------
        accumulated_loss : float
            Sum over batches of the batch loss times the batch length.
        """
        raise NotImplementedError
