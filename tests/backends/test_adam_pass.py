"""Adam's step in one pass (``src/_adam_step.h``): the separate passes' results, bit for bit."""

import numpy as np
import pytest

from fastnn import _mlp

HAS_PASS = _mlp.one_pass_adam()


def numpy_adam(w, g, m, v, n_weights, alpha, sw, beta_1, beta_2, eps, rate, decay):
    """The step in the order of operations the epoch uses, one rounding each."""
    dt = w.dtype.type
    w, g, m, v = w.copy(), g.copy(), m.copy(), v.copy()
    l2 = float(np.dot(w[:n_weights].astype(np.float64), w[:n_weights]))
    g[:n_weights] = g[:n_weights] + dt(alpha) * w[:n_weights]
    g = g / dt(sw)
    w[:n_weights] = w[:n_weights] * dt(decay)
    m = dt(beta_1) * m + dt(1 - beta_1) * g
    v = dt(beta_2) * v + dt(1 - beta_2) * (g * g)
    w = w + (dt(-rate) * m) / (np.sqrt(v) + dt(eps))
    return w, m, v, l2


def random_state(n, dtype, seed):
    rng = np.random.RandomState(seed)
    w = rng.normal(scale=0.3, size=n).astype(dtype)
    g = rng.normal(scale=5.0, size=n).astype(dtype)
    m = rng.normal(scale=0.1, size=n).astype(dtype)
    v = rng.uniform(0.0, 0.2, size=n).astype(dtype)
    # Exact zeros; the last gradient and moment -0.0, whose sum keeps the
    # sign only if no penalty term (+0.0 on a bias) was added to the gradient.
    w[::7] = 0
    m[::5] = 0
    v[::6] = 0
    g[-1] = m[-1] = -0.0
    return w, g, m, v


@pytest.mark.skipif(not HAS_PASS, reason="the one-pass Adam step needs a CPU with AVX-512")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
# Lengths around the vector widths (8 doubles, 16 floats), weights ending
# inside a vector, at its edge, or not at all.
@pytest.mark.parametrize("n,n_weights", [(1, 1), (5, 0), (16, 16), (16, 9), (37, 24), (100, 61)])
# A power of two (averaged by multiplying), a batch of 200, a weighted sum.
@pytest.mark.parametrize("sw", [256.0, 200.0, 2.5])
@pytest.mark.parametrize("alpha,decay", [(0.0, 1.0), (1e-3, 1.0), (1e-4, 0.999)])
def test_one_pass_is_the_separate_passes_bit_for_bit(dtype, n, n_weights, sw, alpha, decay):
    w, g, m, v = random_state(n, dtype, seed=n + n_weights)
    args = (n_weights, alpha, sw, 0.9, 0.999, 1e-8, 1e-3 * np.sqrt(1 - 0.999 ** 3) / (1 - 0.9 ** 3))
    expected = numpy_adam(w, g, m, v, *args, decay)
    for one_pass in (True, False):
        got = [w.copy(), g.copy(), m.copy(), v.copy()]
        l2 = _mlp.adam_update(*got, *args, decay=decay, one_pass=one_pass)
        for name, a, b in zip("wmv", (got[0], got[2], got[3]), expected[:3]):
            # Same bits: +0.0 and -0.0 told apart too.
            assert a.tobytes() == b.tobytes(), (one_pass, name)
        rtol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(l2, expected[3], rtol=rtol, atol=0)


def test_adam_update_refuses_bad_shapes():
    z = np.zeros(4)
    with pytest.raises(ValueError, match="same length"):
        _mlp.adam_update(z.copy(), np.zeros(3), z.copy(), z.copy(), 2, 0.0, 1.0, 0.9, 0.999,
                         1e-8, 1e-3, one_pass=False)
    with pytest.raises(ValueError, match="n_weights"):
        _mlp.adam_update(z.copy(), z.copy(), z.copy(), z.copy(), 5, 0.0, 1.0, 0.9, 0.999,
                         1e-8, 1e-3, one_pass=False)
