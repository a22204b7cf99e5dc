"""float8 checkpoints from a transformers config (issue 24): the model is built in
bfloat16 (torch cannot build one in float8), its tensors are written as float8, and the
checkpoint's config.json says bfloat16, which from_pretrained can build the model in."""
import json
import struct
import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
if int(transformers.__version__.split(".")[0]) < 5:  # pragma: no cover
    pytest.skip("needs transformers >= 5", allow_module_level=True)
safetensors_torch = pytest.importorskip("safetensors.torch")

from weightinit.checkpoint import create_checkpoint, from_config  # noqa: E402
from weightinit.cli import main  # noqa: E402

CODES = {"float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2"}


def tiny_llama():
    return transformers.AutoConfig.for_model("llama", num_hidden_layers=1, hidden_size=32, intermediate_size=64,
                                             num_attention_heads=2, num_key_value_heads=2, vocab_size=64)


def header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))


def check_checkpoint(out, dtype):
    """The checkpoint in `out` is float8 throughout, verifies, and loads with
    from_pretrained (no missing keys) holding exactly its float8 values."""
    h = header(out / "model.safetensors")
    h.pop("__metadata__", None)
    assert len(h) == 12 and {e["dtype"] for e in h.values()} == {CODES[dtype]}
    assert main(["verify", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["dtype"] == "bfloat16"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, info = transformers.AutoModelForCausalLM.from_pretrained(out, output_loading_info=True)
    assert info["missing_keys"] == set() and info["unexpected_keys"] == set()
    assert info["mismatched_keys"] == set() and info["error_msgs"] == []
    assert model.dtype == torch.bfloat16
    stored = safetensors_torch.load_file(out / "model.safetensors")
    assert {t.dtype for t in stored.values()} == {getattr(torch, dtype)}
    state = model.state_dict()
    for name, t in stored.items():       # bfloat16 holds every float8 value exactly
        assert torch.equal(state[name], t.to(torch.bfloat16)), name
    assert stored["model.layers.0.self_attn.q_proj.weight"].float().std() > 0     # drawn, not zeros
    assert torch.equal(stored["model.norm.weight"].float(), torch.ones(32))
    with torch.no_grad():
        logits = model(input_ids=torch.arange(10).reshape(2, 5)).logits
    assert logits.isfinite().all()
    return stored


@pytest.mark.parametrize("dtype", list(CODES))
def test_float8_checkpoint_from_config_and_from_the_cli(dtype, tmp_path, capsys):
    spec = from_config(tiny_llama(), dtype=dtype, seed=0)
    assert spec.dtype == dtype and all(t.dtype is None for t in spec.tensors)
    create_checkpoint(spec, tmp_path / "api", progress=False)
    api = check_checkpoint(tmp_path / "api", dtype)

    tiny_llama().save_pretrained(tmp_path / "cfg")
    assert main(["create", "--config", str(tmp_path / "cfg" / "config.json"), "-o", str(tmp_path / "cli"),
                 "--dtype", dtype, "-q", "--seed", "0"]) == 0, capsys.readouterr().err
    cli = check_checkpoint(tmp_path / "cli", dtype)
    assert all(torch.equal(api[k].view(torch.uint8), cli[k].view(torch.uint8)) for k in api)


def test_float8_named_by_the_config_itself(tmp_path, capsys):
    """A config.json whose own dtype is float8 (no --dtype): the same float8 checkpoint."""
    cfg = tiny_llama().to_dict()
    cfg["dtype"] = "float8_e5m2"
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    assert main(["create", "--config", str(tmp_path / "config.json"), "-o", str(tmp_path / "out"), "-q",
                 "--seed", "1"]) == 0, capsys.readouterr().err
    check_checkpoint(tmp_path / "out", "float8_e5m2")


def test_float8_values_are_the_bfloat16_laws_rounded_once(tmp_path):
    """Building in bfloat16 changes nothing but the written dtype: the float8 checkpoint
    is the float32 one rounded to float8 (each value rounded once)."""
    spec8 = from_config(tiny_llama(), dtype="float8_e4m3fn", seed=2)
    spec32 = from_config(tiny_llama(), dtype="float32", seed=2)
    assert [(t.name, t.shape, t.scheme) for t in spec8.tensors] == [(t.name, t.shape, t.scheme)
                                                                    for t in spec32.tensors]
    create_checkpoint(spec8, tmp_path / "f8", progress=False)
    create_checkpoint(spec32, tmp_path / "f32", progress=False)
    f8 = safetensors_torch.load_file(tmp_path / "f8" / "model.safetensors")
    f32 = safetensors_torch.load_file(tmp_path / "f32" / "model.safetensors")
    for name in f32:
        assert torch.equal(f8[name].view(torch.uint8), f32[name].to(torch.float8_e4m3fn).view(torch.uint8)), name
