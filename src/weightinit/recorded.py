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
import binascii
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

__all__ = ["Recorded", "leaves", "scheme_leaf", "constant_leaf", "values_leaf", "with_zero_rows", "constant_of",
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
MAX_DEPTH = 256         # nesting of a recorded value (init code records a few levels)
MAX_NDIM = 64
# the keys each operation needs besides "op" (a recorded value may come from an untrusted
# file: every node is checked before anything is evaluated)
_OPERANDS = {"prev": (), "arange": ("start", "step", "shape"), "values": ("shape", "data"),
             "clamp": ("x",), "reshape": ("x", "shape"), "expand": ("x", "shape"),
             "strided": ("x", "offset", "shape", "strides"), "permute": ("x", "dims"),
             **{op: ("x",) for op in UNARY}, **{op: ("x", "y") for op in BINARY}}


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


def leaves(node):
    """The scheme leaves of a recorded value, in order (the same dicts, not copies)."""
    if isinstance(node, dict):
        if "scheme" in node:
            yield node
        for key in ("x", "y"):
            yield from leaves(node.get(key))


def _is_leaf(node) -> bool:
    return isinstance(node, dict) and "scheme" in node


def constant_of(node):
    """The value of a constant leaf, else None."""
    if _is_leaf(node) and node["scheme"].get("name") in ("constant", "zeros", "ones"):
        return _leaf_scheme(node).value
    return None


def _ints(value, what: str, *, ndim=None) -> tuple:
    """A list of non-negative ints (a shape, strides, an offset list)."""
    if not isinstance(value, (list, tuple)) or len(value) > MAX_NDIM or any(
            isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in value):
        raise ValueError(f"{what} must be a list of at most {MAX_NDIM} non-negative ints, got {value!r:.200}")
    if ndim is not None and len(value) != ndim:
        raise ValueError(f"{what} has {len(value)} entries, expected {ndim}")
    return tuple(value)


def _number(value, what: str, *, allow_inf=False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value) or (
            math.isinf(value) and not allow_inf):
        raise ValueError(f"{what} must be a finite number, got {value!r:.200}")
    return float(value)


def check_node(node, depth: int = 0) -> None:
    """Raise ValueError unless `node` is a well-formed recorded value: known operations,
    every key they need with the right type, finite numbers, at most MAX_DEPTH levels."""
    if depth > MAX_DEPTH:
        raise ValueError(f"a recorded value is nested more than {MAX_DEPTH} levels deep")
    if not isinstance(node, dict):
        _number(node, "a recorded number")
        return
    if "scheme" in node:
        if not isinstance(node["scheme"], dict):
            raise ValueError(f"a recorded leaf's 'scheme' must be a dict, got {node['scheme']!r:.200}")
        _ints(node.get("shape"), "a recorded leaf's 'shape'")
        leaf = node.get("leaf", 0)
        if isinstance(leaf, bool) or not isinstance(leaf, int) or leaf < 0:
            raise ValueError(f"a recorded leaf's 'leaf' must be a non-negative int, got {leaf!r:.200}")
        if node["scheme"].get("name") == Recorded.name:
            raise ValueError("a recorded leaf cannot itself be a recorded scheme")
        try:
            _leaf_scheme(node)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"a recorded leaf's scheme is invalid: {exc}") from None
        return
    op = node.get("op")
    if op not in _OPERANDS:
        raise ValueError(f"unknown recorded operation {op!r:.100}")
    missing = [k for k in _OPERANDS[op] if k not in node]
    if missing:
        raise ValueError(f"recorded operation {op!r} lacks {', '.join(map(repr, missing))}")
    if "shape" in node:
        _ints(node["shape"], f"the shape of recorded operation {op!r}")
    if op == "arange":
        _number(node["start"], "arange's start")
        _number(node["step"], "arange's step")
        _ints(node["shape"], "arange's shape", ndim=1)
    elif op == "values":
        if not isinstance(node["data"], str):
            raise ValueError("a recorded literal's 'data' must be a base64 string")
        if math.prod(node["shape"]) > MAX_LITERAL:
            raise ValueError(f"a recorded literal of {math.prod(node['shape'])} elements is larger than "
                             f"{MAX_LITERAL}")
    elif op == "clamp":
        for k in ("min", "max"):
            if node.get(k) is not None:
                _number(node[k], f"clamp's {k}", allow_inf=True)
    elif op == "strided":
        if isinstance(node["offset"], bool) or not isinstance(node["offset"], int) or node["offset"] < 0:
            raise ValueError(f"strided's offset must be a non-negative int, got {node['offset']!r:.200}")
        _ints(node["strides"], "strided's strides", ndim=len(node["shape"]))
    elif op == "permute":
        _ints(node["dims"], "permute's dims")
    for k in ("x", "y"):
        if k in _OPERANDS[op]:
            check_node(node[k], depth + 1)


def _broadcast(a: tuple, b: tuple, what: str) -> tuple:
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        raise ValueError(f"{what}: shapes {a} and {b} do not broadcast") from None


def shape_of(node, target: tuple, limit: int) -> tuple:
    """The shape `evaluate(node, prev=<array of shape target>)` gives, for a node that
    passed check_node; ValueError if an operation does not fit its operands (a view
    beyond its source, a reshape that changes the size, ...) or any value has more
    than `limit` elements. Touches no tensor memory."""
    if not isinstance(node, dict):
        return ()
    if "scheme" in node:
        shape = tuple(node["shape"])
    else:
        op = node["op"]
        sx = shape_of(node["x"], target, limit) if "x" in _OPERANDS[op] else None
        if op == "prev":
            shape = target
        elif op in ("arange", "values"):
            shape = tuple(node["shape"])
        elif op in UNARY or op == "clamp":
            shape = sx
        elif op in BINARY:
            shape = _broadcast(sx, shape_of(node["y"], target, limit), f"recorded operation {op!r}")
        elif op == "reshape":
            shape = tuple(node["shape"])
            if math.prod(shape) != math.prod(sx):
                raise ValueError(f"a recorded reshape of {sx} to {shape} changes the number of elements")
        elif op == "expand":
            shape = tuple(node["shape"])
            if _broadcast(sx, shape, "a recorded expand") != shape:
                raise ValueError(f"a recorded expand of {sx} to {shape} is not a broadcast")
        elif op == "strided":
            shape = tuple(node["shape"])
            _strided_fits(node, math.prod(sx))
        else:   # permute
            if sorted(node["dims"]) != list(range(len(sx))):
                raise ValueError(f"recorded permute dims {node['dims']} are not a permutation of {len(sx)} axes")
            shape = tuple(sx[d] for d in node["dims"])
    if math.prod(shape) > limit:
        raise ValueError(f"a recorded value of {math.prod(shape)} elements is larger than the tensor it "
                         f"initializes allows ({limit})")
    return shape


def _strided_fits(node, source_size: int) -> None:
    """A strided view reads only elements of its source."""
    shape, strides, offset = node["shape"], node["strides"], node["offset"]
    if math.prod(shape) == 0:
        return
    last = offset + sum((n - 1) * st for n, st in zip(shape, strides))
    if last >= source_size:
        raise ValueError(f"a recorded strided view (offset {offset}, shape {list(shape)}, strides "
                         f"{list(strides)}) reads element {last} of a source of {source_size} elements")


def _literal(node) -> np.ndarray:
    """A recorded literal, decompressed to exactly its declared size and no further."""
    shape = tuple(node["shape"])
    expected = 8 * math.prod(shape)
    try:
        raw = base64.b64decode(node["data"], validate=True)
        z = zlib.decompressobj()
        data = z.decompress(raw, expected + 1)
    except (binascii.Error, zlib.error, ValueError) as exc:
        raise ValueError(f"a recorded literal's data is not valid base64 zlib data ({exc})") from None
    if len(data) != expected or not z.eof or z.unused_data:
        raise ValueError(f"a recorded literal's data does not hold exactly its {math.prod(shape)} float64 "
                         "values")
    return np.frombuffer(data, np.float64).reshape(shape).copy()


def _finite_result(op, result, *operands):
    """An operation that turns finite values into inf or NaN (log(-1), pow(10, 400))
    is refused rather than written."""
    if not np.all(np.isfinite(result)) and all(np.all(np.isfinite(v)) for v in operands):
        raise ValueError(f"recorded operation {op!r} gives a non-finite value from finite operands")
    return result


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
        return _literal(node)
    if op in UNARY:
        x = ev("x")
        with np.errstate(all="ignore"):
            return _finite_result(op, UNARY[op](x), x)
    if op in BINARY:
        x, y = ev("x"), ev("y")
        with np.errstate(all="ignore"):
            return _finite_result(op, BINARY[op](x, y), x, y)
    if op == "clamp":
        x = ev("x")
        lo, hi = node.get("min"), node.get("max")
        return np.clip(x, -np.inf if lo is None else lo, np.inf if hi is None else hi)
    if op == "reshape":
        return np.reshape(ev("x"), node["shape"])
    if op == "expand":
        return np.broadcast_to(ev("x"), node["shape"])
    if op == "strided":   # any view torch made of a value: offset and strides in elements
        flat = np.ascontiguousarray(ev("x"), dtype=np.float64).reshape(-1)
        _strided_fits(node, flat.size)   # checked before, and again here: as_strided trusts it
        flat = flat[node["offset"]:]
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
    try:
        if isinstance(value, str):
            value = json.loads(value)
        check_node(value)
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    except RecursionError:
        raise ValueError(f"a recorded value is nested more than {MAX_DEPTH} levels deep") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"a recorded value is not valid JSON ({exc})") from None
    if region is not None:
        if not isinstance(region, (list, tuple)) or len(region) > MAX_NDIM or not all(
                isinstance(b, (list, tuple)) and len(b) == 2 for b in region):
            raise ValueError(f"a recorded region must be a list of [start, stop] pairs, got {region!r:.200}")
        region = tuple(_ints(b, "a recorded region's [start, stop]") for b in region)
        if any(s > e for s, e in region):
            raise ValueError(f"a recorded region {[list(b) for b in region]} has a start after its stop")
    return region, text


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

    def check_shape_(self, shape) -> None:
        """Raise ValueError unless every write fits a tensor of `shape`: its region lies
        inside the tensor (as many dimensions), and its value has a shape that the
        region takes, no larger than the tensor allows. Nothing is evaluated."""
        shape = tuple(shape)
        cache = self.__dict__.setdefault("_fits", set())
        if shape in cache:
            return
        limit = max(math.prod(shape), MAX_LITERAL)
        for i, (region, node) in enumerate(self._parsed):
            if region is not None and (len(region) != len(shape) or any(e > n for (_, e), n in zip(region, shape))):
                raise ValueError(f"recorded write {i} has region {[list(b) for b in region]}, which does not lie "
                                 f"in a tensor of shape {shape}")
            target = shape if region is None else tuple(e - s for s, e in region)
            vshape = shape_of(node, target, limit)
            same_size = _is_leaf(node) and math.prod(vshape) == math.prod(target)
            if not same_size and _broadcast(vshape, target, f"recorded write {i}") != target:
                raise ValueError(f"recorded write {i} gives a value of shape {vshape} for a region of shape {target}")
        cache.add(shape)

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

    def _check_patches(self, out) -> None:
        """The constant patches against out's dtype, before anything is written."""
        from . import _limits
        dt = writable_buffer(out)[2]
        for _, node in self._parsed[1:]:
            value = constant_of(node)
            if value is not None:
                _limits.check("constant", (value,), dt)

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
        self.check_shape_(gs)
        self._check_patches(out)
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
        self.check_shape_(out.shape)
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
            value = evaluate(node, seed, stream, threads, prev=view.copy())
            if _is_leaf(node) and np.shape(value) != view.shape and np.size(value) == view.size:
                value = np.reshape(value, view.shape)   # the shape the init code saw, as plain writes do
            view[...] = value
        out[...] = work.astype(out.dtype)
        return out

    def fill_chunk_(self, chunk, shape, offset, *, seed, stream, threads=None):
        if not self.elementwise:
            raise TypeError("this recorded init is not elementwise: use init_ on the whole tensor")
        self.check_shape_(shape)
        self._check_patches(chunk)
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
