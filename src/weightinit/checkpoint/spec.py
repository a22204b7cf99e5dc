"""Checkpoint specifications: which tensors, with which shape, dtype and scheme.

A spec is a mapping (or a TOML / JSON file holding one)::

    seed = 0                 # optional; create_checkpoint(seed=) overrides it
    dtype = "bfloat16"       # default dtype of tensors that do not name one

    [[tensors]]
    name = "embed.weight"
    shape = [32000, 4096]
    scheme = "normal"        # a scheme name ...
    params = { std = 0.02 }  # ... with its parameters

    [[tensors]]
    name = "norm.weight"
    shape = [4096]
    dtype = "float32"
    scheme = { name = "ones" }   # or a scheme dict (weightinit.schemes to_dict form)

``tensors`` may also be a table keyed by tensor name. Each tensor's Philox stream
is its name, so its values do not depend on the other tensors in the file.
Everything is validated before any byte is written; errors name the tensor.
"""
from __future__ import annotations

import json
import math
import numbers
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from .. import schemes as _schemes

from .._buffers import _BF16, FLOAT8
from .._files import MAX_JSON_BYTES, SourceFile, read_regular

__all__ = ["TensorSpec", "CheckpointSpec", "load_spec", "parse_spec", "resolve_dtype", "DTYPES"]

# name -> (numpy dtype, safetensors dtype code)
DTYPES = {
    "float64": (np.dtype(np.float64), "F64"),
    "float32": (np.dtype(np.float32), "F32"),
    "float16": (np.dtype(np.float16), "F16"),
    "bfloat16": (_BF16, "BF16"),
    # OCP FP8, safetensors' names for them
    "float8_e4m3fn": (FLOAT8["float8_e4m3fn"], "F8_E4M3"),
    "float8_e5m2": (FLOAT8["float8_e5m2"], "F8_E5M2"),
}
_ALIASES = {
    "f64": "float64", "fp64": "float64", "double": "float64",
    "f32": "float32", "fp32": "float32", "float": "float32",
    "f16": "float16", "fp16": "float16", "half": "float16",
    "bf16": "bfloat16",
    "f8_e4m3": "float8_e4m3fn", "float8_e4m3": "float8_e4m3fn", "f8_e5m2": "float8_e5m2",
}
_MAX_BYTES = 2**62  # far beyond any disk; keeps every offset inside int64
MAX_TENSORS = 1_000_000   # more than any real checkpoint holds (DeepSeek-V3: about 90 000)


def resolve_dtype(dtype, what: str = "dtype") -> str:
    """Canonical dtype name ('float32', 'bfloat16', ...) for a name, alias,
    safetensors code ('BF16') or numpy dtype; ValueError/TypeError otherwise."""
    if isinstance(dtype, str):
        key = dtype.strip().lower()
        key = _ALIASES.get(key, key)
        if key in DTYPES:
            return key
        raise ValueError(f"{what} must be one of {', '.join(DTYPES)}, got {dtype!r}")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{what} must be a str or numpy dtype, got {type(dtype).__name__} {dtype!r}") from None
    for name, (ndt, _) in DTYPES.items():
        if dt == ndt:
            return name
    raise ValueError(f"{what} must be one of {', '.join(DTYPES)}, got {dt}")


@dataclass(frozen=True)
class TensorSpec:
    """One tensor: `dtype` None means the checkpoint's default dtype."""
    name: str
    shape: tuple
    scheme: object
    dtype: str | None = None

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def scheme_dict(self) -> dict:
        return self.scheme.to_dict()


@dataclass
class CheckpointSpec:
    """Validated list of tensors plus a global seed and default dtype.
    `config` (presets only) is the Hugging Face config written next to the weights;
    `files` ({base name: bytes, or a SourceFile copied in pieces}) are written beside
    the weights of a directory checkpoint (config.json, generation_config.json,
    tokenizer files)."""
    tensors: list
    seed: int | None = None
    dtype: str = "float32"
    config: dict | None = None
    metadata: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)

    def __post_init__(self):
        validate(self)

    def dtype_of(self, t: TensorSpec, default: str | None = None) -> str:
        return t.dtype or default or self.dtype

    def nbytes(self, default_dtype: str | None = None) -> int:
        return sum(t.size * DTYPES[self.dtype_of(t, default_dtype)][0].itemsize for t in self.tensors)

    @property
    def num_parameters(self) -> int:
        return sum(t.size for t in self.tensors)


def _check_name(name, where: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{where}: name must be a str, got {type(name).__name__} {name!r}")
    if not name or name != name.strip() or any(c in name for c in "/\\\0") or name in (".", "..") \
            or name.startswith("__"):
        raise ValueError(f"{where}: invalid tensor name {name!r} (empty, surrounding spaces, '/', '\\', "
                         "NUL, '.', '..' or a leading '__' are not allowed)")
    return name


def _check_shape(shape, name: str) -> tuple:
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (list, tuple)):
        raise TypeError(f"tensor {name!r}: shape must be a list of ints, got {type(shape).__name__} {shape!r}")
    dims = []
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral):
            raise TypeError(f"tensor {name!r}: shape must be a list of ints, got {shape!r}")
        if d < 0:
            raise ValueError(f"tensor {name!r}: shape dimensions must be >= 0, got {list(shape)}")
        dims.append(int(d))
    return tuple(dims)


def _make_scheme(name: str, scheme, params):
    """A scheme object from a name + params, a scheme dict, or a scheme object."""
    if params is not None and not isinstance(params, dict):
        raise TypeError(f"tensor {name!r}: params must be a table/dict, got {type(params).__name__}")
    try:
        if isinstance(scheme, str):
            return _schemes.get(scheme, **(params or {}))
        if isinstance(scheme, dict):
            if params:
                raise ValueError("give the parameters inside the scheme dict or in params, not both")
            if not isinstance(scheme.get("name"), str):
                raise ValueError(f"a scheme dict needs a 'name' string, got {scheme!r}")
            return _schemes.from_dict(dict(scheme))
        if hasattr(scheme, "to_dict") and (hasattr(scheme, "fill_chunk_") or hasattr(scheme, "init_")):
            if params:
                raise ValueError("params are only allowed with a scheme name")
            return scheme
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"tensor {name!r}: {exc}") from None
    except KeyError as exc:  # a scheme registry may signal an unknown name this way
        raise ValueError(f"tensor {name!r}: unknown scheme {exc.args[0] if exc.args else scheme!r}") from None
    if scheme is None:
        raise ValueError(f"tensor {name!r}: no scheme given")
    raise TypeError(f"tensor {name!r}: scheme must be a name, a scheme dict or a scheme object, "
                    f"got {type(scheme).__name__} {scheme!r}")


def validate(spec: CheckpointSpec) -> None:
    """Raise TypeError/ValueError naming the tensor for anything that cannot be written."""
    if not isinstance(spec.tensors, list):
        raise TypeError(f"tensors must be a list, got {type(spec.tensors).__name__}")
    if spec.seed is not None:
        from .._streams import resolve_seed
        spec.seed = resolve_seed(spec.seed)
    spec.dtype = resolve_dtype(spec.dtype, "dtype (the default dtype)")
    if not isinstance(spec.files, dict) or not all(
            isinstance(k, str) and isinstance(v, (bytes, SourceFile)) for k, v in spec.files.items()):
        raise TypeError("files must be a dict of base name to bytes (or weightinit._files.SourceFile)")
    for k in spec.files:
        if not k or k != os.path.basename(k) or k.startswith(".") or k.endswith((".safetensors", ".npy", ".tmp")) \
                or k in ("model.safetensors.index.json", "weightinit.json"):
            raise ValueError(f"files: {k!r} is not a plain file name that may sit beside the weights")
    if not isinstance(spec.metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in spec.metadata.items()):
        raise TypeError("metadata must be a dict of str to str")
    reserved = sorted(k for k in spec.metadata if k in _RESERVED_METADATA or k.startswith("weightinit.scheme."))
    if reserved:   # weightinit's own record (seed, version, schemes) cannot be claimed by a spec
        raise ValueError(f"metadata: {', '.join(map(repr, reserved))} is reserved for what weightinit records "
                         "itself (format, weightinit.seed/version/stream_contract, weightinit.scheme.*)")
    if len(spec.tensors) > MAX_TENSORS:
        raise ValueError(f"tensors: {len(spec.tensors)} tensors, more than the {MAX_TENSORS} any checkpoint holds")
    seen = set()
    total = 0
    for i, t in enumerate(spec.tensors):
        if not isinstance(t, TensorSpec):
            raise TypeError(f"tensors[{i}] must be a TensorSpec, got {type(t).__name__}")
        _check_name(t.name, f"tensors[{i}]")
        if t.name in seen:
            raise ValueError(f"tensor {t.name!r}: duplicate name")
        seen.add(t.name)
        if t.dtype is not None:
            resolve_dtype(t.dtype, f"tensor {t.name!r}: dtype")
        shape = _check_shape(t.shape, t.name)
        n = 1
        for d in shape:
            n *= d
        if n * 8 > _MAX_BYTES:
            raise ValueError(f"tensor {t.name!r}: shape {list(shape)} has {n} elements, too many to write "
                             f"(its size overflows the {_MAX_BYTES}-byte limit)")
        total += n * 8
        if total > _MAX_BYTES:
            raise ValueError(f"tensor {t.name!r}: the checkpoint's total size overflows the {_MAX_BYTES}-byte limit")
        try:
            std = t.scheme.std(shape)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"tensor {t.name!r}: scheme {t.scheme_dict().get('name')!r} cannot initialize "
                            f"shape {list(shape)}: {exc}") from None
        if std is not None and not (isinstance(std, numbers.Real) and math.isfinite(std)):
            raise ValueError(f"tensor {t.name!r}: scheme gives a non-finite std {std!r} for shape {list(shape)}")


def _range_plan(scheme, shape):
    """(distribution, parameters) the fill of `scheme` uses for `shape`, where the
    dtype's range check applies (an elementwise scheme, or a recorded one whose first
    write is), else None."""
    base = scheme._base() if isinstance(scheme, _schemes.Recorded) else scheme
    if base is None or not getattr(base, "elementwise", False) or not hasattr(base, "plan"):
        return None
    return base.plan(shape)


def check_ranges(spec: CheckpointSpec, dtype=None) -> int:
    """Every tensor's parameters against the range of the dtype it is written in (`dtype`
    replacing the spec's default), as each fill would check them, before the first byte
    is written; returns the total size in bytes."""
    from .. import _limits
    default = spec.dtype if dtype is None else dtype
    total = 0
    for t in spec.tensors:
        dt = t.dtype or default
        shape = tuple(t.shape)
        total += math.prod(shape) * DTYPES[dt][0].itemsize
        plan = _range_plan(t.scheme, shape)
        if plan is None or plan[0] not in _limits.CHECKS:
            continue
        try:
            _limits.check(plan[0], plan[1], dt)
        except ValueError as exc:
            raise ValueError(f"tensor {t.name!r} ({dt}): {exc}") from None
    return total


# metadata keys weightinit writes itself and verify trusts
_RESERVED_METADATA = {"format", "weightinit.version", "weightinit.stream_contract", "weightinit.seed"}
_TOP_KEYS = {"seed", "dtype", "tensors", "metadata"}
_TENSOR_KEYS = {"name", "shape", "dtype", "scheme", "params"}


def _tensor_from_dict(i: int, d, name=None) -> TensorSpec:
    where = f"tensors[{i}]" if name is None else f"tensor {name!r}"
    if not isinstance(d, dict):
        raise TypeError(f"{where} must be a table/dict, got {type(d).__name__}")
    if name is None:
        if "name" not in d:
            raise ValueError(f"{where}: missing 'name'")
        name = d["name"]
    _check_name(name, where)
    unknown = set(d) - _TENSOR_KEYS
    if unknown:
        raise ValueError(f"tensor {name!r}: unknown key(s) {', '.join(sorted(unknown))} "
                         f"(allowed: {', '.join(sorted(_TENSOR_KEYS))})")
    if "shape" not in d:
        raise ValueError(f"tensor {name!r}: missing 'shape'")
    shape = _check_shape(d["shape"], name)
    dtype = d.get("dtype")
    if dtype is not None:
        dtype = resolve_dtype(dtype, f"tensor {name!r}: dtype")
    if "scheme" not in d:
        raise ValueError(f"tensor {name!r}: missing 'scheme'")
    return TensorSpec(name, shape, _make_scheme(name, d["scheme"], d.get("params")), dtype)


def parse_spec(d) -> CheckpointSpec:
    """A CheckpointSpec from a mapping (the parsed TOML/JSON document)."""
    if isinstance(d, CheckpointSpec):
        return d
    if not isinstance(d, dict):
        raise TypeError(f"spec must be a dict, a path or a CheckpointSpec, got {type(d).__name__}")
    unknown = set(d) - _TOP_KEYS
    if unknown:
        raise ValueError(f"spec: unknown key(s) {', '.join(sorted(unknown))} (allowed: {', '.join(sorted(_TOP_KEYS))})")
    raw = d.get("tensors")
    if isinstance(raw, dict):
        tensors = [_tensor_from_dict(i, v, name=k) for i, (k, v) in enumerate(raw.items())]
    elif isinstance(raw, list):
        tensors = [_tensor_from_dict(i, v) for i, v in enumerate(raw)]
    else:
        raise ValueError("spec: 'tensors' must be a list of tables or a table keyed by tensor name")
    if not tensors:
        raise ValueError("spec: 'tensors' is empty")
    return CheckpointSpec(tensors, seed=d.get("seed"), dtype=d.get("dtype", "float32"),
                          metadata=dict(d.get("metadata") or {}))


def load_spec(path) -> CheckpointSpec:
    """Read a spec from a .toml or .json file."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    data = read_regular(path, "spec file", limit=MAX_JSON_BYTES)
    if ext == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        try:
            doc = tomllib.loads(data.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: invalid TOML: {exc}") from None
        except RecursionError:
            raise ValueError(f"{path}: TOML nested too deeply") from None
    elif ext == ".json":
        try:
            doc = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: invalid JSON: {exc}") from None
        except RecursionError:
            raise ValueError(f"{path}: JSON nested too deeply") from None
    else:
        raise ValueError(f"spec file must end in .toml or .json, got {path!r}")
    try:
        return parse_spec(doc)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{path}: {exc}") from None
    except RecursionError:
        raise ValueError(f"{path}: nested too deeply") from None
