"""The reader trusts no file: every malformed safetensors file, index or npy manifest
is a one-line ValueError (CLI: one line, exit code 2), never a traceback, and never a
silent misreading."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from weightinit.checkpoint import create_checkpoint, inspect_checkpoint, read_checkpoint
from weightinit.cli import main


def st_bytes(header, data=b"", raw_header=None, length=None):
    raw = raw_header if raw_header is not None else json.dumps(header).encode()
    return (len(raw) if length is None else length).to_bytes(8, "little") + raw + data


GOOD = {"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
        "b": {"dtype": "F16", "shape": [3], "data_offsets": [16, 22]}}
DATA = bytes(22)


def with_entry(name, **changes):
    h = json.loads(json.dumps(GOOD))
    h[name].update(changes)
    return h


def without(name, key):
    h = json.loads(json.dumps(GOOD))
    del h[name][key]
    return h


CASES = {
    "empty-file": b"",
    "short-length": b"\x01\x02\x03",
    "length-past-end": st_bytes(GOOD, DATA, length=10_000),
    "length-over-cap": (200_000_000).to_bytes(8, "little") + b"{}",
    "header-a-string": st_bytes("hello", DATA),
    "header-null": st_bytes(None, DATA),
    "header-a-list": st_bytes([1, 2], DATA),
    "header-a-number": st_bytes(5, DATA),
    "not-json": st_bytes(None, DATA, raw_header=b"{not json"),
    "not-utf8": st_bytes(None, DATA, raw_header=b'{"\xff\xfe": 1}'),
    "nested-200000-deep": st_bytes(None, b"", raw_header=b"[" * 200_000 + b"]" * 200_000),
    "nested-objects-deep": st_bytes(None, b"", raw_header=b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
    "duplicate-key": st_bytes(None, DATA, raw_header=b'{"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": '
                              b'[0, 16]}, "a": {"dtype": "F16", "shape": [3], "data_offsets": [16, 22]}}'),
    "metadata-a-list": st_bytes({**GOOD, "__metadata__": [1, 2]}, DATA),
    "metadata-non-string-values": st_bytes({**GOOD, "__metadata__": {"k": 1}}, DATA),
    "entry-a-string": st_bytes({**GOOD, "a": "x"}, DATA),
    "entry-null": st_bytes({**GOOD, "a": None}, DATA),
    "no-data-offsets": st_bytes(without("a", "data_offsets"), DATA),
    "no-shape": st_bytes(without("a", "shape"), DATA),
    "no-dtype": st_bytes(without("a", "dtype"), DATA),
    "unknown-dtype": st_bytes(with_entry("a", dtype="F128"), DATA),
    "dtype-not-a-string": st_bytes(with_entry("a", dtype=["F32"]), DATA),
    "negative-offset": st_bytes(with_entry("a", data_offsets=[-8, 8]), DATA),
    "reversed-offsets": st_bytes(with_entry("a", data_offsets=[16, 0]), DATA),
    "offsets-not-ints": st_bytes(with_entry("a", data_offsets=[0.0, 16.0]), DATA),
    "offsets-three": st_bytes(with_entry("a", data_offsets=[0, 8, 16]), DATA),
    "offsets-bool": st_bytes(with_entry("a", data_offsets=[False, 16]), DATA),
    "offsets-a-string": st_bytes(with_entry("a", data_offsets="0-16"), DATA),
    "overlapping": st_bytes(with_entry("b", data_offsets=[10, 16], shape=[3]), DATA[:16]),
    "hole": st_bytes(with_entry("b", data_offsets=[18, 24]), bytes(24)),
    "offset-past-data": st_bytes(with_entry("b", data_offsets=[16, 22]), DATA[:20]),
    "trailing-bytes": st_bytes(GOOD, DATA + b"extra"),
    "span-not-shape": st_bytes(with_entry("a", shape=[2, 3]), DATA),
    "shape-negative": st_bytes(with_entry("a", shape=[-2, -2]), DATA),
    "shape-float": st_bytes(with_entry("a", shape=[2.0, 2]), DATA),
    "shape-a-string": st_bytes(with_entry("a", shape="2x2"), DATA),
    "shape-huge": st_bytes(with_entry("a", shape=[2**62, 2**62]), DATA),
    "scheme-not-json": st_bytes({**GOOD, "__metadata__": {"weightinit.scheme.a": "{oops"}}, DATA),
    "scheme-a-list": st_bytes({**GOOD, "__metadata__": {"weightinit.scheme.a": "[1]"}}, DATA),
}


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_safetensors_is_a_clear_error(tmp_path, name, capsys):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(CASES[name])
    with pytest.raises(ValueError) as ei:
        read_checkpoint(path)
    assert "\n" not in str(ei.value) and str(path) in str(ei.value)
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("weightinit inspect: error:")


def test_the_good_file_reads(tmp_path):
    path = tmp_path / "good.safetensors"
    path.write_bytes(st_bytes(GOOD, DATA))
    entries, _ = read_checkpoint(path)
    assert [(e.name, e.shape) for e in entries] == [("a", (2, 2)), ("b", (3,))]


@pytest.fixture
def sharded(tmp_path):
    d = tmp_path / "ck"
    create_checkpoint({"seed": 1, "tensors": [{"name": "x", "shape": [100, 10], "scheme": "normal"},
                                              {"name": "y", "shape": [100, 10], "scheme": "normal"}]},
                      d, max_shard_size=5000, progress=False)
    return d


def _edit_index(d, fn):
    p = d / "model.safetensors.index.json"
    idx = json.loads(p.read_text())
    fn(idx)
    p.write_text(json.dumps(idx))


@pytest.mark.parametrize("edit,match", [
    (lambda i: i["weight_map"].update(x="../other/model-00001-of-00002.safetensors"), "outside"),
    (lambda i: i["weight_map"].update(x="/etc/passwd"), "absolute"),
    (lambda i: i["weight_map"].update(x=""), "non-empty"),
    (lambda i: i["weight_map"].update(x=5), "weight_map"),
    (lambda i: i.update(weight_map=[1]), "weight_map"),
    (lambda i: i.update(metadata=[1]), "metadata"),
    (lambda i: i["weight_map"].update(z="model-00001-of-00002.safetensors"), "does not hold it"),
], ids=["dotdot", "absolute", "empty", "not-a-string", "a-list", "metadata-list", "missing-tensor"])
def test_malformed_index(tmp_path, sharded, edit, match):
    other = tmp_path / "other"
    other.mkdir()
    (other / "model-00001-of-00002.safetensors").write_bytes((sharded / "model-00001-of-00002.safetensors").read_bytes())
    _edit_index(sharded, edit)
    with pytest.raises(ValueError, match=match):
        read_checkpoint(sharded)


def test_index_through_a_symlink_out_of_the_directory(tmp_path, sharded):
    outside = tmp_path / "outside.safetensors"
    outside.write_bytes((sharded / "model-00001-of-00002.safetensors").read_bytes())
    os.symlink(outside, sharded / "link.safetensors")
    _edit_index(sharded, lambda i: i["weight_map"].update(x="link.safetensors"))
    with pytest.raises(ValueError, match="outside"):
        read_checkpoint(sharded)


@pytest.fixture
def npy_dir(tmp_path):
    d = tmp_path / "np"
    create_checkpoint({"seed": 1, "tensors": [{"name": "x", "shape": [10, 10], "scheme": "normal"}]},
                      d, format="npy", progress=False)
    return d


@pytest.mark.parametrize("edit,match", [
    (lambda m: m["tensors"]["x"].update(file="../x.npy"), "outside"),
    (lambda m: m["tensors"]["x"].update(dtype="complex"), "dtype"),
    (lambda m: m["tensors"]["x"].update(shape=[5, 5]), "disagrees"),
    (lambda m: m["tensors"]["x"].update(shape="10x10"), "shape"),
    (lambda m: m.update(tensors=[1]), "tensors"),
    (lambda m: m["tensors"].update(x=3), "entry"),
], ids=["dotdot", "dtype", "shape-mismatch", "shape-string", "tensors-list", "entry-int"])
def test_malformed_npy_manifest(npy_dir, edit, match):
    p = npy_dir / "weightinit.json"
    m = json.loads(p.read_text())
    edit(m)
    p.write_text(json.dumps(m))
    with pytest.raises(ValueError, match=match):
        read_checkpoint(npy_dir)


def test_truncated_npy(npy_dir):
    p = npy_dir / "x.npy"
    p.write_bytes(p.read_bytes()[:-8])
    with pytest.raises(ValueError, match="file size"):
        read_checkpoint(npy_dir)
    p.write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(ValueError, match="not a valid .npy"):
        read_checkpoint(npy_dir)


def test_single_file_is_preferred_over_the_index_as_transformers_does(tmp_path, sharded):
    single = tmp_path / "single"
    create_checkpoint({"seed": 9, "tensors": [{"name": "x", "shape": [3], "scheme": "ones"}]}, single,
                      progress=False)
    os.replace(single / "model.safetensors", sharded / "model.safetensors")
    entries, meta = read_checkpoint(sharded)
    assert [e.name for e in entries] == ["x"] and meta["weightinit.seed"] == "9"


def test_inspect_into_a_closed_pipe_ends_quietly(tmp_path):
    d = tmp_path / "many"
    create_checkpoint({"seed": 1, "tensors": [{"name": f"layer.{i}.weight", "shape": [2], "scheme": "normal"}
                                              for i in range(3000)]}, d, progress=False)
    r = subprocess.run(["bash", "-c", f"set -o pipefail; {sys.executable} -m weightinit inspect {d} | head -n 2"],
                       capture_output=True, text=True, timeout=120)
    assert len(r.stdout.splitlines()) == 2
    assert r.stderr == "", r.stderr
    assert r.returncode == 0


def test_stats_still_match_numpy(tmp_path):
    d = tmp_path / "s"
    create_checkpoint({"seed": 3, "tensors": [{"name": "x", "shape": [1000], "scheme": "normal"}]}, d,
                      progress=False)
    rows, _ = inspect_checkpoint(d)
    x = read_checkpoint(d)[0][0].array()
    assert rows[0]["std"] == pytest.approx(float(np.std(x.astype(np.float64))), rel=1e-9)
