"""Model presets: checkpoint specs with the tensor names, shapes and initialization
that Hugging Face `transformers` uses, built from a config.json or built-in defaults.

- ``gpt2``: GPT2LMHeadModel. Embeddings and Conv1D weights (stored (in, out)) are
  normal(0, initializer_range); the residual projections ``attn.c_proj.weight`` and
  ``mlp.c_proj.weight`` use initializer_range / sqrt(2 * n_layer) (GPT-2 paper);
  biases zero; LayerNorm weight one, bias zero; ``lm_head`` tied to ``wte`` unless
  ``tie_word_embeddings`` is false.
- ``llama``: LlamaForCausalLM. Embedding and every Linear normal(0, initializer_range),
  grouped-query k/v projections (num_key_value_heads), RMSNorm weights one,
  ``lm_head.weight`` unless ``tie_word_embeddings``; biases (zero) only with
  ``attention_bias`` / ``mlp_bias``; row ``pad_token_id`` of the embedding zero, as
  ``nn.Embedding(padding_idx=pad_token_id)`` leaves it.

Without a config the presets take built-in defaults (GPT-2 small, ``LlamaConfig()``).
With a config they are strict: the size keys (``_GPT2_SIZE`` / ``_LLAMA_SIZE``) must
be in the config or the overrides, and a key the preset does not implement (not a
default key, not in ``_GPT2_META`` / ``_LLAMA_META``) is an error rather than ignored.
gpt2 takes transformers' alias names (``hidden_size`` for ``n_embd``, ...).
"""
from __future__ import annotations

import math
import numbers
import os

from .._files import read_json
from .spec import MAX_TENSORS, CheckpointSpec, TensorSpec, _schemes, resolve_dtype

__all__ = ["PRESETS", "preset", "preset_config"]

_GPT2_DEFAULTS = {
    "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
    "vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12,
    "n_inner": None, "activation_function": "gelu_new", "resid_pdrop": 0.1, "embd_pdrop": 0.1,
    "attn_pdrop": 0.1, "layer_norm_epsilon": 1e-5, "initializer_range": 0.02,
    "bos_token_id": 50256, "eos_token_id": 50256, "tie_word_embeddings": True,
}
_LLAMA_DEFAULTS = {  # LlamaConfig() defaults (Llama-2-7B shapes)
    "model_type": "llama", "architectures": ["LlamaForCausalLM"],
    "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": None, "head_dim": None, "hidden_act": "silu",
    "max_position_embeddings": 2048, "initializer_range": 0.02, "rms_norm_eps": 1e-6,
    "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": False, "rope_theta": 10000.0,
    "attention_bias": False, "mlp_bias": False,
}
# Keys a config must give (a config without them is not guessed from the defaults).
_GPT2_SIZE = ("vocab_size", "n_positions", "n_embd", "n_layer", "n_head")
_LLAMA_SIZE = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads")
_MEANING = {
    "vocab_size": "the vocabulary size", "n_positions": "the number of positions", "n_embd": "the hidden size",
    "n_layer": "the number of layers", "n_head": "the number of attention heads", "hidden_size": "the hidden size",
    "intermediate_size": "the MLP size", "num_hidden_layers": "the number of layers",
    "num_attention_heads": "the number of attention heads",
}
# Keys besides the defaults' that real config.json files carry and that change no tensor
# name, shape or initialization (metadata, token ids, runtime and dropout switches).
_META = frozenset({
    "_name_or_path", "transformers_version", "architectures", "model_type", "dtype", "torch_dtype",
    "bos_token_id", "eos_token_id", "pad_token_id", "use_cache", "output_attentions", "output_hidden_states",
    "return_dict", "chunk_size_feed_forward", "problem_type", "id2label", "label2id", "task_specific_params",
    "is_encoder_decoder", "add_cross_attention",
})
_OFF_ONLY = frozenset({"is_encoder_decoder", "add_cross_attention"})  # accepted only when false
_GPT2_META = _META | {
    "n_ctx", "scale_attn_weights", "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "summary_type",
    "summary_use_proj", "summary_activation", "summary_proj_to_labels", "summary_first_dropout",
}
_LLAMA_META = _META | {"attention_dropout", "pretraining_tp", "rope_scaling", "rope_parameters"}
_GPT2_ALIASES = {  # GPT2Config.attribute_map
    "hidden_size": "n_embd", "num_hidden_layers": "n_layer", "num_attention_heads": "n_head",
    "max_position_embeddings": "n_positions",
}


def _int(cfg: dict, key: str, minimum: int = 1) -> int:
    v = cfg.get(key)
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"config {key} must be an int, got {type(v).__name__} {v!r}")
    if v < minimum:
        raise ValueError(f"config {key} must be >= {minimum}, got {v}")
    return int(v)


def _float(cfg: dict, key: str) -> float:
    v = cfg.get(key)
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v < 0:
        raise ValueError(f"config {key} must be a finite number >= 0, got {v!r}")
    return float(v)


def _normal(std):
    return _schemes.get("normal", mean=0.0, std=std)


def _embedding_scheme(std, vocab, dim, pad):
    """normal(0, std) for a (vocab, dim) embedding, with row `pad` zero unless pad is None.

    NOTE: the padding row needs ``weightinit.recorded.with_zero_rows(base_scheme, shape,
    rows=[...])`` (a scheme drawing `base_scheme`, then zeros in those rows of dim 0),
    imported lazily so that this module does not depend on it until a pad is set."""
    normal = _normal(std)
    if pad is None:
        return normal
    from ..recorded import with_zero_rows as _pad_row_scheme
    return _pad_row_scheme(normal, (vocab, dim), rows=[pad])


def _layers(cfg: dict, key: str, per_layer: int) -> int:
    """The layer count, refused before any tensor is listed when the checkpoint would
    have more tensors than any real model (a typo such as n_layer=1000000000)."""
    L = _int(cfg, key, 0)
    if L * per_layer > MAX_TENSORS:
        raise ValueError(f"config {key}={L} gives more than {MAX_TENSORS} tensors")
    return L


def _gpt2(cfg: dict) -> list:
    L, d = _layers(cfg, "n_layer", 12), _int(cfg, "n_embd")
    V, P = _int(cfg, "vocab_size"), _int(cfg, "n_positions")
    n_head = _int(cfg, "n_head")
    if d % n_head:
        raise ValueError(f"config n_embd ({d}) must be divisible by n_head ({n_head})")
    inner = d * 4 if cfg.get("n_inner") is None else _int(cfg, "n_inner")
    r = _float(cfg, "initializer_range")
    w, resid = _normal(r), _normal(r / math.sqrt(2 * L) if L else r)
    zeros, ones = _schemes.get("zeros"), _schemes.get("ones")
    T = TensorSpec
    out = [T("transformer.wte.weight", (V, d), w), T("transformer.wpe.weight", (P, d), w)]
    for i in range(L):
        p = f"transformer.h.{i}."
        out += [
            T(p + "ln_1.weight", (d,), ones), T(p + "ln_1.bias", (d,), zeros),
            T(p + "attn.c_attn.weight", (d, 3 * d), w), T(p + "attn.c_attn.bias", (3 * d,), zeros),
            T(p + "attn.c_proj.weight", (d, d), resid), T(p + "attn.c_proj.bias", (d,), zeros),
            T(p + "ln_2.weight", (d,), ones), T(p + "ln_2.bias", (d,), zeros),
            T(p + "mlp.c_fc.weight", (d, inner), w), T(p + "mlp.c_fc.bias", (inner,), zeros),
            T(p + "mlp.c_proj.weight", (inner, d), resid), T(p + "mlp.c_proj.bias", (d,), zeros),
        ]
    out += [T("transformer.ln_f.weight", (d,), ones), T("transformer.ln_f.bias", (d,), zeros)]
    if cfg.get("tie_word_embeddings", True) is False:
        out.append(T("lm_head.weight", (V, d), w))
    return out


def _llama(cfg: dict) -> list:
    L, d = _layers(cfg, "num_hidden_layers", 16), _int(cfg, "hidden_size")
    V, inter = _int(cfg, "vocab_size"), _int(cfg, "intermediate_size")
    nh = _int(cfg, "num_attention_heads")
    nkv = nh if cfg.get("num_key_value_heads") is None else _int(cfg, "num_key_value_heads")
    if nh % nkv:
        raise ValueError(f"config num_attention_heads ({nh}) must be divisible by num_key_value_heads ({nkv})")
    if cfg.get("head_dim") is None:
        if d % nh:
            raise ValueError(f"config hidden_size ({d}) must be divisible by num_attention_heads ({nh})")
        hd = d // nh
    else:
        hd = _int(cfg, "head_dim")
    pad = cfg.get("pad_token_id")
    if pad is not None:
        if isinstance(pad, bool) or not isinstance(pad, numbers.Integral) or not -V <= pad < V:
            raise ValueError(f"config pad_token_id must be None or an int in [-{V}, {V}) (vocab_size), got {pad!r}")
        pad = int(pad) % V   # negative counts from the end, as in nn.Embedding
    r = _float(cfg, "initializer_range")
    w, zeros, ones = _normal(r), _schemes.get("zeros"), _schemes.get("ones")
    abias, mbias = bool(cfg.get("attention_bias", False)), bool(cfg.get("mlp_bias", False))
    T = TensorSpec
    out = [T("model.embed_tokens.weight", (V, d), _embedding_scheme(r, V, d, pad))]
    for i in range(L):
        p = f"model.layers.{i}."
        for proj, rows in (("q_proj", nh * hd), ("k_proj", nkv * hd), ("v_proj", nkv * hd)):
            out.append(T(p + f"self_attn.{proj}.weight", (rows, d), w))
            if abias:
                out.append(T(p + f"self_attn.{proj}.bias", (rows,), zeros))
        out.append(T(p + "self_attn.o_proj.weight", (d, nh * hd), w))
        if abias:
            out.append(T(p + "self_attn.o_proj.bias", (d,), zeros))
        for proj, shape in (("gate_proj", (inter, d)), ("up_proj", (inter, d)), ("down_proj", (d, inter))):
            out.append(T(p + f"mlp.{proj}.weight", shape, w))
            if mbias:
                out.append(T(p + f"mlp.{proj}.bias", (shape[0],), zeros))
        out += [T(p + "input_layernorm.weight", (d,), ones), T(p + "post_attention_layernorm.weight", (d,), ones)]
    out.append(T("model.norm.weight", (d,), ones))
    if not cfg.get("tie_word_embeddings", False):
        out.append(T("lm_head.weight", (V, d), w))
    return out


PRESETS = {"gpt2": (_GPT2_DEFAULTS, _gpt2), "llama": (_LLAMA_DEFAULTS, _llama)}
_RULES = {  # name: (size keys, known keys, aliases)
    "gpt2": (_GPT2_SIZE, _GPT2_META | set(_GPT2_DEFAULTS), _GPT2_ALIASES),
    "llama": (_LLAMA_SIZE, _LLAMA_META | set(_LLAMA_DEFAULTS), {}),
}


def _checked(name: str, keys: dict) -> dict:
    """`keys` (a config or the overrides) with aliases mapped to their canonical key;
    a key preset `name` does not implement, or a conflicting alias, is a ValueError."""
    _, known, aliases = _RULES[name]
    keys = dict(keys)
    mt = keys.get("model_type", name)
    if mt != name:
        raise ValueError(f"config model_type {mt!r} does not match preset {name!r}")
    for alias, key in aliases.items():
        if alias in keys:
            if key in keys and keys[key] != keys[alias]:
                raise ValueError(f"config gives both {alias}={keys[alias]!r} and {key}={keys[key]!r} "
                                 f"({alias} is the transformers alias of {key})")
            keys[key] = keys.pop(alias)
    unused = sorted((k for k, v in keys.items() if k not in known or (k in _OFF_ONLY and v)), key=str)
    if unused:
        raise ValueError(f"config key(s) {', '.join(map(str, unused))} are not used by the {name} preset "
                         "(install transformers to build any architecture from its own code: "
                         "pip install 'weightinit[transformers]')")
    return keys


def preset_config(name: str, config=None, **overrides) -> dict:
    """The full config of preset `name`: built-in defaults, updated by `config`
    (a dict or a path to a config.json), then by `overrides`. A config must give the
    size keys itself (or through `overrides`); keys the preset does not implement are
    a ValueError (see the module docstring)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    cfg = dict(PRESETS[name][0])
    overrides = _checked(name, overrides)
    if config is not None:
        if isinstance(config, (str, os.PathLike)):
            path = os.path.join(config, "config.json") if os.path.isdir(config) else config
            config = read_json(path, "config")
        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict or a path to a config.json, got {type(config).__name__}")
        config = _checked(name, config)
        missing = [k for k in _RULES[name][0] if k not in config and k not in overrides]
        if missing:
            raise ValueError(f"config has no {', '.join(f'{k} ({_MEANING[k]})' for k in missing)}; "
                             f"the {name} preset does not guess {'it' if len(missing) == 1 else 'them'}")
        cfg.update(config)
    cfg.update(overrides)
    return cfg


def preset(name: str, config=None, *, dtype=None, seed=None, **overrides) -> CheckpointSpec:
    """CheckpointSpec for a preset ('gpt2' or 'llama').

    `config` is a Hugging Face config dict or path to config.json; it must give the size
    keys (vocab size, hidden size, layers, heads, ...), other missing keys take transformers'
    defaults, and a key the preset does not implement is a ValueError. Without `config`
    the built-in defaults apply (GPT-2 small for gpt2, LlamaConfig() for llama). `overrides`
    replace single config keys (``preset('llama', num_hidden_layers=2)``). The default dtype is
    `dtype`, else the config's ``dtype``/``torch_dtype``, else float32. The resulting spec
    carries the config, written as config.json next to the weights by create_checkpoint.
    """
    cfg = preset_config(name, config, **overrides)
    tensors = PRESETS[name][1](cfg)
    if dtype is None:
        dtype = cfg.get("dtype") or cfg.get("torch_dtype") or "float32"
    dtype = resolve_dtype(dtype)
    cfg["dtype"] = cfg["torch_dtype"] = dtype
    return CheckpointSpec(tensors, seed=seed, dtype=dtype, config=cfg)
