"""`weightinit verify`: regenerating every tensor from the recorded seed and schemes
proves a checkpoint is exactly its recorded initialization, and names what is not."""
import json

import numpy as np
import pytest

from weightinit.checkpoint import create_checkpoint, read_checkpoint, verify_checkpoint, writer
from weightinit.cli import main

SPEC = {"seed": 5, "dtype": "float32", "tensors": [
    {"name": "emb.weight", "shape": [300, 17], "scheme": "normal", "params": {"std": 0.02}},
    {"name": "w.bf16", "shape": [1000, 13], "dtype": "bfloat16", "scheme": "trunc_normal",
     "params": {"std": 1.0, "a": -2.0, "b": 2.0}},
    {"name": "q.f16", "shape": [64, 64], "dtype": "float16", "scheme": "orthogonal"},
    {"name": "he", "shape": [40, 30], "scheme": "he_uniform"},
    {"name": "ln.weight", "shape": [17], "scheme": "ones"},
    {"name": "empty", "shape": [0, 4], "scheme": "normal"},
]}


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(writer, "CHUNK_BYTES", 4096)
    import weightinit.checkpoint.verify as v
    monkeypatch.setattr(v, "CHUNK_BYTES", 3000)   # chunks that do not line up with the writer's


@pytest.mark.parametrize("kw", [{}, {"max_shard_size": 30_000}, {"format": "npy"}], ids=["single", "shards", "npy"])
def test_a_fresh_checkpoint_verifies(tmp_path, small_chunks, capsys, kw):
    d = tmp_path / "m"
    create_checkpoint(SPEC, d, progress=False, **kw)
    report = verify_checkpoint(d, threads=2)
    assert report.ok and report.tensors == len(SPEC["tensors"]) and report.seed == 5
    assert main(["verify", str(d)]) == 0
    assert "all match" in capsys.readouterr().out


def _flip(entry, flat_index):
    """Change one element's bits on disk."""
    a = np.memmap(entry.file, dtype=np.uint8, mode="r+", offset=entry.offset,
                  shape=(int(np.prod(entry.shape)) * entry.dtype.itemsize,))
    a[flat_index * entry.dtype.itemsize] ^= 1
    a.flush()
    del a


@pytest.mark.parametrize("name,index", [("emb.weight", 4000), ("w.bf16", 12_999), ("q.f16", 7), ("ln.weight", 0)])
def test_a_changed_element_is_named(tmp_path, small_chunks, capsys, name, index):
    d = tmp_path / "m"
    create_checkpoint(SPEC, d, progress=False)
    entry = {e.name: e for e in read_checkpoint(d)[0]}[name]
    _flip(entry, index)
    report = verify_checkpoint(d)
    assert [m["name"] for m in report.mismatches] == [name]
    m = report.mismatches[0]
    assert m["index"] == index and m["position"] == tuple(int(i) for i in np.unravel_index(index, entry.shape))
    assert m["expected"] != m["found"]
    assert main(["verify", str(d)]) == 1
    out = capsys.readouterr().out
    assert f"differs: {name}: first at element" in out and "1 of 6 tensors do not match" in out
    assert main(["verify", "--json", str(d)]) == 1
    assert json.loads(capsys.readouterr().out)["mismatches"][0]["index"] == index


def test_another_seed_differs_everywhere_random(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    create_checkpoint(SPEC, a, progress=False)
    create_checkpoint(SPEC, b, progress=False, seed=6)
    # graft b's data under a's metadata: the random tensors differ, the constant does not
    raw_a, raw_b = (a / "model.safetensors").read_bytes(), (b / "model.safetensors").read_bytes()
    n = int.from_bytes(raw_a[:8], "little")
    (a / "model.safetensors").write_bytes(raw_a[:8 + n] + raw_b[8 + n:])
    names = {m["name"] for m in verify_checkpoint(a).mismatches}
    assert names == {"emb.weight", "w.bf16", "q.f16", "he"}


def test_a_file_not_written_by_weightinit_is_exit_2(tmp_path, capsys):
    safetensors = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "plain.safetensors"
    safetensors.save_file({"x": np.ones(3, np.float32)}, str(path))
    with pytest.raises(ValueError, match="not a checkpoint written by weightinit"):
        verify_checkpoint(path)
    assert main(["verify", str(path)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_unknown_scheme_is_not_verified(tmp_path, capsys):
    d = tmp_path / "m"
    create_checkpoint({"seed": 1, "tensors": [{"name": "x", "shape": [4], "scheme": "normal"}]}, d, progress=False)
    raw = (d / "model.safetensors").read_bytes()
    patched = raw.replace(b'\\"name\\":\\"normal\\"', b'\\"name\\":\\"nrmal_\\"')
    assert patched != raw and len(patched) == len(raw)
    (d / "model.safetensors").write_bytes(patched)
    report = verify_checkpoint(d)
    assert not report.ok and report.unverifiable[0][0] == "x"
    assert main(["verify", str(d)]) == 1
    assert "not verified: x" in capsys.readouterr().out
