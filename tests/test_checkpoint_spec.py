"""Checkpoint specs: parsing TOML / JSON / dicts and validation before writing."""
import json

import pytest

from weightinit.checkpoint import CheckpointSpec, TensorSpec, create_checkpoint, load_spec, parse_spec

TOML = """
seed = 11
dtype = "bf16"

[[tensors]]
name = "embed.weight"
shape = [64, 8]
scheme = "normal"
params = { std = 0.02 }

[[tensors]]
name = "norm.weight"
shape = [8]
dtype = "float32"
scheme = { name = "ones" }
"""


def test_toml_and_json_give_the_same_spec(tmp_path):
    (tmp_path / "s.toml").write_text(TOML)
    a = load_spec(tmp_path / "s.toml")
    doc = {"seed": 11, "dtype": "bf16", "tensors": [
        {"name": "embed.weight", "shape": [64, 8], "scheme": "normal", "params": {"std": 0.02}},
        {"name": "norm.weight", "shape": [8], "dtype": "float32", "scheme": {"name": "ones"}}]}
    (tmp_path / "s.json").write_text(json.dumps(doc))
    b = load_spec(tmp_path / "s.json")
    for s in (a, b):
        assert s.seed == 11 and s.dtype == "bfloat16"
        assert [t.name for t in s.tensors] == ["embed.weight", "norm.weight"]
        assert [t.shape for t in s.tensors] == [(64, 8), (8,)]
        assert [t.dtype for t in s.tensors] == [None, "float32"]
        assert s.tensors[0].scheme.to_dict()["std"] == 0.02
        assert s.tensors[1].scheme.to_dict()["name"] == "ones"
    assert a.nbytes() == 64 * 8 * 2 + 8 * 4
    assert a.nbytes("float64") == 64 * 8 * 8 + 8 * 4


def test_tensors_as_table_keyed_by_name():
    s = parse_spec({"tensors": {"a": {"shape": [2], "scheme": "zeros"}, "b": {"shape": [3, 1], "scheme": "ones"}}})
    assert [(t.name, t.shape) for t in s.tensors] == [("a", (2,)), ("b", (3, 1))]
    assert s.dtype == "float32" and s.seed is None


def T(**kw):
    base = {"name": "w", "shape": [4, 4], "scheme": "normal"}
    base.update(kw)
    return base


@pytest.mark.parametrize("tensors, exc, match", [
    ([T(scheme="no_such_scheme")], ValueError, "'w'.*no_such_scheme"),
    ([T(scheme="normal", params={"sdt": 1.0})], ValueError, "'w'.*sdt"),
    ([T(scheme={"name": "normal", "std": -1.0})], ValueError, "'w'.*std"),
    ([T(shape=[4, -1])], ValueError, "'w'.*shape"),
    ([T(shape=[4, 2.5])], TypeError, "'w'.*shape"),
    ([T(shape=[True, 3])], TypeError, "'w'.*shape"),
    ([T(shape="4,4")], TypeError, "'w'.*shape"),
    ([T(), T()], ValueError, "'w'.*duplicate"),
    ([T(dtype="int8")], ValueError, "'w'.*dtype"),
    ([T(dtype="float8")], ValueError, "'w'.*dtype"),
    ([T(shape=[2**40, 2**40])], ValueError, "'w'.*overflow"),
    ([T(name="a", shape=[2**30, 2**29]), T(name="b", shape=[2**30, 2**29])], ValueError, "'b'.*overflow"),
    ([T(name="x/y")], ValueError, "x/y"),
    ([T(name="__metadata__")], ValueError, "__metadata__"),
    ([T(name="")], ValueError, "name"),
    ([T(name=3)], TypeError, "name"),
    ([{"name": "w", "shape": [2]}], ValueError, "'w'.*scheme"),
    ([{"name": "w", "scheme": "zeros"}], ValueError, "'w'.*shape"),
    ([T(shpe=[2])], ValueError, "'w'.*shpe"),
    ([{"shape": [2], "scheme": "zeros"}], ValueError, r"tensors\[0\].*name"),
    ([], ValueError, "empty"),
])
def test_bad_tensors_rejected_with_the_tensor_named(tensors, exc, match, tmp_path):
    with pytest.raises(exc, match=match):
        parse_spec({"tensors": tensors})
    # and through create_checkpoint nothing is written
    with pytest.raises(exc, match=match):
        create_checkpoint({"tensors": tensors}, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("doc, exc, match", [
    ({"tensors": [T()], "seed": -3}, ValueError, "seed"),
    ({"tensors": [T()], "seed": "7"}, TypeError, "seed"),
    ({"tensors": [T()], "dtype": "complex64"}, ValueError, "dtype"),
    ({"tensors": [T()], "sed": 1}, ValueError, "sed"),
    ({"tensors": "w"}, ValueError, "tensors"),
    ([T()], TypeError, "spec"),
])
def test_bad_top_level_rejected(doc, exc, match):
    with pytest.raises(exc, match=match):
        parse_spec(doc)


def test_bad_files(tmp_path):
    (tmp_path / "s.toml").write_text("tensors = [")
    with pytest.raises(ValueError, match="invalid TOML"):
        load_spec(tmp_path / "s.toml")
    (tmp_path / "s.yaml").write_text("")
    with pytest.raises(ValueError, match=".toml or .json"):
        load_spec(tmp_path / "s.yaml")
    (tmp_path / "t.toml").write_text(TOML.replace('"normal"', '"nrmal"'))
    with pytest.raises(ValueError, match="t.toml.*embed.weight.*nrmal"):
        load_spec(tmp_path / "t.toml")


def test_checkpoint_spec_validates_objects():
    from weightinit.checkpoint.spec import _schemes
    with pytest.raises(ValueError, match="'a'.*duplicate"):
        CheckpointSpec([TensorSpec("a", (2,), _schemes.get("zeros"))] * 2)
    with pytest.raises(TypeError, match="tensors\\[0\\]"):
        CheckpointSpec([("a", (2,))])
