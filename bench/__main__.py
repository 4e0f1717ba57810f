"""Command line of the bench: ``python -m bench [--quick] [--only ...] ...``.

Runs the workloads on this machine and writes ``<out>/<name>.json``,
``<name>.md``, ``<name>-ratios.png`` and ``<name>-scaling.png``.
"""

import argparse
import datetime
import gc
import os
import sys
from pathlib import Path

from . import _machine, _report, _systems, _targets, _timing
from ._context import Context
from .workloads import WORKLOADS

RESULTS = Path(__file__).parent / "results"
MIN_FULL_REPEATS = 3

METHOD = (
    "Method: the same data for every system, in one run. Each repeat runs every system "
    "once, in an order rotated between repeats, each call after {settle} s idle (so no system "
    "pays for the still-spinning BLAS/OpenMP threads of the one before); the median of "
    "{repeats} repeats is shown. "
    "Each system's first call is a warm-up, left out (its time is in the warm-up table). "
    "Ratios are fastnn / other, so below 1 means fastnn is faster; \"x bound\" is fastnn's "
    "time over the GEMM lower bound (the GEMM FLOPs of the work at the measured sgemm or "
    "dgemm peak)."
)


def _names(text, known, what):
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {what} {unknown}; choose from {list(known)}")
    return names


def parse_args(argv=None):
    """Parse the command line; enforce at least 3 repeats for a full run."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="fastnn against scikit-learn and PyTorch CPU on this machine (issue #3).",
    )
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few epochs: about a minute, for a smoke test")
    parser.add_argument("--only", type=lambda t: _names(t, WORKLOADS, "workload"),
                        default=list(WORKLOADS),
                        help=f"comma-separated workloads (default: all): {','.join(WORKLOADS)}")
    parser.add_argument("--repeats", type=int, default=3,
                        help=f"timed repeats per case, median reported (full run: at least "
                             f"{MIN_FULL_REPEATS})")
    parser.add_argument("--name", help="basename of the result files (default: the machine "
                                       "class, cpu-avx512, cpu-avx2 or gpu for --only gpu, "
                                       "whose reference result a full run replaces; quick "
                                       "with --quick)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="directory of the result files (default: bench/results)")
    parser.add_argument("--backends", type=lambda t: t.split(","),
                        default=_systems.default_backends(),
                        help="comma-separated fastnn backends (default: all but the slow "
                             "'numpy' oracle)")
    parser.add_argument("--no-download", action="store_true",
                        help="never download data; workloads without their data are skipped")
    parser.add_argument("--no-torch", action="store_true",
                        help="leave PyTorch out even if it is importable")
    parser.add_argument("--threads", type=int,
                        help="cap BLAS/OpenMP/PyTorch threads of every system at N (default: "
                             "their own defaults); 1 keeps a shared, busy machine usable")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.quick:
        # A smoke test: its timings are not read, so do not wait for idle pools.
        _timing.SETTLE_S = 0.0
    if not args.quick and args.repeats < MIN_FULL_REPEATS:
        parser.error(f"a full run needs --repeats >= {MIN_FULL_REPEATS} (median of at least 3)")
    if args.name is None and args.quick:
        args.name = "quick"
    return args


def main(argv=None):
    """Run the bench; print the Markdown report and the files written."""
    args = parse_args(argv)
    try:
        systems = _systems.build_systems(args.backends, with_torch=not args.no_torch)
    except ValueError as exc:
        sys.exit(f"python -m bench: {exc}")
    with_torch = any(s.name == "pytorch" and s.absent is None for s in systems)
    limiter = _machine.limit_threads(args.threads, with_torch) if args.threads else None
    machine = _machine.describe(with_torch, args.quick)
    machine["threads_cap"] = args.threads
    if args.name is None:
        args.name = _machine.machine_class(machine, gpu_only=args.only == ["gpu"])
    # What the imports created never becomes garbage: freezing it keeps the full
    # collection before each timed call (bench._timing.timed) cheap.
    gc.collect()
    gc.freeze()
    ctx = Context(args.quick, args.repeats, systems, machine, download=not args.no_download,
                  out=args.out, name=args.name)
    labels = [s.label + ("" if s.absent is None else " (absent)") for s in systems]
    ctx.log("systems: " + ", ".join(labels))

    results = {}
    for name in args.only:
        results[name] = WORKLOADS[name](ctx)
        if results[name]["status"] == "skipped":
            ctx.log(f"{name} skipped: {results[name]['reason']}")
    machine["load_average_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None

    report = {
        "name": args.name,
        "quick": args.quick,
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": ["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)],
        "repeats": args.repeats,
        "method": METHOD.format(repeats=args.repeats, settle=_timing.SETTLE_S),
        "machine": machine,
        "systems": [
            {"name": s.name, "label": s.label, "is_fastnn": s.is_fastnn, "absent": s.absent}
            for s in systems
        ],
        "workloads": results,
        "targets": _targets.check(results, systems),
    }
    written = _report.write(report, args.out, args.name)
    print(_report.markdown(report))
    ctx.log("written: " + ", ".join(str(p) for p in written.values()))
    if limiter is not None:
        limiter.restore_original_limits()


if __name__ == "__main__":
    main()
