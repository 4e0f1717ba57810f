"""Test-session set-up shared by every test module."""

import os

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
    # The simulator's shared memory and barriers, made thread-safe and fast
    # (see _cudasim.py).
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        import _cudasim

        try:
            _cudasim.install()
        except ImportError:  # no numba-cuda: the CUDA tests skip
            pass
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


# Thread layouts of the compiled kernels, forced whatever the machine's cores
# (``_reference.force_threads``), for the tests that take these fixtures.
@pytest.fixture(params=[1, 3], ids=["1thread", "3threads"])
def n_threads(request, monkeypatch):
    """Force the compiled kernels' thread count (one batch split by rows)."""
    from _reference import force_threads

    return force_threads(monkeypatch, request.param, False)


@pytest.fixture(params=[(1, False), (3, False), (3, True)],
                ids=["1thread", "3threads", "3threads-split"])
def epoch_threads(request, monkeypatch):
    """``n_threads`` for epochs, also with the first layer split by features.

    The Numba backend has no split: ``pytest_collection_modifyitems``
    deselects the runs that would repeat others.
    """
    from _reference import force_threads

    return force_threads(monkeypatch, *request.param)
