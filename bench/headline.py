"""The README's headline table, from a reference result.

``python bench/headline.py [bench/results/cpu-avx512.json]`` prints the
Markdown table that the README holds between its ``bench:headline`` markers;
``tests/test_readme.py`` checks that the two agree, so the README never shows
a number that the reference result does not.
"""

import json
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent / "results" / "cpu-avx512.json"

# (workload, row id, what the row is called in the README)
ROWS = (
    ("fashion", "float32", "Fashion-MNIST epoch, 784-256-128-10, float32"),
    ("fashion", "float64", "Fashion-MNIST epoch, float64"),
    ("tabular", "classification-20000-(32,)-b64", "small tabular net epoch, 20000 x 20, batch 64"),
    ("search", "tabular", "GridSearchCV, 24 candidates x 3 folds"),
)


def _seconds(value):
    return f"{value:.3g} s" if value >= 1 else f"{value * 1e3:.3g} ms"


def headline(report):
    """The table's Markdown lines for a bench report (a ``<name>.json`` dict)."""
    machine = report["machine"]
    lines = [
        "| | fastnn | scikit-learn | PyTorch CPU | fastnn / scikit-learn |",
        "| --- | --- | --- | --- | --- |",
    ]
    for workload, row_id, label in ROWS:
        row = next(r for r in report["workloads"][workload]["rows"] if r["id"] == row_id)
        s = row["seconds"]
        torch = _seconds(s["pytorch"]) if s.get("pytorch") else "-"
        lines.append(f"| {label} | {_seconds(s['fastnn-cython'])} | {_seconds(s['sklearn'])} "
                     f"| {torch} | **{row['ratios']['fastnn-cython/sklearn']:.3f}x** |")
    lines += [
        "",
        f"Medians of interleaved repeats, fastnn's default (Cython) backend; "
        f"{machine['cpu']}, {machine['usable_cpus']} cores "
        f"({', '.join(machine['isa'])}), {report['created_utc'][:10]}.",
    ]
    return lines


def main(path=REFERENCE):
    print("\n".join(headline(json.loads(Path(path).read_text()))))


if __name__ == "__main__":
    main(*sys.argv[1:])
