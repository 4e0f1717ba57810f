"""Backends: the kernels behind the estimators, chosen by name.

``get_backend(name)`` imports a backend lazily; an unknown name gives a
``ValueError`` listing the known ones.
"""

from ._base import Backend
from ._status import backend_status, show_backends

# name -> (module, class); imported on first use.
_REGISTRY = {
    "cython": ("._cython", "CythonBackend"),
    "numba": ("._numba", "NumbaBackend"),
    "cuda": ("._cuda", "CudaBackend"),
    "numpy": ("._numpy", "NumpyBackend"),
}

# What backend="auto" runs, first available first. The rule, from the bench
# (Fashion-MNIST and tabular workloads, 2-core CPU): Cython beats Numba on every CPU
# workload measured (Numba takes 1.01-1.57x its time), so it comes first.
# CUDA is never picked automatically until GPU timings say where it wins.
_AUTO_ORDER = ("cython", "numba")

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


def auto_backend_name():
    """The backend ``backend="auto"`` runs here (see ``_AUTO_ORDER``)."""
    for name in _AUTO_ORDER:
        try:
            get_backend(name)
        except ImportError:
            continue
        return name
    return _AUTO_ORDER[0]


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
    if name not in _REGISTRY:
        raise ValueError(
            f"Unknown backend {name!r}; choose 'auto' or one of {sorted(_REGISTRY)}."
        )
    if name not in _INSTANCES:
        import importlib

        module_name, class_name = _REGISTRY[name]
        module = importlib.import_module(module_name, __name__)
        _INSTANCES[name] = getattr(module, class_name)()
    return _INSTANCES[name]


__all__ = [
    "Backend",
    "auto_backend_name",
    "available_backends",
    "backend_status",
    "get_backend",
    "show_backends",
]
