"""
========================
Backends: CPU beside GPU
========================

The same :class:`fastnn.MLPClassifier` can train on several backends, chosen
with ``backend=``: compiled Cython kernels (the default on CPU), Numba
kernels, Numba CUDA kernels on an NVIDIA GPU, and a pure-NumPy reference that
the tests compare the others against. This example prints which backends can
run on the machine that builds the page, with the reason for any that cannot,
then times an epoch of the same network on each one that can, beside
scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`.

The numbers are those of the machine that built this page; run the example
on yours (with a GPU, the CUDA backend joins in).
"""

# %%
# Which backends run here
# -----------------------
# :func:`fastnn.show_backends` prints one line per backend: whether it can
# run, what it is (thread counts, the GPU's name) or why it cannot (no GPU, a
# missing package), and which one ``backend="auto"`` picks. It returns the
# same facts as a dict ``{name: (available, detail)}``.
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier

import fastnn
from fastnn import MLPClassifier

status = fastnn.show_backends()

# %%
# What to time
# ------------
# One network for every system: two hidden layers of 64 units, Adam, batches
# of 64 rows, on 4,000 rows of 20 float32 features (small, so that the NumPy
# reference stays quick). Each system first gets a one-epoch warm-up fit
# (first calls load libraries and fill caches), then a 5-epoch fit, of which
# we keep the median epoch time. fastnn records each epoch's seconds in
# ``history_["epoch_seconds"]``; for scikit-learn we divide the fit's time by
# its number of epochs. The fits are deliberately short, so their
# :class:`~sklearn.exceptions.ConvergenceWarning` is silenced.
#
# The Cython backend runs twice: with its default thread count (every core
# that pays for a batch this size) and with ``n_threads=1``. Which wins
# depends on the machine and on how busy it is: threads that share a batch
# wait for each other at every step, and a core taken by another program
# makes them wait longer.
#
# The CUDA backend runs only where ``show_backends`` says "yes". The Numba
# backend is left out of the timing to keep this page quick: its first fit
# in a fresh installation compiles its kernels for a minute or more (later
# processes load them from Numba's disk cache). Add
# ``systems["fastnn numba"] = dict(backend="numba")`` below to time it on
# your machine.
X, y = make_classification(
    n_samples=4000, n_features=20, n_informative=10, n_classes=3, random_state=0
)
X = X.astype(np.float32)
params = dict(hidden_layer_sizes=(64, 64), batch_size=64, random_state=0)

systems = {"fastnn cython": dict(backend="cython"),
           "fastnn cython, n_threads=1": dict(backend="cython", n_threads=1)}
cuda_ok, cuda_detail = status["cuda"]
if cuda_ok:
    systems["fastnn cuda"] = dict(backend="cuda")
else:
    print(f"The GPU backend is not available here: {cuda_detail}")
systems["fastnn numpy"] = dict(backend="numpy")


def seconds_per_epoch(make_model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        make_model(max_iter=1).fit(X, y)  # warm-up
        model = make_model(max_iter=5)
        start = time.perf_counter()
        model.fit(X, y)
        elapsed = time.perf_counter() - start
    if hasattr(model, "history_"):
        return float(np.median(model.history_["epoch_seconds"])), model
    return elapsed / model.n_iter_, model


timings = {}
for label, options in systems.items():
    timings[label], model = seconds_per_epoch(
        lambda **kw: MLPClassifier(**params, **options, **kw)
    )
    print(f"{label:<27} {timings[label] * 1e3:8.2f} ms per epoch, "
          f"training accuracy after 5 epochs {model.score(X, y):.4f}")
timings["scikit-learn"], model = seconds_per_epoch(
    lambda **kw: SklearnMLPClassifier(**params, **kw)
)
print(f"{'scikit-learn':<27} {timings['scikit-learn'] * 1e3:8.2f} ms per epoch, "
      f"training accuracy after 5 epochs {model.score(X, y):.4f}")

# %%
# Time per epoch
# --------------
# The backends learn the same model (to float rounding), so the training
# accuracies above agree; only the time differs. On a network this small a
# GPU would mostly wait for kernel launches: the README's GPU notes give the
# CUDA backend's timings on an H100, where it caught up with the Cython
# backend only at large batches (4096 rows).
names = list(timings)
colors = ["C7" if "numpy" in n else "C2" if "cuda" in n else
          "C0" if n.startswith("fastnn") else "C1" for n in names]
fig, ax = plt.subplots(figsize=(7, 3.5))
bars = ax.barh(names, [timings[n] * 1e3 for n in names], color=colors)
ax.bar_label(bars, fmt="%.1f ms", padding=3)
ax.set_xlabel("milliseconds per epoch")
ax.set_title("4000 x 20 float32, 64-64 relu, Adam, batch 64")
ax.invert_yaxis()
ax.margins(x=0.25)
fig.tight_layout()
plt.show()
