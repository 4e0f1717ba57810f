"""Epoch orders: numpy's shuffle without the GIL, and drawn one epoch ahead."""

import numpy as np
import pytest

from fastnn import _shuffle
from fastnn._permute import shuffle


def generators(seed):
    """Two identical legacy generators: MT19937 as seeded by RandomState, and PCG64."""
    return [
        (np.random.RandomState(seed), np.random.RandomState(seed)),
        (np.random.RandomState(np.random.PCG64(seed)),
         np.random.RandomState(np.random.PCG64(seed))),
    ]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 17, 256, 257, 5000])
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
    with pytest.raises(ValueError):
        shuffle(rs, np.arange(10, dtype=np.int32))
    with pytest.raises(ValueError):
        shuffle(rs, np.arange(20, dtype=np.intp)[::2])


@pytest.fixture
def ahead(monkeypatch):
    monkeypatch.setattr(_shuffle, "AHEAD", True)
    monkeypatch.setattr(_shuffle, "MIN_AHEAD", 1)
    monkeypatch.setattr(_shuffle, "_cores", lambda: 2)


@pytest.mark.parametrize("pattern", [[True] * 5 + [False], [True, False, True, True, False, False]])
def test_orders_drawn_ahead_are_the_sequential_orders(ahead, pattern):
    n = 1000
    ours, theirs = np.random.RandomState(7), np.random.RandomState(7)
    orders = _shuffle.EpochOrders(n, ours)
    assert orders.ahead
    expected = np.arange(n, dtype=np.intp)
    for next_runs in pattern:
        order = orders.next(next_runs=next_runs)
        theirs.shuffle(expected)
        np.testing.assert_array_equal(order, expected)
    orders.close()
    np.testing.assert_array_equal(ours.get_state()[1], theirs.get_state()[1])
    assert ours.get_state()[2] == theirs.get_state()[2]


def test_small_or_single_core_runs_draw_in_line(monkeypatch):
    monkeypatch.setattr(_shuffle, "AHEAD", False)
    assert not _shuffle.EpochOrders(10 * _shuffle.MIN_AHEAD, np.random.RandomState(0)).ahead
    monkeypatch.setattr(_shuffle, "AHEAD", True)
    assert not _shuffle.EpochOrders(_shuffle.MIN_AHEAD - 1, np.random.RandomState(0)).ahead
    monkeypatch.setattr(_shuffle, "_cores", lambda: 1)
    assert not _shuffle.EpochOrders(10 * _shuffle.MIN_AHEAD, np.random.RandomState(0)).ahead
    monkeypatch.setattr(_shuffle, "_cores", lambda: 2)
    assert _shuffle.EpochOrders(10 * _shuffle.MIN_AHEAD, np.random.RandomState(0)).ahead
    assert not _shuffle.EpochOrders(10 * _shuffle.MIN_AHEAD, np.random.RandomState(0),
                                    ahead=False).ahead


def test_close_waits_for_an_unused_order(ahead):
    orders = _shuffle.EpochOrders(2000, np.random.RandomState(0))
    orders.next(next_runs=True)
    orders.close()
    assert orders._pending is None
