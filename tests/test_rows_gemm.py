"""The row kernels (``src/_rows_gemm.h``): the split first layer's products
read the batch's rows where they lie in X instead of gathering them.

Checked against NumPy over the shapes their blocking cuts (blocks of 12
sums, panels of two vectors, blocks of K), in float32 and float64, and
through whole epochs with and without them.
"""

import numpy as np
import pytest

from fastnn import _mlp

# The default setting: on where the CPU has AVX-512.
HAS_AVX512 = _mlp.row_kernels()


def _cpu_flags_say_avx512f():
    """Whether /proc/cpuinfo lists avx512f; None where it cannot be read."""
    try:
        with open("/proc/cpuinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    return any(line.startswith("flags") and "avx512f" in line.split() for line in lines)

# (rows of the product, columns, inner length): whole and partial blocks of
# 12 sums, panels of 16/32 columns and their tails, K past the kernels'
# blocks (256 for A @ B, 128 for A.T @ B).
SHAPES = [(1, 1, 1), (12, 32, 5), (13, 33, 7), (11, 17, 300), (25, 15, 600),
          (40, 7, 37), (3, 100, 9), (256, 256, 392), (24, 64, 129), (7, 27, 20),
          (14, 50, 3)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans", [False, True])
@pytest.mark.parametrize("m, n, k", SHAPES)
def test_rows_matmul_matches_numpy(dtype, trans, m, n, k):
    rng = np.random.default_rng(m * 1000 + n * 10 + k)
    n_rows = k if trans else m
    # Rows out of order, repeated, and a column range inside wider rows.
    X = rng.standard_normal((n_rows + 7, (m if trans else k) + 9)).astype(dtype)
    rows = rng.integers(0, X.shape[0], n_rows)
    first = 4
    count = m if trans else k
    block = X[rows, first:first + count]
    B = rng.standard_normal((k, n)).astype(dtype)
    got = _mlp.rows_matmul(X, rows, first, count, B, trans)
    expected = (block.T if trans else block).astype(np.float64) @ B.astype(np.float64)
    assert got.dtype == dtype and got.shape == (m, n)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * np.sqrt(k))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_matmul_empty_inner_length_gives_zeros(dtype):
    X = np.ones((3, 4), dtype=dtype)
    out = _mlp.rows_matmul(X, np.array([0, 2]), 1, 0, np.ones((0, 5), dtype=dtype))
    np.testing.assert_array_equal(out, np.zeros((2, 5)))


def test_rows_matmul_rejects_bad_arguments():
    X = np.ones((3, 4))
    B = np.ones((2, 5))
    with pytest.raises(ValueError, match="columns"):
        _mlp.rows_matmul(X, np.array([0]), 3, 2, B)
    with pytest.raises(ValueError, match="row index"):
        _mlp.rows_matmul(X, np.array([3]), 0, 2, B)
    with pytest.raises(ValueError, match="rows"):
        _mlp.rows_matmul(X, np.array([0, 1, 2]), 0, 2, B, True)
    with pytest.raises(ValueError, match="rows"):
        _mlp.rows_matmul(X, np.array([0]), 0, 3, B)


def test_row_kernels_switch():
    before = _mlp.row_kernels(False)
    try:
        # The run-time CPU check agrees with the flags Linux lists.
        listed = _cpu_flags_say_avx512f()
        if listed is not None:
            assert before == listed
        assert before == HAS_AVX512
        assert _mlp.row_kernels() is False
        if HAS_AVX512:
            assert _mlp.row_kernels(True) is False
            assert _mlp.row_kernels() is True
        else:
            with pytest.raises(ValueError, match="AVX-512"):
                _mlp.row_kernels(True)
    finally:
        _mlp.row_kernels(before)
