"""Test-session set-up shared by every test module."""

import os

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
    # The Numba backend has no split first layer: its epoch_threads
    # "3threads-split" runs would repeat its "3threads" runs.
    repeats = [
        item for item in items
        if getattr(item, "callspec", None) is not None
        and item.callspec.params.get("backend") == "numba"
        and item.callspec.params.get("epoch_threads") == (3, True)
    ]
    if repeats:
        config.hook.pytest_deselected(items=repeats)
        dropped = set(map(id, repeats))
        items[:] = [item for item in items if id(item) not in dropped]
