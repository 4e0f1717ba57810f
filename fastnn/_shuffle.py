"""Epoch visiting orders, drawn one epoch ahead on a worker thread.

scikit-learn shuffles the sample indices in place at the start of every epoch
(``sklearn.utils.shuffle`` with the estimator's ``RandomState``). fastnn draws
exactly the same orders (``fastnn._permute.shuffle``), and, when the next
epoch is sure to run, draws its order while the current epoch trains: the
shuffle and the compiled epoch both run without the GIL, so on a small data
set, where the shuffle is several percent of an epoch, the second core does it.

An order is only drawn ahead for an epoch that will certainly run, so the
generator's state after a fit is the one scikit-learn leaves, and
``warm_start`` and ``partial_fit`` go on with the same stream.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._permute import shuffle

# Below this many samples handing the shuffle over costs about what it saves.
MIN_AHEAD = 4096

# Drawing ahead is opt-in (FASTNN_SHUFFLE_AHEAD=1) for now: one full test run
# hung in the Ctrl-C test with it on, and the cause is not found yet.
AHEAD = os.environ.get("FASTNN_SHUFFLE_AHEAD", "0") not in ("", "0")

_pool = None
_pool_pid = None
_pool_lock = threading.Lock()


def _worker():
    """The process's shuffle thread; a forked child makes its own."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fastnn-shuffle")
            _pool_pid = os.getpid()
        return _pool


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _shuffled(source, target, random_state):
    target[...] = source
    shuffle(random_state, target)
    return target


class EpochOrders:
    """The visiting order of each epoch, as ``sklearn.utils.shuffle`` gives it.

    Parameters
    ----------
    n_samples : int
        Number of training rows.
    random_state : numpy.random.RandomState
        The estimator's generator; each epoch's order is one in-place shuffle
        of the previous epoch's order, as in scikit-learn.
    ahead : bool, default=True
        Whether an order may be drawn on a worker thread while the previous
        epoch trains; only done when ``AHEAD`` is on, with more than one core
        and at least ``MIN_AHEAD`` samples.
    """

    def __init__(self, n_samples, random_state, ahead=True):
        self.random_state = random_state
        self._buffers = [np.arange(n_samples, dtype=np.intp), np.empty(n_samples, np.intp)]
        self._current = 0
        self._pending = None
        self.ahead = ahead and AHEAD and n_samples >= MIN_AHEAD and _cores() > 1

    def next(self, next_runs=False):
        """The order of the coming epoch.

        Parameters
        ----------
        next_runs : bool, default=False
            True when the epoch after this one will run whatever this one
            gives; its order is then drawn now, on the worker thread.

        Returns
        -------
        order : ndarray of shape (n_samples,)
            Valid until the following call.
        """
        if self._pending is not None:
            order = self._pending.result()
            self._pending = None
            self._current = 1 - self._current
        else:
            order = self._buffers[self._current]
            shuffle(self.random_state, order)
        if next_runs and self.ahead:
            self._pending = _worker().submit(
                _shuffled, order, self._buffers[1 - self._current], self.random_state
            )
        return order

    def close(self):
        """Wait for an order still being drawn.

        Only an interrupted or failed epoch leaves one; the generator then
        stays one shuffle further on than scikit-learn's would.
        """
        if self._pending is not None:
            self._pending.exception()
            self._pending = None
