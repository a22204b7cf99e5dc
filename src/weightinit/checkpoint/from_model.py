"""Checkpoint specs from a transformers config, initialized by the model's own code.

:func:`from_config` instantiates the model class a config names on the meta device
(no memory, no init work) under :class:`weightinit.torch.Recorder`, runs the model's
own ``initialize_weights`` (its ``_init_weights``, which calls torch.nn.init,
transformers' init helpers and Tensor methods), and turns what it recorded into one
weightinit scheme per tensor that ``save_pretrained`` would write: the same names
(tied weights stored once, non-persistent buffers left out, fused weights such as
Mixtral's experts split back into the checkpoint layout transformers saves), shapes
and dtypes. The config class does the config handling (aliases, defaults,
validation). Needs ``torch`` and ``transformers >= 5``.
"""
from __future__ import annotations

import contextlib
import json
import os
import threading

from .._files import read_json
from .spec import CheckpointSpec, TensorSpec

__all__ = ["from_config", "load_config"]

_TORCH_DTYPES = {"float32": "float32", "float16": "float16", "bfloat16": "bfloat16", "float64": "float64",
                 "float8_e4m3fn": "float8_e4m3fn", "float8_e5m2": "float8_e5m2"}
# dtypes torch cannot build a model in (torch.set_default_dtype, which transformers' _from_config
# calls, takes floating point dtypes with a storage class only): the model is built in
# bfloat16, which holds every float8 value exactly, and its bfloat16 tensors written as float8
_BUILD_DTYPE = {"float8_e4m3fn": "bfloat16", "float8_e5m2": "bfloat16"}


def _import():
    try:
        import torch
        import transformers
    except ImportError:
        raise ImportError("building a checkpoint from a transformers config needs torch and transformers: "
                          "pip install 'weightinit[transformers]'") from None
    if int(transformers.__version__.split(".")[0]) < 5:
        raise ImportError(f"building a checkpoint from a transformers config needs transformers >= 5, "
                          f"found {transformers.__version__}")
    return torch, transformers


def load_config(config):
    """A transformers config object from a config object, a dict, a config.json path or
    a directory holding one, through the config class of its ``model_type``."""
    _, transformers = _import()
    if isinstance(config, transformers.PreTrainedConfig if hasattr(transformers, "PreTrainedConfig")
                  else transformers.PretrainedConfig):
        return config
    if isinstance(config, (str, os.PathLike)):
        path = os.fspath(config)
        if os.path.isdir(path):
            path = os.path.join(path, "config.json")
        config = read_json(path, "config")
    if not isinstance(config, dict):
        raise TypeError(f"config must be a transformers config, a dict or a path to a config.json, "
                        f"got {type(config).__name__}")
    model_type = config.get("model_type")
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING
    if not isinstance(model_type, str) or model_type not in CONFIG_MAPPING:
        raise ValueError(f"config model_type {model_type!r} is not a model type transformers "
                         f"{transformers.__version__} knows")
    try:
        return CONFIG_MAPPING[model_type].from_dict(dict(config))
    except Exception as exc:  # noqa: BLE001 - the config class's own validation (some raise non-ValueErrors)
        raise ValueError(f"config ({model_type}): {_last_line(exc)}") from None


_AUTO_CLASSES = ("AutoModelForCausalLM", "AutoModelForSeq2SeqLM", "AutoModelForMaskedLM",
                 "AutoModelForImageTextToText", "AutoModel")


def _model_class(config):
    _, transformers = _import()
    archs = getattr(config, "architectures", None) or []
    if archs:
        name = archs[0] if isinstance(archs, (list, tuple)) else archs
        cls = getattr(transformers, name, None) if isinstance(name, str) and name.isidentifier() else None
        if not (isinstance(cls, type) and issubclass(cls, transformers.PreTrainedModel)):
            raise ValueError(f"config architectures[0] {name!r:.100} is not a model class of transformers "
                             f"{transformers.__version__}")
        family = getattr(cls, "config_class", None)
        if isinstance(family, type) and not isinstance(config, family):
            raise ValueError(f"config architectures[0] {name!r} is a {family.__name__} model, but the config is a "
                             f"{type(config).__name__} (model_type {config.model_type!r})")
        return cls
    masked = transformers.AutoModelForMaskedLM._model_mapping
    for auto in _AUTO_CLASSES:
        mapping = getattr(transformers, auto)._model_mapping
        # an encoder (bert) is in the causal-LM mapping too, as a decoder variant: not by default
        if auto == "AutoModelForCausalLM" and type(config) in masked and not getattr(config, "is_decoder", False):
            continue
        if type(config) in mapping:
            return mapping[type(config)]
    raise ValueError(f"no model class for model_type {config.model_type!r}: set architectures in the config")


# config keys that multiply the number of modules; a value beyond any real model is a
# typo (num_hidden_layers=1000000000) and is refused before anything is built
_COUNT_KEYS = {"num_hidden_layers": 10_000, "num_layers": 10_000, "n_layer": 10_000, "encoder_layers": 10_000,
               "decoder_layers": 10_000, "num_experts": 1 << 16, "num_local_experts": 1 << 16,
               "n_routed_experts": 1 << 16}


def _check_size_keys(config) -> None:
    for key, limit in _COUNT_KEYS.items():
        v = getattr(config, key, None)
        if isinstance(v, int) and not isinstance(v, bool) and v > limit:
            raise ValueError(f"config {key}={v} is larger than any model has (at most {limit})")


def _last_line(exc) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


class _TooManyTensors(ValueError):
    pass


@contextlib.contextmanager
def _tensor_budget(torch):
    """While the model is built: a ValueError once this thread has registered more
    parameters and buffers than a checkpoint may hold, so that a config whose size
    no key above names still fails in bounded time and memory."""
    from torch.nn.modules import module as m
    from .spec import MAX_TENSORS
    me, count = threading.get_ident(), [0]

    def hook(*_):
        if threading.get_ident() == me:
            count[0] += 1
            if count[0] > MAX_TENSORS:
                raise _TooManyTensors(f"the model registers more than {MAX_TENSORS} parameters and buffers")

    handles = [m.register_module_parameter_registration_hook(hook), m.register_module_buffer_registration_hook(hook)]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


class _Provenance:
    """Which storages each tensor made by some torch code came from (a TorchFunctionMode,
    built lazily so that this module imports without torch)."""

    def __new__(cls):
        torch, _ = _import()
        from torch.overrides import TorchFunctionMode
        from ..torch.recorder import _flat, _key

        class Mode(TorchFunctionMode):
            def __init__(self):
                super().__init__()
                self.sources, self.keep = {}, []

            def of(self, t):
                return self.sources.get(id(t), frozenset([_key(t)]))

            def __torch_function__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                srcs = frozenset().union(*[self.of(a) for a in _flat(args, kwargs or {})
                                           if isinstance(a, torch.Tensor)])
                for o in (out if isinstance(out, (tuple, list)) else [out]):
                    if isinstance(o, torch.Tensor):
                        self.sources[id(o)] = srcs
                        self.keep.append(o)
                return out
        return Mode()


def _fixed(scheme, shape):
    """`scheme` as drawn for a tensor of `shape`, as a shape-independent elementwise
    scheme (fans resolved), or None when it has no such form."""
    from .. import schemes as s
    if not getattr(scheme, "elementwise", False) or not hasattr(scheme, "plan"):
        return None
    dist, params = scheme.plan(shape)
    return {"uniform": s.Uniform, "normal": s.Normal, "trunc_normal": s.TruncatedNormal,
            "constant": s.Constant}[dist](*params)


def from_config(config, *, dtype=None, seed=None, model_class=None) -> CheckpointSpec:
    """A :class:`CheckpointSpec` with every tensor ``save_pretrained`` writes for the
    model of `config`, each initialized as the model's own init code does.

    `config`: a transformers config, a dict, or a path to a config.json (or its
    directory). `dtype`: the tensors' dtype (default: the config's ``dtype``, else
    float32); modules transformers keeps in float32 stay float32. For float8
    (``float8_e4m3fn``, ``float8_e5m2``) the model is built in bfloat16 (torch cannot
    build one in float8) and its bfloat16 tensors are written as float8; the
    ``config.json`` then says ``"dtype": "bfloat16"``, the dtype ``from_pretrained``
    builds the model in (it cannot in float8) and that holds the float8 values exactly. `model_class`: a
    transformers model class (default: ``architectures[0]``, else the Auto class of the
    model type). The spec's ``files`` hold ``config.json`` and, for generative models,
    ``generation_config.json``, as ``save_pretrained`` writes them.
    """
    torch, transformers = _import()
    from transformers.core_model_loading import revert_weight_conversion
    from transformers.modeling_utils import remove_tied_weights_from_state_dict
    from ..torch.recorder import Recorder, RecordError, _key
    from .spec import resolve_dtype

    config = load_config(config)
    _check_size_keys(config)
    cls = model_class or _model_class(config)
    want = dtype if dtype is not None else getattr(config, "dtype", None) or "float32"
    want = resolve_dtype(str(want).replace("torch.", ""), "dtype")
    build = _BUILD_DTYPE.get(want, want)
    from transformers.initialization import no_tie_weights
    rec = Recorder()
    # as on the CPU: each weight is initialized by its own module, then tied (so that
    # the tied head's init does not overwrite the embedding's zeroed padding row)
    with no_tie_weights():
        with torch.device("meta"), rec, _tensor_budget(torch):
            try:
                model = cls._from_config(config, dtype=getattr(torch, build))
            except (RecordError, _TooManyTensors):
                raise
            except Exception as exc:  # noqa: BLE001 - the model's own code failed (its bug, or a bad config)
                raise ValueError(f"{cls.__name__} could not be built from this config: {type(exc).__name__}: "
                                 f"{_last_line(exc)}") from None
        with torch.no_grad(), rec:
            model.initialize_weights()
    with torch.no_grad(), rec:
        model.tie_weights()

    state = model.state_dict()
    for k in model._keys_to_ignore_on_save or ():
        state.pop(k, None)
    state = remove_tied_weights_from_state_dict(state, model)
    base = {_key(t): (name, t) for name, t in state.items()}
    prov = _Provenance()
    with prov:
        saved = revert_weight_conversion(model, dict(state))

    tensors = []
    for name, t in saved.items():
        t = t[0] if isinstance(t, list) else t
        dt = _TORCH_DTYPES.get(str(t.dtype).replace("torch.", ""))
        if dt is None:
            raise ValueError(f"tensor {name!r}: dtype {t.dtype} is not one weightinit writes")
        if dt == build:
            dt = want        # the model's dtype; a tensor kept in another one (float32) keeps it
        key = _key(t)
        src = base.get(key)
        if src is not None and src[1].shape == t.shape and t.storage_offset() == src[1].storage_offset():
            scheme = rec.scheme(t, name)     # a whole tensor of the model, maybe renamed
        else:
            sources = prov.of(t) if src is None else frozenset([key])
            laws = set()
            for k in sources:
                if k not in base:
                    raise RecordError(f"tensor {name!r}: made by a weight conversion from a tensor that is "
                                      "not in the model's state dict")
                src_name, src_t = base[k]
                law = _fixed(rec.scheme(src_t, src_name), tuple(src_t.shape))
                if law is None:
                    raise RecordError(f"tensor {name!r}: a piece of {src_name!r}, whose init is not elementwise, "
                                      "so a piece of it has no law of its own")
                laws.add(json.dumps(law.to_dict(), sort_keys=True))
            if len(laws) != 1:
                raise RecordError(f"tensor {name!r}: made from tensors initialized differently "
                                  f"({', '.join(sorted(base[k][0] for k in sources))})")
            from .. import schemes
            scheme = schemes.from_dict(json.loads(laws.pop()))
        tensors.append(TensorSpec(name, tuple(t.shape), scheme, None if dt == want else dt))

    model.config.architectures = [type(model).__name__]
    files = {"config.json": (model.config.to_json_string(use_diff=True)).encode("utf-8")}
    gen = getattr(model, "generation_config", None) if model.can_generate() else None
    if gen is not None:
        files["generation_config.json"] = gen.to_json_string(use_diff=True).encode("utf-8")
    meta = {"weightinit.source": f"transformers {transformers.__version__} {type(model).__name__} "
                                 "(init recorded from the model's own code)"}
    return CheckpointSpec(tensors, seed=seed, dtype=want, metadata=meta, files=files)
