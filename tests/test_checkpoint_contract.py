"""Checkpoints record the stream contract version they were written under, and
`verify` says so plainly when it differs from the running one, instead of listing
every tensor as a mismatch."""
import json

import pytest

import weightinit as wi
from weightinit.checkpoint import create_checkpoint, read_checkpoint, verify_checkpoint
from weightinit.cli import main

SPEC = {"seed": 3, "dtype": "float32", "tensors": [
    {"name": "w", "shape": [40, 30], "scheme": "trunc_normal", "params": {"std": 0.02}},
    {"name": "v", "shape": [50], "scheme": "normal"},
]}
KEY = b'"weightinit.stream_contract":"2"'


def _rewrite(path, old, new):
    data = path.read_bytes()
    assert data.count(old) == 1 and len(old) == len(new)
    path.write_bytes(data.replace(old, new))


@pytest.mark.parametrize("kw", [{}, {"max_shard_size": 5000}, {"format": "npy"}], ids=["single", "shards", "npy"])
def test_the_contract_version_is_recorded(tmp_path, kw):
    create_checkpoint(SPEC, tmp_path / "m", progress=False, **kw)
    assert wi.STREAM_CONTRACT_VERSION == 2
    assert read_checkpoint(tmp_path / "m")[1]["weightinit.stream_contract"] == "2"


@pytest.mark.parametrize("old,new,version", [
    (KEY, b'"weightinit.stream_contract":"1"', "1"),
    (KEY, b'"weightinit.xxxxxx_contract":"2"', "1"),   # not recorded: written by weightinit <= 0.2
])
def test_verify_names_another_contract_version(tmp_path, capsys, old, new, version):
    d = tmp_path / "m"
    create_checkpoint(SPEC, d, progress=False)
    _rewrite(d / "model.safetensors", old, new)
    with pytest.raises(ValueError, match=f"stream contract version {version} .*implements version 2"):
        verify_checkpoint(d)
    assert main(["verify", str(d)]) == 2
    err = capsys.readouterr().err
    assert "contract version" in err and len(err.strip().splitlines()) == 1


def test_verify_names_another_contract_version_npy(tmp_path):
    d = tmp_path / "m"
    create_checkpoint(SPEC, d, progress=False, format="npy")
    manifest = json.loads((d / "weightinit.json").read_text())
    manifest["stream_contract"] = 1
    (d / "weightinit.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="stream contract version 1"):
        verify_checkpoint(d)
