"""pytest-benchmark cases for the sampling kernels. In the default suite they
run once as smoke tests (--benchmark-disable); measure with
`pytest benchmarks/bench_sampling.py --benchmark-enable`."""
import ml_dtypes
import numpy as np
import pytest

import weightinit as wi

N = 1 << 22

KERNELS = {
    "uniform": lambda out: wi.uniform_(out, -1.0, 1.0, seed=0),
    "normal": lambda out: wi.normal_(out, seed=0),
    "trunc_normal": lambda out: wi.trunc_normal_(out, seed=0),
    "fill_ceiling": lambda out: out.fill(1.0),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64, ml_dtypes.bfloat16], ids=["f32", "f64", "bf16"])
@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_bench_fill(benchmark, kernel, dtype):
    out = np.zeros(N, dtype)
    benchmark(KERNELS[kernel], out)
    assert np.isfinite(out.astype(np.float32)).all()
