"""float32 truncated normals on one side of the mean (contract version 3): every
float32 value of the interval appears with its exact probability. A chi-square over
every float32 cell of the interval (the cell of value g: the reals that round to g,
cut to [a, b], where the clamp puts the values beyond the last float32 inside), as
the 16-bit tests do. Version 2 inverted these intervals in float32: on [1, 1.0001]
238 of its 839 values never appeared, each expected about 20 000 times."""
import math

import numpy as np
import pytest

import weightinit as wi

stats = pytest.importorskip("scipy.stats")

ALPHA = 1e-4
N = 1 << 24


def _grid(a: float, b: float) -> np.ndarray:
    """Every float32 value in [a, b], ascending (a and b of one sign)."""
    lo, hi = np.float32(a), np.float32(b)
    if float(lo) < a:
        lo = np.nextafter(lo, np.float32(np.inf))
    if float(hi) > b:
        hi = np.nextafter(hi, np.float32(-np.inf))
    if lo >= 0:
        return np.arange(lo.view(np.int32), hi.view(np.int32) + 1, dtype=np.int32).view(np.float32)
    return -np.arange((-hi).view(np.int32), (-lo).view(np.int32) + 1, dtype=np.int32).view(np.float32)[::-1]


def _cell_probabilities(grid, a, b, mean, std):
    g = grid.astype(np.float64)
    z = (np.concatenate([[a], (g[:-1] + g[1:]) / 2, [b]]) - mean) / std
    p = -np.diff(stats.norm.sf(z)) if z[0] >= 0 else np.diff(stats.norm.cdf(z))   # the accurate side
    return p / p.sum()


# (mean, std, a, b): upper and lower sides, near and far from the mean, std != 1
INTERVALS = [
    (0.0, 1.0, 1.0, 1.0001),
    (0.0, 1.0, 0.5, 0.5001),
    (0.0, 1.0, 5.39, 5.41),
    (0.0, 1.0, 2.0, 2.01),
    (0.0, 1.0, -1.0001, -1.0),
    (0.0, 1.0, -20.0001, -20.0),
    (0.1, 0.02, 0.12, 0.1201),
    (-3.0, 2.0, 0.001, 0.00101),     # the distant-mean rule of version 2 applied here already
    (0.0, 1.0, 1e-3, 1.0001e-3),
]


@pytest.mark.parametrize("mean,std,a,b", INTERVALS)
def test_every_float32_value_of_a_one_sided_interval_has_its_probability(mean, std, a, b):
    grid = _grid(a, b)
    assert 10 < grid.size < 200_000
    out = np.empty(N, np.float32)
    wi.trunc_normal_(out, mean, std, a, b, seed=2026, stream=f"cells {a} {b}")
    counts = np.bincount(np.searchsorted(grid, out), minlength=grid.size)
    assert counts.size == grid.size and counts.sum() == N, "a value outside the interval's float32 values"
    expected = _cell_probabilities(grid, a, b, mean, std) * N
    empty = int(((counts == 0) & (expected > 20)).sum())
    assert empty == 0, f"{empty} float32 values of [{a}, {b}] never appear"
    m = expected > 5
    stat = float(((counts[m] - expected[m]) ** 2 / expected[m]).sum())
    df = int(m.sum()) - 1
    p = float(stats.chi2.sf(stat, df))
    assert p > ALPHA, f"[{a}, {b}]: chi-square {stat:.1f} on {df} df, p = {p:.2e}"


def test_the_bound_of_a_lower_tail_appears_as_often_as_the_law_says():
    """(-inf, -20]: version 2 never gave -20 itself; its cell [-20 - ulp/2, -20] holds
    a fraction 1.9e-5 of the law."""
    out = np.empty(N, np.float32)
    wi.trunc_normal_(out, 0.0, 1.0, -math.inf, -20.0, seed=5, stream="bound")
    assert out.max() == np.float32(-20.0)
    half_ulp = float(np.spacing(np.float32(20.0))) / 2
    p = stats.norm.cdf(-20.0) - stats.norm.cdf(-20.0 - half_ulp)
    p /= stats.norm.cdf(-20.0)
    k = int((out == np.float32(-20.0)).sum())
    assert stats.binomtest(k, N, p).pvalue > ALPHA, (k, p * N)


@pytest.mark.parametrize("path", wi.available_simd_paths())
def test_one_sided_float32_is_the_same_on_every_path(path, monkeypatch):
    ref = wi.trunc_normal_(np.empty(9001, np.float32), 0.0, 1.0, 1.0, 3.0, seed=3, stream="p", offset=5)
    monkeypatch.setenv("WEIGHTINIT_SIMD", path)
    got = wi.trunc_normal_(np.empty(9001, np.float32), 0.0, 1.0, 1.0, 3.0, seed=3, stream="p", offset=5)
    assert got.tobytes() == ref.tobytes()
