"""Numeric edges: parameters whose samples cannot be finite in the output dtype are
ValueErrors naming the parameter (nothing written); truncated normals deep in one
tail are exact, down to the bound itself where the dtype cannot tell values apart."""
import hashlib
import math

import ml_dtypes
import numpy as np
import pytest
from scipy import stats

import weightinit as wi
from weightinit import _limits

from conftest import DTYPES

SENTINEL = 42.0
ALPHA = 1e-3


def fresh(dtype=np.float32, n=64):
    return np.full(n, SENTINEL, dtype)


EDGES = [
    # (dtype, call, message fragment naming the parameter)
    (np.float32, lambda o: wi.normal_(o, std=1e39, seed=0), r"std=1e\+39"),
    (np.float32, lambda o: wi.normal_(o, mean=1e39, seed=0), r"mean=1e\+39"),
    (np.float16, lambda o: wi.normal_(o, std=1e4, seed=0), r"std=10000.0 .*float16"),
    (np.float16, lambda o: wi.normal_(o, mean=7e4, std=0.0, seed=0), "mean=70000.0"),
    (np.float32, lambda o: wi.orthogonal_(o.reshape(8, 8), gain=1e300, seed=0), r"gain=1e\+300"),
    (np.float16, lambda o: wi.orthogonal_(o.reshape(8, 8), gain=1e5, seed=0), "gain=100000.0"),
    (np.float32, lambda o: wi.delta_orthogonal_(o.reshape(4, 4, 4), gain=1e39, seed=0), "gain"),
    (np.float32, lambda o: wi.trunc_normal_(o, 0.0, 1.0, 1e200, math.inf, seed=0), r"a=1e\+200"),
    (np.float32, lambda o: wi.trunc_normal_(o, 0.0, 1.0, -math.inf, -1e200, seed=0), r"b=-1e\+200"),
    (np.float32, lambda o: wi.trunc_normal_(o, 0.0, 1e39, 0.0, 1.0, seed=0), r"std=1e\+39"),
    (np.float32, lambda o: wi.trunc_normal_(o, 1e39, 1.0, 0.0, 1.0, seed=0), r"mean=1e\+39"),
    # std 1e4 on [0, inf) is accepted (the law leaves 5.7e-11 < 2^-33 above 65520, samples stay
    # below 64600: tests/test_open_bounds.py); 2e4 leaves 1e-3 there
    (np.float16, lambda o: wi.trunc_normal_(o, 0.0, 2e4, 0.0, math.inf, seed=0), "std=20000.0"),
    (np.float32, lambda o: wi.uniform_(o, -3e38, 3e38, seed=0), r"low=-3e\+38, high=3e\+38"),
    (np.float32, lambda o: wi.uniform_(o, 0.0, 1e39, seed=0), r"high=1e\+39"),
    (np.float16, lambda o: wi.uniform_(o, -1e5, 0.0, seed=0), "low=-100000.0"),
    (np.float64, lambda o: wi.normal_(o, seed=0, stream="\ud800"), "stream"),
    (np.float16, lambda o: wi.trunc_normal_(o, 0.0, 1.0, 1.0001, 1.0002, seed=0), "a=1.0001, b=1.0002"),
]


@pytest.mark.parametrize("dtype,call,msg", [e for e in EDGES if e[2]])
def test_edges_are_value_errors_naming_the_parameter_and_write_nothing(dtype, call, msg):
    out = fresh(dtype)
    with pytest.raises(ValueError, match=msg):
        call(out)
    assert np.all(out == SENTINEL)


def test_a_one_value_interval_is_not_an_error():
    # the only float16 in [1, 1.0001) is 1.0
    assert np.all(wi.uniform_(fresh(np.float16), 1.0, 1.0001, seed=0) == 1.0)


def test_the_normal_range_check_is_tight(dtype):
    """std just inside the bound gives finite samples; 0.1% more is refused."""
    name = np.dtype(dtype).name
    top = min(_limits.dtype_max(name), _limits.compute_max(name))
    reach = _limits.NORMAL_REACH64 if name == "float64" else _limits.NORMAL_REACH32
    std = top / reach * (1 - 1e-12)
    x = wi.normal_(np.empty(1 << 16, dtype), 0.0, std, seed=1)
    assert np.isfinite(x.astype(np.float64)).all()
    with pytest.raises(ValueError, match="std"):
        wi.normal_(np.empty(4, dtype), 0.0, std * 1.001, seed=1)


def test_num_threads_variable_too_large(monkeypatch):
    monkeypatch.setenv("WEIGHTINIT_NUM_THREADS", "10000000000")
    out = fresh()
    with pytest.raises(ValueError, match="WEIGHTINIT_NUM_THREADS"):
        wi.normal_(out, seed=0)
    assert np.all(out == SENTINEL)


def test_leaky_relu_gain_with_a_huge_slope():
    with pytest.raises(ValueError, match="negative_slope"):
        wi.calculate_gain("leaky_relu", 1e155)
    assert wi.calculate_gain("leaky_relu", 1e150) == math.sqrt(2.0 / (1 + 1e300))


def test_dirac_groups_zero():
    torch = pytest.importorskip("torch")
    import weightinit.torch as init
    t = torch.full((4, 4, 3), 7.0)
    with pytest.raises(ValueError, match="groups"):
        init.dirac_(t, groups=0)
    with pytest.raises(TypeError, match="groups"):
        init.dirac_(t, groups=1.5)
    assert torch.all(t == 7.0)


# ------------------------------------------------------------------ far one-sided tails

def test_tiny_std_gives_the_bound(dtype):
    # [1, 2] at 1e20 std from the mean: the spread beyond 1 is ~1e-40, so every
    # value is 1 (it was 2.0, the wrong bound, in float32)
    x = wi.trunc_normal_(np.empty(5000, dtype), 0.0, 1e-20, 1.0, 2.0, seed=0)
    assert np.all(x == 1.0)
    x = wi.trunc_normal_(np.empty(5000, dtype), 0.0, 1e-20, -2.0, -1.0, seed=0)
    assert np.all(x == -1.0)


def test_bound_far_beyond_float_range_of_std():
    x = wi.trunc_normal_(np.empty(5000), 0.0, 1.0, 1e200, math.inf, seed=0)
    assert np.all(x == 1e200)                                   # was NaN
    x = wi.trunc_normal_(np.empty(5000), 0.0, 1.0, -math.inf, -1e200, seed=0)
    assert np.all(x == -1e200)
    x = wi.trunc_normal_(np.empty(5000), -1e308, 1e-300, 1.0, 2.0, seed=0)   # (a - mean) / std overflows
    assert np.all(x == 1.0)


def test_bound_not_representable_gives_the_first_value_inside():
    # a = 1e12 is not a float32; values lie in [a, a + 1e-12 y]: the smallest float32 >= a
    a32 = np.nextafter(np.float32(1e12), np.float32(np.inf)) if float(np.float32(1e12)) < 1e12 else np.float32(1e12)
    x = wi.trunc_normal_(np.empty(5000, np.float32), 0.0, 1.0, 1e12, math.inf, seed=0)
    assert np.all(x == a32)


@pytest.mark.parametrize("dt,edge", [(np.float32, 96.0), (np.float32, 3e4), (np.float32, 1e30),
                                     (np.float64, 4096.0), (np.float64, 1e7), (np.float64, 1e150)])
@pytest.mark.parametrize("side", ["upper", "lower"])
def test_deep_tail_offsets_follow_the_exponential_law(dt, edge, side):
    """mean = -edge std below a = 0: x * edge is Exp(1) to O(1/edge^2); KS at
    alpha 1e-3 on 2e5 samples, and offsets from the bound resolved (no quantization)."""
    n = 200_000
    if side == "upper":
        x = wi.trunc_normal_(np.empty(n, dt), -edge, 1.0, 0.0, math.inf, seed=3).astype(np.float64)
    else:
        x = -wi.trunc_normal_(np.empty(n, dt), edge, 1.0, -math.inf, 0.0, seed=3).astype(np.float64)
    y = x * edge
    res = stats.kstest(y, "expon")
    assert res.pvalue > ALPHA, f"edge {edge} ({side}, {np.dtype(dt).name}): KS {res.statistic:.3g}, p={res.pvalue:.3g}"
    assert y.min() >= 0.0
    assert len(np.unique(y)) > 0.99 * n, "offsets from the bound are not resolved"


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_deep_tail_with_a_finite_far_bound(dt):
    """[a, b] = [0, 1.5/edge] at mean = -edge: a truncated exponential on [0, 1.5]."""
    edge, n = 1e6, 200_000
    x = wi.trunc_normal_(np.empty(n, dt), -edge, 1.0, 0.0, 1.5 / edge, seed=4).astype(np.float64)
    y = x * edge
    assert y.max() <= 1.5 * (1 + 1e-6) and y.min() >= 0
    res = stats.kstest(y, stats.truncexpon(b=1.5).cdf)
    assert res.pvalue > ALPHA, f"KS {res.statistic:.3g}, p={res.pvalue:.3g}"


@pytest.mark.parametrize("dt,edge", [(np.float32, 96.0), (np.float64, 4096.0)])
def test_deep_tail_matches_inversion_at_the_switch(dt, edge):
    """On each side of the switch point (inversion below, the exponential form
    from it on) the laws agree (two-sample KS, mean = 0 so that both resolve the
    values), and each is the truncated normal's law (KS against scipy)."""
    n = 100_000
    below = wi.trunc_normal_(np.empty(n, dt), 0.0, 1.0, edge - 0.5, math.inf, seed=5).astype(np.float64)
    above = wi.trunc_normal_(np.empty(n, dt), 0.0, 1.0, edge, math.inf, seed=6).astype(np.float64)
    res = stats.ks_2samp((below - (edge - 0.5)) * (edge - 0.5), (above - edge) * edge)
    assert res.pvalue > ALPHA, f"KS {res.statistic:.3g}, p={res.pvalue:.3g}"
    ks = stats.kstest((above - edge) * edge, lambda y: stats.truncnorm.cdf(edge + y / edge, edge, np.inf))
    assert ks.pvalue > ALPHA, f"vs scipy: KS {ks.statistic:.3g}, p={ks.pvalue:.3g}"


# Frozen values of the deep-tail form (docs/streams.md), on every SIMD path.
DEEP_GOLDEN = {
    "float64": "cc5a785d09bd0a96cbfa3361dde9054cde712c1a848062d5c5190969e28a38a9",
    "float32": "c83aa0d342fe3e8b1aa8051b641702427a68dc6de7765ae039d25ed12cbde7fb",
    "float16": "cfcaf75180711be63dc73a735d322bd08b9a4d1c39c96adaf45d01291fffc370",
    "bfloat16": "ce1b4d1ac0041fa9f28b0de58844d68a7ffa6192b0de4b73e775d2758f6a06d3",
}


def _deep(dtype, offset=0, n=3001):
    return wi.trunc_normal_(np.empty(n, dtype), -1e5, 0.5, 0.0, 1e-5, seed=20261129, stream="deep", offset=offset)


@pytest.mark.parametrize("name", list(DTYPES))
def test_deep_tail_golden_and_path_independent(name, monkeypatch):
    ref = None
    for path in wi.available_simd_paths():
        monkeypatch.setenv("WEIGHTINIT_SIMD", path)
        h = hashlib.sha256(_deep(DTYPES[name]).tobytes()).hexdigest()
        ref = ref or h
        assert h == ref, path
    assert ref == DEEP_GOLDEN[name]


# Frozen values of intervals beyond ~26 std but short of the deep-tail form: the
# fixed-point refinement of the inversion's far lanes (tn_far_tail), on every SIMD
# path. [40, inf): float32 and narrower through the float64 inversion (the mean
# would cancel in float32), float64 through tile_trunc64's far lanes; [300, inf):
# the float64 far lanes again (the float32 path takes the deep-tail form there).
FAR_GOLDEN = {
    (40.0, "float64"): "b92b1a43239dc2b3287260f7e4b91a9602a72770c6fba9abe8ddcb8aa10f0baf",
    # contract version 3: a float32 one-sided interval inverts in float64 (7e38ac84... in version 2)
    (40.0, "float32"): "a1cbcef038492bfbb43f4d1ba192c100b9e6df0090525634b7b1aaf5e1202cca",
    (40.0, "float16"): "186cfa9e11bc77515d5df7639f59b0a5fbd32c765972ac210317fa6590a689dc",
    (40.0, "bfloat16"): "5e1db2d4050b1e42642931d3fc03251f30a02b9048537550dda60bebc3c09aad",
    (300.0, "float64"): "889ffcecca6665913f9615a2d82e1ea85e3a80940f22ee4703a97269e6b45760",
    (300.0, "float32"): "22885ab3faccce673f106e986cb8d6871174d6347ae93aceac646c711dbe5b66",
    (300.0, "float16"): "ed1bd1e921138aebb890168c520862176b1d763969db30d2703f812185ecc408",
    (300.0, "bfloat16"): "2f6aff7632ccdfdc4baa36d18c744945f0165bc6c8bd0319eb004aef7ca835e0",
}


@pytest.mark.parametrize("a,name", list(FAR_GOLDEN))
def test_far_tail_golden_and_path_independent(a, name, monkeypatch):
    for path in wi.available_simd_paths():
        monkeypatch.setenv("WEIGHTINIT_SIMD", path)
        x = wi.trunc_normal_(np.empty(3001, DTYPES[name]), 0.0, 1.0, a, math.inf, seed=20261129, stream="far",
                             offset=7)
        assert hashlib.sha256(x.tobytes()).hexdigest() == FAR_GOLDEN[a, name], path
        assert float(x.astype(np.float64).min()) >= a


def test_deep_tail_chunks_equal_the_whole(dtype):
    whole = _deep(dtype)
    parts = np.concatenate([_deep(dtype, 0, 1000), _deep(dtype, 1000, 2001)])
    assert whole.tobytes() == parts.tobytes()


# Intervals narrower than 2^-30 std (not deep in a tail): a truncated exponential in x
# (docs/streams.md), which inversion on float64's grid of z could not resolve.
NARROW = [  # mean, std, a, b: exact law of (x - a) / (b - a) is Exp(rate) truncated to [0, 1]
    (-1.0, 1.0, 1e-20, 2e-20),           # z rounds to 1 at both bounds: was every value on b
    (0.0, 1.0, 1.0, 1.0 + 2.0**-40),     # 4097 float64 values, all reachable
    (3.0, 1.0, -2.0, -2.0 + 1e-12),      # below the mean: the density rises towards b
    (0.0, 1.0, -1e-12, 2e-12),           # holding the mean
]


@pytest.mark.parametrize("mean,std,a,b", NARROW)
def test_narrow_intervals_follow_the_exact_law(mean, std, a, b):
    n = 200_000
    x = wi.trunc_normal_(np.empty(n), mean, std, a, b, seed=9)
    assert x.min() >= a and x.max() <= b
    rate = (a - mean) / std * ((b - a) / std)      # |rate| < 2^-18: nearly uniform
    t = (x - a) / (b - a)
    res = stats.kstest(t, lambda s: np.expm1(-rate * s) / np.expm1(-rate) if rate else s)
    assert res.pvalue > ALPHA, f"KS {res.statistic:.3g}, p={res.pvalue:.3g}"
    grid = len(np.unique(np.linspace(a, b, 10_001)))  # the float64 values the interval holds, up to 10001
    assert len(np.unique(x)) >= min(0.9 * grid, 0.5 * n)


@pytest.mark.parametrize("dtype", [np.float32, ml_dtypes.bfloat16])
def test_narrow_interval_in_a_narrow_dtype(dtype):
    """[1, 1 + 2^-20] in float32 holds 9 values: they come up as the law says (chi-square
    on the values' rounding cells), and one-value intervals give the value."""
    if dtype == np.float32:
        lo, hi = 1.0, 1.0 + 2.0**-20
        x = wi.trunc_normal_(np.empty(90_000, dtype), 0.0, 1e9, lo, hi, seed=2).astype(np.float64)
        vals, counts = np.unique(x, return_counts=True)
        np.testing.assert_array_equal(vals, 1.0 + np.arange(9) * 2.0**-23)
        edges = np.concatenate([[lo], (vals[:-1] + vals[1:]) / 2, [hi]])
        expected = np.diff(edges) / (hi - lo) * x.size    # uniform: the tilt is 1e-15 here
        assert stats.chisquare(counts, expected).pvalue > ALPHA
    x = wi.trunc_normal_(np.empty(1000, dtype), 0.0, 1.0, 1.0, 1.0 + 1e-12, seed=2)
    assert np.all(x == dtype(1.0))
