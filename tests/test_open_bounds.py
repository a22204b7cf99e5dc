"""Truncated normals whose [a, b] reaches beyond the output dtype's range (a bound beyond
its largest finite value, or infinite): accepted where the truncated law puts less than
the sampler's resolution (2^-33 on the float32 path) beyond the point from which values
no longer round to a finite value, refused otherwise with a message that says samples
would exceed the range, naming std, mean, a and b. float8_e4m3fn, which has no infinity,
takes such bounds as +-464 (the edge of the values that round to +-448)."""
import math
import re

import ml_dtypes
import numpy as np
import pytest
from scipy import stats

import weightinit as wi

F8E4 = np.dtype(ml_dtypes.float8_e4m3fn)
F8E5 = np.dtype(ml_dtypes.float8_e5m2)
BF16 = np.dtype(ml_dtypes.bfloat16)
SENTINEL = 3.0


def fresh(dt, n=64):
    return np.full(n, SENTINEL, dt)


def bits(x):
    return x.view(np.uint8 if x.itemsize == 1 else np.uint16 if x.itemsize == 2 else np.uint32)


# (mean, std, a, b): laws whose mass beyond 464 underflows, so the float8_e4m3fn law is the
# float32 one exactly, and the e4m3fn values are the float32 values rounded once (intervals
# holding the mean, and one deep in the tail: forms the float32 output shares with float8)
E4M3_OPEN = [(0.0, 1.0, -math.inf, math.inf), (0.0, 1.0, -2.0, 1e9), (0.5, 2.0, -1e9, 3.0),
             (10.0, 1.0, 0.5, math.inf), (0.0, 3.0, -math.inf, 2.0), (0.0, 1.0, 447.0, math.inf)]


@pytest.mark.parametrize("mean,std,a,b", E4M3_OPEN)
def test_float8_e4m3fn_open_bounds_are_the_float32_values_rounded_once(mean, std, a, b):
    n = 1 << 16
    got = wi.trunc_normal_(np.empty(n, F8E4), mean, std, a, b, seed=5, stream="f8")
    ref = wi.trunc_normal_(np.empty(n, np.float32), mean, std, a, b, seed=5, stream="f8").astype(F8E4)
    assert bits(got).tobytes() == bits(ref).tobytes()
    v = got.astype(np.float64)
    assert np.isfinite(v).all() and v.min() >= max(a, -448.0) and v.max() <= min(b, 448.0)


def test_the_issue_calls_work():
    x = wi.trunc_normal_(np.empty(10000, F8E4), std=1, a=-math.inf, b=math.inf, seed=0).astype(np.float64)
    assert np.isfinite(x).all() and 0.9 < x.std() < 1.1
    y = wi.trunc_normal_(np.empty(10000, F8E4), std=1, a=-2, b=1e9, seed=0).astype(np.float64)
    assert np.isfinite(y).all() and y.min() >= -2.0


def test_float8_e4m3fn_takes_bounds_beyond_464_as_464():
    """std 50: the mass beyond 464 (1e-20) does not underflow, so the law is the one on
    [-inf, 464]; every bound from 464 up gives the same values."""
    ref = wi.trunc_normal_(np.empty(4096, F8E4), 0.0, 50.0, -math.inf, 464.0, seed=2)
    for b in (464.5, 1e9, math.inf):
        got = wi.trunc_normal_(np.empty(4096, F8E4), 0.0, 50.0, -math.inf, b, seed=2)
        assert bits(got).tobytes() == bits(ref).tobytes(), b
    lower = wi.trunc_normal_(np.empty(4096, F8E4), 0.0, 50.0, -1e30, 5.0, seed=2)
    assert bits(lower).tobytes() == bits(wi.trunc_normal_(np.empty(4096, F8E4), 0.0, 50.0, -464.0, 5.0,
                                                          seed=2)).tobytes()


def test_float8_e4m3fn_threshold_is_the_samplers_resolution():
    """N(0, std^2) on (-inf, inf): accepted while Q(464 / std) <= 2^-33 (with the 2^-20
    rounding slack), refused just beyond."""
    z = stats.norm.isf(2.0 ** -33)
    edge = 464.0 * (1 - 2.0 ** -20)
    ok = edge / z * (1 - 1e-9)
    x = wi.trunc_normal_(np.empty(1 << 16, F8E4), 0.0, ok, -math.inf, math.inf, seed=1).astype(np.float64)
    assert np.isfinite(x).all()
    out = fresh(F8E4)
    with pytest.raises(ValueError, match="samples would exceed the range of float8_e4m3fn"):
        wi.trunc_normal_(out, 0.0, edge / z * (1 + 1e-6), -math.inf, math.inf, seed=1)
    assert np.all(out.astype(np.float64) == SENTINEL)


def test_a_law_that_puts_samples_beyond_448_stays_an_error():
    for a, b, side in [(-math.inf, math.inf, "b=inf"), (-2.0, 1e9, "b=1000000000.0"),
                       (-1e9, 2.0, "a=-1000000000.0"), (400.0, math.inf, "b=inf")]:
        out = fresh(F8E4)
        with pytest.raises(ValueError, match=re.escape(side) + " lies beyond its (largest|smallest) finite value"):
            wi.trunc_normal_(out, 0.0, 100.0, a, b, seed=0)
        assert np.all(out.astype(np.float64) == SENTINEL)
    with pytest.raises(ValueError, match="a=450.0 is above the largest finite value of float8_e4m3fn"):
        wi.trunc_normal_(fresh(F8E4), 0.0, 1.0, 450.0, math.inf, seed=0)


# one call per dtype with a finite bound beyond the range and a std whose law reaches past it
TOO_WIDE = [
    (np.dtype(np.float64), 0.0, 1e308, -1.0, math.inf),
    (np.dtype(np.float32), 0.0, 1e38, -2.0, 1e39),
    (np.dtype(np.float16), 0.0, 2e4, -2.0, 1e9),
    (BF16, 0.0, 1e38, -2.0, 1e39),
    (F8E4, 0.0, 100.0, -2.0, 1e9),
    (F8E5, 0.0, 2e4, -2.0, 1e9),
]


@pytest.mark.parametrize("dt,mean,std,a,b", TOO_WIDE, ids=lambda v: getattr(v, "name", None))
def test_the_message_says_samples_would_exceed_the_range_naming_the_parameters(dt, mean, std, a, b):
    out = fresh(dt)
    with pytest.raises(ValueError) as info:
        wi.trunc_normal_(out, mean, std, a, b, seed=0)
    msg = str(info.value)
    assert f"std={std!r}, mean={mean!r}, a={a!r}, b={b!r}: samples would exceed the range of {dt.name}" in msg
    assert f"b={b!r} lies beyond its largest finite value" in msg
    assert "open side" not in msg
    assert np.all(out.astype(np.float64) == SENTINEL)
    # mirrored: the lower bound named
    with pytest.raises(ValueError, match=re.escape(f"a={-b!r} lies beyond its smallest finite value")):
        wi.trunc_normal_(out, -mean, std, -b, -a, seed=0)


def test_float16_deep_tail_near_the_largest_value_is_refused():
    """[65500, inf) with std 1000: a quarter of the samples would round to inf (they did)."""
    for b in (math.inf, 1e9):
        out = fresh(np.float16)
        with pytest.raises(ValueError, match="samples would exceed the range of float16"):
            wi.trunc_normal_(out, 0.0, 1000.0, 65500.0, b, seed=0)
        assert np.all(out == SENTINEL)


def test_laws_that_stay_inside_the_range_are_accepted():
    # std 1e4 on [0, inf): the law leaves 2^-34 beyond 65520, the samples stay below 64600
    x = wi.trunc_normal_(np.empty(1 << 18, np.float16), 0.0, 1e4, 0.0, math.inf, seed=0).astype(np.float64)
    assert np.isfinite(x).all() and x.max() < 64600
    # a one-sided law starting at the largest value: every sample rounds to it
    y = wi.trunc_normal_(np.empty(4096, np.float16), 0.0, 1.0, 65504.0, math.inf, seed=0)
    assert np.all(y == 65504.0)
    z = wi.trunc_normal_(np.empty(4096, F8E5), 0.0, 1.0, -math.inf, math.inf, seed=0).astype(np.float64)
    assert np.isfinite(z).all()


def test_schemes_and_variance_scaling_use_the_same_check():
    out = np.full((4, 4), SENTINEL, F8E4)
    with pytest.raises(ValueError, match="samples would exceed the range of float8_e4m3fn"):
        wi.schemes.get("trunc_normal", std=100.0, a=-2.0, b=1e9).init_(out, seed=0)
    assert np.all(out.astype(np.float64) == SENTINEL)
    ok = wi.schemes.get("trunc_normal", std=1.0, a=-math.inf, b=math.inf).init_(np.empty((4, 4), F8E4), seed=0)
    assert np.isfinite(ok.astype(np.float64)).all()


def test_bounds_inside_the_range_need_no_mass_check():
    """The clamp to [a', b'] keeps every sample inside: a mean far outside the range does
    not matter when both bounds are inside it."""
    x = wi.trunc_normal_(np.empty(4096, np.float16), -1e30, 1e29, -1.0, 1.0, seed=0).astype(np.float64)
    assert np.isfinite(x).all() and x.min() >= -1.0 and x.max() <= 1.0
    y = wi.trunc_normal_(np.empty(4096, F8E4), 0.0, 1e6, -448.0, 448.0, seed=0).astype(np.float64)
    assert np.isfinite(y).all() and np.abs(y).max() <= 448.0
