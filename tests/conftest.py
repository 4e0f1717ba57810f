"""Test-session set-up shared by every test module."""

import os

# CUDA kernels run on Numba's simulator unless a real GPU run is asked for
# (FASTNN_TEST_GPU=1). Numba reads this when first imported: set it first.
if os.environ.get("FASTNN_TEST_GPU") != "1":
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
