"""Values stay inside their intervals after rounding to the output dtype, and do
not pile up on the bounds."""
import ml_dtypes
import numpy as np
import pytest
from scipy import stats

import weightinit as wi

from conftest import DTYPES


@pytest.mark.parametrize("low,high", [(0.0, 1.0), (-1.0, 1.0), (0.1, 0.2), (-3.3, -3.2), (1.0, 1.0078125 * 2)])
def test_uniform_never_returns_high(dtype, low, high):
    x = wi.uniform_(np.empty(2_000_000, dtype), low, high, seed=5).astype(np.float64)
    assert x.max() < high, f"max {x.max()!r} reaches high={high}"
    assert x.min() >= low, f"min {x.min()!r} below low={low}"


def test_uniform_empty_interval_in_dtype_is_an_error():
    out = np.full(4, 7.0, DTYPES["bfloat16"])
    with pytest.raises(ValueError, match="no value"):
        wi.uniform_(out, 1.001, 1.002, seed=0)     # bf16 has no value in [1.001, 1.002)
    assert np.all(out == 7.0)


@pytest.mark.parametrize("a,b", [(-2.0, 2.0), (0.1, 0.3), (2.0, 3.0), (-0.0999, 0.0999)])
def test_trunc_normal_inside_bounds_after_rounding(dtype, a, b):
    x = wi.trunc_normal_(np.empty(1_000_000, dtype), 0.0, 1.0, a, b, seed=6).astype(np.float64)
    assert x.min() >= a and x.max() <= b, f"[{x.min()!r}, {x.max()!r}] not inside [{a}, {b}]"


@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
def test_trunc_normal_does_not_pile_up_on_bounds(dt):
    """Only the values within half a spacing of a bound round onto it."""
    n, a, b = 1_000_000, -2.0, 2.0
    x = wi.trunc_normal_(np.empty(n, DTYPES[dt]), 0.0, 1.0, a, b, seed=7).astype(np.float64)
    law = stats.truncnorm(a, b)
    spacing = float(ml_dtypes.finfo(DTYPES[dt]).eps)    # value spacing in [1, 2)
    for bound, inner in [(b, b - spacing / 2), (a, a + spacing / 2)]:
        p = abs(law.cdf(bound) - law.cdf(inner))
        count = int(np.sum(x == bound))
        limit = n * p + 5 * np.sqrt(n * p) + 5
        assert count <= limit, f"{count} values on bound {bound}, expected about {n * p:.0f}"


NARROW = [   # intervals a few 16-bit values wide: many samples are clamped, some onto a bound
    ("uniform", 0.99, 1.0078125), ("uniform", 1.0, 1.0234375), ("uniform", -1.0234375, -1.0),
    ("uniform", -0.0039, 0.0039), ("trunc_normal", 0.999, 1.001), ("trunc_normal", -1.02, -0.99),
    ("trunc_normal", 2.0, 2.03125), ("trunc_normal", -1e-3, 1e-3),
]


@pytest.mark.parametrize("dist,a,b", NARROW)
@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
def test_clamped_values_match_scalar_path(dt, dist, a, b, monkeypatch):
    """The vector paths round clamped lanes exactly as the scalar path does."""
    def fill():
        out = np.empty(200_003, DTYPES[dt])
        if dist == "uniform":
            return wi.uniform_(out, a, b, seed=8, offset=3)
        return wi.trunc_normal_(out, 0.0, 1.0, a, b, seed=8, offset=3)

    monkeypatch.setenv("WEIGHTINIT_SIMD", "scalar")
    ref = fill()
    x = ref.astype(np.float64)
    assert x.min() >= a and (x.max() < b if dist == "uniform" else x.max() <= b)
    for path in wi.available_simd_paths():
        monkeypatch.setenv("WEIGHTINIT_SIMD", path)
        assert np.array_equal(fill().view(np.uint16), ref.view(np.uint16)), path


def test_bound_reached_by_float32_rounding_stays_outside():
    """uniform(254, 255) in bfloat16 has one value, 254. About 2^-17 of the
    float32 samples round up to exactly 255 before the clamp; after it they must
    come out as 254 on every path (a clamp bound on a rounding tie would let the
    vector store round them back up to 255)."""
    def fill():
        return wi.uniform_(np.empty(1 << 23, DTYPES["bfloat16"]), 254.0, 255.0, seed=9)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WEIGHTINIT_SIMD", "scalar")
        ref = fill()
    assert np.all(ref.astype(np.float64) == 254.0)
    assert np.array_equal(fill().view(np.uint16), ref.view(np.uint16))
