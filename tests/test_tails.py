"""Far tails on 2^27 samples: counts beyond k std follow the exact binomial law
(two-sided p > 1e-3). Slow: run with `pytest -m slow`."""
import numpy as np
import pytest
from scipy import stats

import weightinit as wi

N = 1 << 27


def _check(x, thresholds, tail_prob, label):
    for k in thresholds:
        count = int(np.count_nonzero(np.abs(x) > k))
        p = tail_prob(k)
        test = stats.binomtest(count, N, p)
        assert test.pvalue > 1e-3, f"{label}: {count} beyond {k} std, expected {N * p:.1f} (p={test.pvalue:.2g})"


@pytest.mark.slow
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_normal_tails(dt):
    x = wi.normal_(np.empty(N, dt), seed=2026)
    _check(x, [3.0, 4.0, 4.5, 5.0, 5.5], lambda k: 2 * stats.norm.sf(k), f"normal {np.dtype(dt).name}")


@pytest.mark.slow
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_wide_trunc_normal_tails(dt):
    x = wi.trunc_normal_(np.empty(N, dt), 0.0, 1.0, -10.0, 10.0, seed=2026)
    z = stats.norm.cdf(10) - stats.norm.cdf(-10)
    _check(x, [3.0, 4.0, 5.0, 5.5], lambda k: 2 * (stats.norm.sf(k) - stats.norm.sf(10)) / z,
           f"trunc_normal[-10, 10] {np.dtype(dt).name}")
