"""Bad input raises a clear TypeError/ValueError naming the parameter, and a
rejected call writes nothing."""
import numpy as np
import pytest

import weightinit as wi

SENTINEL = 42.0


def fresh(dtype=np.float32, n=64):
    return np.full(n, SENTINEL, dtype)


CASES = [
    # (call, exception, message fragment)
    (lambda o: wi.normal_(o, std=float("nan")), ValueError, "std"),
    (lambda o: wi.normal_(o, std=float("inf")), ValueError, "std"),
    (lambda o: wi.normal_(o, std=-1.0), ValueError, "std"),
    (lambda o: wi.normal_(o, mean=float("nan")), ValueError, "mean"),
    (lambda o: wi.normal_(o, std="1"), TypeError, "std"),
    (lambda o: wi.trunc_normal_(o, a=1.0, b=1.0), ValueError, "a must be less than b"),
    (lambda o: wi.trunc_normal_(o, a=2.0, b=-2.0), ValueError, "a must be less than b"),
    (lambda o: wi.trunc_normal_(o, std=0.0), ValueError, "std"),
    (lambda o: wi.trunc_normal_(o, a=float("nan")), ValueError, "a"),
    (lambda o: wi.uniform_(o, 1.0, 1.0), ValueError, "high"),
    (lambda o: wi.uniform_(o, 2.0, 1.0), ValueError, "high"),
    (lambda o: wi.uniform_(o, 0.0, float("inf")), ValueError, "high"),
    (lambda o: wi.uniform_(o, -3e38, 3e38), ValueError, "low=.*high=.*overflows float32"),
    (lambda o: wi.normal_(o, seed=-1), ValueError, "seed"),
    (lambda o: wi.normal_(o, seed=2**64), ValueError, "seed"),
    (lambda o: wi.normal_(o, seed=1.5), TypeError, "seed"),
    (lambda o: wi.normal_(o, seed=True), TypeError, "seed"),
    (lambda o: wi.normal_(o, seed=0, stream=-1), ValueError, "stream"),
    (lambda o: wi.normal_(o, seed=0, stream=1.0), TypeError, "stream"),
    (lambda o: wi.normal_(o, seed=0, offset=-1), ValueError, "offset"),
    (lambda o: wi.normal_(o, seed=0, offset=2**64 - 10), ValueError, "offset"),
    (lambda o: wi.normal_(o, seed=0, offset="3"), TypeError, "offset"),
    (lambda o: wi.normal_(o, seed=0, threads=0), ValueError, "threads"),
    (lambda o: wi.normal_(o, seed=0, threads=2.0), TypeError, "threads"),
    (lambda o: wi.normal_(o, seed=0, threads=(1 << 16) + 1), ValueError, "threads"),
    (lambda o: wi.orthogonal_(o.reshape(8, 8), seed=0, threads=10**10), ValueError, "threads"),
    (lambda o: wi.constant_(o, "x"), TypeError, "value"),
]


@pytest.mark.parametrize("call,exc,msg", CASES)
def test_bad_parameters_write_nothing(call, exc, msg):
    out = fresh()
    with pytest.raises(exc, match=msg):
        call(out)
    assert np.all(out == SENTINEL)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.complex256, np.uint16, bool])  # complex64/128: test_complex.py
def test_wrong_dtype(dtype):
    out = np.zeros(8, dtype)
    before = out.copy()
    with pytest.raises(TypeError, match="out must have dtype"):
        wi.normal_(out, seed=0)
    assert np.array_equal(out, before)


def test_not_an_array():
    with pytest.raises(TypeError, match="out must be a numpy ndarray"):
        wi.normal_([0.0, 1.0], seed=0)


def test_read_only():
    out = fresh()
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        wi.uniform_(out, seed=0)
    assert np.all(out == SENTINEL)


def test_non_contiguous():
    base = np.full((8, 8), SENTINEL, np.float32)
    with pytest.raises(ValueError, match="C-contiguous"):
        wi.normal_(base[:, :3], seed=0)
    with pytest.raises(ValueError, match="C-contiguous"):
        wi.normal_(base.T, seed=0)
    assert np.all(base == SENTINEL)


def test_non_native_byte_order():
    out = np.full(8, SENTINEL, np.dtype(">f4"))
    with pytest.raises(ValueError, match="byte order"):
        wi.normal_(out, seed=0)
    assert np.all(out == SENTINEL)


def test_unknown_simd_path(monkeypatch):
    out = fresh()
    monkeypatch.setenv("WEIGHTINIT_SIMD", "neon")
    with pytest.raises(ValueError, match="WEIGHTINIT_SIMD"):
        wi.normal_(out, seed=0)
    assert np.all(out == SENTINEL)


def test_empty_and_zero_dim_buffers():
    assert wi.normal_(np.empty(0, np.float32), seed=0).size == 0
    z = np.full((), SENTINEL, np.float64)
    wi.normal_(z, seed=0)
    assert z != SENTINEL


def test_constant_zeros_ones(dtype):
    out = np.empty((5, 7), dtype)
    assert np.all(wi.zeros_(out) == 0)
    assert np.all(wi.ones_(out) == 1)
    assert np.all(wi.constant_(out, -0.375).astype(np.float64) == -0.375)
    assert np.all(np.isinf(wi.constant_(out, float("inf")).astype(np.float64)))
    assert np.all(np.isnan(wi.constant_(out, float("nan")).astype(np.float64)))
    big = wi.constant_(np.empty(100_003, dtype), 3.14159)      # the parallel path
    assert np.array_equal(big.view(np.uint8), np.full(100_003, 3.14159, np.float64).astype(dtype).view(np.uint8))


def test_std_zero_gives_the_mean():
    assert np.all(wi.normal_(np.empty(100), 3.0, 0.0, seed=1) == 3.0)
