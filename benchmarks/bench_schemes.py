"""pytest-benchmark cases for the scheme layer and the torch drop-in. In the default
suite they run once as smoke tests (--benchmark-disable); measure with
`pytest benchmarks/bench_schemes.py --benchmark-enable`."""
import math

import ml_dtypes
import numpy as np
import pytest

import weightinit as wi
from weightinit import schemes

SHAPE = (1024, 1024)


@pytest.mark.parametrize("dtype", [np.float32, ml_dtypes.bfloat16], ids=["f32", "bf16"])
@pytest.mark.parametrize("name", ["kaiming_uniform", "xavier_normal", "lecun_normal", "trunc_normal"])
def test_bench_scheme_init(benchmark, name, dtype):
    out = np.empty(SHAPE, dtype)
    scheme = schemes.get(name)
    benchmark(scheme.init_, out, seed=0)
    assert abs(float(out.astype(np.float64).std()) / scheme.std(SHAPE) - 1) < 0.05


def test_bench_chunked_fill(benchmark):
    scheme = schemes.get("he_normal")
    shape, chunk = (2048, 1024), np.empty(1 << 18, np.float32)

    def stream_all():
        for off in range(0, math.prod(shape), chunk.size):
            scheme.fill_chunk_(chunk, shape, off, seed=0, stream="w")

    benchmark(stream_all)
    assert chunk.any()


def test_bench_sparse(benchmark):
    out = np.empty((512, 512), np.float32)
    benchmark(wi.sparse_, out, 0.9, seed=0)
    assert int((out == 0).sum()) == 512 * math.ceil(0.9 * 512)


def test_bench_torch_init_module(benchmark):
    torch = pytest.importorskip("torch")
    import weightinit.torch as winit
    model = torch.nn.Sequential(*[torch.nn.Sequential(torch.nn.LayerNorm(256), torch.nn.Linear(256, 1024),
                                                      torch.nn.Linear(1024, 256)) for _ in range(4)])
    benchmark(winit.init_module_, model, seed=0)
    assert model[0][1].weight.abs().max() <= 1 / 16
