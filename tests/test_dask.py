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
