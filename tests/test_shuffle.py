"""Epoch orders: numpy's shuffle (a long one without the GIL), and drawn one epoch ahead."""

import numpy as np
import pytest

from fastnn import MLPClassifier, _shuffle
from fastnn._permute import shuffle


def generators(seed):
    """Two identical legacy generators: MT19937 as seeded by RandomState, and PCG64."""
    return [
        (np.random.RandomState(seed), np.random.RandomState(seed)),
        (np.random.RandomState(np.random.PCG64(seed)),
         np.random.RandomState(np.random.PCG64(seed))),
    ]


# 200_000: past the length from which the shuffle releases the GIL.
@pytest.mark.parametrize("n", [0, 1, 2, 3, 17, 256, 257, 5000, 200_000])
@pytest.mark.parametrize("seed", [0, 1, 42])
def test_permute_is_numpys_shuffle(n, seed):
    for ours, theirs in generators(seed):
        a = np.arange(n, dtype=np.intp)
        b = a.copy()
        for _ in range(3):
            shuffle(ours, a)
            theirs.shuffle(b)
            np.testing.assert_array_equal(a, b)
        # Same number of draws: the streams go on identically.
        np.testing.assert_array_equal(ours.randint(0, 2**31, 8), theirs.randint(0, 2**31, 8))


def test_permute_rejects_other_buffers():
    rs = np.random.RandomState(0)
    with pytest.raises(ValueError, match="dtype mismatch"):
        shuffle(rs, np.arange(10, dtype=np.int32))
    with pytest.raises(ValueError, match="not C-contiguous"):
        shuffle(rs, np.arange(20, dtype=np.intp)[::2])


@pytest.mark.parametrize(
    "pattern",
    [[True] * 5 + [False], [True, False, True, True, False, False]],
    ids=["runs", "mixed"],
)
@pytest.mark.parametrize("drawn", [True, False], ids=["drawn", "left"])
def test_orders_offered_ahead_are_the_sequential_orders(pattern, drawn):
    # Each offer is drawn as the compiled epoch does (this order, shuffled
    # once more) or left to the next call: either way scikit-learn's orders,
    # and its generator state at the end.
    n = 1000
    ours, theirs = np.random.RandomState(7), np.random.RandomState(7)
    orders = _shuffle.EpochOrders(n, ours)
    assert orders.ahead
    expected = np.arange(n, dtype=np.intp)
    for next_runs in pattern:
        order = orders.next(next_runs=next_runs)
        theirs.shuffle(expected)
        np.testing.assert_array_equal(order, expected)
        assert (orders.offer is not None) == next_runs
        if orders.offer is not None and drawn:
            assert orders.offer.target is not order
            orders.offer.target[...] = order
            shuffle(orders.offer.random_state, orders.offer.target)
            orders.offer.drawn = True
    np.testing.assert_array_equal(ours.get_state()[1], theirs.get_state()[1])
    assert ours.get_state()[2] == theirs.get_state()[2]


def test_orders_are_offered_ahead_unless_told_not_to():
    # Small data too: the epoch then draws the order after its batches.
    assert _shuffle.EpochOrders(10, np.random.RandomState(0)).ahead
    assert not _shuffle.EpochOrders(10, np.random.RandomState(0), ahead=False).ahead


@pytest.fixture
def offers(monkeypatch):
    """Every order offered ahead during the fits of a test."""
    made = []

    class Recorded(_shuffle.AheadOrder):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)

    monkeypatch.setattr(_shuffle, "AheadOrder", Recorded)
    return made


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_samples,n_threads", [(5000, None), (5000, 1), (600, None)],
                         ids=["beside", "one-thread-fit", "small"])
def test_the_cython_epoch_draws_the_next_order(monkeypatch, offers, dtype, n_samples, n_threads):
    # Batches of 50 run on one thread; the compiled epoch draws the next
    # order (beside them on a second thread, or after them where the fit
    # may use one thread or the data are small), and the model is the one
    # every order drawn in line gives (the NumPy backend never draws ahead).
    from fastnn import _mlp
    from fastnn.backends import _cython
    from fastnn.backends._threads import spare_thread

    beside = []
    epoch = _mlp.epoch

    def recorded(*args):
        beside.append(args[-1])
        return epoch(*args)

    monkeypatch.setattr(_cython._mlp, "epoch", recorded)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n_samples, 6)).astype(dtype)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    params = dict(hidden_layer_sizes=(5,), batch_size=50, max_iter=4, tol=0, random_state=0)
    fast = MLPClassifier(backend="cython", n_threads=n_threads, **params).fit(X, y)
    assert len(offers) == 3  # not for the last epoch
    assert all(o.drawn for o in offers)
    # Built with OpenMP on two cores or more (as in CI): on the second thread.
    expect_beside = (n_samples >= _shuffle.MIN_AHEAD and n_threads is None
                     and spare_thread(_mlp.max_threads()))
    assert beside == [expect_beside] * 3 + [False]
    monkeypatch.setattr(_cython._mlp, "epoch", epoch)
    ref = MLPClassifier(backend="numpy", **params).fit(X, y)
    assert not any(o.drawn for o in offers[3:])
    np.testing.assert_allclose(fast.loss_curve_, ref.loss_curve_, rtol=1e-5 if dtype == np.float32 else 1e-12)
    for a, b in zip(fast.coefs_, ref.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-6)
