"""Import the compiled core, or say how to build it."""

try:
    from . import _mlp, _permute  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only on broken installs
    raise ImportError(
        "fastnn's compiled extensions could not be imported "
        f"({exc}). If you are working from a source checkout, build it with "
        "'pip install -e .' or 'python setup.py build_ext --inplace' (this "
        "needs a C compiler, Cython>=3, numpy and scipy), or run 'make test'."
    ) from exc
