"""Blocks of a larger tensor (global_shape= plus N-d offset=): equal bit for bit to the
same block of the whole fill, for any block, dtype, distribution and thread count; bad
blocks are errors naming the parameter, with nothing written."""
import itertools

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import weightinit as wi

DISTS = {
    "uniform": lambda out, **kw: wi.uniform_(out, -1.0, 2.0, seed=11, stream="w", **kw),
    "normal": lambda out, **kw: wi.normal_(out, 0.1, 0.5, seed=11, stream="w", **kw),
    "trunc_normal": lambda out, **kw: wi.trunc_normal_(out, 0.0, 1.0, -0.5, 1.5, seed=11, stream="w", **kw),
}
DTYPES = [np.float64, np.float32, np.float16, ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn]


def block_of(dist, dtype, global_shape, start, shape, threads=2):
    out = np.empty(shape, dtype)
    return DISTS[dist](out, global_shape=global_shape, offset=start, threads=threads)


def whole(dist, dtype, global_shape):
    return DISTS[dist](np.empty(global_shape, dtype), threads=2)


@pytest.mark.parametrize("dist", sorted(DISTS))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_block_shape_of_a_3d_tensor(dist, dtype):
    g = (5, 7, 9)
    ref = whole(dist, dtype, g)
    for start, stop in [((0, 0, 0), (5, 7, 9)), ((1, 2, 3), (4, 6, 8)), ((0, 0, 4), (5, 7, 5)),
                        ((2, 0, 0), (3, 7, 9)), ((4, 6, 8), (5, 7, 9)), ((0, 3, 0), (5, 4, 9))]:
        shape = tuple(b - a for a, b in zip(start, stop))
        got = block_of(dist, dtype, g, start, shape)
        want = np.ascontiguousarray(ref[tuple(slice(a, b) for a, b in zip(start, stop))])
        assert got.tobytes() == want.tobytes(), (start, stop)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=4).flatmap(
    lambda g: st.tuples(st.just(tuple(g)), st.tuples(*[st.integers(0, n) for n in g]),
                        st.tuples(*[st.integers(0, n) for n in g]))),
    st.sampled_from(sorted(DISTS)), st.sampled_from([1, 2, 3]))
def test_random_blocks_equal_the_slice(args, dist, threads):
    g, a, b = args
    start = tuple(min(x, y) for x, y in zip(a, b))
    stop = tuple(max(x, y) for x, y in zip(a, b))
    shape = tuple(y - x for x, y in zip(start, stop))
    ref = whole(dist, np.float32, g)
    got = block_of(dist, np.float32, g, start, shape, threads)
    assert got.tobytes() == np.ascontiguousarray(ref[tuple(slice(x, y) for x, y in zip(start, stop))]).tobytes()


def test_blocks_tile_the_whole_tensor():
    g = (64, 96)
    ref = whole("normal", ml_dtypes.bfloat16, g)
    out = np.empty(g, ml_dtypes.bfloat16)
    for i, j in itertools.product(range(0, 64, 24), range(0, 96, 40)):
        blk = block_of("normal", ml_dtypes.bfloat16, g, (i, j), (min(24, 64 - i), min(40, 96 - j)))
        out[i:i + blk.shape[0], j:j + blk.shape[1]] = blk
    assert out.tobytes() == ref.tobytes()


def test_scheme_blocks_use_the_global_fans():
    g = (128, 256)
    for name in ("he_normal", "xavier_uniform", "lecun_normal", "trunc_normal", "ones"):
        s = wi.schemes.get(name)
        ref = s.init_(np.empty(g, np.float32), seed=4, stream="p")
        blk = s.init_(np.empty((128, 64), np.float32), seed=4, stream="p", global_shape=g, offset=(0, 192))
        assert blk.tobytes() == np.ascontiguousarray(ref[:, 192:]).tobytes(), name


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"global_shape": (10, 10), "offset": (5, 6)}, ValueError, "does not fit in global_shape"),
    ({"global_shape": (10,), "offset": (0,)}, ValueError, "global_shape .* has 1 dimensions, but out has 2"),
    ({"offset": (1, 2)}, ValueError, "pass global_shape"),
    ({"global_shape": (10, 10), "offset": 3}, ValueError, "tuple of start indices"),
    ({"global_shape": (10, 10), "offset": (1,)}, ValueError, "has 1 indices"),
    ({"global_shape": (10, 10), "offset": (-1, 0)}, ValueError, "offset must be a tuple of non-negative"),
    ({"global_shape": (10, 2.5), "offset": (0, 0)}, ValueError, "global_shape must be a tuple"),
    ({"global_shape": "10x10", "offset": (0, 0)}, TypeError, "global_shape must be a tuple"),
    ({"global_shape": (2**40, 2**40), "offset": (0, 0)}, ValueError, "more than 2\\*\\*64"),
])
def test_bad_blocks_write_nothing(kwargs, exc, match):
    out = np.full((4, 5), 7.0, np.float32)
    with pytest.raises(exc, match=match):
        wi.normal_(out, seed=1, **kwargs)
    assert (out == 7.0).all()


COMPLEX_FILLS = {
    "normal": lambda out, **kw: wi.normal_(out, 1 - 2j, 0.5, seed=11, stream="c", **kw),
    "uniform": lambda out, **kw: wi.uniform_(out, -1.0, 2.0, seed=11, stream="c", **kw),
    "xavier_uniform (disk)": lambda out, **kw: wi.schemes.get("xavier_uniform").init_(out, seed=11, stream="c", **kw),
    "variance_scaling (|z| truncated)": lambda out, **kw: wi.schemes.get("variance_scaling").init_(
        out, seed=11, stream="c", **kw),
    "he_normal": lambda out, **kw: wi.schemes.get("he_normal").init_(out, seed=11, stream="c", **kw),
}


@pytest.mark.parametrize("fill", sorted(COMPLEX_FILLS))
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_blocks_equal_the_whole(fill, dtype):
    """The parts of element k are parts 2k, 2k + 1 of the stream: a block's pairs stay
    whole, also for the variance-scaling laws that draw a pair together (fans from the
    global shape)."""
    g = (7, 5, 9)
    ref = COMPLEX_FILLS[fill](np.zeros(g, dtype))
    for start, shape in [((0, 0, 0), g), ((1, 2, 3), (4, 2, 5)), ((6, 4, 8), (1, 1, 1)), ((2, 0, 0), (3, 5, 9)),
                         ((0, 3, 1), (7, 1, 4))]:
        for threads in (1, 2):
            out = np.zeros(shape, dtype)
            COMPLEX_FILLS[fill](out, global_shape=g, offset=start, threads=threads)
            sl = tuple(slice(s, s + n) for s, n in zip(start, shape))
            assert out.tobytes() == ref[sl].tobytes(), (start, shape, threads)


def test_bad_complex_block_writes_nothing():
    out = np.zeros((2, 3), np.complex64)
    with pytest.raises(ValueError, match="global_shape"):
        wi.normal_(out, seed=1, global_shape=(4, 2), offset=(2, 0))
    with pytest.raises(ValueError, match="global_shape"):
        wi.schemes.get("xavier_uniform").init_(out, seed=1, global_shape=(3, 3), offset=(2, 0))
    assert (out == 0).all()


def test_empty_block_still_checks_parameters():
    with pytest.raises(ValueError, match="std"):
        wi.normal_(np.empty((0, 3), np.float32), 0.0, -1.0, seed=1, global_shape=(4, 3), offset=(4, 0))
    wi.normal_(np.empty((0, 3), np.float32), seed=1, global_shape=(4, 3), offset=(4, 0))
