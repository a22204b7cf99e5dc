"""gpt2 / llama presets: names, shapes and initialization as in transformers."""
import importlib.util
import json
import math

import numpy as np
import pytest

from weightinit.checkpoint import create_checkpoint, preset, preset_config, read_checkpoint

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


@pytest.mark.parametrize("name, small", [("gpt2", GPT2_SMALL), ("llama", LLAMA_SMALL)])
def test_config_must_give_every_size_key(tmp_path, name, small):
    size = {"gpt2": ["vocab_size", "n_positions", "n_embd", "n_layer", "n_head"],
            "llama": ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"]}
    for key in size[name]:
        cfg = {k: v for k, v in small.items() if k != key}
        with pytest.raises(ValueError, match=rf"config has no {key} \(.*\); the {name} preset does not guess it"):
            preset(name, cfg)
        (tmp_path / "config.json").write_text(json.dumps(cfg))
        with pytest.raises(ValueError, match=f"config has no {key} "):
            preset(name, tmp_path / "config.json")
        # an override may give it
        assert preset_config(name, cfg, **{key: small[key]})[key] == small[key]
    with pytest.raises(ValueError, match="num_hidden_layers .*, num_attention_heads .*does not guess them"):
        preset("llama", {"vocab_size": 10, "hidden_size": 8, "intermediate_size": 8})


def test_no_config_keeps_the_builtin_defaults():
    gpt2 = preset_config("gpt2")
    assert {k: gpt2[k] for k in ("vocab_size", "n_positions", "n_embd", "n_layer", "n_head")} == \
        {"vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12}
    llama = preset_config("llama", num_hidden_layers=2)
    assert (llama["num_hidden_layers"], llama["hidden_size"], llama["intermediate_size"], llama["vocab_size"]) == \
        (2, 4096, 11008, 32000)
    assert by_name(preset("gpt2", n_layer=1))["transformer.wte.weight"].shape == (50257, 768)
    assert preset("llama", num_hidden_layers=1).num_parameters == 32000 * 4096 * 2 + 4096 + \
        (4 * 4096 * 4096 + 3 * 4096 * 11008 + 2 * 4096)


@pytest.mark.parametrize("name, small, bad", [
    ("llama", LLAMA_SMALL, {"num_local_experts": 8}),
    ("llama", LLAMA_SMALL, {"n_layer": 2, "sliding_window": 16}),
    ("gpt2", GPT2_SMALL, {"num_key_value_heads": 2}),     # a llama key: gpt2 has no GQA
    ("gpt2", GPT2_SMALL, {"add_cross_attention": True}),  # harmless only when false
    ("llama", LLAMA_SMALL, {"is_encoder_decoder": True}),
])
def test_unknown_or_unused_keys_are_errors(name, small, bad):
    keys = ", ".join(sorted(bad))
    with pytest.raises(ValueError, match=rf"config key\(s\) {keys} are not used by the {name} preset .*transformers"):
        preset(name, {**small, **bad})
    with pytest.raises(ValueError, match=rf"config key\(s\) {keys} are not used"):
        preset(name, small, **bad)
    with pytest.raises(ValueError, match=rf"config key\(s\) {keys} are not used"):
        preset(name, **bad)   # overrides without a config are checked too


def test_real_config_metadata_keys_are_accepted():
    gpt2 = {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
            "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
            "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "resid_pdrop": 0.1,
            "summary_activation": None, "summary_first_dropout": 0.1, "summary_proj_to_labels": True,
            "summary_type": "cls_index", "summary_use_proj": True, "add_cross_attention": False,
            "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}}, **GPT2_SMALL}
    assert by_name(preset("gpt2", gpt2))["transformer.h.1.attn.c_attn.weight"].shape == (16, 48)
    llama = {"_name_or_path": "x", "architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2,
             "hidden_act": "silu", "initializer_range": 0.02, "model_type": "llama", "pretraining_tp": 1,
             "rms_norm_eps": 1e-05, "rope_scaling": None, "rope_theta": 10000.0, "tie_word_embeddings": False,
             "torch_dtype": "float16", "transformers_version": "4.31.0", "use_cache": True,
             "attention_dropout": 0.0, "attention_bias": False, "mlp_bias": False, **LLAMA_SMALL}
    assert preset("llama", llama).dtype == "float16"


def test_gpt2_alias_names_give_the_shapes():
    aliases = {"vocab_size": 97, "max_position_embeddings": 32, "hidden_size": 16, "num_hidden_layers": 3,
               "num_attention_heads": 4}
    s = by_name(preset("gpt2", aliases))
    assert s["transformer.wte.weight"].shape == (97, 16)
    assert s["transformer.wpe.weight"].shape == (32, 16)
    assert "transformer.h.2.mlp.c_fc.weight" in s and "transformer.h.3.ln_1.weight" not in s
    cfg = preset_config("gpt2", aliases)
    assert (cfg["n_embd"], cfg["n_layer"], cfg["n_head"], cfg["n_positions"]) == (16, 3, 4, 32)
    assert "hidden_size" not in cfg   # the written config.json has the canonical keys only
    # the same value under both names is fine; an override through an alias wins
    assert preset_config("gpt2", {**aliases, "n_embd": 16})["n_embd"] == 16
    assert preset_config("gpt2", GPT2_SMALL, num_hidden_layers=5)["n_layer"] == 5
    assert preset_config("gpt2", hidden_size=64)["n_embd"] == 64


def test_gpt2_alias_conflict_is_an_error():
    with pytest.raises(ValueError, match=r"both hidden_size=32 and n_embd=16"):
        preset("gpt2", {**GPT2_SMALL, "hidden_size": 32})
    with pytest.raises(ValueError, match=r"both num_hidden_layers=1 and n_layer=2"):
        preset("gpt2", None, n_layer=2, num_hidden_layers=1)
    with pytest.raises(ValueError, match="n_layer"):   # llama has no gpt2 aliases
        preset("llama", {**LLAMA_SMALL, "n_layer": 2})


def test_llama_pad_token_id_checks_and_none():
    s = by_name(preset("llama", {**LLAMA_SMALL, "pad_token_id": None}))
    assert s["model.embed_tokens.weight"].scheme.to_dict() == {"name": "normal", "mean": 0.0, "std": 0.02}
    for bad in (101, -102, 1.0, True, "0"):
        with pytest.raises(ValueError, match="pad_token_id"):
            preset("llama", {**LLAMA_SMALL, "pad_token_id": bad})
    # gpt2 has no padding_idx: pad_token_id changes nothing
    assert by_name(preset("gpt2", {**GPT2_SMALL, "pad_token_id": 0}))["transformer.wte.weight"].scheme.to_dict() \
        == {"name": "normal", "mean": 0.0, "std": 0.02}


@pytest.mark.skipif(importlib.util.find_spec("weightinit.recorded") is None,
                    reason="weightinit.recorded (with_zero_rows) has not landed yet")
@pytest.mark.parametrize("pad, row", [(0, 0), (7, 7), (-1, 499)])
def test_llama_pad_token_row_is_zero(tmp_path, pad, row):
    cfg = {**LLAMA_SMALL, "num_hidden_layers": 1, "vocab_size": 500, "hidden_size": 64, "pad_token_id": pad,
           "initializer_range": 0.05}
    create_checkpoint(preset("llama", cfg, seed=4), tmp_path / "m", progress=False)
    entries = {e.name: e for e in read_checkpoint(tmp_path / "m")[0]}
    emb = np.asarray(entries["model.embed_tokens.weight"].array(), dtype=np.float64)
    assert emb.shape == (500, 64)
    assert not emb[row].any()
    rest = np.delete(emb, row, axis=0)
    assert np.count_nonzero(rest) == rest.size
    assert rest.std() == pytest.approx(0.05, rel=0.05) and abs(rest.mean()) < 0.005
    # lm_head (untied) keeps every row
    assert np.asarray(entries["lm_head.weight"].array())[row].any()


def _hf(name):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    return torch, transformers


@pytest.mark.parametrize("name, cfg, model_cls", [
    ("gpt2", GPT2_SMALL, "GPT2LMHeadModel"),
    ("llama", LLAMA_SMALL, "LlamaForCausalLM"),
    ("llama", {**LLAMA_SMALL, "tie_word_embeddings": True}, "LlamaForCausalLM"),
    ("gpt2", {"vocab_size": 97, "max_position_embeddings": 32, "hidden_size": 16, "num_hidden_layers": 2,
              "num_attention_heads": 4}, "GPT2LMHeadModel"),
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
