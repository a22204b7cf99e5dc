"""Every named initializer takes global_shape= and an N-d offset=: the block equals that
block of the whole fill bit for bit, with fans from the global shape; bad blocks are
errors naming the parameter, with nothing written."""
import itertools
import warnings

import ml_dtypes
import numpy as np
import pytest

import weightinit as wi

INITS = {
    "xavier_uniform_": lambda out, **kw: wi.xavier_uniform_(out, 1.3, **kw),
    "xavier_normal_": lambda out, **kw: wi.xavier_normal_(out, **kw),
    "glorot_uniform_": lambda out, **kw: wi.glorot_uniform_(out, **kw),
    "glorot_normal_": lambda out, **kw: wi.glorot_normal_(out, 0.5, **kw),
    "kaiming_uniform_": lambda out, **kw: wi.kaiming_uniform_(out, a=5 ** 0.5, **kw),
    "kaiming_normal_": lambda out, **kw: wi.kaiming_normal_(out, mode="fan_out", nonlinearity="relu", **kw),
    "he_uniform_": lambda out, **kw: wi.he_uniform_(out, nonlinearity="relu", **kw),
    "he_normal_": lambda out, **kw: wi.he_normal_(out, **kw),
    "lecun_uniform_": lambda out, **kw: wi.lecun_uniform_(out, **kw),
    "lecun_normal_": lambda out, **kw: wi.lecun_normal_(out, **kw),
    "selu_": lambda out, **kw: wi.selu_(out, **kw),
    "variance_scaling_ truncated": lambda out, **kw: wi.variance_scaling_(out, 2.0, "fan_avg", **kw),
    "variance_scaling_ normal": lambda out, **kw: wi.variance_scaling_(out, 0.5, "fan_geo_avg", "normal", **kw),
    "variance_scaling_ uniform jax": lambda out, **kw: wi.variance_scaling_(out, 1.0, "fan_out", "uniform",
                                                                            layout="jax", **kw),
    "uniform_": lambda out, **kw: wi.uniform_(out, -0.5, 0.25, **kw),
    "normal_": lambda out, **kw: wi.normal_(out, 0.1, 0.02, **kw),
    "trunc_normal_": lambda out, **kw: wi.trunc_normal_(out, 0.0, 0.02, -0.03, 0.04, **kw),
}

# (global shape, blocks as (start, stop)): edges, corners, the whole tensor, interiors
CASES = {
    "2-D": ((37, 23), [((0, 0), (37, 23)), ((0, 0), (1, 1)), ((36, 22), (37, 23)), ((0, 11), (37, 23)),
                       ((5, 0), (6, 23)), ((10, 3), (29, 20)), ((0, 22), (37, 23))]),
    "4-D conv": ((16, 12, 3, 3), [((0, 0, 0, 0), (16, 12, 3, 3)), ((0, 6, 0, 0), (16, 12, 3, 3)),
                                  ((8, 0, 0, 0), (16, 6, 3, 3)), ((15, 11, 2, 2), (16, 12, 3, 3)),
                                  ((3, 4, 1, 0), (9, 5, 3, 2)), ((0, 0, 0, 0), (1, 12, 3, 1))]),
}


def _slice(start, stop):
    return tuple(slice(a, b) for a, b in zip(start, stop))


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("name", sorted(INITS))
@pytest.mark.parametrize("dtype", [np.float32, ml_dtypes.bfloat16], ids=["float32", "bfloat16"])
def test_blocks_equal_the_slice_of_the_whole_fill(name, case, dtype):
    g, blocks = CASES[case]
    ref = INITS[name](np.empty(g, dtype), seed=1, stream="conv")
    for start, stop in blocks:
        shape = tuple(b - a for a, b in zip(start, stop))
        for threads in (1, 2):
            out = np.full(shape, 9.0, dtype)
            got = INITS[name](out, seed=1, stream="conv", global_shape=g, offset=start, threads=threads)
            assert got is out
            assert out.tobytes() == np.ascontiguousarray(ref[_slice(start, stop)]).tobytes(), (start, stop)


def test_blocks_tile_the_whole_conv_weight():
    """The issue's call: a shard of a conv weight, and the shards together are the whole."""
    shape = (64, 32, 3, 3)
    ref = wi.kaiming_normal_(np.empty(shape, np.float32), seed=1, stream="conv")
    local = np.empty((64, 16, 3, 3), np.float32)
    wi.kaiming_normal_(local, seed=1, stream="conv", global_shape=shape, offset=(0, 16, 0, 0))
    assert local.tobytes() == np.ascontiguousarray(ref[:, 16:]).tobytes()
    whole = np.empty(shape, np.float32)
    for i, j in itertools.product((0, 40), (0, 16)):
        blk = np.empty((min(40, 64 - i), 16, 3, 3), np.float32)
        wi.kaiming_normal_(blk, seed=1, stream="conv", global_shape=shape, offset=(i, j, 0, 0))
        whole[i:i + blk.shape[0], j:j + 16] = blk
    assert whole.tobytes() == ref.tobytes()


def test_fans_come_from_the_global_shape():
    """A block's std is the whole tensor's: He uniform on (512, 256) is U(-b, b) with
    b = sqrt(6 / 256), not the block's fan_in of 16."""
    blk = wi.kaiming_uniform_(np.empty((512, 16)), nonlinearity="relu", seed=0, global_shape=(512, 256),
                              offset=(0, 240))
    bound = (6 / 256) ** 0.5
    assert np.abs(blk).max() < bound and np.abs(blk).max() > 0.99 * bound
    alone = wi.kaiming_uniform_(np.empty((512, 16)), nonlinearity="relu", seed=0)
    assert np.abs(alone).max() > 2 * bound       # the block's own fan would give b = sqrt(6 / 16)


def test_complex_blocks_of_named_initializers():
    g = (9, 6)
    ref = wi.xavier_normal_(np.empty(g, np.complex64), seed=3, stream="c")
    out = np.empty((4, 3), np.complex64)
    wi.xavier_normal_(out, seed=3, stream="c", global_shape=g, offset=(5, 3))
    assert out.tobytes() == ref[5:, 3:].tobytes()


def test_a_block_of_an_empty_tensor_warns_as_the_whole_fill():
    with pytest.warns(UserWarning, match="zero-element"):
        wi.kaiming_normal_(np.empty((3, 0), np.float32), seed=1, global_shape=(3, 0), offset=(0, 0))
    with pytest.warns(UserWarning, match="zero-element"):
        wi.kaiming_normal_(np.empty((3, 0), np.float32), seed=1)
    with warnings.catch_warnings():      # an empty block of a non-empty tensor: nothing to say
        warnings.simplefilter("error")
        wi.kaiming_normal_(np.empty((0, 4), np.float32), seed=1, global_shape=(3, 4), offset=(3, 0))


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"global_shape": (10, 10), "offset": (5, 6)}, ValueError, "does not fit in global_shape"),
    ({"global_shape": (10, 10), "offset": (7, 0)}, ValueError, "dimension 0: 7 \\+ 4 > 10"),
    ({"global_shape": (10,), "offset": (0,)}, ValueError, "global_shape .* has 1 dimensions, but out has 2"),
    ({"global_shape": (10, 10, 1), "offset": (0, 0, 0)}, ValueError, "has 3 dimensions, but out has 2"),
    ({"global_shape": (10, 10), "offset": (1,)}, ValueError, "offset .* has 1 indices"),
    ({"global_shape": (10, 10), "offset": 3}, ValueError, "tuple of start indices"),
    ({"global_shape": (10, 10), "offset": (-1, 0)}, ValueError, "offset must be a tuple of non-negative"),
    ({"global_shape": "10x10", "offset": (0, 0)}, TypeError, "global_shape must be a tuple"),
    ({"offset": (1, 2)}, ValueError, "needs global_shape"),
])
@pytest.mark.parametrize("name", sorted(INITS))
def test_bad_blocks_write_nothing(name, kwargs, exc, match):
    out = np.full((4, 5), 7.0, np.float32)
    if name in ("uniform_", "normal_", "trunc_normal_") and "global_shape" not in kwargs:
        match = "pass global_shape"     # their offset= is also the flat one; the message says so
    with pytest.raises(exc, match=match):
        INITS[name](out, seed=1, **kwargs)
    assert (out == 7.0).all()
