"""Blocks (global_shape= plus offset=) of the structured initializers eye_, dirac_ and
sparse_: every block equals the same block of the whole tensor bit for bit, and an
uneven tiling reassembles it; bad blocks are errors with nothing written."""
import itertools

import ml_dtypes
import numpy as np
import pytest

import weightinit as wi

CASES = {
    "eye": ((7, 11), lambda out, **kw: wi.eye_(out, **kw)),
    "eye_tall": ((11, 7), lambda out, **kw: wi.eye_(out, **kw)),
    "dirac": ((8, 6, 3, 3), lambda out, **kw: wi.dirac_(out, **kw)),
    "dirac_groups": ((12, 3, 5), lambda out, **kw: wi.dirac_(out, 3, **kw)),
    "dirac_3d": ((4, 4, 3, 2, 3), lambda out, **kw: wi.dirac_(out, 2, **kw)),
    "sparse": ((40, 13), lambda out, **kw: wi.sparse_(out, 0.3, 0.5, **kw)),
    "sparse_all_zero": ((5, 4), lambda out, **kw: wi.sparse_(out, 1.0, **kw)),
}


def run(name, out, **kw):
    return CASES[name][1](out, seed=9, stream="s", **kw)


def cuts(n):
    """Uneven cut points of a dimension of length n."""
    return sorted({0, n // 3, n // 3 + 1, n})


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64, ml_dtypes.bfloat16], ids=lambda d: np.dtype(d).name)
def test_every_tile_of_an_uneven_tiling_equals_the_whole(name, dtype):
    gs = CASES[name][0]
    ref = run(name, np.empty(gs, dtype))
    got = np.full(gs, 7, dtype)
    for bounds in itertools.product(*(list(zip(cuts(n), cuts(n)[1:])) for n in gs)):
        start = tuple(a for a, _ in bounds)
        shape = tuple(b - a for a, b in bounds)
        tile = run(name, np.full(shape, 7, dtype), global_shape=gs, offset=start)
        sl = tuple(slice(a, b) for a, b in bounds)
        assert tile.tobytes() == np.ascontiguousarray(ref[sl]).tobytes(), (start, shape)
        got[sl] = tile
    assert got.tobytes() == ref.tobytes()


def test_sparse_row_blocks_keep_each_columns_zero_count():
    """The mask is per whole column: row blocks of a column hold its zeros in total."""
    gs = (40, 13)
    k = wi.schemes.Sparse(0.3, 0.5).zeros_per_column(40)
    tops = run("sparse", np.empty((25, 13), np.float32), global_shape=gs, offset=(0, 0))
    bottoms = run("sparse", np.empty((15, 13), np.float32), global_shape=gs, offset=(25, 0))
    assert ((tops == 0).sum(0) + (bottoms == 0).sum(0) == k).all()


@pytest.mark.parametrize("name", ["eye", "dirac", "sparse"])
@pytest.mark.parametrize("kw, words", [
    (dict(global_shape=None, offset=(0, 0)), "global_shape"),
    ("too_big", "does not fit"),
    ("wrong_rank", "dimensions"),
])
def test_bad_blocks_are_refused_with_nothing_written(name, kw, words):
    gs = CASES[name][0]
    shape = tuple(max(1, n - 1) for n in gs)
    if kw == "too_big":
        kw = dict(global_shape=gs, offset=(2,) * len(gs))
    elif kw == "wrong_rank":
        kw = dict(global_shape=gs + (1,), offset=(0,) * (len(gs) + 1))
    out = np.full(shape, 5.0, np.float32)
    with pytest.raises(ValueError, match=words):
        run(name, out, **kw)
    assert (out == 5.0).all()


def test_dirac_block_checks_groups_against_the_global_shape():
    out = np.full((4, 6, 3, 3), 5.0, np.float32)   # 4 rows divide by 4, the global 10 does not
    with pytest.raises(ValueError, match="divisible by groups"):
        wi.dirac_(out, 4, global_shape=(10, 6, 3, 3), offset=(0, 0, 0, 0))
    assert (out == 5.0).all()
