"""Backends: the kernels behind the estimators, chosen by name.

Every backend is registered once, in ``_REGISTRY`` below: where its class
lives (imported on first use), what it can run (:class:`Capabilities`),
and its place in ``backend="auto"``. ``get_backend(name)`` imports a backend
lazily; an unknown name gives a ``ValueError`` listing the known ones.
"""

import importlib
from dataclasses import dataclass

from ._base import Backend, Capabilities


@dataclass(frozen=True)
class _Entry:
    module: str             # relative to this package
    class_name: str
    capabilities: Capabilities
    # Place in backend="auto", first available first; None: never picked.
    auto: int = None


# The rule for "auto", from the bench (Fashion-MNIST and tabular workloads,
# 2-core CPU): Cython beats Numba on every CPU workload measured (Numba takes
# 1.01-1.57x its time), so it comes first. CUDA is never picked
# automatically until GPU timings say where it wins.
_REGISTRY = {
    "cython": _Entry("._cython", "CythonBackend", auto=0,
                     capabilities=Capabilities(threads=True, split_first_layer=True)),
    "numba": _Entry("._numba", "NumbaBackend", auto=1,
                    capabilities=Capabilities(threads=True)),
    "numpy": _Entry("._numpy", "NumpyBackend",
                    capabilities=Capabilities(reference=True)),
    "cuda": _Entry("._cuda", "CudaBackend",
                   capabilities=Capabilities(device="cuda", sparse=False)),
}

_INSTANCES = {}


def available_backends():
    """Return the names users may pass as ``backend=`` (besides ``"auto"``).

    Returns
    -------
    names : tuple of str
        Every backend fastnn knows, whether or not it can run here; see
        :func:`show_backends` for which can.
    """
    return tuple(_REGISTRY)


def backend_capabilities(name):
    """Return what the backend called ``name`` can run, without importing it.

    Parameters
    ----------
    name : str
        A name from :func:`available_backends`.

    Returns
    -------
    capabilities : Capabilities
        Its device, dtypes, and whether it takes sparse input, splits
        batches between threads, and so on.

    Raises
    ------
    ValueError
        If ``name`` is not a known backend.
    """
    return _entry(name).capabilities


def backends_with(**wanted):
    """Return the names of the backends whose capabilities match ``wanted``.

    Parameters
    ----------
    **wanted
        Values of :class:`Capabilities` fields, e.g. ``sparse=True`` or
        ``device="cpu"``.

    Returns
    -------
    names : tuple of str
        In registration order, whether or not they can run here.
    """
    return tuple(
        name for name, entry in _REGISTRY.items()
        if all(getattr(entry.capabilities, field) == value for field, value in wanted.items())
    )


def auto_backend_name():
    """The backend ``backend="auto"`` runs here (see ``_REGISTRY``)."""
    ranked = sorted((e.auto, name) for name, e in _REGISTRY.items() if e.auto is not None)
    for _, name in ranked:
        try:
            get_backend(name)
        except ImportError:
            continue
        return name
    return ranked[0][1]


def get_backend(name="auto"):
    """Return the backend called ``name`` (``"auto"``: the fastest available).

    Parameters
    ----------
    name : str, default="auto"
        A name from :func:`available_backends`, or ``"auto"``.

    Returns
    -------
    backend : Backend
        The backend's shared instance: the kernels an estimator with
        ``backend=name`` runs.

    Raises
    ------
    ValueError
        If ``name`` is not a known backend.
    ImportError
        If the backend is known but cannot run here; the message says why.
    """
    if name == "auto":
        name = auto_backend_name()
    entry = _entry(name)
    if name not in _INSTANCES:
        _INSTANCES[name] = getattr(_module(name), entry.class_name)()
    return _INSTANCES[name]


def _entry(name):
    if name not in _REGISTRY:
        raise ValueError(
            f"Unknown backend {name!r}; choose 'auto' or one of {sorted(_REGISTRY)}."
        )
    return _REGISTRY[name]


def _module(name):
    """The module of backend ``name``, imported (it may raise ImportError)."""
    return importlib.import_module(_REGISTRY[name].module, __name__)


from ._status import backend_status, show_backends  # noqa: E402  (uses the above)

__all__ = [
    "Backend",
    "Capabilities",
    "auto_backend_name",
    "available_backends",
    "backend_capabilities",
    "backend_status",
    "backends_with",
    "get_backend",
    "show_backends",
]
