"""The backends each check runs on, chosen by their registered capabilities.

Every test module reads its backends from here, never from a list of names:
a backend registered in ``fastnn.backends`` is then tested wherever its
capabilities say it belongs. CUDA runs on Numba's simulator unless
``FASTNN_TEST_GPU=1`` (conftest.py); being slow there, it is tested in
test_cuda.py and in the checks that name ``ALL``.
"""

from fastnn.backends import backends_with

# The NumPy oracle the others are checked against.
(REFERENCE,) = backends_with(reference=True)
# Every backend, the oracle first: the CPU kernels and CUDA follow.
ALL = (REFERENCE, *backends_with(reference=False))
# The CPU kernels, each checked against the oracle.
CPU_KERNELS = backends_with(device="cpu", reference=False)
# The oracle and the CPU kernels.
CPU = (REFERENCE, *CPU_KERNELS)
# The CPU kernels that split a batch between threads (``n_threads``).
THREADED = backends_with(device="cpu", threads=True)
# Those whose epochs may split the first layer by input features.
SPLITTING = backends_with(split_first_layer=True)
