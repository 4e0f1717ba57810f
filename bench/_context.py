"""What every workload is handed: the run's settings and systems."""

import sys
import time
from dataclasses import dataclass, field


@dataclass
class Context:
    """Settings of one bench run.

    Attributes
    ----------
    quick : bool
        Small sizes (smoke test, ``make bench QUICK=1``).
    repeats : int
        Timed repeats per system and case (median reported).
    systems : list of System
        Every system of the run, absent ones included.
    machine : dict
        ``bench._machine.describe()``, with the GEMM peaks.
    download : bool
        Whether data loaders may download.
    out : Path or None
        Directory of the report, where a workload may write its own plots.
    name : str or None
        Basename of the report's files.
    """

    quick: bool
    repeats: int
    systems: list
    machine: dict
    download: bool
    started: float = field(default_factory=time.perf_counter)
    out: object = None
    name: str = None

    @property
    def present(self):
        """Systems that can run here."""
        return [s for s in self.systems if s.absent is None]

    def absent(self, not_applicable=None):
        """``{name: reason}`` of systems absent here, plus ``not_applicable`` ones.

        Parameters
        ----------
        not_applicable : dict of str to str, default=None
            Systems a workload leaves out, with the reason.
        """
        absent = {s.name: s.absent for s in self.systems if s.absent is not None}
        for name, reason in (not_applicable or {}).items():
            absent.setdefault(name, reason)
        return absent

    def log(self, message):
        """Progress line on stderr, with the seconds since the run began."""
        elapsed = time.perf_counter() - self.started
        print(f"[{elapsed:7.1f}s] {message}", file=sys.stderr, flush=True)
