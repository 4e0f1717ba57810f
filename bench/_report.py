"""The run's outputs: ``<name>.json``, ``<name>.md`` and PNG plots.

The JSON holds everything (every repeat, warm-ups, machine); the Markdown
puts the ratios first, absolute seconds beside them, and a targets table
that says plainly which were missed; the plots are a bar chart of the ratios
and the log-log scaling plot with its GEMM lower bound.
"""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

# A 1-minute load average above this when the run begins means another job was running.
BUSY_LOAD = 0.5


def output_paths(out_dir, name):
    """Files a run named ``name`` writes into ``out_dir``."""
    out_dir = Path(out_dir)
    return {
        "json": out_dir / f"{name}.json",
        "markdown": out_dir / f"{name}.md",
        "ratios_png": out_dir / f"{name}-ratios.png",
        "scaling_png": out_dir / f"{name}-scaling.png",
    }


def write(report, out_dir, name):
    """Write the JSON, the Markdown and the plots of ``report``.

    Parameters
    ----------
    report : dict
        Assembled by ``bench.__main__``.
    out_dir : path-like
        Created if missing.
    name : str
        Basename of the files.

    Returns
    -------
    paths : dict of str to Path
        The files written.
    """
    paths = output_paths(out_dir, name)
    paths["json"].parent.mkdir(parents=True, exist_ok=True)
    written = {"json": paths["json"], "markdown": paths["markdown"]}
    if plot_ratios(report, paths["ratios_png"]):
        written["ratios_png"] = paths["ratios_png"]
    if plot_scaling(report, paths["scaling_png"]):
        written["scaling_png"] = paths["scaling_png"]
    report["files"] = {k: p.name for k, p in written.items()}
    paths["json"].write_text(json.dumps(report, indent=1, default=_jsonable) + "\n")
    paths["markdown"].write_text(markdown(report) + "\n")
    return written


def _jsonable(value):
    # numpy scalars and anything else json does not know
    if hasattr(value, "item"):
        return value.item()
    return str(value)


# --------------------------------------------------------------------- Markdown


def _seconds(v):
    if v is None:
        return "absent"
    return f"{v:.0f}" if v >= 100 else f"{v:.3g}"


def _ratio(v):
    return "absent" if v is None else f"{v:.3g}x"


def _metric(name, v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if " - " in name:  # a difference: show its sign
        return f"{v:+.4f}"
    if isinstance(v, int):
        return str(v)
    return f"{v:.4g}"


def _labels(report):
    # Run-wide systems, plus any a workload brings itself (the GPU one's PyTorch CUDA).
    labels = {s["name"]: s["label"] for s in report["systems"]}
    for result in report["workloads"].values():
        labels.update(result.get("labels", {}))
    return labels


def _short(label):
    # "fastnn[cython]" -> "cython" in ratio headers, to keep them narrow
    return label[len("fastnn[") : -1] if label.startswith("fastnn[") else label


def _cell(value):
    # One line per row: a multi-line message (e.g. why data was not loaded)
    # keeps its first line only; the JSON has all of it.
    text = str(value).strip().splitlines()
    return text[0].replace("|", "/") if text else ""


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def machine_line(machine):
    """One paragraph: the machine, its thread pools and the software versions."""
    pools = ", ".join(
        " ".join(filter(None, (p["internal_api"], p["version"])))
        + f" ({p['user_api']}, {p['num_threads']} threads)"
        for p in machine["thread_pools"]
    )
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v)
    torch = f"; PyTorch threads {machine['torch_threads']}" if machine["torch_threads"] else ""
    env = ", ".join(f"{k}={v}" for k, v in machine["thread_env"].items()) or "none set"
    if machine.get("threads_cap"):
        env += f"; capped at {machine['threads_cap']} thread(s) by --threads"
    load = machine.get("load_average_start")
    load_end = machine.get("load_average_end")
    return (
        f"Machine: {machine['cpu']} ({machine['logical_cpus']} logical CPUs, "
        f"{machine['usable_cpus']} usable; {', '.join(machine['isa']) or 'no AVX2'}), "
        f"{machine['platform']}. GEMM peak through scipy's BLAS (2048^3): sgemm "
        f"{machine['sgemm_peak_gflops']:.0f} GFLOP/s, dgemm {machine['dgemm_peak_gflops']:.0f} "
        f"GFLOP/s. Thread pools: {pools}{torch}; thread variables: {env}. "
        f"Load average at start {_load(load)}, at end {_load(load_end)}. {versions}."
    )


def _load(values):
    return "n/a" if not values else " / ".join(f"{v:.2f}" for v in values)


def targets_table(report):
    """The targets table: every target, every fastnn backend, met or MISSED."""
    labels = _labels(report)
    rows = []
    for v in report["targets"]:
        unit = v["unit"]
        if v["value"] is None:
            measured = "-"
        elif isinstance(v["value"], bool):
            measured = "same" if v["value"] else "different"
        elif v["absolute"]:
            measured = f"{v['value']:+.4f}"
        else:
            measured = f"{v['value']:.3g}{unit}"
        limit = "-"
        if v["limit"] is not None:
            # no "|" here: it would split the Markdown cell
            limit = f"within ±{v['limit']}" if v["absolute"] else f"<= {v['limit']}{unit}"
            if v.get("at_least"):
                limit = f">= {v['limit']}{unit}"
        verdict = v["verdict"] if v["reason"] is None else f"{v['verdict']}: {v['reason']}"
        rows.append([v["target"], labels[v["system"]], measured, limit, verdict])
    return _table(["target", "system", "measured", "limit", "verdict"], rows)


def workload_table(result, labels):
    """A workload's table: ratios first, then seconds, bound, metrics."""
    rows = result["rows"]
    ratio_keys = [k for k in rows[0].get("ratios", {})] if rows else []
    systems = list(rows[0].get("seconds", {})) if rows else []
    fastnn = [s for s in systems if any(s in r.get("x_bound", {}) for r in rows)]
    metric_cols = []
    for r in rows:
        for metric, values in r["metrics"].items():
            for system in values:
                if (metric, system) not in metric_cols:
                    metric_cols.append((metric, system))

    header = ["case"]
    header += [" / ".join(_short(labels[s]) for s in k.split("/")) for k in ratio_keys]
    header += [f"{labels[s]} s" for s in systems]
    header += [f"{_short(labels[s])} x bound" for s in fastnn]
    header += [f"{m} ({_short(labels[s])})" for m, s in metric_cols]
    body = []
    for r in rows:
        line = [r["case"]]
        line += [_ratio(r["ratios"][k]) for k in ratio_keys]
        line += [_seconds(r["seconds"][s]) for s in systems]
        line += [f"{r['x_bound'][s]:.3g}x" if s in r.get("x_bound", {}) else "-" for s in fastnn]
        line += [_metric(m, r["metrics"].get(m, {}).get(s)) for m, s in metric_cols]
        body.append(line)
    return _table(header, body)


def warmup_table(report):
    """First-call (warm-up) seconds of each workload's first case, beside the median."""
    labels = _labels(report)
    names = [s["name"] for s in report["systems"]]
    rows = []
    for result in report["workloads"].values():
        timed = [r for r in result["rows"] if "warmup_s" in r]
        if not timed:
            continue
        r = timed[0]
        cells = []
        for n in names:
            if n not in r["warmup_s"]:
                cells.append("-")
            elif r["warmup_same_call"]:
                cells.append(f"{_seconds(r['warmup_s'][n])} ({_seconds(r['seconds'][n])})")
            else:
                cells.append(f"{_seconds(r['warmup_s'][n])} (one fit)")
        rows.append([f"{result['title']}: {r['case']}", *cells])
    return _table(["first case of", *(labels[n] for n in names)], rows)


def markdown(report):
    """The whole Markdown report."""
    labels = _labels(report)
    lines = [f"# fastnn bench: {report['name']}", ""]
    if report["quick"]:
        lines += [
            "**Quick run**: reduced sizes and epochs, a smoke test of the suite; the verdicts "
            "below are indicative only.",
            "",
        ]
    load = report["machine"].get("load_average_start")
    if load and load[0] > BUSY_LOAD:
        lines += [
            f"**The machine was busy** (load average {load[0]:.2f} when the run began): other "
            "jobs shared the CPUs, so these timings are unreliable.",
            "",
        ]
    lines += [machine_line(report["machine"]), "", report["method"], "", "## Targets", ""]
    lines += targets_table(report)
    for key, result in report["workloads"].items():
        lines += ["", f"## {result['title']}", ""]
        if result["status"] == "skipped":
            lines.append(f"Skipped: {result['reason']}")
            continue
        lines += [f"Unit: {result['unit']}.", ""]
        if result["rows"]:
            lines += workload_table(result, labels) + [""]
        if result["note"]:
            lines.append(result["note"])
        for name, reason in result["absent"].items():
            lines.append(f"- {labels.get(name, name)} absent: {reason}.")
        for case in result["skipped_cases"]:
            lines.append(f"- Skipped {case['case']}: {case['reason']}")
        for plot in result.get("files", {}).values():
            lines += ["", f"![{plot}]({plot})"]
        for row in result["rows"]:
            if "best_params" in row and "sklearn" in row["best_params"]:
                best = ", ".join(f"{k}={v}" for k, v in row["best_params"]["sklearn"].items())
                lines.append(f"- {row['case']}: scikit-learn's best parameters: {best}.")
    lines += [
        "",
        "## Warm-up (first call, excluded above)",
        "",
        "Seconds of each system's first call, in the unit of its table, with the median in "
        "brackets (or \"one fit\" where the warm-up was a single fit); a JIT backend's "
        "compile time shows here.",
        "",
    ]
    lines += warmup_table(report)
    files = report.get("files", {})
    plots = [files[k] for k in ("ratios_png", "scaling_png") if k in files]
    if plots:
        lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in plots]
    return "\n".join(lines)


# ------------------------------------------------------------------------ plots


def plot_ratios(report, path):
    """Horizontal bars of every fastnn / other ratio; False if there is none."""
    labels = _labels(report)
    bars = []  # (row label, ratio key, value)
    for key, result in report["workloads"].items():
        if key == "scaling":
            continue  # has its own plot
        for row in result["rows"]:
            for ratio_key, value in row.get("ratios", {}).items():
                if value is not None:
                    bars.append((f"{key}: {row['case']}", ratio_key, value))
    if not bars:
        return False
    keys = list(dict.fromkeys(k for _, k, _ in bars))
    rows = list(dict.fromkeys(r for r, _, _ in bars))
    height = 0.8 / len(keys)
    fig, ax = plt.subplots(figsize=(10, 1.5 + 0.28 * len(rows) * len(keys)))
    for i, key in enumerate(keys):
        values = {r: v for r, k, v in bars if k == key}
        ys = [rows.index(r) + i * height for r in values]
        name = " / ".join(labels[s] for s in key.split("/"))
        ax.barh(ys, list(values.values()), height=height, label=name)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks([j + 0.4 - height / 2 for j in range(len(rows))], rows, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("time ratio fastnn / other (log scale; below 1: fastnn faster)")
    ax.set_title(f"fastnn bench '{report['name']}': time ratios")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_scaling(report, path):
    """Log-log seconds per epoch against n_samples and width; False if not run."""
    result = report["workloads"].get("scaling")
    if not result or result["status"] != "ok" or not result["rows"]:
        return False
    labels = _labels(report)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, series, xlabel in zip(
        axes, ("n_samples", "width"), ("n_samples (width 256)", "hidden width")
    ):
        rows = [r for r in result["rows"] if r["series"] == series]
        xs = [r["x"] for r in rows]
        for system in rows[0]["seconds"]:
            ys = [r["seconds"][system] for r in rows]
            if all(y is not None for y in ys):
                ax.plot(xs, ys, marker="o", label=labels[system])
        ax.plot(xs, [r["bound_s"] for r in rows], "k--", label="GEMM lower bound (sgemm peak)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(xlabel)
        ax.set_ylabel("seconds per epoch")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fixed_n = [r["params"]["n_samples"] for r in result["rows"] if r["series"] == "width"][0]
    axes[1].set_title(f"n_samples = {fixed_n}", fontsize=9)
    fig.suptitle(f"fastnn bench '{report['name']}': {result['title']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
