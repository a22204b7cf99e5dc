"""Blocks of an orthogonal matrix (orthogonal_ with global_shape= and offset=): bit for
bit the block of the whole result, for tall, wide and square matrices across the
128-reflector panel boundary, every dtype (complex too), 1 and 2 threads and every SIMD path;
bad blocks are errors naming the parameter, with nothing written."""
import ml_dtypes
import numpy as np
import pytest

import weightinit as wi
from weightinit import available_simd_paths
from weightinit.orthogonal import delta_orthogonal_, orthogonal_

DTYPES = [np.float64, np.float32, np.float16, ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn,
          ml_dtypes.float8_e5m2]
# tall, wide, square; 129 and 257 put a column (or row) just past a panel boundary; the row
# blocks of (700, 600) and column blocks of (600, 700) need two slabs of Q's columns (512 + 88)
SHAPES = [(300, 140), (140, 300), (257, 257), (129, 128), (700, 600), (600, 700), (7, 1), (1, 9)]
GAIN = 1.5


def blocks(rows, cols):
    """(start, shape) of blocks of every kind: whole, row, column, general, edge, one
    column, one row, one entry, uneven tiles."""
    out = [((0, 0), (rows, cols)),
           ((0, 0), (max(1, rows // 3), cols)),                 # rows at the top
           ((rows - 1, 0), (1, cols)),                           # last row
           ((0, cols // 2), (rows, cols - cols // 2)),           # right half of the columns
           ((0, cols - 1), (rows, 1)),                           # last column
           ((0, 0), (rows, 1)),                                  # first column
           ((rows // 4, cols // 5), (max(1, rows // 2), max(1, cols // 3))),   # general
           ((rows - 1, cols - 1), (1, 1))]                       # corner entry
    if cols > 128:
        out.append(((0, 127), (rows, 2)))                        # straddles the panel boundary
        out.append(((0, 128), (rows, cols - 128)))               # starts exactly at a panel
    if rows > 128:
        out.append(((127, 0), (2, cols)))
        out.append(((100, 3), (rows - 101, cols - 5)))           # uneven interior block
    return [(s, h) for s, h in out if all(a + b <= n for a, b, n in zip(s, h, (rows, cols)))]


def whole(shape, dtype, threads=2):
    return orthogonal_(np.empty(shape, dtype), GAIN, seed=21, stream="q", threads=threads)


def block(gs, start, shape, dtype, threads=2, fn=orthogonal_):
    out = np.full(shape, 3, dtype)          # not a value a block can hold: a missed entry shows
    return fn(out, GAIN, seed=21, stream="q", threads=threads, global_shape=gs, offset=start)


def sliced(ref, start, shape):
    return np.ascontiguousarray(ref[tuple(slice(a, a + n) for a, n in zip(start, shape))])


@pytest.mark.parametrize("gs", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_kind_of_block_equals_the_whole_matrix_sliced(gs, dtype):
    ref = whole(gs, dtype)
    for start, shape in blocks(*gs):
        for threads in (1, 2):
            got = block(gs, start, shape, dtype, threads)
            assert got.tobytes() == sliced(ref, start, shape).tobytes(), (start, shape, threads)


@pytest.mark.parametrize("gs", [(700, 600), (600, 700)], ids=lambda s: "x".join(map(str, s)))
def test_tiles_reassemble_the_whole_matrix(gs):
    """Uneven 3 x 4 tiling (as shards of different sizes): the tiles put together are the whole."""
    ref = whole(gs, np.float32)
    rcuts, ccuts = [0, 101, 350, gs[0]], [0, 7, 129, 400, gs[1]]
    rcuts, ccuts = sorted(set(min(c, gs[0]) for c in rcuts)), sorted(set(min(c, gs[1]) for c in ccuts))
    got = np.empty(gs, np.float32)
    for r0, r1 in zip(rcuts, rcuts[1:]):
        for c0, c1 in zip(ccuts, ccuts[1:]):
            got[r0:r1, c0:c1] = block(gs, (r0, c0), (r1 - r0, c1 - c0), np.float32)
    assert got.tobytes() == ref.tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: np.dtype(d).name)
def test_block_bits_independent_of_simd_path(dtype, monkeypatch):
    gs = (300, 140)
    ref = whole(gs, dtype)
    for p in available_simd_paths():
        monkeypatch.setenv("WEIGHTINIT_SIMD", p)
        for start, shape in [((0, 50), (300, 90)), ((17, 0), (40, 140))]:
            got = block(gs, start, shape, dtype)
            assert got.tobytes() == sliced(ref, start, shape).tobytes(), (p, start, shape)


def test_signed_zeros_of_the_structural_part_match():
    """A wide matrix's structural zeros (Q's rows above each reflector's start) keep
    their sign in a block: compared bitwise, -0.0 != +0.0."""
    gs = (130, 131)
    ref = whole(gs, np.float64)
    for start, shape in [((0, 0), (130, 3)), ((128, 0), (2, 131)), ((0, 129), (130, 2))]:
        got = block(gs, start, shape, np.float64)
        want = sliced(ref, start, shape)
        assert np.array_equal(np.signbit(got), np.signbit(want)) and got.tobytes() == want.tobytes()


@pytest.mark.parametrize("gs, start, shape", [
    ((12, 3, 3, 3), (2, 0, 0, 0), (7, 3, 3, 3)),      # rows: contiguous matrix block
    ((12, 3, 3, 3), (0, 1, 0, 0), (12, 2, 3, 3)),     # Shard(1): contiguous columns
    ((12, 3, 3, 3), (3, 1, 1, 0), (5, 2, 2, 3)),      # scattered columns
    ((4, 6, 5), (1, 2, 1), (2, 3, 3)),                # wide (Q = W^T), scattered
], ids=["rows", "dim1", "scattered", "wide"])
def test_nd_blocks_of_conv_weights(gs, start, shape):
    ref = whole(gs, np.float32)
    got = block(gs, start, shape, np.float32)
    assert got.tobytes() == sliced(ref, start, shape).tobytes()


@pytest.mark.parametrize("gs, start, shape", [
    ((16, 8, 3, 3), (4, 2, 0, 0), (8, 6, 3, 3)),      # holds the centre
    ((16, 8, 3, 3), (0, 0, 1, 1), (16, 8, 2, 2)),     # centre at the block's corner
    ((16, 8, 3, 3), (0, 0, 0, 2), (16, 8, 3, 1)),     # no centre: zeros only
    ((200, 150, 3), (60, 0, 0), (100, 150, 3)),       # across the panel boundary
])
@pytest.mark.parametrize("dtype", [np.float32, ml_dtypes.bfloat16, np.complex64], ids=lambda d: np.dtype(d).name)
def test_delta_orthogonal_blocks(gs, start, shape, dtype):
    ref = delta_orthogonal_(np.empty(gs, dtype), GAIN, seed=21, stream="q")
    got = block(gs, start, shape, dtype, fn=delta_orthogonal_)
    assert got.tobytes() == sliced(ref, start, shape).tobytes()


def test_scheme_and_initializer_blocks_match():
    gs, start, shape = (300, 140), (10, 20), (100, 60)
    ref = whole(gs, np.float32)
    a = wi.orthogonal_(np.empty(shape, np.float32), GAIN, seed=21, stream="q", global_shape=gs, offset=start)
    b = wi.schemes.get("orthogonal", gain=GAIN).init_(np.empty(shape, np.float32), seed=21, stream="q",
                                                     global_shape=gs, offset=start)
    assert a.tobytes() == b.tobytes() == sliced(ref, start, shape).tobytes()


BAD = [
    (dict(global_shape=(10, 8), offset=(3, 0)), (8, 8), ValueError, "does not fit"),
    (dict(global_shape=(10, 8), offset=(0, 1)), (4, 8), ValueError, "dimension 1"),
    (dict(global_shape=(10, 8, 1), offset=(0, 0, 0)), (4, 8), ValueError, "global_shape"),
    (dict(global_shape=(10, 8), offset=(0,)), (4, 8), ValueError, "offset"),
    (dict(global_shape=(10, -8), offset=(0, 0)), (4, 8), ValueError, "global_shape"),
    (dict(global_shape=(10, 8), offset=(0, -1)), (4, 8), ValueError, "offset"),
    (dict(global_shape=(10, 8), offset=3), (4, 8), ValueError, "offset"),
    (dict(offset=(0, 0)), (4, 8), ValueError, "global_shape"),
    (dict(global_shape="10x8", offset=(0, 0)), (4, 8), TypeError, "global_shape"),
]


@pytest.mark.parametrize("kw, shape, exc, words", BAD)
def test_bad_blocks_are_refused_with_nothing_written(kw, shape, exc, words):
    out = np.full(shape, 5.0, np.float32)
    with pytest.raises(exc, match=words):
        orthogonal_(out, seed=1, **kw)
    assert (out == 5.0).all()


@pytest.mark.parametrize("gs", [(300, 140), (140, 300), (129, 129)], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128], ids=lambda d: np.dtype(d).name)
def test_complex_blocks_equal_the_whole_matrix_sliced(gs, dtype):
    ref = whole(gs, dtype)
    for start, shape in blocks(*gs):
        for threads in (1, 2):
            got = block(gs, start, shape, dtype, threads)
            assert got.tobytes() == sliced(ref, start, shape).tobytes(), (start, shape, threads)


@pytest.mark.parametrize("gs, start, shape", [((640, 530), (100, 0), (9, 530)), ((530, 640), (0, 3), (530, 20))],
                         ids=["tall-rows", "wide-columns"])
def test_complex_blocks_in_two_slabs(gs, start, shape):
    """Q's 530 columns formed as slabs of 512 and 18."""
    ref = whole(gs, np.complex64)
    got = block(gs, start, shape, np.complex64)
    assert got.tobytes() == sliced(ref, start, shape).tobytes()


def test_complex_bad_block_is_refused_with_nothing_written():
    out = np.full((4, 8), 5.0, np.complex64)
    with pytest.raises(ValueError, match="does not fit"):
        orthogonal_(out, seed=1, global_shape=(10, 8), offset=(7, 0))
    assert (out == 5.0).all()


def test_delta_orthogonal_bad_block_names_the_channels():
    out = np.full((4, 8, 3, 3), 5.0, np.float32)
    with pytest.raises(ValueError, match="in_channels <= out_channels"):
        delta_orthogonal_(out, seed=1, global_shape=(4, 8, 3, 3), offset=(0, 0, 0, 0))
    assert (out == 5.0).all()
