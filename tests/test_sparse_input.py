"""Sparse matrices whose indices do not fit their shape are refused, not read."""

import numpy as np
import pytest
import scipy.sparse as sp

from fastnn import MLPClassifier, MLPRegressor
from fastnn._sparse_input import check_sparse_structure
from _backends import ALL

rng = np.random.RandomState(0)
X = rng.normal(size=(60, 5))
X[X < 0.3] = 0
y = (X[:, 0] > 0).astype(int)


def _corrupt(fmt, where, value):
    M = sp.csr_matrix(X).asformat(fmt)
    if fmt == "coo":
        getattr(M, {"indices": "col", "rows": "row"}[where])[7] = value
    else:
        getattr(M, where)[3 if where == "indptr" else 7] = value
    return M


CORRUPTED = [
    ("csr", "indices", 10**6, "column index 1000000 at stored position 7 is outside"),
    ("csr", "indices", -3, r"column index -3 at stored position 7 is outside \[0, 5\)"),
    ("csc", "indices", 60, r"row index 60 at stored position 7 is outside \[0, 60\)"),
    ("csr", "indptr", 10**4, "index pointer decreases at row 3"),
    ("csc", "indptr", -1, "index pointer decreases at column 2"),
    ("coo", "indices", 5, r"column index 5 at stored position 7 is outside \[0, 5\)"),
    ("coo", "rows", -1, "row index -1 at stored position 7"),
]


@pytest.mark.parametrize("fmt,where,value,match", CORRUPTED)
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_fit_refuses_indices_outside_the_shape(cls, fmt, where, value, match):
    bad = _corrupt(fmt, where, value)
    model = cls(max_iter=2)
    with pytest.raises(ValueError, match="X is a malformed sparse matrix: .*" + match):
        model.fit(bad, y)
    assert not hasattr(model, "coefs_")


@pytest.mark.parametrize("backend", ALL)
def test_predict_and_partial_fit_refuse_them_on_every_backend(backend):
    model = MLPClassifier((4,), max_iter=3, backend=backend, random_state=0).fit(
        sp.csr_matrix(X) if backend != "cuda" else X, y)
    coefs = [c.copy() for c in model.coefs_]
    bad = _corrupt("csr", "indices", 10**6)
    for call in (model.predict, model.predict_proba, lambda Z: model.partial_fit(Z, y)):
        with pytest.raises(ValueError, match="malformed sparse matrix"):
            call(bad)
    for before, after in zip(coefs, model.coefs_):
        np.testing.assert_array_equal(before, after)


def test_validation_set_is_checked_too():
    bad = _corrupt("csr", "indices", -1)
    with pytest.raises(ValueError, match="X_val is a malformed sparse matrix"):
        MLPClassifier(max_iter=2).fit(X, y, X_val=bad, y_val=y)


def test_lengths_and_pointer_ends_are_checked():
    M = sp.csr_matrix(X)
    short = sp.csr_matrix((M.data, M.indices, M.indptr), shape=M.shape)
    short.indptr = short.indptr[:-1]
    with pytest.raises(ValueError, match="index pointer has 60 entries for 60 rows"):
        check_sparse_structure(short)
    ends = sp.csr_matrix(X)
    ends.indptr[-1] -= 1
    with pytest.raises(ValueError, match="runs from 0 to"):
        check_sparse_structure(ends)
    values = sp.csr_matrix(X)
    values.data = values.data[:-1]
    with pytest.raises(ValueError, match="values for"):
        check_sparse_structure(values)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "bsr", "lil", "dok"])
def test_valid_matrices_pass_untouched(fmt):
    M = sp.csr_matrix(X).asformat(fmt)
    before = M.copy()
    check_sparse_structure(M)
    assert M.format == fmt and (M != before).nnz == 0
    check_sparse_structure(sp.csr_array(X).asformat(fmt))
    check_sparse_structure(X)
