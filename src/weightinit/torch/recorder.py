"""Record what init code does to each tensor, without running it.

Under :class:`Recorder` (a ``TorchFunctionMode`` plus recording versions of the
``torch.nn.init`` functions), a model's own init code (``__init__``,
``reset_parameters``, transformers' ``_init_weights``) runs on meta tensors: no
memory, no sampling. Every write it makes to a tensor (``torch.nn.init.*``,
``Tensor.normal_/uniform_/zero_/fill_/copy_``, in-place arithmetic, ``t[i] = v``) is
kept per storage as a region and a value expression (:mod:`weightinit.recorded`);
temporaries the code computes on the way (``torch.rand(n) * c``, ``torch.arange``,
``exp``, ``clamp``, ...) are followed symbolically. :meth:`Recorder.scheme` then
turns a tensor's writes into a weightinit scheme: a plain one (``normal(std=0.02)``)
when a single write covers it, a :class:`~weightinit.recorded.Recorded` otherwise.

What cannot be followed (a QR of a temporary, ``bernoulli_``, advanced-index
writes, ...) is kept as the name of the call, and asking for that tensor's scheme
raises :class:`RecordError` naming the tensor and the call: never a silent guess.

Threads: a Recorder records only the thread that entered it. The ``torch.nn.init``
functions are replaced, while any Recorder is open in any thread, by one dispatcher
each that hands a call to the innermost Recorder open in the calling thread (torch's
own function when there is none), and put back when the last one closes; the
``TorchFunctionMode`` stack is torch's thread-local one.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
import itertools
import math
import numbers
import sys
import threading

import torch
from torch.overrides import TorchFunctionMode

from .. import schemes as _s
from ..recorded import UNARY, Recorded, constant_of, scheme_leaf, values_leaf, leaves as recorded_leaves

__all__ = ["Recorder", "RecordError"]


class RecordError(ValueError):
    """Init code did something the recorder cannot express as a weightinit scheme."""


def _key(t) -> int:
    return t.untyped_storage()._cdata


def _c_strides(shape):
    return tuple(math.prod(shape[i + 1:]) for i in range(len(shape)))


class _Content:
    """What is known about one storage: its base shape and the writes made to it."""
    __slots__ = ("shape", "steps")

    def __init__(self, shape, steps=None):
        self.shape = tuple(shape)
        self.steps = steps or []        # [(region or None, value node)]

    def value(self):
        if len(self.steps) == 1 and self.steps[0][0] is None:
            return self.steps[0][1]
        if not self.steps:
            return _opaque("a tensor that nothing wrote")
        return _opaque("a temporary written in parts")


def _opaque(why):
    return {"op": "opaque", "call": why}


def _region(t, base_shape):
    """None when `t` covers its storage's base whole and in order, else the box
    ([start, stop) per base dimension) it views; ValueError for other views."""
    n = math.prod(base_shape)
    off, strides = t.storage_offset(), t.stride()
    if off == 0 and t.numel() == n and t.is_contiguous():
        return None
    base_strides = _c_strides(base_shape)
    start = []
    rest = off
    for st in base_strides:
        start.append(rest // st if st else 0)
        rest = rest % st if st else rest
    box = [[s, s + 1] for s in start]
    last = -1
    for size, st in zip(t.shape, strides):
        if size == 1:
            continue
        d = next((d for d in range(last + 1, len(base_shape)) if base_strides[d] == st and base_shape[d] > 1), None)
        if d is None or start[d] + size > base_shape[d]:
            raise ValueError("a strided or permuted view")
        box[d] = [start[d], start[d] + size]
        last = d
    if math.prod(e - s for s, e in box) != t.numel():
        raise ValueError("a strided or permuted view")
    return box


def _num(x):
    """A Python float for numbers and 0-d real tensors, else None."""
    if isinstance(x, bool):
        return float(x)
    if isinstance(x, numbers.Real):
        return float(x)
    return None


# ---------------------------------------------------------------- torch.nn.init -> schemes

def _vs(gain_sq, mode, dist):
    return _s.Constant(0.0) if gain_sq == 0 else _s.VarianceScaling(gain_sq, mode, dist)


def _kaiming(dist):
    def make(a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
        gain = _s.calculate_gain(nonlinearity, a)
        return _vs(gain * gain, _s._kaiming_mode(mode), dist)
    return make


_NN_INIT = {
    "uniform_": lambda a=0.0, b=1.0, generator=None: _s.Constant(a) if a == b else _s.Uniform(a, b),
    "normal_": lambda mean=0.0, std=1.0, generator=None: _s.Constant(mean) if std == 0 else _s.Normal(mean, std),
    "trunc_normal_": lambda mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None: _s.TruncatedNormal(mean, std, a, b),
    "constant_": lambda val: _s.Constant(val),
    "ones_": lambda: _s.Constant(1.0),
    "zeros_": lambda: _s.Constant(0.0),
    "eye_": lambda: _s.Eye(),
    "dirac_": lambda groups=1: _s.Dirac(groups),
    "xavier_uniform_": lambda gain=1.0, generator=None: _vs(gain * gain, "fan_avg", "uniform"),
    "xavier_normal_": lambda gain=1.0, generator=None: _vs(gain * gain, "fan_avg", "normal"),
    "kaiming_uniform_": _kaiming("uniform"),
    "kaiming_normal_": _kaiming("normal"),
    "orthogonal_": lambda gain=1, generator=None: _s.Orthogonal(gain),
    "sparse_": lambda sparsity, std=0.01, generator=None: _s.Sparse(sparsity, std),
}
# modules that bind torch.nn.init functions by name (``from torch.nn.init import ...``)
_BINDERS = ("torch.nn.init", "torch.nn.modules.activation", "torch.nn.modules.transformer",
            "torch.nn.modules.linear", "torch.nn.modules.conv", "torch.nn.modules.normalization",
            "torch.nn.modules.rnn", "torch.nn.modules.sparse", "torch.nn.modules.batchnorm")

_RANDOM_FACTORIES = {"rand": _s.Uniform(0.0, 1.0), "rand_like": _s.Uniform(0.0, 1.0),
                     "randn": _s.Normal(0.0, 1.0), "randn_like": _s.Normal(0.0, 1.0)}
_CONST_FACTORIES = {"zeros": 0.0, "zeros_like": 0.0, "new_zeros": 0.0, "ones": 1.0, "ones_like": 1.0,
                    "new_ones": 1.0}
_EMPTY_FACTORIES = {"empty", "empty_like", "new_empty", "empty_strided"}
_COPIES = {"contiguous", "clone", "to", "float", "double", "half", "bfloat16", "type_as", "cpu"}
_REVERSED = {"__radd__": "add", "__rsub__": "sub", "__rmul__": "mul", "__rtruediv__": "div", "__rpow__": "pow"}
_BINARY_NAMES = {"add": "add", "__add__": "add", "sub": "sub", "subtract": "sub", "__sub__": "sub",
                 "mul": "mul", "multiply": "mul", "__mul__": "mul", "div": "div", "divide": "div",
                 "true_divide": "div", "__truediv__": "div", "pow": "pow", "__pow__": "pow",
                 "maximum": "maximum", "minimum": "minimum"}
_UNARY_NAMES = {**{n: n for n in UNARY}, "__neg__": "neg", "negative": "neg"}
_INPLACE_ARITH = {"mul_": "mul", "__imul__": "mul", "div_": "div", "__itruediv__": "div",
                  "add_": "add", "__iadd__": "add", "sub_": "sub", "__isub__": "sub", "pow_": "pow"}
_INPLACE_UNARY = {n + "_": n for n in UNARY}
_CLAMPS = {"clamp": ("min", "max"), "clip": ("min", "max"), "clamp_min": ("min", None), "clamp_max": (None, "max")}


# ---------------------------------------------------------------- torch.nn.init, per thread
#
# The torch.nn.init functions are module attributes, shared by every thread, whereas a
# Recorder (a TorchFunctionMode) is open in one thread only. So they are replaced once,
# while any Recorder is open anywhere, by dispatchers that look up the calling thread's
# own Recorders. (Each Recorder patching them itself made a second thread's Recorder
# wrap the first one's function, so the first thread's calls on meta tensors were
# recorded by the second Recorder and lost to its own, and Recorders closed out of
# order left torch.nn.init patched for good.)

_open = threading.local()          # .recorders: the Recorders open in this thread, innermost last
_patch_lock = threading.Lock()
_patch_users = 0                   # Recorders open in all threads
_patched = []                      # (namespace, name, original, dispatcher, is a dict)


def _open_recorders() -> list:
    recs = getattr(_open, "recorders", None)
    if recs is None:
        recs = _open.recorders = []
    return recs


def _dispatcher(name, orig):
    sig = inspect.signature(orig)

    @functools.wraps(orig)
    def dispatch(tensor, *args, **kwargs):
        for rec in reversed(getattr(_open, "recorders", ())):
            if rec._tracks(tensor):
                return rec._record_init(name, sig, tensor, args, kwargs)
        return orig(tensor, *args, **kwargs)
    dispatch.__module__ = __name__
    dispatch._weightinit_dispatcher = True
    return dispatch


def _install_dispatchers():
    for name in _NN_INIT:
        orig = getattr(torch.nn.init, name)
        while getattr(orig, "_weightinit_dispatcher", False):   # one kept by code that imported it
            orig = orig.__wrapped__
        fn = _dispatcher(name, orig)
        for modname in _BINDERS:
            mod = sys.modules.get(modname)
            if mod is not None and getattr(mod, name, None) is orig:
                setattr(mod, name, fn)
                _patched.append((mod, name, orig, fn, False))
        table = getattr(sys.modules.get("transformers.initialization"), "TORCH_INIT_FUNCTIONS", None)
        if isinstance(table, dict) and table.get(name) is orig:
            table[name] = fn
            _patched.append((table, name, orig, fn, True))


def _remove_dispatchers():
    while _patched:
        ns, name, orig, fn, is_dict = _patched.pop()
        if is_dict:
            if ns.get(name) is fn:
                ns[name] = orig
        elif getattr(ns, name, None) is fn:   # (another library's patch made since is left alone)
            setattr(ns, name, orig)


def _acquire_dispatchers():
    global _patch_users
    with _patch_lock:
        if _patch_users == 0:
            try:
                _install_dispatchers()
            except BaseException:
                _remove_dispatchers()
                raise
        _patch_users += 1


def _release_dispatchers():
    global _patch_users
    with _patch_lock:
        _patch_users -= 1
        if _patch_users == 0:
            _remove_dispatchers()


class Recorder(TorchFunctionMode):
    """Records init code's writes (see the module docstring). Use as a context
    manager around model construction and/or init calls, then ask :meth:`scheme`.
    It records the thread that entered it; Recorders in other threads are independent."""

    def __init__(self):
        super().__init__()
        self._contents = {}     # storage key -> _Content
        self._keep = []         # tensors whose storage keys are in use (keys must not be reused)
        self._uids = itertools.count(1)
        self._claimed = {}      # random leaf uid -> tensor name that drew it

    # ------------------------------------------------------------ entering

    def __enter__(self):
        _acquire_dispatchers()
        try:
            out = super().__enter__()
        except BaseException:
            _release_dispatchers()
            raise
        _open_recorders().append(self)
        return out

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            recs = _open_recorders()
            for i in range(len(recs) - 1, -1, -1):
                if recs[i] is self:
                    del recs[i]
                    break
            _release_dispatchers()

    def _record_init(self, name, sig, tensor, args, kwargs):
        """Record the call torch.nn.init.`name`(tensor, *args, **kwargs) on a tracked tensor."""
        bound = sig.bind(tensor, *args, **kwargs).arguments
        params = {k: v for k, v in bound.items() if k != next(iter(sig.parameters))}
        if tensor.numel() == 0:
            return tensor
        self._write(tensor, self._leaf(_NN_INIT[name](**params), tensor.shape), f"torch.nn.init.{name}")
        return tensor

    def _tracks(self, t) -> bool:
        return isinstance(t, torch.Tensor) and (t.is_meta or _key(t) in self._contents)

    # ------------------------------------------------------------ values

    def _leaf(self, scheme, shape):
        leaf = scheme_leaf(scheme, tuple(shape))
        leaf["uid"] = next(self._uids)
        return leaf

    def _new(self, t, node):
        """`t` is a fresh tensor whose whole value is `node`."""
        if not isinstance(t, torch.Tensor):
            return
        steps = [] if node is None else [(None, node)]
        if t.storage_offset() == 0 and t.is_contiguous():
            self._contents[_key(t)] = _Content(t.shape, steps)
        elif node is not None and node.get("op") == "opaque":   # any layout: it is opaque anyway
            self._contents[_key(t)] = _Content((t.untyped_storage().nbytes() // t.element_size(),), steps)
        else:
            return
        self._keep.append(t)

    def _value(self, x):
        """The value node of an operand: a number, or an expression."""
        n = _num(x)
        if n is not None:
            return n
        if not isinstance(x, torch.Tensor):
            return _opaque(f"a {type(x).__name__} operand")
        c = self._contents.get(_key(x))
        if c is None:
            if x.is_meta:
                return _opaque("a tensor whose values were never recorded")
            if x.numel() == 1 and x.ndim == 0:
                return float(x.item())
            return values_leaf(x.detach().to("cpu", torch.float64).numpy())
        base = c.value()
        if x.storage_offset() == 0 and x.is_contiguous() and x.numel() == math.prod(c.shape):
            if tuple(x.shape) == c.shape:
                return base
            return {"op": "reshape", "x": base, "shape": list(x.shape)}
        return {"op": "strided", "x": base, "offset": x.storage_offset(), "shape": list(x.shape),
                "strides": list(x.stride())}

    def _write(self, t, node, call):
        """Record that `call` wrote `node` into the tensor or view `t`."""
        key = _key(t)
        c = self._contents.get(key)
        if c is None:
            base = t if t.storage_offset() == 0 and t.is_contiguous() else None
            shape = tuple(base.shape) if base is not None else (t.untyped_storage().nbytes() // t.element_size(),)
            c = self._contents[key] = _Content(shape)
            self._keep.append(t)
        try:
            region = _region(t, c.shape)
        except ValueError as exc:
            c.steps.append((None, _opaque(f"{call} on {exc}")))
            return
        if node is None:
            return
        if region is None:
            if list(t.shape) != list(c.shape) and isinstance(node, dict) and "scheme" not in node:
                node = {"op": "reshape", "x": node, "shape": list(c.shape)}
            if isinstance(node, dict) and node.get("op") == "opaque" or not _reads_prev(node):
                c.steps = []
            c.steps.append((None, node))
        else:
            shape = [e - s for s, e in region]
            if isinstance(node, dict) and "scheme" not in node and node.get("shape") not in (None, shape):
                node = {"op": "reshape", "x": node, "shape": shape}
            c.steps.append((region, node))

    # ------------------------------------------------------------ the mode

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        first = args[0] if args else None
        if isinstance(first, torch.Tensor) and self._tracks(first):
            handled = self._inplace(name, first, args[1:], kwargs)
            if handled is not NotImplemented:
                return handled
        out = func(*args, **kwargs)
        try:
            self._propagate(name, args, kwargs, out)
        except Exception:  # noqa: BLE001 - recording must never break the init code itself
            pass
        return out

    def _inplace(self, name, t, rest, kwargs):
        """Record an in-place write to the tracked `t`; NotImplemented if `name` is not one."""
        call = f"Tensor.{name}"
        if name == "normal_":
            mean, std = _args(rest, kwargs, ("mean", 0.0), ("std", 1.0))
            scheme = _s.Constant(mean) if std == 0 else _s.Normal(mean, std)
            self._write(t, self._leaf(scheme, t.shape), call)
        elif name == "uniform_":
            lo, hi = _args(rest, kwargs, ("from", 0.0), ("to", 1.0))
            self._write(t, self._leaf(_s.Constant(lo) if lo == hi else _s.Uniform(lo, hi), t.shape), call)
        elif name in ("zero_", "fill_"):
            v = 0.0 if name == "zero_" else self._value(_args(rest, kwargs, ("value", None))[0])
            node = self._leaf(_s.Constant(v), t.shape) if isinstance(v, float) else v
            self._write(t, node, call)
        elif name == "copy_":
            self._write(t, self._value(_args(rest, kwargs, ("src", None))[0]), call)
        elif name in _INPLACE_ARITH:
            other = _args(rest, kwargs, ("other", None))[0]
            alpha = kwargs.get("alpha", 1)
            y = self._value(other)
            if alpha != 1:
                y = y * alpha if isinstance(y, float) else {"op": "mul", "x": y, "y": float(alpha)}
            self._write(t, {"op": _INPLACE_ARITH[name], "x": _prev(t), "y": y, "shape": list(t.shape)}, call)
        elif name in _INPLACE_UNARY:
            self._write(t, {"op": _INPLACE_UNARY[name], "x": _prev(t), "shape": list(t.shape)}, call)
        elif name in ("clamp_", "clip_", "clamp_min_", "clamp_max_"):
            lo_key, hi_key = _CLAMPS[name[:-1]]
            vals = _args(rest, kwargs, *[(k, None) for k in (lo_key, hi_key) if k])
            lo = vals[0] if lo_key else None
            hi = vals[-1] if hi_key else None
            self._write(t, {"op": "clamp", "x": _prev(t), "min": _num(lo), "max": _num(hi),
                            "shape": list(t.shape)}, call)
        elif name == "__setitem__":
            index, value = rest[0], rest[1]
            with torch.no_grad():
                view = t.__getitem__(index)
            if _key(view) != _key(t):
                self._write(t, _opaque(f"{call} with advanced indexing"), call)
            else:
                v = self._value(value)
                node = self._leaf(_s.Constant(v), view.shape) if isinstance(v, float) else v
                self._write(view, node, call)
        elif name.endswith("_") and not name.startswith("_") and name not in ("requires_grad_", "share_memory_",
                                                                                "retain_grad_", "record_stream_"):
            self._write(t, _opaque(call), call)
        else:
            return NotImplemented
        return t

    def _propagate(self, name, args, kwargs, out):
        """Follow the value of `out` when it is a fresh tensor computed from tracked
        operands (or a factory); views need nothing: they are read through their storage."""
        if isinstance(out, (tuple, list)):    # several results (a QR, a split): followed as views, else opaque
            inputs = [a for a in _flat(args, kwargs) if isinstance(a, torch.Tensor)]
            if any(_key(a) in self._contents for a in inputs):
                for o in out:
                    if isinstance(o, torch.Tensor) and all(_key(o) != _key(a) for a in inputs):
                        self._new(o, _opaque(f"the result of {name}"))
            return
        if not isinstance(out, torch.Tensor):
            return
        if name in _RANDOM_FACTORIES:
            self._new(out, self._leaf(_RANDOM_FACTORIES[name], out.shape))
            return
        if name in _CONST_FACTORIES or name in ("full", "full_like", "new_full"):
            v = _CONST_FACTORIES.get(name)
            if v is None:
                fill = kwargs.get("fill_value", args[1] if len(args) > 1 else None)
                v = _num(fill)
            self._new(out, None if v is None else self._leaf(_s.Constant(v), out.shape))
            return
        if name in _EMPTY_FACTORIES:
            self._new(out, None)
            return
        if name in ("arange", "linspace") and out.is_meta:
            nums = [_num(a) for a in args if not isinstance(a, (torch.dtype, torch.device))]
            if name == "arange":
                start, end, step = (0.0, nums[0], 1.0) if len(nums) == 1 else (nums + [1.0])[:3]
            else:
                start, end, steps = (nums + [kwargs.get("steps")])[:3]
                step = (end - start) / (steps - 1) if steps and steps > 1 else 0.0
            self._new(out, {"op": "arange", "start": start, "step": step, "shape": [out.numel()]})
            return
        tensors = [a for a in _flat(args, kwargs) if isinstance(a, torch.Tensor)]
        tracked = [a for a in tensors if _key(a) in self._contents]
        if not tracked or any(_key(out) == _key(a) for a in tensors):
            return   # untracked inputs, or a view of an input
        shape = list(out.shape)
        if name in _COPIES:
            self._new(out, self._value(args[0]))
        elif name in _UNARY_NAMES:
            self._new(out, {"op": _UNARY_NAMES[name], "x": self._value(args[0]), "shape": shape})
        elif name in _BINARY_NAMES or name in _REVERSED:
            x, y = args[0], kwargs.get("other", args[1] if len(args) > 1 else None)
            if name in _REVERSED:
                x, y = y, x
            op = _BINARY_NAMES.get(name) or _REVERSED[name]
            yv = self._value(y)
            alpha = kwargs.get("alpha", 1)
            if alpha != 1:
                yv = {"op": "mul", "x": yv, "y": float(alpha), "shape": shape}
            self._new(out, {"op": op, "x": self._value(x), "y": yv, "shape": shape})
        elif name in _CLAMPS:
            lo_key, hi_key = _CLAMPS[name]
            vals = _args(args[1:], kwargs, *[(k, None) for k in (lo_key, hi_key) if k])
            lo = vals[0] if lo_key else None
            hi = vals[-1] if hi_key else None
            self._new(out, {"op": "clamp", "x": self._value(args[0]), "min": _num(lo), "max": _num(hi),
                            "shape": shape})
        elif name == "pad" and constant_of(self._value(args[0])) == _num(
                kwargs.get("value", args[3] if len(args) > 3 else 0.0) or 0.0):
            # constant padding of a constant (transformers pads a tied bias this way)
            self._new(out, self._leaf(_s.Constant(constant_of(self._value(args[0]))), out.shape))
        elif name in ("expand", "expand_as", "broadcast_to"):
            self._new(out, {"op": "expand", "x": self._value(args[0]), "shape": shape})
        else:
            self._new(out, _opaque(f"the result of {name}"))

    # ------------------------------------------------------------ results

    def scheme(self, tensor, name: str):
        """The weightinit scheme of everything recorded for `tensor` (named `name` in
        errors); RecordError when nothing wrote it or a write cannot be expressed."""
        c = self._contents.get(_key(tensor))
        if c is None or not c.steps:
            raise RecordError(f"tensor {name!r}: the model's init code never writes it")
        steps = _fold(c.steps)
        leaves = []
        for region, node in steps:
            bad = _find_opaque(node)
            if bad is not None:
                raise RecordError(f"tensor {name!r}: the init code calls {bad}, which weightinit cannot record")
            leaves.extend(recorded_leaves(node))
        k = itertools.count()
        for leaf in leaves:
            uid = leaf.pop("uid", None)
            if _is_random(leaf):
                owner = self._claimed.setdefault(uid, name)
                if uid is not None and owner != name:
                    raise RecordError(f"tensor {name!r}: the init code copies random values that "
                                      f"{owner!r} also holds, which weightinit cannot record")
                leaf["leaf"] = next(k)
            else:
                leaf["leaf"] = 0
        if len(steps) == 1 and steps[0][0] is None and "scheme" in steps[0][1] \
                and tuple(steps[0][1]["shape"]) == c.shape:
            return _s.from_dict(dict(steps[0][1]["scheme"]))
        return Recorded([{"region": r, "value": v} for r, v in steps])


# ---------------------------------------------------------------- helpers

def _prev(t):
    return {"op": "prev", "shape": list(t.shape)}


def _reads_prev(node) -> bool:
    if not isinstance(node, dict):
        return False
    if node.get("op") == "prev":
        return True
    return any(_reads_prev(v) for k, v in node.items() if k in ("x", "y"))


def _find_opaque(node):
    if not isinstance(node, dict):
        return None
    if node.get("op") == "opaque":
        return node["call"]
    for k in ("x", "y"):
        bad = _find_opaque(node.get(k))
        if bad is not None:
            return bad
    return None


def _is_random(leaf) -> bool:
    return leaf["scheme"].get("name") not in ("constant", "zeros", "ones", "eye", "dirac")


def _scheme_of(leaf):
    return _s.from_dict(dict(leaf["scheme"]))


def _fold_leaf(leaf, op, c):
    """`leaf op c` (op: add, sub, mul, div; c a number) as one scheme leaf when the
    law allows it, else None."""
    s = _scheme_of(leaf)
    if op == "sub":
        op, c = "add", -c
    elif op == "div":
        if c == 0:
            return None
        op, c = "mul", 1.0 / c
    if op == "mul" and c == 0:
        return None
    new = None
    if isinstance(s, _s.Constant):
        new = _s.Constant(s.value * c if op == "mul" else s.value + c)
    elif isinstance(s, _s.Normal):
        new = _s.Normal(s.mean * c, abs(s.stddev * c)) if op == "mul" else _s.Normal(s.mean + c, s.stddev)
    elif isinstance(s, _s.Uniform):
        new = _s.Uniform(*sorted((s.low * c, s.high * c))) if op == "mul" else _s.Uniform(s.low + c, s.high + c)
    elif isinstance(s, _s.TruncatedNormal):
        new = _s.TruncatedNormal(s.mean * c, abs(s.stddev * c), *sorted((s.a * c, s.b * c))) if op == "mul" \
            else _s.TruncatedNormal(s.mean + c, s.stddev, s.a + c, s.b + c)
    elif isinstance(s, _s.VarianceScaling) and op == "mul":   # zero-mean and symmetric: c only scales
        new = dataclasses.replace(s, scale=s.scale * c * c)
    return None if new is None else {**leaf, "scheme": new.to_dict()}


def _simplify(node):
    """Fold scalar arithmetic into scheme leaves and constants, bottom up."""
    if not isinstance(node, dict) or "scheme" in node:
        return node
    node = {k: (_simplify(v) if k in ("x", "y") else v) for k, v in node.items()}
    op, x, y = node.get("op"), node.get("x"), node.get("y")
    if op == "neg":
        op, y = "mul", -1.0
    if op in ("add", "mul") and isinstance(x, float):   # commutative: the number second
        x, y = y, x
    if op in ("add", "sub", "mul", "div") and _is_leaf(x) and isinstance(y, float):
        folded = _fold_leaf(x, op, y)
        if folded is not None and folded["shape"] == node["shape"]:
            return folded
    if op == "reshape" and _is_leaf(x) and not _fan_based(x) and math.prod(node["shape"]) == math.prod(x["shape"]):
        return {**x, "shape": list(node["shape"])}
    return node


def _is_leaf(node) -> bool:
    return isinstance(node, dict) and "scheme" in node


def _fan_based(leaf) -> bool:
    return leaf["scheme"].get("name") in ("variance_scaling", "orthogonal", "delta_orthogonal", "eye", "dirac",
                                          "sparse")


def _substitute_prev(node, value):
    if not isinstance(node, dict):
        return node
    if node.get("op") == "prev":
        return value
    return {k: (_substitute_prev(v, value) if k in ("x", "y") else v) for k, v in node.items()}


def _fold(steps):
    """Simplified steps: a write that transforms the previous write of the same region
    in place (``w.normal_(); w.mul_(c)``) is merged into it."""
    out = []
    for region, node in steps:
        node = _simplify(node)
        if out and _reads_prev(node) and out[-1][0] == region and not _reads_prev(out[-1][1]):
            merged = _simplify(_substitute_prev(node, out[-1][1]))
            out[-1] = (region, merged)
            continue
        out.append((region, node))
    return out


def _args(rest, kwargs, *spec):
    """Positional-or-keyword values for (name, default) pairs."""
    vals = []
    for i, (k, default) in enumerate(spec):
        v = rest[i] if i < len(rest) else kwargs.get(k, default)
        vals.append(v)
    return vals


def _flat(args, kwargs):
    for a in itertools.chain(args, kwargs.values()):
        if isinstance(a, (list, tuple)):
            yield from a
        else:
            yield a

