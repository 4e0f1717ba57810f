"""Interleaved repeats: how every time in the bench is measured.

The machine is shared and noisy, so systems are never timed in blocks, one
after the other: each repeat runs every system once, in an order rotated from
one repeat to the next, and the median over repeats is reported. Each system's
first call is a warm-up: timed and recorded (it carries one-off costs such as
a JIT backend's compilation) but left out of the median.
"""

import gc
import statistics
import time
from dataclasses import dataclass

# Idle seconds before each timed call. After a multi-threaded call, OpenBLAS's
# worker threads busy-wait for about 0.1 s (2^28 cycles) and OpenMP's a little
# while: without a pause, a system pays for the spinning threads of the one
# timed before it (measured here: a 10,000-row predict ran 2x slower right
# after a numpy matmul, and at full speed 0.2 s later).
SETTLE_S = 0.25


@dataclass
class Timing:
    """Times of one system on one case.

    Attributes
    ----------
    runs : list of float
        Seconds per unit (per epoch, per call, ...) of each timed repeat.
    warmup_s : float
        Seconds of the warm-up call: per unit like ``runs`` when the warm-up
        was the measured call itself, whole seconds otherwise.
    warmup_same_call : bool
        Whether the warm-up was the measured call itself.
    result : object
        What the last timed call returned (e.g. the fitted estimator).
    """

    runs: list
    warmup_s: float
    warmup_same_call: bool
    result: object = None

    @property
    def median(self):
        """Median of ``runs``."""
        return statistics.median(self.runs)


def timed(fn):
    """Run ``fn()`` once, from idle thread pools; return ``(seconds, result)``."""
    gc.collect()  # garbage of the previous system is not this one's cost
    time.sleep(SETTLE_S)
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def interleaved(calls, repeats, per=1, warmup=None):
    """Time each call ``repeats`` times, interleaved, after one warm-up each.

    Parameters
    ----------
    calls : dict of str to callable
        System name to a callable taking no argument; all do the same work.
    repeats : int
        Timed calls per system.
    per : int, default=1
        Units of work per call (epochs, predictions); times are divided by it.
    warmup : dict of str to callable, default=None
        A cheaper warm-up per system; by default the measured call itself.

    Returns
    -------
    timings : dict of str to Timing
    """
    same_call = warmup is None
    warmup = calls if same_call else warmup
    timings = {}
    for name in calls:
        seconds, result = timed(warmup[name])
        scale = per if same_call else 1
        timings[name] = Timing([], seconds / scale, same_call, result)
    names = list(calls)
    for r in range(repeats):
        # Rotate the order so no system always runs right after the same other one.
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            seconds, result = timed(calls[name])
            timings[name].runs.append(seconds / per)
            timings[name].result = result
    return timings
