"""Values near the mean follow the exact law at the output precision (stream
contract version 2). Under version 1, trunc_normal_'s centre formula
q = (P - 1/2) + u (Q - P) cancelled on wide symmetric intervals and put the values
near the mean on a grid of about 7.5e-8 std, and normal_ returned exact zeros.
Fixed seeds, fixed alpha; the expected counts come from the exact truncated-normal
CDF (float64 erf) at each 16-bit value's rounding boundaries."""
import math

import numpy as np
import pytest
from scipy import special, stats

import weightinit as wi

from conftest import DTYPES

ALPHA = 1e-4
SQRT1_2 = math.sqrt(0.5)


def _cells(dtype, limit):
    """Representable values v of a 16-bit dtype with |v| <= limit, ascending, and
    their rounding boundaries (the midpoints to the neighbours), as float64."""
    pos = np.arange(1, 0x7c00, dtype=np.uint16).view(dtype).astype(np.float64)
    pos = pos[np.isfinite(pos) & (pos <= limit)]
    codes = np.arange(1, 1 + pos.size, dtype=np.uint16)
    values = np.concatenate([-pos[::-1], [0.0], pos])
    bits = np.concatenate([(codes[::-1] | 0x8000), [0], codes]).astype(np.uint16)
    mid = 0.5 * (values[1:] + values[:-1])
    lo = np.concatenate([[-np.inf], mid])
    hi = np.concatenate([mid, [np.inf]])
    lo[0] = values[0] - 0.5 * (values[1] - values[0])
    hi[-1] = values[-1] + 0.5 * (values[-1] - values[-2])
    return bits, lo, hi


def _chi_square_near_mean(dtype, a, b, n, limit, seed, min_expected=10.0):
    out = wi.trunc_normal_(np.empty(n, dtype), 0.0, 1.0, a, b, seed=seed, stream="near-mean")
    bits, lo, hi = _cells(dtype, limit)
    code = out.view(np.uint16)
    counts = np.bincount(code, minlength=1 << 16)[bits].astype(np.float64)
    mass = 0.5 * (special.erf(hi * SQRT1_2) - special.erf(lo * SQRT1_2))   # exact near 0
    total = 0.5 * (special.erf(b * SQRT1_2) - special.erf(a * SQRT1_2))
    expected = n * mass / total
    # adjacent cells pooled until each group expects min_expected; the rest is one cell
    obs, exp, acc_o, acc_e = [], [], 0.0, 0.0
    for o, e in zip(counts, expected):
        acc_o += o
        acc_e += e
        if acc_e >= min_expected:
            obs.append(acc_o); exp.append(acc_e); acc_o = acc_e = 0.0
    obs[-1] += acc_o
    exp[-1] += acc_e
    obs.append(n - counts.sum())
    exp.append(n - expected.sum())
    obs, exp = np.array(obs), np.array(exp)
    stat = float(((obs - exp) ** 2 / exp).sum())
    return stat, obs.size - 1, float(stats.chi2.sf(stat, obs.size - 1))


@pytest.mark.parametrize("name", ["bfloat16", "float16"])
@pytest.mark.parametrize("a,b", [(-2.0, 2.0), (-1.0, 3.0)])
def test_16bit_cells_near_the_mean_follow_the_exact_law(name, a, b):
    stat, df, p = _chi_square_near_mean(DTYPES[name], a, b, 1 << 23, 2.0**-7, seed=11)
    assert p > ALPHA, f"{name} [{a}, {b}]: chi-square {stat:.1f} on {df} df near the mean, p = {p:.2e}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bfloat16", "float16"])
def test_16bit_cells_near_the_mean_follow_the_exact_law_2_26(name):
    """The issue's size: 2^26 samples, cells with |x| < 1e-3 (version 1: p ~ 1e-15)."""
    stat, df, p = _chi_square_near_mean(DTYPES[name], -2.0, 2.0, 1 << 26, 1e-3, seed=12, min_expected=5.0)
    assert p > ALPHA, f"{name}: chi-square {stat:.1f} on {df} df near the mean, p = {p:.2e}"


def test_float32_values_near_the_mean_are_not_on_a_grid():
    """Between neighbouring sorted samples near 0 the gaps are exponential with rate
    n phi(0) / Z; version 1 had no gap below its 7.5e-8 grid step (only repeats)."""
    n, width, small = 1 << 24, 1e-4, 3e-8
    out = wi.trunc_normal_(np.empty(n, np.float32), 0.0, 1.0, -2.0, 2.0, seed=13, stream="near-mean")
    x = np.sort(out[np.abs(out) < width].astype(np.float64))
    gaps = np.diff(x)
    rate = n * math.exp(0.0) / math.sqrt(2 * math.pi) / math.erf(2.0 * SQRT1_2)
    p_small = -math.expm1(-rate * small)
    k = int((gaps < small).sum())
    p = stats.binomtest(k, gaps.size, p_small).pvalue
    assert p > ALPHA, f"{k} of {gaps.size} gaps below {small} (expected {p_small * gaps.size:.0f}), p = {p:.2e}"


# Elements whose Philox words hit version 1's exact zeros (found by scanning seed 0,
# stream 0): a u1 word >= 2^32 - 128 rounded to u1 = 1 (radius 0, both elements of
# the pair), an angle word with zero fraction put an element on an axis.
RADIUS_WORD = 99850920     # word 0xffffffb9
ANGLE_WORD = 1819500       # word 0x80000001: quadrant 2, fraction 0


def _pair(i):
    """The two flat indices of the float32 Box-Muller pair of element i."""
    t, r = divmod(i, 1024)
    h, blk = divmod(r, 256)
    first = t * 1024 + (h & 2) * 256 + blk
    return first, first + 256


def test_normal_float32_has_no_exact_zeros_where_version_1_had_them():
    for i in _pair(RADIUS_WORD) + (ANGLE_WORD,):
        x = wi.normal_(np.empty(1, np.float32), seed=0, stream=0, offset=i)[0]
        assert x != 0.0, i
    # the radius of the pair is the smallest u1 < 1 allows: sqrt(-2 log(1 - 2^-24))
    c, s = (wi.normal_(np.empty(1, np.float32), seed=0, stream=0, offset=i)[0] for i in _pair(RADIUS_WORD))
    assert math.hypot(c, s) == pytest.approx(2.0**-11.5, rel=1e-5)


def test_normal_words_of_the_zero_cases_are_those_documented():
    for i, word in ((RADIUS_WORD, 0xffffffb9), (ANGLE_WORD, 0x80000001)):
        t, r = divmod(i, 1024)
        h, blk = divmod(r, 256)
        block = t * 256 + blk
        assert wi.philox4x32((block & 0xffffffff, block >> 32, 0, 0), (0, 0))[h] == word
