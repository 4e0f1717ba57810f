"""Description of a network as a sequence of layer specs, and its flat parameters.

The estimators build a :class:`NetworkSpec`; backends only ever see the spec and
one flat parameter vector. Parameters are packed like scikit-learn's ``_pack``:
all weight matrices first (C order), then all bias vectors, so ``coefs_`` and
``intercepts_`` are views into a single buffer that the optimizer updates in
one pass. Layers with batch normalization add, after the biases, one block
each: the scale ``gamma``, then the running mean and running variance (state,
not trained: their gradient is always 0, so no optimizer moves them, and the
kernels update them from the batch statistics). Keeping the running
statistics in the same buffer makes every copy of the model (best weights,
checkpoints, callbacks' restores) carry them along. Layers with the
``prelu`` activation add, after those, one block each: the learned negative
slope of every unit.

A ``maxout`` layer of ``n_out`` units with ``k`` pieces is ``n_out * k``
linear columns wide (its ``width``): its weight matrix is ``n_in x width``,
its bias and batch-norm blocks are ``width`` long, and unit ``j`` outputs
the largest of columns ``j * k, ..., j * k + k - 1``. Every other layer's
width is its number of units.
"""

from dataclasses import dataclass
from functools import cached_property
import os
from numbers import Integral

import numpy as np

from ._registry import ACTIVATIONS, DERIVATIVE_FROM_INPUT, LOSSES, OUTPUT_ACTIVATION_OF_LOSS


@dataclass(frozen=True)
class DenseLayer:
    """A fully connected layer ``act(x @ W + b)``.

    Parameters
    ----------
    n_in : int
        Number of input units.
    n_out : int
        Number of output units.
    activation : str
        Name of the activation, a key of ``fastnn._registry.ACTIVATIONS``.
    param : float, default=0.0
        The activation's parameter: the negative slope of ``leaky_relu``,
        the initial slope of ``prelu``'s units (which then learn their own),
        or the number of pieces of each ``maxout`` unit (a whole number; the
        other activations have none).
    batch_norm : bool, default=False
        Whether the layer normalizes ``x @ W`` over the mini-batch before the
        activation: ``act(gamma * (x @ W - mean) / sqrt(var + eps) + b)``,
        the bias ``b`` being batch normalization's shift (``beta``).
    """

    n_in: int
    n_out: int
    activation: str
    param: float = 0.0
    batch_norm: bool = False

    @property
    def pieces(self):
        """Linear columns per unit: maxout's pieces, else 1."""
        return int(self.param) if self.activation == "maxout" else 1

    @property
    def width(self):
        """Linear columns of ``x @ W``: ``n_out * pieces``."""
        return self.n_out * self.pieces


@dataclass(frozen=True)
class NetworkSpec:
    """A feed-forward network: dense layers followed by a loss.

    Parameters
    ----------
    layers : tuple of DenseLayer
        The layers, input to output. The last layer's activation is the
        output activation implied by ``loss``.
    loss : str
        Name of the loss, a key of ``fastnn._registry.LOSSES``.
    bn_epsilon : float, default=1e-3
        The ``eps`` of the batch-normalized layers (Keras' default).
    """

    layers: tuple
    loss: str
    bn_epsilon: float = 1e-3

    @classmethod
    def from_units(cls, layer_units, hidden_activation, loss, negative_slope=0.0,
                   batch_norm=(), bn_epsilon=1e-3, maxout_pieces=2):
        """Build the spec of an MLP from its layer widths.

        Parameters
        ----------
        layer_units : sequence of int
            ``[n_features, *hidden_layer_sizes, n_outputs]``.
        hidden_activation : str or sequence of str
            Activation of every hidden layer, or one per hidden layer
            (canonical names, aliases already resolved).
        loss : str
            Training loss; fixes the output activation.
        negative_slope : float, default=0.0
            Slope of ``leaky_relu`` layers for negative inputs, and the
            initial slope of ``prelu`` layers.
        batch_norm : sequence of bool, default=()
            Which hidden layers normalize their batch (empty: none).
        bn_epsilon : float, default=1e-3
            The batch-normalized layers' ``eps``.
        maxout_pieces : int, default=2
            Linear pieces of each unit of the ``maxout`` layers.
        """
        n_hidden = len(layer_units) - 2
        if isinstance(hidden_activation, str):
            acts = [hidden_activation] * n_hidden
        else:
            acts = list(hidden_activation)
            if len(acts) != n_hidden:
                raise ValueError(
                    f"activation lists {len(acts)} activations, but the network has "
                    f"{n_hidden} hidden layers (hidden_layer_sizes); give one per hidden "
                    "layer or a single name."
                )
        acts.append(OUTPUT_ACTIVATION_OF_LOSS[loss])
        norms = list(batch_norm) or [False] * n_hidden
        if len(norms) != n_hidden:
            raise ValueError(f"batch_norm needs one flag per hidden layer ({n_hidden}).")
        norms.append(False)
        params = {"leaky_relu": float(negative_slope), "prelu": float(negative_slope),
                  "maxout": float(maxout_pieces)}
        layers = tuple(
            DenseLayer(int(a), int(b), act, params.get(act, 0.0), bool(norm))
            for a, b, act, norm in zip(layer_units[:-1], layer_units[1:], acts, norms)
        )
        return cls(layers, loss, float(bn_epsilon) if any(norms) else 1e-3)

    # The arrays below are computed once per spec (predicting one row must not
    # rebuild them) and read-only, since every caller shares them.

    @cached_property
    def units(self):
        """Layer widths, input first, as a read-only ``intp`` array."""
        return _read_only(
            np.array([self.layers[0].n_in] + [layer.n_out for layer in self.layers], dtype=np.intp)
        )

    @cached_property
    def widths(self):
        """Linear widths (``DenseLayer.width``), input first, as a read-only
        ``intp`` array: ``units`` but for the maxout layers."""
        return _read_only(
            np.array([self.layers[0].n_in] + [layer.width for layer in self.layers], dtype=np.intp)
        )

    @cached_property
    def activation_codes(self):
        """Activation code of each layer, as a read-only ``int32`` array."""
        return _read_only(
            np.array([ACTIVATIONS[layer.activation] for layer in self.layers], dtype=np.int32)
        )

    @cached_property
    def activation_params(self):
        """Activation parameter of each layer, as a read-only ``float64`` array
        (the kernels read maxout's pieces from it)."""
        return _read_only(np.array([layer.param for layer in self.layers], dtype=np.float64))

    @cached_property
    def keeps_input(self):
        """Whether training must keep pre-activations: a hidden activation's
        derivative needs its input (``_registry.DERIVATIVE_FROM_INPUT``)."""
        return any(layer.activation in DERIVATIVE_FROM_INPUT for layer in self.layers[:-1])

    @cached_property
    def has_batch_norm(self):
        return any(layer.batch_norm for layer in self.layers)

    @cached_property
    def bn_offsets(self):
        """Start of each layer's batch-norm block (gamma, mean, var) in the
        flat buffer, as a read-only ``intp`` array of ``n_layers + 1`` entries;
        a layer without batch norm has an empty block. The statistics are
        those of the ``width`` linear columns."""
        sizes = [3 * layer.width if layer.batch_norm else 0 for layer in self.layers]
        start = self.offsets()[1][-1]
        return _read_only((start + np.concatenate([[0], np.cumsum(sizes)])).astype(np.intp))

    @cached_property
    def has_prelu(self):
        return any(layer.activation == "prelu" for layer in self.layers)

    @cached_property
    def slope_offsets(self):
        """Start of each layer's block of learned prelu slopes (one per unit)
        in the flat buffer, after the batch-norm blocks, as a read-only
        ``intp`` array of ``n_layers + 1`` entries; the blocks of the other
        layers are empty."""
        sizes = [layer.n_out if layer.activation == "prelu" else 0 for layer in self.layers]
        start = self.bn_offsets[-1]
        return _read_only((start + np.concatenate([[0], np.cumsum(sizes)])).astype(np.intp))

    @cached_property
    def n_weights(self):
        """Number of weights: the multiply-adds of one row's forward pass."""
        return sum(layer.n_in * layer.width for layer in self.layers)

    @property
    def loss_code(self):
        return LOSSES[self.loss]

    @property
    def out_activation(self):
        return self.layers[-1].activation

    def offsets(self):
        """Start of each weight matrix and each bias vector in the flat buffer.

        Returns
        -------
        coef_offsets, intercept_offsets : ndarray of intp, shape (n_layers + 1,)
            ``coef_offsets[i]:coef_offsets[i + 1]`` holds ``coefs_[i]``, and
            likewise for the intercepts; ``intercept_offsets[-1]`` is the total size.
        """
        return self._offsets

    @cached_property
    def _offsets(self):
        sizes = [layer.n_in * layer.width for layer in self.layers]
        coef_off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
        bias_sizes = [layer.width for layer in self.layers]
        bias_off = (coef_off[-1] + np.concatenate([[0], np.cumsum(bias_sizes)])).astype(np.intp)
        return _read_only(coef_off), _read_only(bias_off)

    @property
    def n_params(self):
        return int(self.slope_offsets[-1])

    def views(self, theta):
        """Return ``(coefs, intercepts)``: lists of views into ``theta``."""
        coef_off, bias_off = self.offsets()
        coefs = [
            theta[coef_off[i] : coef_off[i + 1]].reshape(layer.n_in, layer.width)
            for i, layer in enumerate(self.layers)
        ]
        intercepts = [theta[bias_off[i] : bias_off[i + 1]] for i in range(len(self.layers))]
        return coefs, intercepts

    def batch_norm_views(self, theta):
        """Return ``(scales, means, variances)``: lists with one entry per
        layer, views into ``theta`` for the batch-normalized layers, None
        for the others."""
        out = ([], [], [])
        for layer, start in zip(self.layers, self.bn_offsets):
            n = layer.width
            for i, part in enumerate(out):
                part.append(theta[start + i * n : start + (i + 1) * n] if layer.batch_norm
                            else None)
        return out

    def slope_views(self, theta):
        """Return a list with one entry per layer: a view into ``theta`` of
        the learned slopes of the prelu layers, None for the others."""
        starts = self.slope_offsets
        return [theta[starts[i] : starts[i + 1]] if layer.activation == "prelu" else None
                for i, layer in enumerate(self.layers)]

    def pack(self, coefs, intercepts, dtype, batch_norm=None, slopes=None):
        """Copy weight and bias arrays into a new flat buffer of ``dtype``.

        ``batch_norm`` is ``(scales, means, variances)`` as
        ``batch_norm_views`` gives them; None starts every batch-normalized
        layer at scale 1, mean 0 and variance 1 (Keras' initial values).
        ``slopes`` lists the prelu layers' slopes as ``slope_views`` gives
        them; None (or a None entry) starts the units at their layer's ``param``.
        """
        theta = np.empty(self.n_params, dtype=dtype)
        cv, iv = self.views(theta)
        for dst, src in zip(cv + iv, list(coefs) + list(intercepts)):
            dst[...] = src
        if batch_norm is None:
            batch_norm = tuple([fill] * len(self.layers) for fill in (1, 0, 1))
        for dsts, srcs in zip(self.batch_norm_views(theta), batch_norm):
            for dst, src in zip(dsts, srcs):
                if dst is not None:
                    dst[...] = src
        if slopes is None:
            slopes = [None] * len(self.layers)
        for layer, dst, src in zip(self.layers, self.slope_views(theta), slopes):
            if dst is not None:
                dst[...] = layer.param if src is None else src
        return theta


def _read_only(a):
    a.setflags(write=False)
    return a


def per_hidden_layer(value, n_hidden, name, entries, single):
    """A layer parameter as a list with one entry per hidden layer.

    A list or tuple must hold one entry per hidden layer; any other value
    is one for every layer. ``name``, ``entries`` and ``single`` word the
    error: "``name`` lists 2 ``entries``, ... or a single ``single``".
    """
    if isinstance(value, (list, tuple)):
        values = list(value)
        if len(values) != n_hidden:
            raise ValueError(
                f"{name} lists {len(values)} {entries}, but the network has {n_hidden} "
                "hidden layers (hidden_layer_sizes); give one per hidden layer or a "
                f"single {single}."
            )
        return values
    return [value] * n_hidden


def check_hidden_layer_sizes(sizes):
    """``hidden_layer_sizes`` as a list of positive ints, or a clear error.

    Raises
    ------
    TypeError
        If a size is not an integer (a float such as 5.5 is not truncated).
    ValueError
        If a size is not positive.
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        sizes = [sizes]
    sizes = list(sizes)
    for position, size in enumerate(sizes):
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, (Integral, np.integer)):
            raise TypeError(
                f"hidden_layer_sizes must hold integers, got {size!r} at position {position}."
            )
    if any(size <= 0 for size in sizes):
        raise ValueError("hidden_layer_sizes must be > 0, got %s." % sizes)
    return [int(size) for size in sizes]


# Arrays of the parameters' size a stochastic fit keeps at once: the
# parameters, the best ones seen, the gradient and two optimizer buffers.
PARAMETER_COPIES = 5


def check_fits_in_memory(net, dtype):
    """Refuse a network whose parameters alone would not fit in this machine's memory.

    Checked before any array of the parameters' size is allocated, so that
    an absurd ``hidden_layer_sizes`` or ``maxout_pieces`` fails at once with
    the figures instead of a ``MemoryError`` (or swapping) later.
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): not checked
        return
    need = net.n_params * np.dtype(dtype).itemsize * PARAMETER_COPIES
    if need > total:
        raise ValueError(
            f"The network would need {need / 2**30:,.1f} GiB for its {net.n_params:,} "
            f"parameters and the optimizer's state, more than this machine's "
            f"{total / 2**30:,.1f} GiB of memory: check hidden_layer_sizes and "
            "maxout_pieces."
        )

