"""The row kernels (``src/_rows_gemm.h``): the split first layer's products
read the batch's rows where they lie in X instead of gathering them, and
the hidden layers' moderate products skip BLAS.

Checked against NumPy over the shapes their blocking cuts (blocks of 12
sums, panels of two vectors, blocks of K), for the three products, rows
through pointers and at a stride, in float32 and float64, A @ B also
row-outer, with the copy of A the split first layer keeps for its weight
gradient, A.T @ B also passing over A's stretches of zeros, and through
whole epochs with and without them (``test_backends``).
"""

import numpy as np
import pytest

from fastnn import _mlp

# The default setting: on where the CPU has AVX-512.
HAS_AVX512 = _mlp.row_kernels()


# Cases of code that exists only for AVX-512: elsewhere the kernels run the
# portable loops, which the other cases test, so these would repeat them.
AVX512_ONLY = pytest.mark.skipif(
    not HAS_AVX512, reason="an AVX-512 kernel; elsewhere the portable loops run, tested already")


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


def _operands(op, m, n, k, dtype, rng):
    """X, the rows and columns of X that make A, and B, for C (m x n) = op(A, B)."""
    a_rows, a_cols = (k, m) if op == "tn" else (m, k)
    X = rng.standard_normal((a_rows + 7, a_cols + 9)).astype(dtype)
    # Rows out of order and repeated, and a column range inside wider rows.
    rows = rng.integers(0, X.shape[0], a_rows)
    B = rng.standard_normal((n, k) if op == "nt" else (k, n)).astype(dtype)
    return X, rows, 4, a_cols, B


def _expected(op, A, B):
    A, B = A.astype(np.float64), B.astype(np.float64)
    return A.T @ B if op == "tn" else A @ (B.T if op == "nt" else B)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
# A @ B panel-outer and row-outer (B packed whole, as a float64 split first
# layer runs it), A.T @ B, A @ B.T.
@pytest.mark.parametrize("op, outer", [
    ("nn", False),
    pytest.param("nn", True, marks=AVX512_ONLY, id="nn-outer"),
    ("tn", False),
    ("nt", False),
], ids=["nn", None, "tn", "nt"])
@pytest.mark.parametrize("strided", [False, True], ids=["pointers", "stride"])
@pytest.mark.parametrize("m, n, k", SHAPES)
def test_rows_matmul_matches_numpy(dtype, op, outer, strided, m, n, k):
    rng = np.random.default_rng(m * 1000 + n * 10 + k)
    X, rows, first, count, B = _operands(op, m, n, k, dtype, rng)
    if strided:
        # A hidden layer's operand: X's own rows, in order, at its stride.
        X = np.ascontiguousarray(X[:len(rows)])
        rows = np.arange(len(rows))
    got = _mlp.rows_matmul(X, None if strided else rows, first, count, B, op, outer=outer)
    expected = _expected(op, X[rows, first:first + count], B)
    assert got.dtype == dtype and got.shape == (m, n)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * np.sqrt(k))
    if op != "tn":
        # Keeping A: the same product, and A copied whole (panel-outer, the
        # first panel's blocks copy their stretches of K; row-outer, each
        # block copies its rows).
        kept_got, kept = _mlp.rows_matmul(X, None if strided else rows, first, count, B, op,
                                          keep=True, outer=outer)
        np.testing.assert_array_equal(kept_got, got)
        np.testing.assert_array_equal(kept, X[rows, first:first + count])


def _with_zeros(X, rng):
    """X with most elements zero: whole rows, a band of columns, and at random."""
    X = X.copy()
    X[rng.uniform(size=X.shape) < 0.7] = 0
    X[::3] = 0
    X[:, 9:31] = 0
    return X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("strided", [False, True], ids=["pointers", "stride"])
# SHAPES, and A with more columns than one pass of the scan takes (512).
@pytest.mark.parametrize("m, n, k", SHAPES + [(1100, 37, 300)])
@AVX512_ONLY
def test_rows_matmul_skipping_zeros_gives_the_same_bits(dtype, strided, m, n, k):
    # A.T @ B passing over the rows of A whose stretch of a block's columns
    # is all zero: the same sums, less the exact zeros, in the same order.
    rng = np.random.default_rng(m * 1000 + n * 10 + k + 1)
    X, rows, first, count, B = _operands("tn", m, n, k, dtype, rng)
    X = _with_zeros(X, rng)
    # A NaN counts as non-zero, among zeros and on its own in a stretch.
    X[1, first + 2] = np.nan
    if strided:
        X = np.ascontiguousarray(X[:len(rows)])
        rows = np.arange(len(rows))
    where = None if strided else rows
    plain = _mlp.rows_matmul(X, where, first, count, B, "tn")
    got = _mlp.rows_matmul(X, where, first, count, B, "tn", skip=True)
    np.testing.assert_array_equal(got, plain)
    expected = _expected("tn", X[rows, first:first + count], B)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * np.sqrt(k))
    if 1 in rows and count > 2:
        assert np.isnan(got[2]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["nn", "nt"])
def test_rows_matmul_empty_inner_length_gives_zeros(dtype, op):
    X = np.ones((3, 4), dtype=dtype)
    B = np.ones((5, 0) if op == "nt" else (0, 5), dtype=dtype)
    out = _mlp.rows_matmul(X, np.array([0, 2]), 1, 0, B, op)
    np.testing.assert_array_equal(out, np.zeros((2, 5)))


def test_rows_matmul_rejects_bad_arguments():
    X = np.ones((3, 4))
    B = np.ones((2, 5))
    with pytest.raises(ValueError, match="columns"):
        _mlp.rows_matmul(X, np.array([0]), 3, 2, B)
    with pytest.raises(ValueError, match="row index"):
        _mlp.rows_matmul(X, np.array([3]), 0, 2, B)
    with pytest.raises(ValueError, match="shape"):
        _mlp.rows_matmul(X, np.array([0, 1, 2]), 0, 2, B, "tn")
    with pytest.raises(ValueError, match="shape"):
        _mlp.rows_matmul(X, np.array([0]), 0, 3, B)
    with pytest.raises(ValueError, match="shape"):
        _mlp.rows_matmul(X, np.array([0]), 0, 2, B, "nt")
    with pytest.raises(ValueError, match="op must be"):
        _mlp.rows_matmul(X, np.array([0]), 0, 2, B, "tt")
    with pytest.raises(ValueError, match="keep"):
        _mlp.rows_matmul(X, np.array([0, 1]), 0, 2, B, "tn", keep=True)
    with pytest.raises(ValueError, match="outer"):
        _mlp.rows_matmul(X.T.copy(), np.array([0, 1]), 0, 3, B.T.copy(), "nt", outer=True)
    with pytest.raises(ValueError, match="skip"):
        _mlp.rows_matmul(X, np.array([0]), 0, 2, B, "nn", skip=True)


@pytest.mark.parametrize("m, n, k, itemsize, fits", [
    (128, 128, 256, 4, True),       # Fashion-MNIST's second layer, per thread
    (128, 128, 256, 8, True),
    (31, 128, 256, 4, False),       # each side at least 32
    (128, 31, 256, 4, False),
    (128, 128, 31, 4, False),
    (128, 512, 256, 4, True),       # B at the 512 KiB limit
    (128, 512, 256, 8, False),      # B past it
    (1024, 64, 128, 4, True),       # A at the limit
    (1025, 64, 128, 4, False),      # A past it
    (128, 64, 128, 8, True),        # 2**20 multiply-adds
    (127, 64, 128, 8, False),       # fewer: OpenBLAS's small-matrix kernels
])
def test_rows_fit_rule(m, n, k, itemsize, fits):
    assert _mlp.rows_fit_shape(m, n, k, itemsize) is fits


# The AVX-512 code's switches: the row kernels, and Adam's one-pass step
# (src/_adam_step.h), both on by default where the CPU has AVX-512.
@pytest.mark.parametrize("switch", [_mlp.row_kernels, _mlp.one_pass_adam])
def test_avx512_switches(switch):
    before = switch(False)
    try:
        # The run-time CPU check agrees with the flags Linux lists.
        listed = _cpu_flags_say_avx512f()
        if listed is not None:
            assert before == listed
        assert before == HAS_AVX512
        assert switch() is False
        if HAS_AVX512:
            assert switch(True) is False
            assert switch() is True
        else:
            with pytest.raises(ValueError, match="AVX-512"):
                switch(True)
    finally:
        switch(before)
