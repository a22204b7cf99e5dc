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
