"""The shape of a workload's result, shared by every workload and the report.

A workload returns one dict::

    {"title", "status": "ok" | "skipped", "reason", "unit", "note",
     "absent": {system: reason}, "skipped_cases": [{"case", "reason"}],
     "rows": [row, ...]}

and a row is::

    {"id", "case", "params",
     "seconds": {system: median or None}, "runs": {system: [...]},
     "warmup_s": {system: s}, "warmup_same_call": bool,
     "ratios": {"<fastnn system>/<other>": fastnn seconds / other seconds},
     "bound_s": GEMM lower bound or None, "x_bound": {fastnn system: s / bound},
     "metrics": {metric: {system: value}}}

Ratios below 1 mean fastnn is faster.
"""

from pathlib import Path


def ratios(values, systems):
    """``fastnn / other`` for every fastnn system and every other system.

    A ratio is None where either value is missing (system absent).
    """
    out = {}
    for mine in (s for s in systems if s.is_fastnn):
        for other in (s for s in systems if not s.is_fastnn):
            a, b = values.get(mine.name), values.get(other.name)
            out[f"{mine.name}/{other.name}"] = a / b if a is not None and b is not None else None
    return out


def timing_row(row_id, case, timings, systems, params=None, bound_s=None, metrics=None):
    """A row of timed results.

    Parameters
    ----------
    row_id : str
        Stable key (targets refer to rows by it).
    case : str
        What the row measured, as shown in the table.
    timings : dict of str to Timing
        From ``bench._timing.interleaved``, for the systems that ran.
    systems : list of System
        All systems of the run (absent ones get None).
    params : dict, default=None
        Parameters of the case, for the JSON.
    bound_s : float, default=None
        GEMM lower bound of the timed unit, in seconds.
    metrics : dict, default=None
        ``{metric: {system: value}}`` shown beside the times.

    Returns
    -------
    row : dict
    """
    seconds = {s.name: timings[s.name].median if s.name in timings else None for s in systems}
    x_bound = {}
    if bound_s:
        x_bound = {
            s.name: seconds[s.name] / bound_s
            for s in systems
            if s.is_fastnn and seconds[s.name] is not None
        }
    return {
        "id": row_id,
        "case": case,
        "params": params or {},
        "seconds": seconds,
        "runs": {name: t.runs for name, t in timings.items()},
        "warmup_s": {name: t.warmup_s for name, t in timings.items()},
        "warmup_same_call": all(t.warmup_same_call for t in timings.values()),
        "ratios": ratios(seconds, systems),
        "bound_s": bound_s,
        "x_bound": x_bound,
        "metrics": metrics or {},
    }


def metric_row(row_id, case, metrics, params=None):
    """A row with values but no times (e.g. memory)."""
    return {"id": row_id, "case": case, "params": params or {}, "metrics": metrics}


def workload(title, unit, rows, absent, note="", skipped_cases=(), files=None):
    """A workload's result that ran (some cases may have been skipped).

    ``files`` maps keys to plots the workload wrote itself (their names,
    beside the report).
    """
    return {
        "title": title,
        "status": "ok",
        "unit": unit,
        "note": note,
        "absent": absent,
        "skipped_cases": list(skipped_cases),
        "rows": rows,
        "files": {key: Path(path).name for key, path in (files or {}).items()},
    }


def skipped(title, reason):
    """A workload's result that could not run, with the reason."""
    return {"title": title, "status": "skipped", "reason": reason, "rows": []}
