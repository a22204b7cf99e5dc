"""TEMPORARY stand-in for `weightinit.schemes` until that module is on main.

Implements the agreed contract (get / from_dict / to_dict / std / init_ /
elementwise / fill_chunk_) for the elementwise schemes the checkpoint writer
and its presets need: normal, trunc_normal, uniform, zeros, ones, constant.
Delete this file (and the fallback import in spec.py) after rebasing on main.
"""
from __future__ import annotations

import math

from .._sampling import constant_, normal_, trunc_normal_, uniform_

_DEFAULTS = {
    "normal": {"mean": 0.0, "std": 1.0},
    "trunc_normal": {"mean": 0.0, "std": 1.0, "a": -2.0, "b": 2.0},
    "uniform": {"low": 0.0, "high": 1.0},
    "zeros": {},
    "ones": {},
    "constant": {"value": 0.0},
}


def _phi(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi) if math.isfinite(x) else 0.0


def _cdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


class _Scheme:
    elementwise = True

    def __init__(self, name, params):
        self.name = name
        self.params = params

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"

    def to_dict(self):
        return {"name": self.name, **self.params}

    def std(self, shape):
        p = self.params
        if self.name == "normal":
            return p["std"]
        if self.name == "uniform":
            return (p["high"] - p["low"]) / math.sqrt(12.0)
        if self.name == "trunc_normal":
            s = p["std"]
            al, be = (p["a"] - p["mean"]) / s, (p["b"] - p["mean"]) / s
            z = _cdf(be) - _cdf(al)
            t1 = ((al * _phi(al) if math.isfinite(al) else 0.0) - (be * _phi(be) if math.isfinite(be) else 0.0)) / z
            t2 = ((_phi(al) - _phi(be)) / z) ** 2
            return s * math.sqrt(max(0.0, 1.0 + t1 - t2))
        return 0.0

    def fill_chunk_(self, chunk, shape, offset, *, seed, stream, threads=None):
        p = self.params
        if self.name == "normal":
            return normal_(chunk, p["mean"], p["std"], seed=seed, stream=stream, offset=offset, threads=threads)
        if self.name == "trunc_normal":
            return trunc_normal_(chunk, p["mean"], p["std"], p["a"], p["b"], seed=seed, stream=stream,
                                 offset=offset, threads=threads)
        if self.name == "uniform":
            return uniform_(chunk, p["low"], p["high"], seed=seed, stream=stream, offset=offset, threads=threads)
        value = {"zeros": 0.0, "ones": 1.0}.get(self.name, p.get("value"))
        return constant_(chunk, value, threads=threads)

    def init_(self, out, *, seed, stream, threads=None):
        return self.fill_chunk_(out.reshape(-1), out.shape, 0, seed=seed, stream=stream, threads=threads)


def get(name, **overrides):
    if not isinstance(name, str):
        raise TypeError(f"scheme name must be a str, got {type(name).__name__} {name!r}")
    if name not in _DEFAULTS:
        raise ValueError(f"unknown scheme {name!r}; known: {', '.join(sorted(_DEFAULTS))}")
    unknown = set(overrides) - set(_DEFAULTS[name])
    if unknown:
        raise ValueError(f"scheme {name!r} has no parameter(s) {', '.join(sorted(unknown))}")
    params = dict(_DEFAULTS[name])
    for k, v in overrides.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"scheme {name!r} parameter {k} must be a real number, got {v!r}")
        params[k] = float(v)
    if name in ("normal", "trunc_normal") and not params["std"] >= 0:
        raise ValueError(f"scheme {name!r}: std must be non-negative, got {params['std']}")
    if name == "trunc_normal" and not params["a"] < params["b"]:
        raise ValueError(f"scheme 'trunc_normal': a must be less than b, got a={params['a']}, b={params['b']}")
    if name == "uniform" and not params["low"] < params["high"]:
        raise ValueError(f"scheme 'uniform': high must be greater than low, got {params}")
    return _Scheme(name, params)


def from_dict(d):
    if not isinstance(d, dict) or "name" not in d:
        raise ValueError(f"a scheme dict needs a 'name' key, got {d!r}")
    d = dict(d)
    return get(d.pop("name"), **d)
