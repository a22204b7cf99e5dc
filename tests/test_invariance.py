"""The stream contract: values depend on (seed, stream, index, distribution,
parameters, dtype) only - not on threads, chunking, SIMD path, the calling
Python thread, or whether the buffer is a memory map."""
import concurrent.futures

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import weightinit as wi

from conftest import DTYPES

FILLS = {
    "uniform": lambda out, **kw: wi.uniform_(out, -1.0, 2.0, seed=99, stream="w", **kw),
    "normal": lambda out, **kw: wi.normal_(out, 0.0, 0.5, seed=99, stream="w", **kw),
    "trunc_normal": lambda out, **kw: wi.trunc_normal_(out, 0.0, 1.0, -1.5, 2.5, seed=99, stream="w", **kw),
    "trunc_normal_far": lambda out, **kw: wi.trunc_normal_(out, 0.0, 1.0, 40.0, 42.0, seed=99, stream="w", **kw),
}


def _bits(a):
    return a.view(np.uint8).copy()


@pytest.mark.parametrize("dist", FILLS)
def test_threads_do_not_change_bits(dist, dtype):
    n = 300_001
    ref = _bits(FILLS[dist](np.empty(n, dtype), threads=1))
    for t in (2, 3, 8):
        assert np.array_equal(_bits(FILLS[dist](np.empty(n, dtype), threads=t)), ref), f"threads={t}"


@pytest.mark.parametrize("n", [100_003, 600_011])   # the second is >= 1 MiB in every dtype: streaming stores
@pytest.mark.parametrize("dist", FILLS)
def test_every_simd_path_matches_scalar(dist, dtype, n, monkeypatch):
    monkeypatch.setenv("WEIGHTINIT_SIMD", "scalar")
    ref = _bits(FILLS[dist](np.empty(n, dtype), offset=77))
    for path in wi.available_simd_paths():
        monkeypatch.setenv("WEIGHTINIT_SIMD", path)
        assert wi.simd_path() == path
        assert np.array_equal(_bits(FILLS[dist](np.empty(n, dtype), offset=77)), ref), path


@settings(max_examples=40, deadline=None)
@given(dist=st.sampled_from(sorted(FILLS)), dt=st.sampled_from(sorted(DTYPES)),
       cuts=st.lists(st.integers(0, 5000), max_size=6), base=st.integers(0, 2**40))
def test_chunks_equal_whole(dist, dt, cuts, base):
    """Any split, including inside a Philox block and a tile, equals the whole."""
    n = 5000
    whole = FILLS[dist](np.empty(n, DTYPES[dt]), offset=base)
    pieces = np.empty(n, DTYPES[dt])
    bounds = [0, *sorted(cuts), n]
    for lo, hi in zip(bounds, bounds[1:]):
        FILLS[dist](pieces[lo:hi], offset=base + lo)
    assert np.array_equal(_bits(pieces), _bits(whole))


def test_shape_is_flat_order():
    a = wi.normal_(np.empty((7, 11, 13), np.float32), seed=1)
    b = wi.normal_(np.empty(7 * 11 * 13, np.float32), seed=1)
    assert np.array_equal(a.ravel(), b)


def test_concurrent_python_threads_are_safe():
    n = 200_000

    def job(i):
        return FILLS["normal"](np.empty(n, np.float32), threads=2, offset=i * n)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(job, range(8)))
    sequential = FILLS["normal"](np.empty(8 * n, np.float32), threads=1)
    assert np.array_equal(np.concatenate(parallel), sequential)


def test_memmap_equals_memory(tmp_path):
    n = 123_457
    mm = np.memmap(tmp_path / "w.bin", dtype=DTYPES["bfloat16"], mode="w+", shape=(n,))
    FILLS["trunc_normal"](mm)
    mm.flush()
    back = np.fromfile(tmp_path / "w.bin", dtype=DTYPES["bfloat16"])
    assert np.array_equal(_bits(back), _bits(FILLS["trunc_normal"](np.empty(n, DTYPES["bfloat16"]))))


def test_thread_count_from_environment(monkeypatch):
    n = 100_000
    ref = FILLS["normal"](np.empty(n), threads=1)
    monkeypatch.setenv("WEIGHTINIT_NUM_THREADS", "3")
    assert np.array_equal(FILLS["normal"](np.empty(n)), ref)
    monkeypatch.setenv("WEIGHTINIT_NUM_THREADS", "zero")
    with pytest.raises(ValueError, match="WEIGHTINIT_NUM_THREADS"):
        FILLS["normal"](np.empty(n))


def test_seeds_and_streams_change_values():
    a = wi.normal_(np.empty(1000), seed=1, stream=0)
    assert not np.array_equal(a, wi.normal_(np.empty(1000), seed=2, stream=0))
    assert not np.array_equal(a, wi.normal_(np.empty(1000), seed=1, stream=1))
    assert not np.array_equal(wi.normal_(np.empty(1000)), wi.normal_(np.empty(1000)))   # fresh entropy


@pytest.mark.parametrize("dist", ["uniform", "normal", "trunc_normal"])
@pytest.mark.parametrize("dt", ["float32", "bfloat16", "float64"])
def test_streaming_stores_for_large_buffers_keep_bits(dt, dist):
    """Outputs of 1 MiB and more are written with non-temporal stores (and
    bfloat16 on AVX-512 with its own store); a large, misaligned fill equals
    small cached fills of the same range."""
    dtype = DTYPES[dt]
    n = (24 << 20) // dtype.itemsize + 13
    big = np.empty(n + 1, dtype)[1:]
    FILLS[dist](big, offset=5)
    for start in (0, n // 2 + 7, n - 4099):
        part = FILLS[dist](np.empty(4099, dtype), offset=5 + start)
        assert np.array_equal(_bits(big[start:start + 4099]), _bits(part)), start
