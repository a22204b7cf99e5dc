"""Checkpoints for transformers architectures, initialized by the model's own code.

For each architecture (tiny configs built here, nothing downloaded): the checkpoint
that weightinit writes from the config loads with from_pretrained with no missing,
unexpected or mismatched keys, runs a finite forward pass, and every tensor matches
what transformers' own from_config gives (equal constants and zero rows, equal
deterministic values, mean and std within sampling tolerance).
"""
import json
import math
import os
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
if int(transformers.__version__.split(".")[0]) < 5:  # pragma: no cover
    pytest.skip("needs transformers >= 5", allow_module_level=True)

from weightinit.checkpoint import create_checkpoint, from_config, read_checkpoint  # noqa: E402
from weightinit.cli import main  # noqa: E402
from weightinit.recorded import Recorded  # noqa: E402
from weightinit.torch import RecordError  # noqa: E402

DEC = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
           num_key_value_heads=2, vocab_size=211, max_position_embeddings=64)
CONFIGS = {
    "gpt2": ("gpt2", dict(n_embd=64, n_layer=2, n_head=4, vocab_size=211, n_positions=64)),
    "llama": ("llama", DEC),
    "llama-tied-pad": ("llama", {**DEC, "tie_word_embeddings": True, "pad_token_id": 3}),
    "llama-mha-untied": ("llama", {**DEC, "num_key_value_heads": 4, "tie_word_embeddings": False}),
    "mistral": ("mistral", DEC),
    "qwen2": ("qwen2", DEC),
    "qwen3": ("qwen3", {**DEC, "head_dim": 16}),
    "gemma": ("gemma", {**DEC, "head_dim": 16}),
    "gemma2": ("gemma2", {**DEC, "head_dim": 16}),
    "phi3": ("phi3", {**DEC, "pad_token_id": 5}),
    "mixtral": ("mixtral", {**DEC, "num_local_experts": 4, "num_experts_per_tok": 2}),
    "qwen2_moe": ("qwen2_moe", {**DEC, "num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 32,
                                "shared_expert_intermediate_size": 48}),
    "olmoe": ("olmoe", {**DEC, "num_experts": 4, "num_experts_per_tok": 2}),
    "gpt_neox": ("gpt_neox", {k: v for k, v in DEC.items() if k != "num_key_value_heads"}),
    "opt": ("opt", dict(hidden_size=64, ffn_dim=96, num_hidden_layers=2, num_attention_heads=4, vocab_size=211,
                        max_position_embeddings=64, word_embed_proj_dim=64)),
    "falcon": ("falcon", dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, vocab_size=211)),
    "bert": ("bert", dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                          vocab_size=211, max_position_embeddings=64, architectures=["BertForMaskedLM"])),
    "t5": ("t5", dict(d_model=64, d_ff=96, d_kv=16, num_layers=2, num_heads=4, vocab_size=211)),
    "mamba": ("mamba", dict(hidden_size=64, state_size=8, num_hidden_layers=2, vocab_size=211)),
}


def config(key):
    model_type, kwargs = CONFIGS[key]
    return transformers.AutoConfig.for_model(model_type, **kwargs)


def reference_model(cfg):
    """transformers' own init, on the CPU, seeded."""
    from weightinit.checkpoint.from_model import _model_class
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _model_class(cfg)._from_config(cfg, dtype=torch.float32)


def load(path, cls):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls.from_pretrained(path, output_loading_info=True)


def inputs(cfg):
    ids = torch.arange(2 * 7).reshape(2, 7) % cfg.vocab_size
    if cfg.is_encoder_decoder:
        return {"input_ids": ids, "decoder_input_ids": ids[:, :5]}
    return {"input_ids": ids}


def check_like(name, ours, ref):
    """`ours` follows the same law as transformers' `ref` (both numpy float64)."""
    assert ours.shape == ref.shape, name
    if ref.std() == 0:                     # constants: equal
        np.testing.assert_array_equal(ours, ref, err_msg=name)
        return
    zero_rows = ref.ndim == 2 and np.flatnonzero(~ref.any(axis=1))
    if ref.ndim == 2 and len(zero_rows):  # the zeroed padding row(s)
        assert not ours[zero_rows].any(), f"{name}: rows {zero_rows} not zero"
        keep = np.ones(ref.shape[0], bool)
        keep[zero_rows] = False
        ours, ref = ours[keep], ref[keep]
    if np.unique(ref).size < ref.size // 2 or ref.size < 64:   # deterministic (mamba's A_log), or tiny
        if np.unique(ref).size < ref.size // 2:
            np.testing.assert_allclose(ours, ref, rtol=1e-5, err_msg=name)
        return
    n = ref.size
    sd = ref.std()
    # the mean of n draws is within 5 standard errors; the std within 30% (n >= 64)
    assert abs(ours.mean() - ref.mean()) < 5 * sd / math.sqrt(n) + 1e-12 + 0.02 * abs(ref.mean()), \
        f"{name}: mean {ours.mean():.4g} vs transformers {ref.mean():.4g} (n={n}, std {sd:.4g})"
    assert 0.7 < ours.std() / sd < 1.3, f"{name}: std {ours.std():.4g} vs transformers {sd:.4g} (n={n})"


@pytest.mark.parametrize("key", sorted(CONFIGS))
def test_architecture_loads_runs_and_matches_transformers(key, tmp_path):
    cfg = config(key)
    spec = from_config(cfg, seed=1)
    out = tmp_path / key
    create_checkpoint(spec, out, progress=False)
    ref = reference_model(config(key))
    model, info = load(out, type(ref))
    assert info["missing_keys"] == set() or info["missing_keys"] == [] or not info["missing_keys"], info
    assert not info["unexpected_keys"] and not info["mismatched_keys"], info
    with torch.no_grad():
        logits = model(**inputs(cfg)).logits
    assert torch.isfinite(logits).all(), f"{key}: non-finite logits"
    ours = model.state_dict()
    theirs = ref.state_dict()
    assert ours.keys() == theirs.keys()
    for name, t in theirs.items():
        if t.is_floating_point():
            check_like(name, ours[name].double().numpy(), t.double().numpy())
    # what the file says: every tensor's scheme, and the written config is the model's
    entries, meta = read_checkpoint(out)
    assert all(e.scheme is not None for e in entries)
    assert "transformers" in meta.get("weightinit.source", "")
    written = json.loads((out / "config.json").read_text())
    assert written["architectures"] == [type(ref).__name__]


def test_tied_weights_are_stored_once_and_pad_row_is_recorded(tmp_path):
    spec = from_config(config("llama-tied-pad"))
    names = {t.name: t for t in spec.tensors}
    assert "lm_head.weight" not in names
    emb = names["model.embed_tokens.weight"].scheme
    assert isinstance(emb, Recorded) and emb.elementwise       # normal, then row 3 zeroed: chunkable
    steps = emb.to_dict()["steps"]
    assert steps[0]["region"] is None and steps[0]["value"]["scheme"] == {"name": "normal", "mean": 0.0, "std": 0.02}
    assert steps[1]["region"] == [[3, 4], [0, 64]]
    untied = {t.name for t in from_config(config("llama-mha-untied")).tensors}
    assert "lm_head.weight" in untied


def test_moe_experts_are_saved_in_the_original_layout():
    names = {t.name: t for t in from_config(config("mixtral")).tensors}
    for e in range(4):
        for w, shape in (("w1", (96, 64)), ("w2", (64, 96)), ("w3", (96, 64))):
            t = names[f"model.layers.1.block_sparse_moe.experts.{e}.{w}.weight"]
            assert t.shape == shape and t.scheme.to_dict() == {"name": "normal", "mean": 0.0, "std": 0.02}


def test_gemma_norms_are_zero_and_mamba_uses_its_own_code():
    gemma = {t.name: t.scheme.to_dict() for t in from_config(config("gemma")).tensors}
    assert gemma["model.layers.0.input_layernorm.weight"] == {"name": "zeros"}   # scales by (1 + w)
    mamba = {t.name: t.scheme for t in from_config(config("mamba")).tensors}
    assert mamba["backbone.layers.0.mixer.D"].to_dict() == {"name": "ones"}
    dt_bias = mamba["backbone.layers.0.mixer.dt_proj.bias"]
    assert isinstance(dt_bias, Recorded)    # inverse softplus of exp(U * log range): an expression
    a = dt_bias.init_(np.empty(128, np.float32), seed=0, stream="x")
    dt = np.log1p(np.exp(a.astype(np.float64)))             # softplus gives back dt
    assert dt.min() >= 1e-4 * 0.999 and dt.max() <= 0.1 * 1.001


def test_values_depend_on_seed_and_name_only(tmp_path):
    a = from_config(config("llama"), seed=3)
    b = from_config(config("llama"), seed=3)
    create_checkpoint(a, tmp_path / "a", progress=False, threads=1)
    create_checkpoint(b, tmp_path / "b", progress=False, threads=2)
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()


def test_unrecordable_init_is_an_error_naming_tensor_and_call():
    class Odd(transformers.LlamaForCausalLM):
        def _init_weights(self, module):
            super()._init_weights(module)
            if module is getattr(self, "lm_head", None):   # the head belongs to this (outer) model
                module.weight.bernoulli_(0.5)

    with pytest.raises(RecordError, match=r"lm_head.weight.*bernoulli_"):
        from_config(config("llama"), model_class=Odd)


def test_cli_config_tokenizer_and_existing_config(tmp_path, capsys):
    out = tmp_path / "m"
    out.mkdir()
    cfg = config("qwen2")
    cfg.save_pretrained(out)             # the user's directory already holds this config
    before = (out / "config.json").read_bytes()
    tok = tmp_path / "tok"
    tok.mkdir()
    (tok / "tokenizer.json").write_text("{}")
    (tok / "tokenizer_config.json").write_text("{}")
    assert main(["create", "--config", str(out / "config.json"), "-o", str(out), "--dtype", "bfloat16",
                 "--tokenizer", str(tok), "-q", "--seed", "0"]) == 0
    assert (out / "config.json").read_bytes() == before
    assert (out / "tokenizer.json").read_text() == "{}"
    assert (out / "generation_config.json").exists()
    entries, _ = read_checkpoint(out)
    assert {e.dtype_name for e in entries} == {"bfloat16"}
    # a fresh directory: config.json written as save_pretrained writes it, and the summary says no tokenizer
    assert main(["create", "--config", str(out / "config.json"), "-o", str(tmp_path / "n"),
                 "--set", "vocab_size=300"]) == 0
    assert "no tokenizer was written" in capsys.readouterr().err
    written = json.loads((tmp_path / "n" / "config.json").read_text())
    assert written["vocab_size"] == 300 and written["architectures"] == ["Qwen2ForCausalLM"]
    # a config transformers rejects is a one-line error, nothing written
    assert main(["create", "--config", str(out / "config.json"), "-o", str(tmp_path / "bad"),
                 "--set", "num_hidden_layers=1"]) == 2
    assert "num_hidden_layers" in capsys.readouterr().err and not os.path.exists(tmp_path / "bad")


def test_cli_unknown_model_type_is_one_line(tmp_path, capsys):
    (tmp_path / "c.json").write_text(json.dumps({"model_type": "no-such-model"}))
    assert main(["create", "--config", str(tmp_path / "c.json"), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no-such-model" in err
    assert not os.path.exists(tmp_path / "o")
