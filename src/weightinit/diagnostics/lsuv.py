"""LSUV, layer-sequential unit-variance initialization (Mishkin & Matas 2015,
"All you need is a good init", arXiv:1511.06422), framework-neutral.

A layer is any object with

* ``name`` (str),
* ``output()`` -> array: the layer's output (before its nonlinearity) on the reference
  batch, computed with the current weights (the per-layer forward callback); channel
  axis 1, as in torch (``(batch, features)`` or ``(batch, channels, ...)``),
* ``scale_(factor)``: multiply the layer's weight *and bias* by ``factor`` (so the
  output is scaled exactly),
* ``shift_(delta)``: add ``delta`` (one value per channel) to the bias; needed only for
  ``center=True``,
* ``pre_init_(scheme, seed)``: fill the weight with ``scheme``; needed only when
  ``pre_init`` is not None.

:func:`lsuv_mlp` adapts numpy weight matrices; ``weightinit.torch.lsuv_`` adapts torch
modules.
"""
from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

from .._checks import real
from ._nn import act_forward, check_activation, check_int, resolve_scheme

__all__ = ["LSUVLayerReport", "LSUVReport", "lsuv", "lsuv_mlp"]


@dataclasses.dataclass(frozen=True)
class LSUVLayerReport:
    name: str
    initial_var: float     #: output variance after pre-init, before rescaling
    initial_mean: float
    final_var: float       #: output variance when LSUV stopped
    final_mean: float
    iterations: int        #: rescaling steps taken
    total_scale: float     #: product of the factors applied to the weight
    converged: bool


@dataclasses.dataclass(frozen=True)
class LSUVReport:
    layers: tuple
    tol: float
    target_var: float
    pre_init: dict | None
    center: bool

    @property
    def converged(self):
        return all(r.converged for r in self.layers)

    def table(self):
        lines = [f"{'layer':<24} {'var before':>11} {'var after':>10} {'mean after':>11} {'iters':>5} {'scale':>9} ok"]
        for r in self.layers:
            lines.append(f"{r.name:<24} {r.initial_var:>11.4g} {r.final_var:>10.4g} {r.final_mean:>11.3g} "
                         f"{r.iterations:>5} {r.total_scale:>9.4g} {'yes' if r.converged else 'NO'}")
        return "\n".join(lines)


def _channel_mean(out):
    axes = tuple(i for i in range(out.ndim) if i != 1)
    return out.mean(axis=axes) if out.ndim > 1 else out.mean(keepdims=True)


def lsuv(layers, *, tol=0.1, max_iter=10, target_var=1.0, center=False, pre_init="orthogonal", seed=0):
    """Rescale layers, first to last, until each layer's output variance on the batch
    is ``target_var`` within relative tolerance ``tol`` (``|var/target - 1| < tol``).

    Algorithm (Mishkin & Matas 2015, Alg. 1): pre-initialize every weight with
    ``pre_init`` (orthonormal by default; None keeps the current weights), then for each
    layer in order: compute its output ``B`` on the batch; if ``center``, shift the bias
    by minus the per-channel mean of ``B``; scale weight and bias by
    ``sqrt(target_var / var(B))``; repeat until within ``tol`` (and, with ``center``,
    every channel mean within ``tol * sqrt(target_var)``) or ``max_iter`` steps.
    Layers whose output variance is 0 (or not finite) cannot be rescaled: they are left
    as they are, reported as not converged and a RuntimeWarning is issued, as for any
    layer that does not converge.

    Returns an :class:`LSUVReport`.
    """
    tol = real("tol", tol, positive=True)
    target_var = real("target_var", target_var, positive=True)
    max_iter = check_int(max_iter, "max_iter")
    if not isinstance(center, bool):
        raise TypeError(f"center must be a bool, got {type(center).__name__}")
    layers = list(layers)
    for i, layer in enumerate(layers):
        for attr in ("output", "scale_") + (("shift_",) if center else ()) + (("pre_init_",) if pre_init is not None else ()):
            if not callable(getattr(layer, attr, None)):
                raise TypeError(f"layers[{i}] ({getattr(layer, 'name', type(layer).__name__)}) has no {attr}() method")
    pre = None
    if pre_init is not None:
        scheme = resolve_scheme(pre_init, "pre_init")
        pre = scheme.to_dict() if hasattr(scheme, "to_dict") else {"name": repr(scheme)}
        for layer in layers:
            layer.pre_init_(scheme, seed)
    reports = []
    for layer in layers:
        out = np.asarray(layer.output(), dtype=np.float64)
        v0, m0 = float(out.var()), float(out.mean())
        total, it, converged = 1.0, 0, False
        var, mean = v0, m0
        while True:
            # with center=True, convergence also needs every channel mean within tol * target std
            centred = (not center) or float(np.max(np.abs(_channel_mean(out)))) <= tol * math.sqrt(target_var)
            if math.isfinite(var) and abs(var / target_var - 1.0) < tol and centred:
                converged = True
                break
            if it >= max_iter or not (math.isfinite(var) and var > 0):
                break
            if center:
                cm = _channel_mean(out)
                layer.shift_(-cm)
                shape = [1] * out.ndim
                if out.ndim > 1:
                    shape[1] = -1
                var_c = float((out - cm.reshape(shape)).var())
            else:
                var_c = var
            if not (math.isfinite(var_c) and var_c > 0):
                break
            f = math.sqrt(target_var / var_c)
            layer.scale_(f)
            total *= f
            it += 1
            out = np.asarray(layer.output(), dtype=np.float64)
            var, mean = float(out.var()), float(out.mean())
        if not converged:
            warnings.warn(f"LSUV: layer {layer.name} did not reach variance {target_var:g} within tol {tol:g} "
                          f"after {it} iterations (variance {var:.4g})", RuntimeWarning, stacklevel=2)
        reports.append(LSUVLayerReport(name=str(layer.name), initial_var=v0, initial_mean=m0, final_var=var,
                                       final_mean=mean, iterations=it, total_scale=total, converged=converged))
    return LSUVReport(layers=tuple(reports), tol=tol, target_var=target_var, pre_init=pre, center=center)


class _DenseLayer:
    """Layer i of a numpy MLP (weights[i] of shape (fan_out, fan_in)), modified in place."""

    def __init__(self, i, weights, biases, x, activation, slope):
        self.i, self.weights, self.biases, self.x = i, weights, biases, x
        self.activation, self.slope = activation, slope
        self.name = f"layer{i}"

    def output(self):
        h = self.x
        for j in range(self.i + 1):
            z = h @ self.weights[j].T + self.biases[j]
            h = act_forward(self.activation, z, self.slope)
        return z

    def scale_(self, factor):
        self.weights[self.i] *= factor
        self.biases[self.i] *= factor

    def shift_(self, delta):
        self.biases[self.i] += delta

    def pre_init_(self, scheme, seed):
        scheme.init_(self.weights[self.i], seed=seed, stream=f"layer{self.i}.weight")


def lsuv_mlp(weights, biases, x, activation="relu", *, slope=0.01, **kwargs):
    """:func:`lsuv` for a numpy MLP ``z_l = h_{l-1} W_l^T + b_l``, ``h_l = f(z_l)``:
    ``weights`` and ``biases`` are lists of float arrays, changed in place, ``x`` is
    the batch ``(n, fan_in)``. Keyword arguments go to :func:`lsuv`."""
    activation = check_activation(activation)
    weights, biases = list(weights), list(biases)
    if len(weights) != len(biases) or not weights:
        raise ValueError(f"weights and biases must be non-empty lists of equal length, got {len(weights)} and {len(biases)}")
    for i, (w, b) in enumerate(zip(weights, biases)):
        if not (isinstance(w, np.ndarray) and isinstance(b, np.ndarray)):
            raise TypeError(f"weights[{i}] and biases[{i}] must be numpy arrays")
        if w.ndim != 2 or b.shape != (w.shape[0],):
            raise ValueError(f"weights[{i}] must be 2-D (fan_out, fan_in) and biases[{i}] of shape (fan_out,), "
                             f"got {w.shape} and {b.shape}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != weights[0].shape[1]:
        raise ValueError(f"x must have shape (n, {weights[0].shape[1]}), got {x.shape}")
    layers = [_DenseLayer(i, weights, biases, x, activation, slope) for i in range(len(weights))]
    return lsuv(layers, **kwargs)
