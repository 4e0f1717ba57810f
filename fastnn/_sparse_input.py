"""Refuse sparse matrices whose index arrays do not describe a matrix.

scipy trusts the index arrays of a sparse matrix: a column index past the
last column, a negative one or a decreasing row pointer makes its format
conversions and fastnn's compiled kernels read or write outside the arrays
(a crash, or silently wrong numbers). The checks here are one pass over the
indices (O(nnz)) and run before anything else reads them.
"""

import numpy as np
import scipy.sparse as sp

# Compressed formats: (name of the major axis, name of the minor one), by
# the axis their ``indptr`` runs along.
_COMPRESSED = {"csr": ("row", "column"), "csc": ("column", "row"), "bsr": ("row", "column")}


def check_sparse_structure(X, name="X"):
    """Raise ``ValueError`` unless the sparse ``X``'s indices fit its shape.

    Dense input passes untouched. ``X`` itself is never modified.

    Parameters
    ----------
    X : array-like or sparse matrix
        The input.
    name : str, default="X"
        The argument's name, for the message.

    Raises
    ------
    ValueError
        If an index array has the wrong length, an index is negative or
        past the matrix's shape, or a pointer array decreases.
    """
    if not sp.issparse(X):
        return
    fmt = X.format
    if fmt in _COMPRESSED:
        _check_compressed(X, name, fmt)
    elif fmt == "coo":
        coords = X.coords if hasattr(X, "coords") else (X.row, X.col)
        for axis, (what, index) in enumerate(zip(("row", "column"), coords)):
            _check_range(np.asarray(index), X.shape[axis], f"{what} index", name)
        if np.asarray(X.data).shape[0] != np.asarray(coords[0]).shape[0]:
            raise ValueError(f"{name} is a malformed sparse matrix: it has "
                             f"{X.data.shape[0]} values for {coords[0].shape[0]} positions.")


def _check_compressed(X, name, fmt):
    major_name, minor_name = _COMPRESSED[fmt]
    major_axis = 0 if fmt != "csc" else 1
    n_major, n_minor = X.shape[major_axis], X.shape[1 - major_axis]
    if fmt == "bsr":
        block = X.blocksize
        n_major, n_minor = n_major // block[0], n_minor // block[1]
        major_name, minor_name = f"block {major_name}", f"block {minor_name}"
    indptr, indices = np.asarray(X.indptr), np.asarray(X.indices)
    if indptr.ndim != 1 or indptr.shape[0] != n_major + 1:
        raise ValueError(f"{name} is a malformed sparse matrix: its index pointer has "
                         f"{indptr.shape[0]} entries for {n_major} {major_name}s "
                         f"(expected {n_major + 1}).")
    nnz = indices.shape[0]
    if indptr[0] != 0 or indptr[-1] != nnz:
        raise ValueError(f"{name} is a malformed sparse matrix: its index pointer runs "
                         f"from {indptr[0]} to {indptr[-1]}, not from 0 to the {nnz} "
                         "stored entries.")
    if n_major > 0 and np.any(indptr[1:] < indptr[:-1]):
        at = int(np.flatnonzero(indptr[1:] < indptr[:-1])[0])
        raise ValueError(f"{name} is a malformed sparse matrix: its index pointer "
                         f"decreases at {major_name} {at}.")
    if np.asarray(X.data).shape[0] != nnz:
        raise ValueError(f"{name} is a malformed sparse matrix: it has "
                         f"{X.data.shape[0]} values for {nnz} indices.")
    _check_range(indices, n_minor, f"{minor_name} index", name)


def _check_range(index, size, what, name):
    if index.size == 0:
        return
    lo, hi = index.min(), index.max()
    if lo < 0 or hi >= size:
        bad = int(lo) if lo < 0 else int(hi)
        at = int(np.flatnonzero(index == bad)[0])
        raise ValueError(f"{name} is a malformed sparse matrix: {what} {bad} at stored "
                         f"position {at} is outside [0, {size}).")
