"""pytest-benchmark smoke tests of the Householder kernel (run once in the normal
suite, which passes --benchmark-disable; time them with --benchmark-enable)."""
import numpy as np
import pytest

import weightinit as wi


@pytest.mark.parametrize("shape,dtype", [((512, 512), np.float32), ((512, 512), np.float64),
                                         ((1024, 256), np.float32), ((256, 1024), np.float32)], ids=str)
def test_bench_orthogonal(benchmark, shape, dtype):
    out = np.empty(shape, dtype)
    benchmark(wi.orthogonal_, out, seed=0)
    q = out if shape[0] >= shape[1] else out.T
    assert np.abs(q.T.astype(np.float64) @ q - np.eye(q.shape[1])).max() < 1e-4


def test_bench_orthogonalize(benchmark):
    a = np.random.default_rng(0).standard_normal((512, 384)).astype(np.float32)
    out = a.copy()

    def run():
        out[...] = a
        return wi.orthogonalize_(out)

    benchmark(run)
    assert np.abs(out.T.astype(np.float64) @ out - np.eye(384)).max() < 1e-4


def test_bench_delta_orthogonal(benchmark):
    w = np.empty((256, 128, 3, 3), np.float32)
    benchmark(wi.delta_orthogonal_, w, seed=0)
    assert np.count_nonzero(w) == 256 * 128
