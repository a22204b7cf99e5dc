"""Numpy building blocks shared by the diagnostics and the experiments:
activations with their derivatives and a plain multi-layer perceptron
(torch weight layout: ``W`` has shape ``(fan_out, fan_in)``, ``z = h @ W.T + b``)."""
from __future__ import annotations

import math
import numbers

import numpy as np

#: Xavier-style Gaussian with variance 1/fan_in (the RNN note's sqrt(1/fan_in) scaling)
XAVIER_FAN_IN = {"name": "variance_scaling", "scale": 1.0, "mode": "fan_in", "distribution": "normal"}

ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu", "gelu")

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_GELU_C = math.sqrt(2.0 / math.pi)


def check_activation(activation, name="activation"):
    if not isinstance(activation, str):
        raise TypeError(f"{name} must be a str, got {type(activation).__name__} {activation!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"{name} must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    return activation


def act_forward(activation, z, slope=0.01):
    """h = f(z). gelu is the tanh approximation (torch's approximate='tanh')."""
    if activation == "linear":
        return z.copy()
    if activation == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    if activation == "tanh":
        return np.tanh(z)
    if activation == "relu":
        return np.maximum(z, 0.0)
    if activation == "leaky_relu":
        return np.where(z > 0, z, slope * z)
    if activation == "selu":
        return _SELU_SCALE * np.where(z > 0, z, _SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))
    if activation == "gelu":
        return 0.5 * z * (1.0 + np.tanh(_GELU_C * (z + 0.044715 * z**3)))
    raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")


def act_derivative(activation, z, h, slope=0.01):
    """f'(z), given z and h = f(z)."""
    if activation == "linear":
        return np.ones_like(z)
    if activation == "sigmoid":
        return h * (1.0 - h)
    if activation == "tanh":
        return 1.0 - h * h
    if activation == "relu":
        return (z > 0).astype(z.dtype)
    if activation == "leaky_relu":
        return np.where(z > 0, 1.0, slope).astype(z.dtype)
    if activation == "selu":
        return np.where(z > 0, _SELU_SCALE, h + _SELU_SCALE * _SELU_ALPHA).astype(z.dtype)
    if activation == "gelu":
        u = _GELU_C * (z + 0.044715 * z**3)
        t = np.tanh(u)
        return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * _GELU_C * (1.0 + 3 * 0.044715 * z * z)
    raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")


def check_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_widths(widths, name="widths"):
    try:
        widths = list(widths)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of ints, got {type(widths).__name__}") from None
    if len(widths) < 2:
        raise ValueError(f"{name} must have at least 2 entries (input width and one layer), got {widths}")
    return [check_int(w, f"{name}[{i}]") for i, w in enumerate(widths)]


def resolve_scheme(spec, name):
    """A scheme object from a name, a dict (``to_dict`` form) or a scheme object."""
    from .. import schemes
    if isinstance(spec, str):
        return schemes.get(spec)
    if isinstance(spec, dict):
        if "name" not in spec:
            raise ValueError(f"{name} as a dict needs a 'name' key, got {spec!r}")
        return schemes.from_dict(spec)
    if hasattr(spec, "init_") and callable(spec.init_):
        return spec
    raise TypeError(f"{name} must be a scheme name, a scheme dict or a scheme object, "
                    f"got {type(spec).__name__} {spec!r}")


def scheme_label(d):
    """Short human-readable label of a scheme dict (``to_dict`` form)."""
    if not isinstance(d, dict):
        return str(d)
    name = d.get("name", "?")
    if name == "variance_scaling":
        return f"variance_scaling(scale={d.get('scale', 1.0):g}, {d.get('mode', '?')}, {d.get('distribution', '?')})"
    params = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in d.items() if k != "name")
    return f"{name}({params})" if params else name


def per_layer(spec, n, name):
    """Broadcast one scheme spec to n layers, or check a list of n specs."""
    if isinstance(spec, (list, tuple)):
        if len(spec) != n:
            raise ValueError(f"{name} must have one entry per layer ({n}), got {len(spec)}")
        return [resolve_scheme(s, f"{name}[{i}]") for i, s in enumerate(spec)]
    s = resolve_scheme(spec, name)
    return [s] * n


class MLP:
    """Dense layers ``z_l = h_{l-1} @ W_l.T + b_l``, ``h_l = f(z_l)``.

    ``output_activation=False`` leaves the last layer linear (logits)."""

    def __init__(self, weights, biases, activation, *, output_activation=True, slope=0.01):
        self.weights = weights
        self.biases = biases
        self.activation = activation
        self.output_activation = output_activation
        self.slope = slope

    @classmethod
    def build(cls, widths, activation, schemes_, bias_scheme, *, seed, dtype=np.float64,
              output_activation=True, slope=0.01, prefix="layer"):
        weights, biases = [], []
        for i, (fi, fo) in enumerate(zip(widths[:-1], widths[1:])):
            w = np.empty((fo, fi), dtype)
            schemes_[i].init_(w, seed=seed, stream=f"{prefix}{i}.weight")
            b = np.empty((fo,), dtype)
            bias_scheme.init_(b, seed=seed, stream=f"{prefix}{i}.bias")
            weights.append(w)
            biases.append(b)
        return cls(weights, biases, activation, output_activation=output_activation, slope=slope)

    def _act(self, i):
        last = i == len(self.weights) - 1
        return "linear" if (last and not self.output_activation) else self.activation

    def forward(self, x):
        """Returns (zs, hs) with hs[0] = x and hs[l+1] = f(zs[l])."""
        hs, zs = [x], []
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = hs[-1] @ w.T + b
            zs.append(z)
            hs.append(act_forward(self._act(i), z, self.slope))
        return zs, hs

    def backward(self, zs, hs, grad_out):
        """Gradients (dW, db, dh) given dL/d(last h); dh[l] = dL/dh_l for l = 0..L."""
        n = len(self.weights)
        dws, dbs, dhs = [None] * n, [None] * n, [None] * (n + 1)
        g = grad_out
        dhs[n] = g
        for i in range(n - 1, -1, -1):
            dz = g * act_derivative(self._act(i), zs[i], hs[i + 1], self.slope)
            dws[i] = dz.T @ hs[i]
            dbs[i] = dz.sum(axis=0)
            g = dz @ self.weights[i]
            dhs[i] = g
        return dws, dbs, dhs
