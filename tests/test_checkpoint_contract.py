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
KEY = b'"weightinit.stream_contract":"3"'


def _rewrite(path, old, new):
    data = path.read_bytes()
    assert data.count(old) == 1 and len(old) == len(new)
    path.write_bytes(data.replace(old, new))


@pytest.mark.parametrize("kw", [{}, {"max_shard_size": 5000}, {"format": "npy"}], ids=["single", "shards", "npy"])
def test_the_contract_version_is_recorded(tmp_path, kw):
    create_checkpoint(SPEC, tmp_path / "m", progress=False, **kw)
    assert wi.STREAM_CONTRACT_VERSION == 3
    assert read_checkpoint(tmp_path / "m")[1]["weightinit.stream_contract"] == "3"


@pytest.mark.parametrize("old,new,version", [
    (KEY, b'"weightinit.stream_contract":"1"', "1"),
    (KEY, b'"weightinit.xxxxxx_contract":"3"', "1"),   # not recorded: written by weightinit <= 0.2
    (KEY, b'"weightinit.stream_contract":"9"', "9"),   # a later version than this one
])
def test_verify_names_another_contract_version(tmp_path, capsys, old, new, version):
    d = tmp_path / "m"
    create_checkpoint(SPEC, d, progress=False)
    _rewrite(d / "model.safetensors", old, new)
    with pytest.raises(ValueError, match=f"stream contract version {version} .*implements version 3"):
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


def test_a_version_2_checkpoint_verifies_when_version_3_changed_none_of_its_tensors(tmp_path):
    """Version 3 changed only float32 truncated normals on one side of the mean: a
    version 2 checkpoint without them has the same bits and verifies."""
    d = tmp_path / "m"
    create_checkpoint(SPEC, d, progress=False)
    _rewrite(d / "model.safetensors", KEY, b'"weightinit.stream_contract":"2"')
    assert verify_checkpoint(d).ok


@pytest.mark.parametrize("scheme,params,dtype", [
    ("trunc_normal", {"mean": 0.0, "std": 1.0, "a": 0.5, "b": 3.0}, "float32"),
    ("trunc_normal", {"mean": 0.0, "std": 1.0, "a": -3.0, "b": 0.0}, "float32"),
])
def test_a_version_2_checkpoint_with_a_changed_tensor_is_named(tmp_path, scheme, params, dtype):
    spec = {"seed": 1, "dtype": dtype, "tensors": [{"name": "same", "shape": [8], "scheme": "normal"},
                                                   {"name": "moved", "shape": [8], "scheme": scheme,
                                                    "params": params}]}
    d = tmp_path / "m"
    create_checkpoint(spec, d, progress=False)
    _rewrite(d / "model.safetensors", KEY, b'"weightinit.stream_contract":"2"')
    with pytest.raises(ValueError, match="version 2 .*differ by design for 'moved'"):
        verify_checkpoint(d)


@pytest.mark.parametrize("dtype,params", [
    ("bfloat16", {"mean": 0.0, "std": 1.0, "a": 0.5, "b": 3.0}),    # 16-bit outputs kept their bits
    ("float64", {"mean": 0.0, "std": 1.0, "a": 0.5, "b": 3.0}),
    ("float32", {"mean": 0.0, "std": 1.0, "a": 100.0, "b": 101.0}),  # the deep-tail form: unchanged
])
def test_unchanged_one_sided_laws_still_verify_from_version_2(tmp_path, dtype, params):
    spec = {"seed": 1, "dtype": dtype, "tensors": [{"name": "w", "shape": [64], "scheme": "trunc_normal",
                                                   "params": params}]}
    d = tmp_path / "m"
    create_checkpoint(spec, d, progress=False)
    _rewrite(d / "model.safetensors", KEY, b'"weightinit.stream_contract":"2"')
    assert verify_checkpoint(d).ok
