"""Epoch visiting orders, the next one drawn while an epoch trains.

scikit-learn shuffles the sample indices in place at the start of every epoch
(``sklearn.utils.shuffle`` with the estimator's ``RandomState``). fastnn draws
exactly the same orders (``fastnn._permute.shuffle``). When the next epoch is
sure to run, its order is offered to the backend as an ``AheadOrder``: the
Cython backend, when its batches run on one thread, draws it on a second
OpenMP thread inside the compiled epoch (no Python thread, no GIL), so on a
small data set, where the shuffle is several percent of an epoch, the second
core does it. Other backends leave it, and it is drawn at the next epoch's
start as before.

An order is only drawn ahead for an epoch that will certainly run, so the
generator's state after a fit is the one scikit-learn leaves, and
``warm_start`` and ``partial_fit`` go on with the same stream (Ctrl-C may
leave it one shuffle further on).
"""

import numpy as np

from ._permute import shuffle

# Below this many samples the shuffle (about 8 ns a sample) costs about
# what waking a second thread does: the epoch draws the order after its
# batches, on its own thread (still without the GIL).
MIN_AHEAD = 4096


class AheadOrder:
    """The next epoch's order, for a backend to draw during this epoch.

    Attributes
    ----------
    random_state : numpy.random.RandomState
        The generator to draw from (its lock held while drawing).
    target : ndarray of intp of shape (n_samples,)
        Where the order goes: this epoch's order, shuffled once more.
    drawn : bool
        Set by the backend once ``target`` holds the order.
    """

    def __init__(self, random_state, target):
        self.random_state = random_state
        self.target = target
        self.drawn = False


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
        Whether the next order may be offered to the backend
        (``AheadOrder``).
    """

    def __init__(self, n_samples, random_state, ahead=True):
        self.random_state = random_state
        self._buffers = [np.arange(n_samples, dtype=np.intp), np.empty(n_samples, np.intp)]
        self._current = 0
        self.ahead = ahead
        self.offer = None

    def next(self, next_runs=False):
        """The order of the coming epoch.

        Parameters
        ----------
        next_runs : bool, default=False
            True when the epoch after this one will run whatever this one
            gives; its order is then offered in ``self.offer`` (else None)
            for the backend to draw during this epoch.

        Returns
        -------
        order : ndarray of shape (n_samples,)
            Valid until the following call.
        """
        if self.offer is not None and self.offer.drawn:
            self._current = 1 - self._current
            order = self._buffers[self._current]
        else:
            order = self._buffers[self._current]
            shuffle(self.random_state, order)
        self.offer = None
        if next_runs and self.ahead:
            self.offer = AheadOrder(self.random_state, self._buffers[1 - self._current])
        return order
