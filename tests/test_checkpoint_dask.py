"""Checkpoints written by a Dask cluster (LocalCluster, 2 worker processes): the bytes
equal the single-machine run, also when a worker is killed mid-run, and a run
interrupted on one machine resumes on the cluster."""
import os

import pytest

from weightinit.checkpoint import create_checkpoint, writer
from weightinit.checkpoint.distributed import FAULT_ENV

distributed = pytest.importorskip("dask.distributed")

SPEC = {"seed": 3, "dtype": "bfloat16", "tensors": [
    {"name": "emb.weight", "shape": [300, 64], "scheme": "normal", "params": {"std": 0.02}},
    {"name": "q.weight", "shape": [64, 64], "scheme": "orthogonal"},
    {"name": "mlp.weight", "shape": [256, 64], "scheme": "trunc_normal", "params": {"std": 0.02, "a": -0.04,
                                                                                    "b": 0.04}},
    {"name": "norm.weight", "shape": [64], "dtype": "float32", "scheme": "ones"},
]}


def files(d):
    return {n: (d / n).read_bytes() for n in sorted(os.listdir(d))}


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(writer, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(writer, "CHECKPOINT_BYTES", 8192)


@pytest.fixture
def cluster(monkeypatch, tmp_path):
    marker = tmp_path / "killed-once"
    monkeypatch.setenv(FAULT_ENV, f"5:{marker}")     # inherited by the worker processes
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as c, distributed.Client(c) as client:
        yield client, marker


def test_cluster_checkpoint_equals_single_machine_even_when_a_worker_dies(tmp_path, small_chunks, cluster):
    client, marker = cluster
    create_checkpoint(SPEC, tmp_path / "ref", max_shard_size=30_000, progress=False)
    create_checkpoint(SPEC, tmp_path / "dask", max_shard_size=30_000, progress=False, client=client)
    assert marker.exists(), "no worker was killed: the fault was not injected"
    assert files(tmp_path / "dask") == files(tmp_path / "ref")


def test_single_machine_interruption_resumes_on_the_cluster(tmp_path, small_chunks, cluster, monkeypatch):
    client, _ = cluster

    def stop(g):
        if g == 4:
            raise KeyboardInterrupt
    monkeypatch.setattr(writer, "_chunk_hook", stop)
    with pytest.raises(KeyboardInterrupt):
        create_checkpoint(SPEC, tmp_path / "out", progress=False)
    monkeypatch.setattr(writer, "_chunk_hook", None)
    res = create_checkpoint(SPEC, tmp_path / "out", progress=False, resume=True, client=client)
    assert res.resumed_bytes > 0
    create_checkpoint(SPEC, tmp_path / "ref", progress=False)
    assert files(tmp_path / "out") == files(tmp_path / "ref")


def test_cli_workers(tmp_path, capsys):
    import json
    from weightinit.cli import main
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    assert main(["create", str(spec), "-o", str(tmp_path / "cli"), "--workers", "2", "-q"]) == 0
    create_checkpoint(SPEC, tmp_path / "ref", progress=False)
    assert files(tmp_path / "cli") == files(tmp_path / "ref")
    assert main(["create", str(spec), "-o", str(tmp_path / "x"), "--workers", "0", "-q"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
