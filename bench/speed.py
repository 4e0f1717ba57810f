"""Seconds per epoch of fastnn against scikit-learn (and PyTorch when importable).

The workloads of issue #2, measured in one run: systems interleaved, a
warm-up fit excluded, the median of ``--repeats`` runs reported with the
ratio fastnn / other. Fashion-MNIST is read from ``--data`` or
``$FASTNN_DATA/fashion-mnist`` (official IDX gzip files); without it that
workload is skipped. Results go to ``bench/results/speed.json`` and a
Markdown table on stdout.

Usage: ``python bench/speed.py [--repeats 3] [--epochs 2] [--quick]``
"""

import argparse
import gzip
import json
import os
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.linalg.blas import dgemm, sgemm
from sklearn import neural_network
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info

import fastnn

RESULTS = Path(__file__).parent / "results"


def read_idx(path):
    """Array stored in an IDX file (gzip), e.g. the MNIST family."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def fashion_mnist(data_dir):
    root = Path(data_dir) / "fashion-mnist"
    X = read_idx(root / "train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    y = read_idx(root / "train-labels-idx1-ubyte.gz").astype(np.int64)
    Xt = read_idx(root / "t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    yt = read_idx(root / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    return X, y, Xt, yt


def gemm_peak(dtype, n=2048, repeats=3):
    """Best GEMM rate (FLOP/s) of the machine's BLAS on n x n matrices."""
    a = np.asfortranarray(np.random.rand(n, n).astype(dtype))
    gemm = sgemm if dtype == np.float32 else dgemm
    gemm(1.0, a, a)
    best = min(_timed(lambda: gemm(1.0, a, a)) for _ in range(repeats))
    return 2 * n**3 / best


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def mlp_flops_per_epoch(layer_units, n_samples):
    """FLOPs of the GEMMs of one epoch: forward, weight gradients, deltas."""
    pairs = list(zip(layer_units[:-1], layer_units[1:]))
    forward = sum(2 * a * b for a, b in pairs)
    backward_deltas = sum(2 * a * b for a, b in pairs[1:])
    return n_samples * (2 * forward + backward_deltas)


def sklearn_like(cls, **params):
    def fit(X, y, epochs):
        est = cls(max_iter=epochs, tol=0.0, n_iter_no_change=10**9, random_state=0, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        return est

    return fit


def torch_fit(hidden, batch_size, lr=1e-3):
    """Same MLP, Adam and batching in PyTorch (CPU), or None if absent."""
    try:
        import torch
    except ImportError:
        return None

    def fit(X, y, epochs):
        torch.manual_seed(0)
        dtype = torch.float32 if X.dtype == np.float32 else torch.float64
        Xt, yt = torch.from_numpy(X), torch.from_numpy(np.asarray(y, dtype=np.int64))
        n_classes = int(y.max()) + 1
        units = [X.shape[1], *hidden]
        layers = []
        for a, b in zip(units[:-1], units[1:]):
            layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        model = torch.nn.Sequential(*layers, torch.nn.Linear(units[-1], n_classes)).to(dtype)
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=0)
        loss_fn = torch.nn.CrossEntropyLoss()
        for _ in range(epochs):
            perm = torch.randperm(len(Xt))
            for i in range(0, len(Xt), batch_size):
                idx = perm[i : i + batch_size]
                opt.zero_grad()
                loss_fn(model(Xt[idx]), yt[idx]).backward()
                opt.step()
        return model

    return fit


def compare(name, systems, X, y, epochs, repeats, flops=None, peak=None):
    """Median seconds per epoch of each system, measured interleaved."""
    for fit in systems.values():  # warm-up, excluded
        fit(X[:512], y[:512], 1)
    times = {k: [] for k in systems}
    for _ in range(repeats):
        for key, fit in systems.items():
            times[key].append(_timed(lambda: fit(X, y, epochs)) / epochs)
    med = {k: statistics.median(v) for k, v in times.items()}
    row = {"workload": name, "seconds_per_epoch": med, "all_runs": times}
    if flops and peak:
        row["gemm_bound_s"] = flops / peak
        row["fastnn_x_bound"] = med["fastnn"] / row["gemm_bound_s"]
    row["ratios"] = {k: med["fastnn"] / v for k, v in med.items() if k != "fastnn"}
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--data", default=os.environ.get("FASTNN_DATA"))
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    args = parser.parse_args(argv)

    peaks = {np.float32: gemm_peak(np.float32), np.float64: gemm_peak(np.float64)}
    report = {
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "blas": [(i["internal_api"], i.get("version"), i["num_threads"]) for i in threadpool_info()],
            "sgemm_peak_gflops": peaks[np.float32] / 1e9,
            "dgemm_peak_gflops": peaks[np.float64] / 1e9,
        },
        "method": f"median of {args.repeats} interleaved runs of {args.epochs} epochs, warm-up excluded",
        "rows": [],
    }

    # Small tabular net: Python overhead per batch is everything here.
    n = 2000 if args.quick else 20000
    X, y = make_classification(n, 20, n_informative=10, n_classes=3, random_state=0)
    X = X.astype(np.float32)
    params = dict(hidden_layer_sizes=(32,), batch_size=64)
    systems = {"fastnn": sklearn_like(fastnn.MLPClassifier, **params),
               "sklearn": sklearn_like(neural_network.MLPClassifier, **params)}
    if (tf := torch_fit((32,), 64)) is not None:
        systems["pytorch"] = tf
    # More epochs here so that per-fit set-up does not stand in for per-epoch cost.
    epochs = args.epochs if args.quick else max(args.epochs, 20)
    report["rows"].append(compare(f"tabular {n}x20 (32,) batch 64 float32", systems, X, y, epochs, args.repeats))

    # Fashion-MNIST, 784-256-128-10, adam, batch 256.
    if args.data and (Path(args.data) / "fashion-mnist").exists():
        Xf, yf, _, _ = fashion_mnist(args.data)
        if args.quick:
            Xf, yf = Xf[:5000], yf[:5000]
        params = dict(hidden_layer_sizes=(256, 128), batch_size=256)
        for dtype in (np.float32, np.float64):
            Xd = Xf.astype(dtype)
            systems = {"fastnn": sklearn_like(fastnn.MLPClassifier, **params),
                       "sklearn": sklearn_like(neural_network.MLPClassifier, **params)}
            if (tf := torch_fit((256, 128), 256)) is not None:
                systems["pytorch"] = tf
            flops = mlp_flops_per_epoch([784, 256, 128, 10], len(Xd))
            report["rows"].append(compare(
                f"fashion-mnist {len(Xd)}x784 256-128 batch 256 {np.dtype(dtype).name}",
                systems, Xd, yf, args.epochs, args.repeats, flops, peaks[dtype],
            ))
    else:
        print("Fashion-MNIST not found (set FASTNN_DATA or --data): skipped.\n")

    # lbfgs on digits: whole fit, not per epoch.
    Xd, yd = load_digits(return_X_y=True)
    Xd = Xd / 16.0
    fits = {"fastnn": fastnn.MLPClassifier, "sklearn": neural_network.MLPClassifier}
    times = {k: [] for k in fits}
    for _ in range(args.repeats):
        for key, cls in fits.items():
            est = cls(solver="lbfgs", max_iter=50 if args.quick else 200, random_state=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                times[key].append(_timed(lambda: est.fit(Xd, yd)))
    med = {k: statistics.median(v) for k, v in times.items()}
    report["rows"].append({"workload": "lbfgs digits (100,) fit seconds", "seconds_per_epoch": med,
                           "all_runs": times, "ratios": {"sklearn": med["fastnn"] / med["sklearn"]}})

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("speed-quick.json" if args.quick else "speed.json")
    out.write_text(json.dumps(report, indent=2, default=str))
    print(markdown(report))
    print(f"\nwritten: {out}")


def markdown(report):
    m = report["machine"]
    lines = [
        f"Machine: {m['processor']}, {m['cpus']} CPUs, sgemm peak {m['sgemm_peak_gflops']:.0f} GFLOP/s, "
        f"dgemm peak {m['dgemm_peak_gflops']:.0f} GFLOP/s; {report['method']}.",
        "",
        "| workload | fastnn s | scikit-learn s | fastnn / sklearn | PyTorch s | fastnn / PyTorch | fastnn / GEMM bound |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in report["rows"]:
        s = row["seconds_per_epoch"]
        torch_s = f"{s['pytorch']:.4f}" if "pytorch" in s else "absent"
        torch_r = f"{row['ratios']['pytorch']:.2f}x" if "pytorch" in s else "-"
        bound = f"{row['fastnn_x_bound']:.2f}x" if "fastnn_x_bound" in row else "-"
        lines.append(
            f"| {row['workload']} | {s['fastnn']:.4f} | {s['sklearn']:.4f} | "
            f"{row['ratios']['sklearn']:.3f}x | {torch_s} | {torch_r} | {bound} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
