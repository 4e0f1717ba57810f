"""Fingerprint the models fastnn trains, to show a refactor changes no bit.

Record the installed fastnn's models before a change, record them again after
it (on the same machine: BLAS and the vector kernels it picks decide the last
bits), and compare::

    python bench/compare_models.py record before.json
    # ... change fastnn, reinstall it (make install) ...
    python bench/compare_models.py record after.json
    python bench/compare_models.py compare before.json after.json

Each configuration trains a small network for a few epochs and keeps the
SHA-256 of every fitted parameter array (weights, biases, batch-norm scales
and running statistics, prelu slopes), plus the loss curve. The set covers
every activation, every solver (L-BFGS included), dropout, batch norm,
maxout, prelu, L1, clipnorm, class weights, sparse input, the regressor and
the Poisson loss, in float32 and float64, on each backend and thread count
asked for. ``compare`` prints the configurations whose fingerprints differ
and exits 1 if any does.
"""

import argparse
import hashlib
import itertools
import json
import sys
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

import fastnn
from fastnn import MLPClassifier, MLPRegressor
from fastnn._registry import HIDDEN_ACTIVATIONS, STOCHASTIC_SOLVERS

# Every hidden activation and every solver the registry declares.
ACTIVATIONS = HIDDEN_ACTIVATIONS
SOLVERS = (*STOCHASTIC_SOLVERS, "lbfgs")


def configurations():
    """``(name, estimator class, data kind, parameters)`` of every case."""
    base = dict(hidden_layer_sizes=(12, 7), max_iter=4, batch_size=16, random_state=0)
    cases = []
    for activation in ACTIVATIONS:
        cases.append((f"activation={activation}", MLPClassifier, "dense",
                      dict(base, activation=activation)))
    for solver in SOLVERS:
        cases.append((f"solver={solver}", MLPClassifier, "dense",
                      dict(base, solver=solver, learning_rate_init=0.01)))
    cases += [
        ("sgd invscaling nesterov", MLPClassifier, "dense",
         dict(base, solver="sgd", learning_rate="invscaling", learning_rate_init=0.05)),
        ("dropout", MLPClassifier, "dense", dict(base, dropout=[0.2, 0.1])),
        ("batch_norm", MLPClassifier, "dense", dict(base, batch_norm=True)),
        ("batch_norm maxout dropout", MLPClassifier, "dense",
         dict(base, batch_norm=[True, False], activation=["maxout", "relu"], dropout=0.1)),
        ("prelu batch_norm", MLPClassifier, "dense",
         dict(base, activation="prelu", batch_norm=True)),
        ("l1 clipnorm", MLPClassifier, "dense", dict(base, l1=1e-3, alpha=1e-3, clipnorm=0.5)),
        ("class_weight balanced", MLPClassifier, "dense", dict(base, class_weight="balanced")),
        ("early_stopping", MLPClassifier, "dense",
         dict(base, early_stopping=True, max_iter=8, n_iter_no_change=2)),
        ("init he_normal adamw", MLPClassifier, "dense",
         dict(base, init="he_normal", solver="adamw")),
        ("sparse adam", MLPClassifier, "sparse", dict(base)),
        ("sparse lbfgs", MLPClassifier, "sparse", dict(base, solver="lbfgs")),
        ("multilabel", MLPClassifier, "multilabel", dict(base)),
        ("regressor", MLPRegressor, "regression", dict(base)),
        ("regressor lbfgs", MLPRegressor, "regression", dict(base, solver="lbfgs")),
        ("regressor poisson", MLPRegressor, "counts", dict(base, loss="poisson")),
    ]
    return cases


def data(kind, dtype):
    """Small data sets of each kind, the same on every call."""
    if kind in ("regression", "counts"):
        X, y = make_regression(n_samples=96, n_features=9, n_targets=2, noise=0.5,
                               random_state=0)
        y = y / np.abs(y).max()
        if kind == "counts":
            y = np.floor(np.exp(y) * 3)
        return X.astype(dtype), y
    X, y = make_classification(n_samples=96, n_features=9, n_informative=6, n_classes=3,
                               random_state=0)
    X = X.astype(dtype)
    if kind == "sparse":
        X[np.abs(X) < 0.8] = 0
        return sp.csr_matrix(X), y
    if kind == "multilabel":
        return X, np.stack([y == 0, y == 1], axis=1).astype(int)
    return X, y


def fingerprint(model):
    """SHA-256 of every fitted parameter array, and of the loss curve."""
    digest = hashlib.sha256()
    for a in model._param_arrays():  # coefs_, intercepts_, batch norm's, prelu's
        digest.update(str(a.dtype).encode() + str(a.shape).encode())
        digest.update(np.ascontiguousarray(a).tobytes())
    curve = np.asarray(getattr(model, "loss_curve_", [model.loss_]), dtype=np.float64)
    return {"params": digest.hexdigest(), "loss_curve": hashlib.sha256(curve.tobytes()).hexdigest(),
            "n_iter": int(model.n_iter_)}


def record(backends, threads):
    """Fingerprints of every configuration, dtype, backend and thread count."""
    results = {}
    for (name, cls, kind, params), dtype, backend, n_threads in itertools.product(
            configurations(), (np.float32, np.float64), backends, threads):
        key = f"{name} | {np.dtype(dtype).name} | {backend} | threads={n_threads}"
        X, y = data(kind, dtype)
        model = cls(backend=backend, n_threads=n_threads, **params)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X, y)
        except (ValueError, TypeError) as exc:  # a combination a backend refuses
            results[key] = {"refused": f"{type(exc).__name__}: {exc}"}
            continue
        results[key] = fingerprint(model)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record", help="fingerprint the installed fastnn's models")
    rec.add_argument("out", help="JSON file to write")
    rec.add_argument("--backends", default="cython,numpy",
                     help="comma-separated backends (numba compiles for minutes on first use)")
    rec.add_argument("--threads", default="1,2", help="comma-separated n_threads values")
    cmp = commands.add_parser("compare", help="compare two recordings")
    cmp.add_argument("before")
    cmp.add_argument("after")
    args = parser.parse_args(argv)

    if args.command == "record":
        results = record(args.backends.split(","), [int(t) for t in args.threads.split(",")])
        with open(args.out, "w") as f:
            json.dump({"fastnn": fastnn.__version__, "results": results}, f, indent=1)
        refused = sum("refused" in r for r in results.values())
        print(f"{len(results)} models fingerprinted ({refused} refused) into {args.out}")
        return 0
    before = json.load(open(args.before))["results"]
    after = json.load(open(args.after))["results"]
    missing = sorted(before.keys() ^ after.keys())
    differ = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    for key in differ:
        print(f"differs: {key}")
    for key in missing:
        print(f"in one recording only: {key}")
    same = len(before.keys() & after.keys()) - len(differ)
    print(f"{same} identical, {len(differ)} differ, {len(missing)} in one recording only")
    return 1 if differ or missing else 0


if __name__ == "__main__":
    sys.exit(main())
