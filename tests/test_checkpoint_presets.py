"""gpt2 / llama presets: names, shapes and initialization as in transformers."""
import json
import math

import pytest

from weightinit.checkpoint import create_checkpoint, preset, preset_config

GPT2_SMALL = {"n_layer": 2, "n_embd": 16, "n_head": 4, "vocab_size": 97, "n_positions": 32}
LLAMA_SMALL = {"num_hidden_layers": 2, "hidden_size": 32, "num_attention_heads": 4, "num_key_value_heads": 2,
               "intermediate_size": 48, "vocab_size": 101, "max_position_embeddings": 64}


def by_name(spec):
    return {t.name: t for t in spec.tensors}


def test_gpt2_names_shapes_and_schemes():
    s = by_name(preset("gpt2", GPT2_SMALL))
    d, L = 16, 2
    assert s["transformer.wte.weight"].shape == (97, d)
    assert s["transformer.wpe.weight"].shape == (32, d)
    per_layer = {"ln_1.weight": (d,), "ln_1.bias": (d,), "attn.c_attn.weight": (d, 3 * d),
                 "attn.c_attn.bias": (3 * d,), "attn.c_proj.weight": (d, d), "attn.c_proj.bias": (d,),
                 "ln_2.weight": (d,), "ln_2.bias": (d,), "mlp.c_fc.weight": (d, 4 * d), "mlp.c_fc.bias": (4 * d,),
                 "mlp.c_proj.weight": (4 * d, d), "mlp.c_proj.bias": (d,)}
    expected = {"transformer.wte.weight", "transformer.wpe.weight", "transformer.ln_f.weight",
                "transformer.ln_f.bias"} | {f"transformer.h.{i}.{k}" for i in range(L) for k in per_layer}
    assert set(s) == expected   # lm_head tied to wte: not stored
    for i in range(L):
        for k, shape in per_layer.items():
            t = s[f"transformer.h.{i}.{k}"]
            assert t.shape == shape, t.name
            sd = t.scheme.to_dict()
            if k.endswith("bias"):
                assert sd["name"] == "zeros", t.name
            elif k.startswith("ln_"):
                assert sd["name"] == "ones", t.name
            elif k.endswith("c_proj.weight"):
                assert sd["name"] == "normal" and sd["std"] == pytest.approx(0.02 / math.sqrt(2 * L)), t.name
            else:
                assert sd["name"] == "normal" and sd["std"] == pytest.approx(0.02), t.name
    assert s["transformer.wte.weight"].scheme.to_dict()["std"] == 0.02


def test_gpt2_defaults_are_gpt2_small_and_untied_adds_lm_head():
    spec = preset("gpt2")
    assert spec.num_parameters == 124_439_808   # GPT-2 small without the tied lm_head
    assert spec.dtype == "float32"
    s = by_name(preset("gpt2", {**GPT2_SMALL, "tie_word_embeddings": False, "n_inner": 20,
                                "initializer_range": 0.1}))
    assert s["lm_head.weight"].shape == (97, 16)
    assert s["transformer.h.0.mlp.c_fc.weight"].shape == (16, 20)
    assert s["transformer.h.1.mlp.c_proj.weight"].scheme.to_dict()["std"] == pytest.approx(0.1 / 2)


def test_llama_names_shapes_gqa_and_tying():
    s = by_name(preset("llama", LLAMA_SMALL))
    d, hd, nkv, inter = 32, 8, 2, 48
    assert s["model.embed_tokens.weight"].shape == (101, d)
    assert s["lm_head.weight"].shape == (101, d)
    assert s["model.norm.weight"].shape == (d,)
    for i in range(2):
        p = f"model.layers.{i}."
        assert s[p + "self_attn.q_proj.weight"].shape == (4 * hd, d)
        assert s[p + "self_attn.k_proj.weight"].shape == (nkv * hd, d)
        assert s[p + "self_attn.v_proj.weight"].shape == (nkv * hd, d)
        assert s[p + "self_attn.o_proj.weight"].shape == (d, 4 * hd)
        assert s[p + "mlp.gate_proj.weight"].shape == (inter, d)
        assert s[p + "mlp.up_proj.weight"].shape == (inter, d)
        assert s[p + "mlp.down_proj.weight"].shape == (d, inter)
        assert s[p + "input_layernorm.weight"].scheme.to_dict()["name"] == "ones"
        assert s[p + "post_attention_layernorm.weight"].scheme.to_dict()["name"] == "ones"
    assert len(s) == 1 + 2 * 9 + 2
    assert all(t.scheme.to_dict() == {"name": "normal", "mean": 0.0, "std": 0.02}
               for t in s.values() if t.name.endswith("proj.weight") or "embed" in t.name or "lm_head" in t.name)
    tied = by_name(preset("llama", LLAMA_SMALL, tie_word_embeddings=True))
    assert "lm_head.weight" not in tied and len(tied) == len(s) - 1
    biased = by_name(preset("llama", LLAMA_SMALL, attention_bias=True, head_dim=16))
    assert biased["model.layers.0.self_attn.k_proj.bias"].shape == (2 * 16,)
    assert biased["model.layers.0.self_attn.q_proj.weight"].shape == (4 * 16, 32)


def test_llama_default_is_llama2_7b():
    assert preset("llama").num_parameters == 6_738_415_616


def test_preset_config_sources(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", **LLAMA_SMALL, "torch_dtype": "bfloat16"}))
    spec = preset("llama", tmp_path / "config.json", num_hidden_layers=1)
    assert spec.dtype == "bfloat16" and spec.config["num_hidden_layers"] == 1
    assert preset_config("gpt2", None, n_layer=3)["n_layer"] == 3
    with pytest.raises(ValueError, match="model_type 'llama' does not match preset 'gpt2'"):
        preset("gpt2", tmp_path / "config.json")
    with pytest.raises(ValueError, match="unknown preset"):
        preset("bert")
    with pytest.raises(ValueError, match="num_key_value_heads"):
        preset("llama", LLAMA_SMALL, num_key_value_heads=3)
    with pytest.raises(TypeError, match="n_layer"):
        preset("gpt2", GPT2_SMALL, n_layer="2")


def _hf(name):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    return torch, transformers


@pytest.mark.parametrize("name, cfg, model_cls", [
    ("gpt2", GPT2_SMALL, "GPT2LMHeadModel"),
    ("llama", LLAMA_SMALL, "LlamaForCausalLM"),
    ("llama", {**LLAMA_SMALL, "tie_word_embeddings": True}, "LlamaForCausalLM"),
])
def test_from_pretrained_loads_without_missing_keys(tmp_path, name, cfg, model_cls):
    torch, transformers = _hf(name)
    out = tmp_path / name
    create_checkpoint(preset(name, cfg, seed=3), out, progress=False, max_shard_size="10KB")
    assert (out / "model.safetensors.index.json").exists()
    model, info = getattr(transformers, model_cls).from_pretrained(str(out), output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    # the loaded weights are ours (not re-initialized by transformers)
    from safetensors import safe_open
    import glob
    for shard in glob.glob(str(out / "*.safetensors")):
        with safe_open(shard, framework="pt") as f:
            for k in f.keys():
                assert torch.equal(model.state_dict()[k], f.get_tensor(k)), k
    with torch.no_grad():
        logits = model(torch.tensor([[1, 2, 3, 4]])).logits
    assert logits.shape == (1, 4, cfg["vocab_size"]) and torch.isfinite(logits).all()
