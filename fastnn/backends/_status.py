"""Which backends can run here, and why one cannot (``fastnn.show_backends``)."""

import sys


def backend_status():
    """Whether each backend can run here.

    Returns
    -------
    status : dict
        ``{name: (available, detail)}``: ``detail`` describes the backend,
        or says why it cannot run and how to fix it. Never raises.
    """
    from . import _module, available_backends

    status = {}
    for name in available_backends():
        try:
            status[name] = (True, _module(name).describe())
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
