"""weightinit.dask: lazy arrays whose blocks are region fills equal the numpy fill bit
for bit, for any chunking, on a real multi-process cluster."""
import ml_dtypes
import numpy as np
import pytest

import weightinit as wi

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")
import weightinit.dask as wid  # noqa: E402


@pytest.mark.parametrize("chunks", [(1000, 700), (300, 256), (1, 700), (999, 1), "auto", 97])
def test_any_chunking_equals_the_numpy_fill(chunks):
    ref = wi.trunc_normal_(np.empty((1000, 700), np.float32), 0.5, 2.0, -1.0, 3.0, seed=4, stream="layer.w")
    got = wid.trunc_normal((1000, 700), 0.5, 2.0, -1.0, 3.0, chunks=chunks, seed=4, stream="layer.w")
    assert got.compute(scheduler="threads").tobytes() == ref.tobytes()


def test_schemes_take_their_fans_from_the_whole_array():
    ref = wi.schemes.get("he_uniform").init_(np.empty((512, 384), ml_dtypes.bfloat16), seed=1, stream=7)
    got = wid.init("he_uniform", (512, 384), chunks=(128, 100), dtype="bfloat16", seed=1, stream=7)
    assert got.dtype == ml_dtypes.bfloat16
    assert got.compute(scheduler="sync").tobytes() == ref.tobytes()


def test_bad_arguments_fail_before_any_block_runs():
    from weightinit.recorded import Recorded, scheme_leaf
    doubled_row = Recorded([{"region": None, "value": scheme_leaf(wi.schemes.get("normal"), (8, 4))},
                            {"region": [[0, 1], [0, 4]], "value": {"op": "mul", "x": {"op": "prev"}, "y": 2.0}}])
    with pytest.raises(ValueError, match="cannot fill a block"):
        wid.init(doubled_row, (8, 4), chunks=4, seed=0)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        wid.init("orthogonal", (64,), chunks=32, seed=0)
    with pytest.raises(ValueError, match="std"):
        wid.normal((10,), std=-1.0, chunks=5, seed=0)
    with pytest.raises(TypeError, match="dtype"):
        wid.normal((10,), chunks=5, dtype=np.int32, seed=0)


def test_a_seed_drawn_once_serves_every_block():
    a = wid.uniform((4000,), chunks=1000)
    x = a.compute(scheduler="threads")
    assert len(np.unique(x[:1000])) == 1000 and not np.array_equal(x[:1000], x[1000:2000])


def test_multi_process_cluster_gives_the_same_bits():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster, distributed.Client(cluster) as client:
        arr = wid.normal((2048, 1536), std=0.02, chunks=(512, 384), dtype="float32", seed=9, stream="emb")
        got = client.compute(arr).result()
        workers = client.run(lambda: 1)
    assert len(workers) == 2
    ref = wi.normal_(np.empty((2048, 1536), np.float32), 0.0, 0.02, seed=9, stream="emb")
    assert got.tobytes() == ref.tobytes()


@pytest.mark.parametrize("shape, chunks", [
    ((600, 300), (600, 70)),        # tall, by columns: each block forms only its columns of Q
    ((600, 300), (128, 300)),       # tall, by rows: each block forms Q slab by slab
    ((300, 600), (70, 600)),        # wide, by rows (columns of Q)
    ((300, 600), (300, 129)),       # wide, by columns
    ((260, 200), (97, 61)),         # general blocks, uneven
])
def test_orthogonal_chunked_equals_the_numpy_result(shape, chunks):
    ref = wi.orthogonal_(np.empty(shape, np.float32), 1.5, seed=2, stream="o")
    got = wid.init(wi.schemes.get("orthogonal", gain=1.5), shape, chunks=chunks, dtype="float32", seed=2,
                   stream="o")
    assert got.compute(scheduler="threads").tobytes() == ref.tobytes()


@pytest.mark.parametrize("name, shape, kw", [
    ("eye", (50, 70), {}), ("dirac", (12, 6, 3, 3), {"groups": 2}), ("sparse", (90, 40), {"sparsity": 0.2}),
    ("delta_orthogonal", (24, 16, 3, 3), {}),
])
def test_structured_schemes_chunked_equal_the_numpy_result(name, shape, kw):
    scheme = wi.schemes.get(name, **kw)
    ref = scheme.init_(np.empty(shape, ml_dtypes.bfloat16), seed=6, stream="s")
    got = wid.init(scheme, shape, chunks=tuple(max(1, n // 3 + 1) for n in shape), dtype="bfloat16", seed=6,
                   stream="s")
    assert got.compute(scheduler="threads").tobytes() == ref.tobytes()


def test_recorded_embedding_with_padding_rows_chunked():
    from weightinit.recorded import with_zero_rows
    scheme = with_zero_rows(wi.schemes.get("normal", std=0.02), (100, 24), [0, 57])
    ref = scheme.init_(np.empty((100, 24), np.float32), seed=3, stream="emb")
    got = wid.init(scheme, (100, 24), chunks=(30, 10), dtype="float32", seed=3, stream="emb")
    assert got.compute(scheduler="threads").tobytes() == ref.tobytes()


@pytest.mark.parametrize("name,dtype", [("normal", "complex64"), ("xavier_uniform", "complex128"),
                                        ("variance_scaling", np.complex64), ("orthogonal", "complex128")])
def test_complex_arrays_chunked_equal_the_numpy_result(name, dtype):
    ref = wi.schemes.get(name).init_(np.empty((33, 20), dtype), seed=2, stream="c")
    got = wid.init(name, (33, 20), chunks=(10, 7), dtype=dtype, seed=2, stream="c")
    assert got.dtype == ref.dtype
    assert got.compute(scheduler="sync").tobytes() == ref.tobytes()


# ---------------------------------------------------------------- checked when the array is made

@pytest.mark.parametrize("chunks,exc,match", [
    (0, ValueError, "chunks=0: a block size must be positive"),
    ((0, 3), ValueError, "block size of dimension 0 must be positive"),
    ((-2, 3), ValueError, "block size of dimension 0 must be positive"),
    ("12", ValueError, "chunks='12': a byte size needs a unit"),
    ("twelve", ValueError, "chunks='twelve' is not a byte size"),
    ((2.7, 3), TypeError, "chunks=\\(2.7, 3\\): dimension 0 has float 2.7"),
    (3.0, TypeError, "chunks must be .* got float 3.0"),
    (True, TypeError, "chunks must be .* got bool True"),
    ((True, 3), TypeError, "dimension 0 has bool True"),
    ((3,), ValueError, "chunks=\\(3,\\) has 1 entries, but shape \\(6, 6\\) has 2 dimensions"),
    (((3, 2), 6), ValueError, "block sizes of dimension 0 add up to 5, not to its size 6"),
    (((3, 2.5), 6), TypeError, "block sizes of dimension 0 must be ints"),
    (((7, -1), 6), ValueError, "block sizes of dimension 0 must be non-negative"),
    (("1x", 6), ValueError, "dimension 0 has '1x'"),
    ({2: 3}, ValueError, "keys of a chunks dict must be dimensions 0 to 1, got 2"),
    ({-1: 3}, ValueError, "keys of a chunks dict must be dimensions 0 to 1, got -1"),
])
def test_bad_chunks_are_refused_naming_them(chunks, exc, match):
    with pytest.raises(exc, match=match):
        wid.normal((6, 6), chunks=chunks, seed=0)


@pytest.mark.parametrize("shape,exc,match", [
    ((2.5, 3), TypeError, "shape must contain only ints, got float 2.5"),
    (("4", 3), TypeError, "shape must contain only ints, got str '4'"),
    ((True, 3), TypeError, "shape must contain only ints, got bool"),
    ((-1, 3), ValueError, "shape must contain non-negative sizes"),
    ((), ValueError, "shape must have at least one dimension"),
    ("10", TypeError, "shape must contain only ints"),
    ((2 ** 40, 2 ** 40), ValueError, "at most 2\\*\\*64 - 1 are allowed"),
    ((2 ** 80,), ValueError, "at most 2\\*\\*64 - 1 are allowed"),
])
def test_bad_shapes_are_refused_naming_them(shape, exc, match):
    with pytest.raises(exc, match=match):
        wid.uniform(shape, seed=0)


@pytest.mark.parametrize("shape,chunks,match", [
    ((2 ** 21,), 1, "chunks=1 gives 2097152 blocks"),
    ((2 ** 40, 2 ** 20), (1, -1), "gives 1099511627776 blocks"),
    ((2 ** 40, 2 ** 20), (1024, "auto"), "gives at least 1073741824 blocks"),
    ((2 ** 63,), "auto", "gives at least .* blocks of at most 134217728 bytes"),
    ((2 ** 40,), "1KiB", "gives at least .* blocks of at most 1024 bytes"),
])
def test_too_many_blocks_are_refused_before_dask_expands_them(shape, chunks, match):
    """Dask builds its graph block by block (a 2**22-block array took minutes): the
    count is checked first, from the chunk sizes alone."""
    with pytest.raises(ValueError, match=match):
        wid.normal(shape, chunks=chunks, seed=0)


@pytest.mark.parametrize("make,match", [
    (lambda: wid.normal((10,), std=1e39, chunks=5, dtype="bfloat16", seed=0), "std=1e\\+39 is too large for bfloat16"),
    (lambda: wid.uniform((10,), 0.0, 500.0, chunks=5, dtype="float8_e4m3fn", seed=0), "high=500.0"),
    (lambda: wid.trunc_normal((10,), 0.0, 100.0, -2.0, 1e9, chunks=5, dtype="float8_e4m3fn", seed=0),
     "samples would exceed the range of float8_e4m3fn"),
    (lambda: wid.init(wi.schemes.Constant(1000.0), (10,), chunks=5, dtype="float8_e4m3fn", seed=0),
     "value=1000.0 is outside the range"),
    (lambda: wid.init("normal(std=1e39)", (10, 4), chunks=5, dtype="complex64", seed=0), "std"),
    (lambda: wid.init("orthogonal(gain=1e5)", (10, 4), chunks=5, dtype="float16", seed=0), "gain=100000.0"),
])
def test_parameter_errors_come_when_the_array_is_made_not_at_compute(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("shape,chunks,want", [
    ((6, 6), "1KiB", ((6,), (6,))),
    ((6, 6), "64 B", None),
    ((6, 6), {0: 2}, ((2, 2, 2), (6,))),
    ((6, 6), (None, 4), ((6,), (4, 2))),
    ((6, 6), (-1, "auto"), ((6,), (6,))),
    ((6, 6), ((0, 6), (1, 5)), ((0, 6), (1, 5))),
    ((6, 6), [np.int64(4), 3], ((4, 2), (3, 3))),
    ((10,), (3, 3, 4), ((3, 3, 4),)),      # a flat tuple for a 1-D array: its block sizes, as Dask reads it
    ((0, 5), 2, ((0,), (2, 2, 1))),
    ((0, 5), -1, ((0,), (5,))),
])
def test_valid_chunk_forms_still_equal_the_numpy_fill(shape, chunks, want):
    arr = wid.normal(shape, 0.5, 2.0, chunks=chunks, seed=8, stream="c")
    if want is not None:
        assert arr.chunks == want
    assert len(arr.chunks) == len(shape) and all(sum(c) == n for c, n in zip(arr.chunks, shape))
    ref = wi.normal_(np.empty(shape, np.float32), 0.5, 2.0, seed=8, stream="c")
    assert arr.compute(scheduler="sync").tobytes() == ref.tobytes()
