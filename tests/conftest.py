"""Test-session set-up shared by every test module."""

import os

# CUDA kernels run on Numba's simulator unless a real GPU run is asked for
# (FASTNN_TEST_GPU=1). Numba reads this when first imported: set it first.
if os.environ.get("FASTNN_TEST_GPU") != "1":
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

# Each pytest-xdist worker keeps its own Numba disk cache. Processes that
# compile the same cache=True kernels at once can write entries another
# process then fails to load (numba/numba#10128: a process-global counter
# names the compiled symbols), which broke every float32 Numba test of one
# worker in a clean-clone run. Processes a test starts (loky workers)
# inherit their worker's directory.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".numba_cache", _worker
    )
