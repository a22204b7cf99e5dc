"""TEMPORARY stand-in for ``weightinit.schemes`` / ``compute_fans`` / ``calculate_gain``
until the ``schemes`` branch is merged. Delete this file after rebasing and import
``weightinit.schemes`` directly (every use goes through ``schemes`` below).

It implements only the contract the diagnostics need: ``schemes.get(name, **overrides)``
returning an immutable object with ``init_(out, *, seed, stream, threads=None)``,
``std(shape)`` and ``to_dict()``, and ``schemes.from_dict(d)``.
"""
from __future__ import annotations

import math
import types

try:  # the real thing, once merged
    from weightinit import schemes as _real_schemes  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on merge state
    _real_schemes = None


def _compute_fans(shape):
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError(f"shape must have at least 2 dimensions to compute fans, got {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _calculate_gain(nonlinearity, param=None):
    if nonlinearity in ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        a = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + a * a))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(f"nonlinearity must be a supported activation, got {nonlinearity!r}")


class _Scheme:
    __slots__ = ("_name", "_params")

    def __init__(self, name, params):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_params", dict(params))

    def __setattr__(self, k, v):
        raise AttributeError("schemes are immutable")

    @property
    def name(self):
        return self._name

    def std(self, shape):
        import numpy as np  # noqa: F401
        n, p = self._name, self._params
        if n in ("zeros", "ones", "constant"):
            return 0.0
        if n == "normal":
            return float(p.get("std", 1.0))
        if n == "uniform":
            return (float(p.get("high", 1.0)) - float(p.get("low", 0.0))) / math.sqrt(12.0)
        fan_in, fan_out = _compute_fans(shape)
        gain = float(p.get("gain", 1.0))
        if n in ("he_normal", "he_uniform"):
            return math.sqrt(2.0 / fan_in)
        if n in ("xavier_normal", "xavier_uniform"):
            return gain * math.sqrt(2.0 / (fan_in + fan_out))
        if n == "lecun_normal":
            return math.sqrt(1.0 / fan_in)
        if n == "orthogonal":
            rows = shape[0]
            cols = math.prod(shape[1:])
            return gain * math.sqrt(min(rows, cols) / (rows * cols))
        raise ValueError(f"unknown scheme {n!r}")

    def init_(self, out, *, seed, stream, threads=None):
        import weightinit as wi
        n, p = self._name, self._params
        if n == "zeros":
            return wi.zeros_(out, threads=threads)
        if n == "ones":
            return wi.ones_(out, threads=threads)
        if n == "constant":
            return wi.constant_(out, p.get("value", 0.0), threads=threads)
        if n == "uniform":
            return wi.uniform_(out, p.get("low", 0.0), p.get("high", 1.0), seed=seed, stream=stream, threads=threads)
        if n == "orthogonal":
            from weightinit.orthogonal import orthogonal_
            return orthogonal_(out, p.get("gain", 1.0), seed=seed, stream=stream, threads=threads)
        s = self.std(out.shape)
        if n.endswith("_uniform"):
            b = math.sqrt(3.0) * s
            return wi.uniform_(out, -b, b, seed=seed, stream=stream, threads=threads)
        return wi.normal_(out, 0.0, s, seed=seed, stream=stream, threads=threads)

    def to_dict(self):
        return {"name": self._name, **self._params}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"Scheme({self._name!r}{', ' if args else ''}{args})"

    def __eq__(self, other):
        return isinstance(other, _Scheme) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash((self._name, tuple(sorted(self._params.items()))))


_NAMES = {"he_normal", "he_uniform", "xavier_normal", "xavier_uniform", "lecun_normal", "orthogonal",
          "normal", "uniform", "zeros", "ones", "constant"}


def _get(name, **overrides):
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in _NAMES:
        raise ValueError(f"unknown scheme name {name!r}; known: {', '.join(sorted(_NAMES))}")
    return _Scheme(name, overrides)


def _from_dict(d):
    d = dict(d)
    return _get(d.pop("name"), **d)


if _real_schemes is not None:  # pragma: no cover
    schemes = _real_schemes
    from weightinit import calculate_gain, compute_fans  # type: ignore[attr-defined]
else:
    schemes = types.SimpleNamespace(get=_get, from_dict=_from_dict)
    compute_fans = _compute_fans
    calculate_gain = _calculate_gain
