"""Test-session set-up shared by every test module."""

import os
import sys

import pytest

# CUDA kernels run on Numba's simulator unless a real GPU run is asked for
# (FASTNN_TEST_GPU=1). Numba reads this when first imported: set it first.
if os.environ.get("FASTNN_TEST_GPU") != "1":
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

# The test session's Numba kernels are cached apart from the package's own
# cache, in one directory shared by the pytest-xdist workers: a kernel one
# worker compiled, the other loads (_numba_cache makes them take turns).
# Processes a test starts (loky workers) inherit the directory.
if "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".numba_cache", "tests"
    )


def pytest_configure(config):
    # make test runs the suite on the installed wheel: a fastnn imported from
    # the checkout would hide a file the wheel lacks.
    if os.environ.get("FASTNN_TEST_INSTALLED") == "1":
        import fastnn

        checkout = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        where = os.path.abspath(fastnn.__file__)
        if where.startswith(os.path.join(checkout, "fastnn") + os.sep):
            raise RuntimeError(f"fastnn was imported from the checkout ({where}), "
                               "not from the installed wheel")


def pytest_collection_modifyitems(config, items):
    # Epochs split the first layer only on the backends that can (and a
    # test without a backend parameter runs Cython's), and only for dense
    # input: the other epoch_threads "3threads-split" runs would repeat the
    # "3threads" runs bit for bit.
    from _backends import SPLITTING

    def repeats_another(params):
        backend = params.get("backend")
        return params.get("epoch_threads") == (3, True) and (
            (backend is not None and backend not in SPLITTING) or params.get("sparse") is True)

    repeats = [
        item for item in items
        if getattr(item, "callspec", None) is not None and repeats_another(item.callspec.params)
    ]
    if repeats:
        config.hook.pytest_deselected(items=repeats)
        dropped = set(map(id, repeats))
        items[:] = [item for item in items if id(item) not in dropped]


# Numba's CUDA simulator runs a Python thread per CUDA thread while the main
# thread polls them in a loop; at Python's default switch interval (5 ms)
# the polling keeps the GIL most of the time. A test of test_cuda.py ran in
# 12 s at 5 ms and 4.7 s at 0.5 ms.
SIMULATOR_SWITCH_INTERVAL = 0.0005


@pytest.fixture(autouse=True)
def _quick_simulator_threads(request):
    """A short GIL switch interval for the tests that run simulated CUDA kernels."""
    callspec = getattr(request.node, "callspec", None)
    simulated = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" and (
        request.module.__name__ == "test_cuda"
        or (callspec is not None and callspec.params.get("backend") == "cuda"))
    if not simulated:
        yield
        return
    before = sys.getswitchinterval()
    sys.setswitchinterval(SIMULATOR_SWITCH_INTERVAL)
    try:
        yield
    finally:
        sys.setswitchinterval(before)
