"""Backends: the kernels behind the estimators, chosen by name.

``get_backend(name)`` imports a backend lazily. Issue-tracked backends that
are not shipped yet are not listed; an unknown name gives a ``ValueError``
listing the known ones.
"""

from ._base import Backend

# name -> (module, class); imported on first use.
_REGISTRY = {
    "cython": ("._cython", "CythonBackend"),
    "numba": ("._numba", "NumbaBackend"),
    "cuda": ("._cuda", "CudaBackend"),
    "numpy": ("._numpy", "NumpyBackend"),
}

# Order in which "auto" tries the backends.
_AUTO_ORDER = ("cython",)

_INSTANCES = {}


def available_backends():
    """Names users may pass as ``backend=`` (besides ``"auto"``)."""
    return tuple(_REGISTRY)


def get_backend(name="auto"):
    """Return the backend called ``name`` (``"auto"``: the fastest available).

    Raises
    ------
    ValueError
        If ``name`` is not a known backend.
    ImportError
        If the backend is known but cannot run here; the message says why.
    """
    if name == "auto":
        name = _AUTO_ORDER[0]
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


__all__ = ["Backend", "available_backends", "get_backend"]
