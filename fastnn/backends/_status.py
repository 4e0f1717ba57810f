"""Which backends can run here, and why one cannot (``fastnn.show_backends``)."""

import sys


def _cython():
    from .. import _mlp

    return f"Cython + BLAS kernels, up to {_mlp.max_threads()} OpenMP thread(s)"


def _numba():
    import numba

    return f"Numba {numba.__version__} njit kernels, up to {numba.get_num_threads()} thread(s)"


def _numpy():
    return "pure-NumPy reference: slow, the tests' oracle"


def _cuda():
    from ._cuda import cuda_status

    ok, detail = cuda_status()
    if not ok:
        raise ImportError(detail)
    return f"Numba CUDA kernels on {detail}" if detail.startswith("GPU") else detail


_PROBES = {"cython": _cython, "numba": _numba, "numpy": _numpy, "cuda": _cuda}


def backend_status():
    """Whether each backend can run here.

    Returns
    -------
    status : dict
        ``{name: (available, detail)}``: ``detail`` describes the backend,
        or says why it cannot run and how to fix it. Never raises.
    """
    status = {}
    for name, probe in _PROBES.items():
        try:
            status[name] = (True, probe())
        except Exception as exc:  # any failure means "not here", with its reason
            status[name] = (False, str(exc) or type(exc).__name__)
    return status


def show_backends(file=None):
    """Print which backends can run here, and which one ``backend="auto"`` uses.

    A backend that cannot run is listed with the reason (no GPU, a missing
    package, ...).

    Parameters
    ----------
    file : file-like, optional
        Where to print (default: standard output).

    Returns
    -------
    status : dict
        As :func:`backend_status`.
    """
    from . import auto_backend_name

    file = file or sys.stdout
    status = backend_status()
    auto = auto_backend_name()
    width = max(map(len, status))
    for name, (ok, detail) in status.items():
        mark = "yes" if ok else "no "
        tag = "  [auto]" if name == auto else ""
        print(f"{name:<{width}}  {mark}  {detail}{tag}", file=file)
    return status
