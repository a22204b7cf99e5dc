"""Recorded initializations: what a model's own init code did to one tensor, as data.

A :class:`Recorded` scheme is the list of writes that init code (``_init_weights``,
``reset_parameters``) made to a tensor, in order, each one a *region* (the whole
tensor, or a box: one ``[start, stop)`` per dimension, such as the zeroed
``padding_idx`` row of an embedding) and a *value*: an expression whose leaves are
weightinit schemes, constants, ``arange`` and literal values, combined by
elementwise arithmetic (``log``, ``exp``, ``clamp``, ``+``, ``*``, ...) and
``prev`` (the region's value before the write, for in-place ``mul_`` and the like).
It serializes to JSON (``to_dict``), so a checkpoint records exactly how each
tensor was made. :mod:`weightinit.torch.recorder` produces these from torch code.

Random leaves draw from the tensor's stream: leaf 0 from ``stream`` itself (so a
tensor written once by ``normal_`` equals the plain normal scheme bit for bit), leaf
``k > 0`` from ``substream(stream, "recorded.k")``. Expressions are evaluated in
float64 and rounded once to the output dtype; writes of plain scheme leaves are
filled directly in the output dtype, and a whole-tensor elementwise scheme plus
constant patches can be filled chunk by chunk (``elementwise``).
"""
from __future__ import annotations

import base64
import functools
import json
import math
import numbers
import zlib
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ._buffers import writable_buffer
from ._regions import resolve_block
from ._streams import resolve_seed, substream
from .fans import check_shape
from .schemes import Scheme

__all__ = ["Recorded", "scheme_leaf", "constant_leaf", "values_leaf", "with_zero_rows", "constant_of",
           "UNARY", "BINARY", "box_indices"]

UNARY = {
    "neg": np.negative, "exp": np.exp, "log": np.log, "expm1": np.expm1, "log1p": np.log1p,
    "sqrt": np.sqrt, "rsqrt": lambda x: 1.0 / np.sqrt(x), "abs": np.abs, "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)), "reciprocal": lambda x: 1.0 / x,
    "sin": np.sin, "cos": np.cos, "square": np.square,
}
BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
          "pow": np.power, "maximum": np.maximum, "minimum": np.minimum}
MAX_LITERAL = 1 << 22   # elements of a literal value stored in a checkpoint's metadata


# ---------------------------------------------------------------- leaves

def scheme_leaf(scheme, shape, leaf=0) -> dict:
    return {"scheme": scheme.to_dict(), "shape": list(shape), "leaf": leaf}


def constant_leaf(value, shape) -> dict:
    return {"scheme": {"name": "constant", "value": float(value)}, "shape": list(shape), "leaf": 0}


def values_leaf(array) -> dict:
    """A literal array (deterministic values the init code computed), compressed."""
    a = np.ascontiguousarray(array, dtype=np.float64)
    if a.size > MAX_LITERAL:
        raise ValueError(f"a literal value of {a.size} elements is too large to record (at most {MAX_LITERAL})")
    data = base64.b64encode(zlib.compress(a.tobytes(), 6)).decode("ascii")
    return {"op": "values", "shape": list(a.shape), "data": data}


def _leaf_scheme(node):
    from . import schemes
    return schemes.from_dict(dict(node["scheme"]))


def _is_leaf(node) -> bool:
    return isinstance(node, dict) and "scheme" in node


def constant_of(node):
    """The value of a constant leaf, else None."""
    if _is_leaf(node) and node["scheme"].get("name") in ("constant", "zeros", "ones"):
        return _leaf_scheme(node).value
    return None


def _leaf_stream(stream, leaf: int):
    return stream if leaf == 0 else substream(stream, f"recorded.{leaf}")


# ---------------------------------------------------------------- evaluation

def evaluate(node, seed, stream, threads=None, prev=None) -> np.ndarray:
    """float64 array of the expression `node` (a number is returned as is)."""
    if isinstance(node, numbers.Real):
        return node
    if _is_leaf(node):
        out = np.empty(node["shape"], np.float64)
        _leaf_scheme(node).init_(out, seed=seed, stream=_leaf_stream(stream, node["leaf"]), threads=threads)
        return out
    op = node["op"]
    ev = lambda key: evaluate(node[key], seed, stream, threads, prev)  # noqa: E731
    if op == "prev":
        if prev is None:
            raise ValueError("a recorded value reads the tensor before anything wrote it")
        return prev
    if op == "arange":
        return node["start"] + node["step"] * np.arange(node["shape"][0], dtype=np.float64)
    if op == "values":
        raw = zlib.decompress(base64.b64decode(node["data"]))
        return np.frombuffer(raw, np.float64).reshape(node["shape"]).copy()
    if op in UNARY:
        with np.errstate(all="ignore"):
            return UNARY[op](ev("x"))
    if op in BINARY:
        with np.errstate(all="ignore"):
            return BINARY[op](ev("x"), ev("y"))
    if op == "clamp":
        x = ev("x")
        lo, hi = node.get("min"), node.get("max")
        return np.clip(x, -np.inf if lo is None else lo, np.inf if hi is None else hi)
    if op == "reshape":
        return np.reshape(ev("x"), node["shape"])
    if op == "expand":
        return np.broadcast_to(ev("x"), node["shape"])
    if op == "strided":   # any view torch made of a value: offset and strides in elements
        flat = np.ascontiguousarray(ev("x"), dtype=np.float64).reshape(-1)[node["offset"]:]
        return np.lib.stride_tricks.as_strided(flat, node["shape"], [st * 8 for st in node["strides"]]).copy()
    if op == "permute":
        return np.transpose(ev("x"), node["dims"])
    raise ValueError(f"unknown recorded operation {op!r}")


def box_indices(shape, box, lo: int, hi: int) -> np.ndarray:
    """Ascending flat indices (C order) of the elements of `box` ([start, stop) per
    dimension) of a tensor of `shape` that lie in [lo, hi)."""
    strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]
    s_last, run = box[-1][0], box[-1][1] - box[-1][0]
    starts = np.array([s_last], np.int64)
    for (s, e), st in zip(box[:-1], strides[:-1]):
        starts = (starts[:, None] + np.arange(s, e, dtype=np.int64) * st).ravel()
    starts = np.sort(starts)
    starts = starts[(starts + run > lo) & (starts < hi)]
    idx = (starts[:, None] + np.arange(run, dtype=np.int64)).ravel()
    return idx[(idx >= lo) & (idx < hi)]


def _box_slices(box):
    return tuple(slice(s, e) for s, e in box)


def _mean(scheme):
    from . import schemes as s
    if isinstance(scheme, s.Normal):
        return scheme.mean
    if isinstance(scheme, s.Uniform):
        return (scheme.low + scheme.high) / 2
    if isinstance(scheme, (s.VarianceScaling, s.Constant)):
        return getattr(scheme, "value", 0.0)
    return None


# ---------------------------------------------------------------- the scheme

def _canonical_step(step):
    if isinstance(step, dict):
        unknown = set(step) - {"region", "value"}
        if unknown or "value" not in step:
            raise ValueError(f"a recorded step is a dict with 'region' and 'value', got keys {sorted(step)}")
        region, value = step.get("region"), step["value"]
    else:
        region, value = step
    if isinstance(value, str):
        value = json.loads(value)
    if region is not None:
        region = tuple((int(s), int(e)) for s, e in region)
    return region, json.dumps(value, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Recorded(Scheme):
    """The writes a model's init code made to one tensor (see the module docstring).

    `steps` is a sequence of ``{"region": [[start, stop], ...] or None, "value": expr}``.
    """

    steps: tuple = ()
    name: ClassVar[str] = "recorded"

    def __post_init__(self):
        if isinstance(self.steps, (str, bytes)) or not isinstance(self.steps, (list, tuple)) or not self.steps:
            raise ValueError("steps must be a non-empty list of recorded writes")
        object.__setattr__(self, "steps", tuple(_canonical_step(s) for s in self.steps))

    # parsed steps: [(region, node)]
    @functools.cached_property
    def _parsed(self):
        """[(region, value node)], parsed once (the scheme is frozen)."""
        return [(r, json.loads(v)) for r, v in self.steps]

    def to_dict(self) -> dict:
        return {"name": self.name, "steps": [{"region": None if r is None else [list(b) for b in r], "value": v}
                                             for r, v in self._parsed]}

    def _base(self):
        """The scheme of a first write that covers the whole tensor with a plain leaf, else None."""
        region, node = self._parsed[0]
        return _leaf_scheme(node) if region is None and _is_leaf(node) else None

    def _base_then_constants(self, kind: str) -> bool:
        """A first write over the whole tensor by a scheme that is `kind` ('elementwise',
        'blocks'), then constant patches only."""
        base = self._base()
        return bool(base is not None and getattr(base, kind, False) and all(
            constant_of(node) is not None for _, node in self._parsed[1:]))

    @property
    def elementwise(self) -> bool:
        """True when chunks can be filled alone: a whole-tensor elementwise scheme,
        then constant patches."""
        return self._base_then_constants("elementwise")

    @property
    def blocks(self) -> bool:
        """True when a block of the tensor can be filled alone (``init_`` with
        ``global_shape=``): a first write over the whole tensor by a scheme that fills
        blocks (elementwise, orthogonal, eye, ...), then constant patches."""
        return self._base_then_constants("blocks")

    def _init_block(self, out, seed, stream, threads, gs, start):
        """The block of the whole result: the base scheme's block, then each constant
        patch box intersected with the block (the patches in their recorded order)."""
        if not self.blocks:
            raise ValueError("this recorded init cannot fill a block (global_shape=): it needs a first write "
                             "over the whole tensor by a scheme that fills blocks, then constant patches only")
        steps = self._parsed
        base_node = steps[0][1]
        if tuple(base_node["shape"]) != gs:
            raise ValueError(f"this recorded init wrote the tensor as shape {tuple(base_node['shape'])}, not its "
                             f"global_shape {gs}: a block of it is not supported")
        seed = resolve_seed(seed)
        _leaf_scheme(base_node).init_(out, seed=seed, stream=_leaf_stream(stream, base_node["leaf"]),
                                      threads=threads, global_shape=gs, offset=start)
        for region, node in steps[1:]:
            box = tuple((0, n) for n in gs) if region is None else region
            lo = [max(b, s) for (b, _), s in zip(box, start)]
            hi = [min(e, s + n) for (_, e), s, n in zip(box, start, out.shape)]
            if any(a >= b for a, b in zip(lo, hi)):
                continue
            tmp = np.empty([b - a for a, b in zip(lo, hi)], out.dtype)   # the constant in out's dtype,
            _leaf_scheme(node).init_(tmp, seed=seed, stream=stream, threads=threads)   # as init_ writes it
            out[tuple(slice(a - s, b - s) for a, b, s in zip(lo, hi, start))] = tmp
        return out

    def std(self, shape):
        shape = check_shape(shape)
        base = self._base()
        if base is None:
            return None
        patches = self._parsed[1:]
        if not patches:
            return base.std(shape)
        n, m = math.prod(shape), _mean(base)
        boxes = [r for r, _ in patches]
        if not self.elementwise or m is None or n == 0 or None in boxes or _overlap(boxes):
            return None
        s = base.std(shape)
        counts = [math.prod(e - b for b, e in box) for box in boxes]
        rest = n - sum(counts)
        values = [constant_of(node) for _, node in patches]
        mean = (rest * m + sum(c * v for c, v in zip(counts, values))) / n
        second = rest * (s * s + m * m) + sum(c * v * v for c, v in zip(counts, values))
        return math.sqrt(max(second / n - mean * mean, 0.0))

    def init_(self, out, *, seed=None, stream=0, threads=None, global_shape=None, offset=None):
        """Fill `out`; with `global_shape` (and `offset`, start indices) `out` is that
        block of the whole tensor (see ``blocks`` for which recorded inits allow it)."""
        writable_buffer(out)
        region = resolve_block(out, global_shape, offset)
        if region is not None:
            return self._init_block(out, seed, stream, threads, *region)
        seed = resolve_seed(seed)
        steps = self._parsed
        if all(_is_leaf(node) for _, node in steps):   # plain writes: straight into out's dtype
            for region, node in steps:
                scheme, st = _leaf_scheme(node), _leaf_stream(stream, node["leaf"])
                target = out if region is None else out[_box_slices(region)]
                if region is None and tuple(node["shape"]) == out.shape:
                    scheme.init_(out, seed=seed, stream=st, threads=threads)
                else:   # the shape the init code saw (fans come from it), then into place
                    tmp = np.empty(node["shape"], out.dtype)
                    scheme.init_(tmp, seed=seed, stream=st, threads=threads)
                    target[...] = tmp.reshape(target.shape)
            return out
        work = np.full(out.shape, np.nan)
        for region, node in steps:
            view = work if region is None else work[_box_slices(region)]
            view[...] = evaluate(node, seed, stream, threads, prev=view.copy())
        out[...] = work.astype(out.dtype)
        return out

    def fill_chunk_(self, chunk, shape, offset, *, seed, stream, threads=None):
        if not self.elementwise:
            raise TypeError("this recorded init is not elementwise: use init_ on the whole tensor")
        steps = self._parsed
        _leaf_scheme(steps[0][1]).fill_chunk_(chunk, shape, offset, seed=seed, stream=stream, threads=threads)
        flat = chunk.reshape(-1)
        for region, node in steps[1:]:
            idx = box_indices(tuple(shape), region, offset, offset + flat.size)
            flat[idx - offset] = constant_of(node)
        return chunk


def _overlap(boxes) -> bool:
    return any(all(max(a[0], b[0]) < min(a[1], b[1]) for a, b in zip(x, y))
               for i, x in enumerate(boxes) for y in boxes[i + 1:])


def with_zero_rows(base, shape, rows) -> Recorded:
    """`base` over the whole tensor of `shape`, then zeros in the given rows (dim 0):
    an embedding with its padding row zeroed."""
    shape = check_shape(shape)
    steps = [{"region": None, "value": scheme_leaf(base, shape)}]
    for r in rows:
        if not 0 <= r < shape[0]:
            raise ValueError(f"row {r} is outside a tensor of shape {shape}")
        box = [[r, r + 1]] + [[0, d] for d in shape[1:]]
        steps.append({"region": box, "value": constant_leaf(0.0, [1, *shape[1:]])})
    return Recorded(steps)
