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
    with pytest.raises(ValueError, match="not elementwise"):
        wid.init("orthogonal", (64, 64), chunks=32, seed=0)
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
