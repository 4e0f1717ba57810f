"""``python bench/run.py --quick`` runs end to end and writes well-formed outputs.

Timings are not checked (they belong to the bench, not to the tests): the
structure of the JSON, the Markdown tables and the PNG files are. Passes with
and without Fashion-MNIST on disk (``FASTNN_DATA``); never downloads.
"""

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from fastnn import _mlp
from fastnn.backends._threads import available_cores

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = ("fashion", "tabular", "search", "parallel", "lbfgs", "predict", "memory", "scaling",
             "gpu", "accuracy")
# Numba's first compile of every signature would take minutes of a CI run: the
# bench machinery is tested with Cython, and CUDA for the absent/GPU paths.
BACKENDS = ("--backends", "cython,cuda")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Workload -> metrics each of its rows must carry.
METRICS = {
    "fashion": {"test accuracy", "accuracy - scikit-learn"},
    "search": {"best score", "same best params as scikit-learn"},
    "parallel": {"best score", "speedup over n_jobs=1", "same best params as n_jobs=1"},
    "lbfgs": {"iterations", "final loss"},
    "memory": {"peak extra / X.nbytes", "peak extra MB", "kept after fit / X.nbytes"},
    "accuracy": {"test accuracy", "best validation accuracy", "epochs", "fit seconds"},
}


def run_bench(out, *args, env=None):
    # One thread per system: the test stays quick on a machine other jobs share.
    # bench/run.py: the bench on the fastnn this suite tests, not the checkout's.
    command = [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--no-download", "--threads", "1",
               *BACKENDS]
    # The real CUDA backend or none: never the simulator that conftest.py turns on.
    env = {k: v for k, v in (env or os.environ).items() if k != "NUMBA_ENABLE_CUDASIM"}
    proc = subprocess.run(
        [*command, "--out", str(out), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    proc = run_bench(out)
    report = json.loads((out / "quick.json").read_text())
    return out, report, (out / "quick.md").read_text(), proc.stdout


def present(report):
    return [s["name"] for s in report["systems"] if s["absent"] is None]


def test_json_describes_the_run(quick):
    _, report, _, _ = quick
    assert report["quick"] is True and report["repeats"] == 3
    assert list(report["workloads"]) == list(WORKLOADS)
    machine = report["machine"]
    assert machine["sgemm_peak_gflops"] > 0 and machine["dgemm_peak_gflops"] > 0
    assert machine["thread_pools"] and machine["threads_cap"] == 1
    names = [s["name"] for s in report["systems"]]
    assert names[0] == "fastnn-cython" and "sklearn" in names and "pytorch" in names
    assert "fastnn-numpy" not in names  # the slow oracle is not benched by default
    assert {"fastnn-cython", "sklearn"} <= set(present(report))


def test_every_timed_row_is_complete(quick):
    _, report, _, _ = quick
    systems = present(report)
    for key, result in report["workloads"].items():
        if result["status"] == "skipped":
            if key == "gpu":  # needs a real GPU (and says so) unless one is here
                assert result["reason"].startswith("not measured: ")
                continue
            assert key in ("fashion", "accuracy") and "Fashion-MNIST" in result["reason"]
            continue
        assert result["rows"], key
        for row in result["rows"]:
            assert set(METRICS.get(key, ())) <= set(row["metrics"]), (key, row["id"])
            if key == "memory":
                assert row["metrics"]["peak extra / X.nbytes"]["fastnn-cython"] >= 0
                continue
            if key == "accuracy":  # one training run of the first fastnn backend, untimed
                (name,) = row["metrics"]["test accuracy"]
                assert 0 < row["metrics"]["test accuracy"][name] <= 1
                assert row["seconds"][name] == row["metrics"]["fit seconds"][name] > 0
                continue
            for name in systems:
                if name in result["absent"]:
                    assert row["seconds"][name] is None
                    continue
                assert row["seconds"][name] > 0, (key, row["id"], name)
                assert len(row["runs"][name]) == 3 and row["warmup_s"][name] > 0
            seconds = row["seconds"]
            ratio = row["ratios"]["fastnn-cython/sklearn"]
            assert ratio == pytest.approx(seconds["fastnn-cython"] / seconds["sklearn"])


def test_workload_specifics(quick):
    _, report, _, _ = quick
    w = report["workloads"]
    assert any(r["id"] == "classification-20000-(32,)-b64" for r in w["tabular"]["rows"])
    assert {r["series"] for r in w["scaling"]["rows"]} == {"n_samples", "width"}
    assert all(r["bound_s"] > 0 for r in w["scaling"]["rows"])
    assert "pytorch" in w["lbfgs"]["absent"]  # no L-BFGS-B in PyTorch
    # Same algorithm in float64: the same optimisation as scikit-learn.
    for row in w["lbfgs"]["rows"]:
        its = row["metrics"]["iterations"]
        assert its["fastnn-cython"] == its["sklearn"]
    for row in w["search"]["rows"]:
        assert set(row["best_params"]["sklearn"]) == {
            "hidden_layer_sizes", "alpha", "learning_rate_init", "batch_size"
        }
    # Each grid's speedups are over its own n_jobs=1 search.
    parallel = {r["id"]: r for r in w["parallel"]["rows"]}
    for base in ("sequential", "small-sequential"):
        assert parallel[base]["metrics"]["speedup over n_jobs=1"]["fastnn-cython"] == 1
    assert parallel["small-threads"]["params"]["n_candidates"] == 12
    small = parallel["small-sequential"]["seconds"]["fastnn-cython"]
    for row_id in ("small-threads", "small-loky"):
        row = parallel[row_id]
        assert row["metrics"]["speedup over n_jobs=1"]["fastnn-cython"] == pytest.approx(
            small / row["seconds"]["fastnn-cython"])
    assert parallel["threads"]["params"]["n_candidates"] == 24
    fashion_ran = w["fashion"]["status"] == "ok"
    memory_ids = {r["id"] for r in w["memory"]["rows"]}
    assert ("fashion-float32" in memory_ids) == fashion_ran
    if fashion_ran:
        for row in w["fashion"]["rows"]:
            assert 0 < row["metrics"]["test accuracy"]["fastnn-cython"] <= 1
            assert row["x_bound"]["fastnn-cython"] > 0


@pytest.mark.skipif(min(available_cores(), _mlp.max_threads()) < 2,
                    reason="needs 2 cores and OpenMP")
@pytest.mark.parametrize("n_samples", [450, 5000])
def test_parallel_small_nets_fit_on_one_thread(monkeypatch, n_samples):
    # The parallel workload's claim: with n_jobs=1 its small nets fit on one
    # thread (so two joblib workers can halve their search), its larger ones
    # on two, as the tabular problem's fits choose, quick run included.
    # The checkout provides bench; it goes after the installed fastnn.
    monkeypatch.setattr(sys, "path", [*sys.path, str(ROOT)])
    from bench._data import tabular
    from bench.workloads.parallel import GRIDS
    from sklearn.model_selection import ParameterGrid

    from fastnn import MLPClassifier
    from fastnn.backends import _cython

    X, y = tabular("classification", n_samples, dtype=np.float64)
    fold = slice(0, n_samples * 2 // 3)
    chosen = []
    real = _cython._train_threads
    monkeypatch.setattr(_cython, "_train_threads",
                        lambda net, rows: chosen.append(real(net, rows)) or chosen[-1])
    for name, grid in GRIDS.items():
        for params in ParameterGrid(grid):
            chosen.clear()
            est = MLPClassifier(max_iter=1, random_state=0, n_threads=2, **{
                k.removeprefix("mlp__"): v for k, v in params.items()})
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est.fit(X[fold], y[fold])
            one = (name == "small" or params["mlp__batch_size"] == 64
                   or params["mlp__hidden_layer_sizes"] == (32,))
            assert set(chosen) == ({1} if one else {2}), (name, params)


def test_targets_have_a_verdict(quick):
    _, report, markdown, _ = quick
    assert len(report["targets"]) >= 9
    for target in report["targets"]:
        assert target["verdict"] in ("met", "MISSED", "not measured")
        assert (target["value"] is None) == (target["verdict"] == "not measured")
        if target["verdict"] == "not measured":
            assert target["reason"]
        assert target["target"] in markdown


def test_markdown_has_the_tables(quick):
    _, report, markdown, stdout = quick
    assert markdown.strip() == stdout.strip()  # printed as written
    assert "| target | system | measured | limit | verdict |" in markdown
    for result in report["workloads"].values():
        assert f"## {result['title']}" in markdown
    n_tables = markdown.count("\n| case |")
    n_ok = sum(r["status"] == "ok" for r in report["workloads"].values())
    assert n_tables == n_ok
    assert "## Warm-up" in markdown
    assert "![quick-ratios.png](quick-ratios.png)" in markdown
    # Every row of a table has as many cells as its header (a stray "|" would split one).
    tables, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line.count("|"))
        elif current:
            tables.append(current)
            current = []
    assert len(tables) == n_tables + 2  # plus targets and warm-up
    assert all(len(set(t)) == 1 for t in tables), tables


def test_plots_are_png(quick):
    out, report, _, _ = quick
    for name in ("quick-ratios.png", "quick-scaling.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 1000, name
    assert report["files"]["scaling_png"] == "quick-scaling.png"


def test_missing_data_is_skipped_with_a_reason(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**os.environ, "FASTNN_DATA": str(empty), "XDG_CACHE_HOME": str(empty)}
    run_bench(tmp_path, "--only", "fashion,memory", "--no-torch", "--name", "nodata", env=env)
    report = json.loads((tmp_path / "nodata.json").read_text())
    fashion, memory = report["workloads"]["fashion"], report["workloads"]["memory"]
    assert fashion["status"] == "skipped" and "not found" in fashion["reason"]
    assert memory["status"] == "ok" and memory["skipped_cases"]
    verdicts = {t["target"]: t for t in report["targets"]}
    assert all(
        t["verdict"] == "not measured" for text, t in verdicts.items() if "Fashion" in text
    )
    assert report["systems"][-1]["absent"] == "left out (--no-torch)"
    # No plot without timed rows or scaling: the report says nothing of them.
    assert not (tmp_path / "nodata-scaling.png").exists()
    assert "## Plots" not in (tmp_path / "nodata.md").read_text()
