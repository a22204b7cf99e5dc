"""Initialization schemes as immutable, serializable values.

A scheme says how a tensor is initialized, independently of any buffer: it can
compute the std it produces for a shape, fill a numpy array, and round-trip
through JSON (``to_dict`` / ``from_dict``), which is what checkpoint writers record.

Elementwise schemes (uniform, normal, truncated normal, variance scaling,
constant) give element ``i`` a value that depends only on (seed, stream, i,
shape, parameters, dtype), so they can also fill any chunk of a tensor
(``fill_chunk_``) bit for bit as the whole fill would.

>>> import numpy as np
>>> from weightinit import schemes
>>> s = schemes.get("he_normal", mode="fan_out")
>>> w = s.init_(np.empty((256, 128), np.float32), seed=0)
>>> schemes.from_dict(s.to_dict()) == s
True
"""
from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from . import _sampling, _scheme_text
from ._buffers import complex_parts, writable_buffer
from ._checks import real as _real
from ._regions import resolve_block
from ._streams import resolve_seed, stream_id, substream
from .fans import LAYOUTS, calculate_gain, check_shape, compute_fans, warn_if_empty

__all__ = [
    "Scheme", "VarianceScaling", "Uniform", "Normal", "TruncatedNormal", "Constant",
    "Orthogonal", "DeltaOrthogonal", "Eye", "Dirac", "Sparse", "Recorded",
    "get", "available", "from_dict", "TRUNCATED_NORMAL_STD",
]

# Std of a standard normal truncated to [-2, 2]: scipy.stats.truncnorm.std(-2, 2).
TRUNCATED_NORMAL_STD = 0.87962566103423978

_MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
_DISTRIBUTIONS = ("normal", "truncated_normal", "uniform")


# ---------------------------------------------------------------- validation helpers

def _choice(name, value, options):
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}")
    return value


def _axis_spec(name, value, *, allow_none=True):
    """int, tuple of ints (stored as a tuple so the scheme stays hashable), or None."""
    if value is None and allow_none:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (tuple, list)) and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        return tuple(int(v) for v in value)
    raise TypeError(f"{name} must be an int or a tuple of ints, got {type(value).__name__} {value!r}")


def _writable(out, name="out"):
    """Element count of a writable float array, or of a complex one (elementwise
    schemes fill complex outputs; see VarianceScaling)."""
    parts = complex_parts(out, name)
    return writable_buffer(out if parts is None else parts, name)[1] // (1 if parts is None else 2)


def _check_chunk(chunk, shape, offset):
    n = _writable(chunk, "chunk")
    shape = check_shape(shape)
    if isinstance(offset, bool) or not isinstance(offset, numbers.Integral) or offset < 0:
        raise ValueError(f"offset must be a non-negative int, got {offset!r}")
    total = math.prod(shape)
    if offset + n > total:
        raise ValueError(f"chunk [offset={offset}, offset+size={offset + n}) lies outside "
                         f"a tensor of shape {shape} ({total} elements)")
    return shape


# ---------------------------------------------------------------- base classes

class Scheme:
    """Base of all schemes. Subclasses are frozen dataclasses whose fields are the
    parameters that ``to_dict`` records."""

    name: ClassVar[str]
    elementwise: ClassVar[bool] = False
    blocks: ClassVar[bool] = False      # init_ takes global_shape= and offset= (a block of the tensor)

    def std(self, shape) -> float:
        """Std of the values this scheme produces for a tensor of `shape`."""
        raise NotImplementedError

    def init_(self, out, *, seed=None, stream=0, threads=None):
        """Fill the whole numpy array `out` in place and return it."""
        raise NotImplementedError

    def fill_chunk_(self, chunk, shape, offset, *, seed, stream, threads=None):
        raise TypeError(f"{type(self).__name__} is not elementwise: element values depend on the "
                        "whole tensor, so it cannot fill a chunk; use init_ on the whole tensor")

    def to_dict(self) -> dict:
        """JSON-able dict ``{"name": ..., **params}`` with ``get(name, **params) == self``:
        the parameters are the initializer's keyword names (``std``, not ``stddev``)."""
        d = {"name": self.name}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            d[_DICT_KEYS.get(f.name, f.name)] = list(v) if isinstance(v, tuple) else v
        return d


# Dataclass fields named differently from the initializer keywords (std is the method).
_DICT_KEYS = {"stddev": "std"}


class _Elementwise(Scheme):
    """A scheme that is one call to the sampling core with shape-dependent parameters."""

    elementwise: ClassVar[bool] = True
    blocks: ClassVar[bool] = True
    warn_empty: ClassVar[bool] = False  # fan-based schemes warn on zero-element tensors, as torch

    def plan(self, shape) -> tuple[str, tuple]:
        """(distribution, parameters) for `shape`: 'uniform' (low, high), 'normal'
        (mean, std), 'trunc_normal' (mean, std, a, b) or 'constant' (value,)."""
        raise NotImplementedError

    def init_(self, out, *, seed=None, stream=0, threads=None, global_shape=None, offset=None):
        """Fill `out`; with `global_shape` (and `offset`, its start indices) `out` is that
        block of the tensor of `global_shape`: fans, gains and bounds come from the
        global shape and the values equal the block of the whole tensor bit for bit."""
        _writable(out)
        region = resolve_block(out, global_shape, offset)
        if region is not None:
            if self.warn_empty and warn_if_empty(region[0]):   # a block of an empty tensor, as the whole fill
                return out
            return self._fill(out, *region, seed, stream, threads, block=True)
        if self.warn_empty and warn_if_empty(out.shape):
            return out
        self._fill(out.reshape(-1), out.shape, 0, seed, stream, threads)
        return out

    def fill_chunk_(self, chunk, shape, offset, *, seed, stream, threads=None):
        """Fill the flat `chunk` with elements [offset, offset + chunk.size) of the
        tensor of `shape`; equal bit for bit to the same elements of ``init_``."""
        shape = _check_chunk(chunk, shape, offset)
        if seed is None:
            raise ValueError("seed must be given for a chunked fill (seed=None draws a new seed per chunk)")
        if chunk.size == 0:
            return chunk
        self._fill(chunk.reshape(-1), shape, offset, seed, stream, threads)
        return chunk

    def _fill(self, out, shape, offset, seed, stream, threads, block=False):
        """Fill `out` with the elements of the tensor of `shape` from flat index `offset`
        (`out` flat), or, with `block`, the block at start indices `offset`."""
        dist, params = self.plan(shape)
        if dist == "constant":
            resolve_seed(seed), stream_id(stream)  # same argument checks as the random ones
            _sampling.constant_(out, params[0], threads=threads)
        else:
            getattr(_sampling, dist + "_")(out, *params, seed=seed, stream=stream, offset=offset, threads=threads,
                                           global_shape=shape if block else None)
        return out


# ---------------------------------------------------------------- elementwise schemes

@dataclass(frozen=True)
class VarianceScaling(_Elementwise):
    r"""Zero-mean values with variance ``scale / n``, where ``n`` is a fan of the shape.

    ``n`` is fan_in, fan_out, their mean (``fan_avg``) or their geometric mean
    (``fan_geo_avg``), from :func:`weightinit.compute_fans` with ``layout``,
    ``in_axis``, ``out_axis`` and ``batch_axis``. Distributions:

    - ``"uniform"``: :math:`U(-b, b)` with :math:`b = \sqrt{3\,\text{scale}/n}`;
    - ``"normal"``: :math:`N(0, \text{scale}/n)`;
    - ``"truncated_normal"``: a normal truncated at ±2 of its std σ, with
      :math:`\sigma = \sqrt{\text{scale}/n} / 0.8796...` so that the std after
      truncation is :math:`\sqrt{\text{scale}/n}` (as JAX and Keras).

    Every Glorot/Xavier, He/Kaiming and LeCun initializer is one of these.
    Reference: He et al., "Delving deep into rectifiers", ICCV 2015.
    """

    scale: float = 1.0
    mode: str = "fan_in"
    distribution: str = "truncated_normal"
    layout: str = "torch"
    in_axis: int | tuple | None = None
    out_axis: int | tuple | None = None
    batch_axis: int | tuple = ()

    name: ClassVar[str] = "variance_scaling"
    warn_empty: ClassVar[bool] = True

    def __post_init__(self):
        s = object.__setattr__
        s(self, "scale", _real("scale", self.scale, positive=True))
        _choice("mode", self.mode, _MODES)
        _choice("distribution", self.distribution, _DISTRIBUTIONS)
        _choice("layout", self.layout, tuple(LAYOUTS))
        s(self, "in_axis", _axis_spec("in_axis", self.in_axis))
        s(self, "out_axis", _axis_spec("out_axis", self.out_axis))
        batch = _axis_spec("batch_axis", self.batch_axis, allow_none=False)
        s(self, "batch_axis", (batch,) if isinstance(batch, int) else batch)

    def fan(self, shape) -> float:
        fan_in, fan_out = compute_fans(shape, self.layout, in_axis=self.in_axis,
                                       out_axis=self.out_axis, batch_axis=self.batch_axis)
        return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
                "fan_geo_avg": math.sqrt(fan_in * fan_out)}[self.mode]

    def std(self, shape) -> float:
        n = self.fan(shape)
        if n == 0:
            raise ValueError(f"{self.mode} of shape {tuple(shape)} is 0: the std is undefined")
        return math.sqrt(self.scale / n)

    def _fill(self, out, shape, offset, seed, stream, threads, block=False):
        """Complex outputs follow JAX: E|z|^2 = scale / n, "normal" circular,
        "uniform" uniform on a disk, "truncated_normal" circular with |z| truncated
        at 2 (normalized exactly; JAX's constant 0.9531 leaves E|z|^2 1.9% high)."""
        if self.distribution == "normal" or complex_parts(out) is None:
            return super()._fill(out, shape, offset, seed, stream, threads, block)
        std = self.std(shape)
        kw = dict(seed=seed, stream=stream, offset=offset, threads=threads, global_shape=shape if block else None)
        if self.distribution == "uniform":
            return _sampling._disk_(out, math.sqrt(2.0) * std, **kw)      # E|z|^2 = R^2 / 2
        return _sampling._disk_trunc_normal_(out, std, 2.0, **kw)

    def plan(self, shape):
        std = self.std(shape)
        if self.distribution == "uniform":
            bound = math.sqrt(3.0) * std
            return "uniform", (-bound, bound)
        if self.distribution == "normal":
            return "normal", (0.0, std)
        sigma = std / TRUNCATED_NORMAL_STD
        return "trunc_normal", (0.0, sigma, -2.0 * sigma, 2.0 * sigma)


@dataclass(frozen=True)
class Uniform(_Elementwise):
    """Uniform on [low, high)."""

    low: float = 0.0
    high: float = 1.0
    name: ClassVar[str] = "uniform"

    def __post_init__(self):
        object.__setattr__(self, "low", _real("low", self.low))
        object.__setattr__(self, "high", _real("high", self.high))
        if not self.high > self.low:
            raise ValueError(f"high must be greater than low, got low={self.low}, high={self.high}")

    def std(self, shape) -> float:
        return (self.high - self.low) / math.sqrt(12.0)

    def plan(self, shape):
        return "uniform", (self.low, self.high)


@dataclass(frozen=True)
class Normal(_Elementwise):
    """Normal N(mean, std²)."""

    mean: float = 0.0
    stddev: float = 1.0
    name: ClassVar[str] = "normal"

    def __post_init__(self):
        object.__setattr__(self, "mean", _real("mean", self.mean))
        object.__setattr__(self, "stddev", _real("std", self.stddev, nonneg=True))

    def std(self, shape) -> float:
        return self.stddev

    def plan(self, shape):
        return "normal", (self.mean, self.stddev)


def _truncnorm_std(alpha: float, beta: float) -> float:
    """Std of a standard normal truncated to [alpha, beta]."""
    if alpha + beta > 0:  # mirror into the lower tail, where erfc is accurate
        alpha, beta = -beta, -alpha
    if beta < -5.0:       # deep in the tail the closed form cancels, then divides 0 by 0
        return _tail_truncnorm_std(alpha, beta)
    phi = lambda x: 0.0 if math.isinf(x) else math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    cdf = lambda x: 0.5 * math.erfc(-x / math.sqrt(2.0))
    z = cdf(beta) - cdf(alpha)
    xa = 0.0 if math.isinf(alpha) else alpha * phi(alpha)
    xb = 0.0 if math.isinf(beta) else beta * phi(beta)
    m = (phi(alpha) - phi(beta)) / z
    return math.sqrt(max(1.0 + (xa - xb) / z - m * m, 0.0))


def _tail_truncnorm_std(alpha: float, beta: float) -> float:
    """The same for beta < -5, by quadrature in t = x - beta: the density is
    exp(c t - t^2/2) on [alpha - beta, 0] with c = -beta, the constant exp(-beta^2/2)
    left out (it cancels); nothing over- or underflows however far out the interval
    lies. Beyond 80/c below beta the weight is under e^-80 and is dropped."""
    c = -beta
    span = min(beta - alpha, 80.0 / c)
    nodes, weights = np.polynomial.legendre.leggauss(64)
    edges = np.linspace(-span, 0.0, 9)
    half, mid = (edges[1:] - edges[:-1])[:, None] / 2, (edges[1:] + edges[:-1])[:, None] / 2
    t = (half * nodes + mid).ravel()
    w = (half * weights).ravel() * np.exp(c * t - 0.5 * t * t)
    mean = float(np.dot(w, t) / w.sum())
    return math.sqrt(float(np.dot(w, (t - mean) ** 2) / w.sum()))


@dataclass(frozen=True)
class TruncatedNormal(_Elementwise):
    """Normal N(mean, stddev²) truncated to the absolute bounds [a, b] (as
    ``torch.nn.init.trunc_normal_``: ``stddev`` is the std before truncation)."""

    mean: float = 0.0
    stddev: float = 1.0
    a: float = -2.0
    b: float = 2.0
    name: ClassVar[str] = "trunc_normal"

    def __post_init__(self):
        s = object.__setattr__
        s(self, "mean", _real("mean", self.mean))
        s(self, "stddev", _real("std", self.stddev, positive=True))
        s(self, "a", _real("a", self.a, allow_inf=True))
        s(self, "b", _real("b", self.b, allow_inf=True))
        if not self.a < self.b:
            raise ValueError(f"a must be less than b, got a={self.a}, b={self.b}")

    def std(self, shape) -> float:
        return self.stddev * _truncnorm_std((self.a - self.mean) / self.stddev,
                                            (self.b - self.mean) / self.stddev)

    def plan(self, shape):
        return "trunc_normal", (self.mean, self.stddev, self.a, self.b)


@dataclass(frozen=True)
class Constant(_Elementwise):
    """Every element equal to `value` (zeros and ones are ``Constant(0.0)``, ``Constant(1.0)``)."""

    value: float = 0.0
    name: ClassVar[str] = "constant"

    def __post_init__(self):
        object.__setattr__(self, "value", _real("value", self.value))

    def std(self, shape) -> float:
        return 0.0

    def plan(self, shape):
        return "constant", (self.value,)

    def to_dict(self) -> dict:
        if self.value == 1.0:
            return {"name": "ones"}
        if self.value == 0.0 and math.copysign(1.0, self.value) > 0:  # not -0.0
            return {"name": "zeros"}
        return {"name": "constant", "value": self.value}


# ---------------------------------------------------------------- structured schemes

def _check_out(out, ndims, what):
    _writable(out)   # complex outputs too (zeros and ones are exact; sparse is circular)
    if out.ndim not in ndims:
        raise ValueError(f"{what} supports only tensors with {' or '.join(map(str, ndims))} "
                         f"dimensions, got shape {out.shape}")


def _set_ones_in_block(out, index, start):
    """out[index - start] = 1 for the global indices (a tuple of arrays, one per
    dimension) that fall inside the block `out` at `start`."""
    inside = np.ones(len(index[0]), dtype=bool)
    for ix, s, n in zip(index, start, out.shape):
        inside &= (ix >= s) & (ix < s + n)
    out[tuple(ix[inside] - s for ix, s in zip(index, start))] = 1


@dataclass(frozen=True)
class Eye(Scheme):
    """The identity matrix (2-D only): ones on the main diagonal, zeros elsewhere."""

    name: ClassVar[str] = "eye"

    def std(self, shape) -> float:
        shape = check_shape(shape)
        if len(shape) != 2:
            raise ValueError(f"eye needs a 2-D shape, got {shape}")
        n = math.prod(shape)
        p = min(shape) / n if n else 0.0
        return math.sqrt(p * (1 - p))

    blocks: ClassVar[bool] = True

    def init_(self, out, *, seed=None, stream=0, threads=None, global_shape=None, offset=None):
        _check_out(out, (2,), "eye")
        region = resolve_block(out, global_shape, offset)
        _sampling.zeros_(out, threads=threads)
        (r0, c0), (h, w) = (0, 0) if region is None else region[1], out.shape
        i = np.arange(max(r0, c0), min(r0 + h, c0 + w))      # the global diagonal inside the block
        out[i - r0, i - c0] = 1
        return out


def _dirac_ones(shape, groups):
    per_group = shape[0] // groups
    return groups * min(per_group, shape[1])


@dataclass(frozen=True)
class Dirac(Scheme):
    """The Dirac delta (identity convolution) for 3-, 4- and 5-D conv weights
    ``(out, in, *kernel)``: within each of `groups` groups, output channel d takes
    input channel d at the kernel centre, as ``torch.nn.init.dirac_``."""

    groups: int = 1
    name: ClassVar[str] = "dirac"

    def __post_init__(self):
        if isinstance(self.groups, bool) or not isinstance(self.groups, numbers.Integral):
            raise TypeError(f"groups must be a positive int, got {type(self.groups).__name__} {self.groups!r}")
        if self.groups < 1:
            raise ValueError(f"groups must be a positive int, got {self.groups}")
        object.__setattr__(self, "groups", int(self.groups))

    def _check_shape(self, shape):
        if len(shape) not in (3, 4, 5):
            raise ValueError(f"dirac supports only tensors with 3, 4 or 5 dimensions, got shape {shape}")
        if shape[0] % self.groups:
            raise ValueError(f"dim 0 of shape {shape} must be divisible by groups={self.groups}")

    def std(self, shape) -> float:
        shape = check_shape(shape)
        self._check_shape(shape)
        n = math.prod(shape)
        p = _dirac_ones(shape, self.groups) / n if n else 0.0
        return math.sqrt(p * (1 - p))

    blocks: ClassVar[bool] = True

    def init_(self, out, *, seed=None, stream=0, threads=None, global_shape=None, offset=None):
        _writable(out)
        region = resolve_block(out, global_shape, offset)
        shape = tuple(out.shape) if region is None else region[0]
        self._check_shape(shape)
        _sampling.zeros_(out, threads=threads)
        per_group = shape[0] // self.groups
        d = np.arange(min(per_group, shape[1]))
        centre = tuple(k // 2 for k in shape[2:])
        rows = (np.arange(self.groups)[:, None] * per_group + d).ravel()
        cols = np.tile(d, self.groups)
        index = (rows, cols) + tuple(np.full(len(rows), c) for c in centre)
        _set_ones_in_block(out, index, (0,) * out.ndim if region is None else region[1])
        return out


@dataclass(frozen=True)
class Sparse(Scheme):
    """Martens (2010) sparse init for 2-D weights: N(0, std²) values with
    ``ceil(sparsity * rows)`` zeros in every column. The values come from
    ``(seed, stream)``; the zero positions from ``substream(stream, "sparse_mask")``
    (one uniform key per element, the smallest keys of each column are zeroed),
    so the mask is reproducible too."""

    sparsity: float = 0.1
    stddev: float = 0.01
    name: ClassVar[str] = "sparse"

    def __post_init__(self):
        object.__setattr__(self, "sparsity", _real("sparsity", self.sparsity))
        if not 0 <= self.sparsity <= 1:
            raise ValueError(f"sparsity must be in [0, 1], got {self.sparsity}")
        object.__setattr__(self, "stddev", _real("std", self.stddev, nonneg=True))

    def zeros_per_column(self, rows: int) -> int:
        return math.ceil(self.sparsity * rows)

    def std(self, shape) -> float:
        shape = check_shape(shape)
        if len(shape) != 2:
            raise ValueError(f"sparse needs a 2-D shape, got {shape}")
        rows = shape[0]
        kept = (rows - self.zeros_per_column(rows)) / rows if rows else 0.0
        return self.stddev * math.sqrt(kept)

    blocks: ClassVar[bool] = True

    def init_(self, out, *, seed=None, stream=0, threads=None, global_shape=None, offset=None):
        """With `global_shape` and `offset`, `out` is that block of the whole result:
        the mask of each of its columns needs that column's keys for every row, so a
        block costs ``global_shape[0]`` keys per column it holds."""
        _check_out(out, (2,), "sparse")
        region = resolve_block(out, global_shape, offset)
        seed = resolve_seed(seed)  # one seed for values and mask
        if region is None:
            _sampling.normal_(out, 0.0, self.stddev, seed=seed, stream=stream, threads=threads)
            rows, (r0, c0) = out.shape[0], (0, 0)
        else:
            _sampling.normal_(out, 0.0, self.stddev, seed=seed, stream=stream, threads=threads,
                              global_shape=region[0], offset=region[1])
            (rows, _), (r0, c0) = region
        h, w = out.shape
        k = self.zeros_per_column(rows)
        if k == 0 or out.size == 0:
            return out
        if k == rows:
            out[...] = 0
            return out
        # Key of element (r, c) is element c * rows + r of the mask stream; the k smallest
        # keys of a column are zeroed. Column blocks (offset=) keep memory bounded.
        mask_stream = substream(stream, "sparse_mask")
        cols_per_block = max(1, (1 << 22) // rows)
        for a in range(0, w, cols_per_block):
            b = min(w, a + cols_per_block)
            keys = np.empty((b - a, rows), np.float64)
            _sampling.uniform_(keys, seed=seed, stream=mask_stream, offset=(c0 + a) * rows, threads=threads)
            zero_rows = np.argsort(keys, axis=1, kind="stable")[:, :k]
            col = np.broadcast_to(np.arange(a, b)[:, None], zero_rows.shape)
            inside = (zero_rows >= r0) & (zero_rows < r0 + h)
            out[zero_rows[inside] - r0, col[inside]] = 0
        return out


@dataclass(frozen=True)
class Orthogonal(Scheme):
    """A (semi-)orthogonal matrix times `gain` (Saxe et al. 2013); dimensions after the
    first are flattened. Haar-distributed; computed by :mod:`weightinit.orthogonal`."""

    gain: float = 1.0
    name: ClassVar[str] = "orthogonal"

    def __post_init__(self):
        object.__setattr__(self, "gain", _real("gain", self.gain))

    def std(self, shape) -> float:
        shape = check_shape(shape)
        if len(shape) < 2:
            raise ValueError(f"orthogonal needs at least 2 dimensions, got shape {shape}")
        rows, n = shape[0], math.prod(shape)
        cols = n // rows if rows else 0
        return abs(self.gain) * math.sqrt(min(rows, cols) / n) if n else 0.0

    blocks: ClassVar[bool] = True

    def init_(self, out, *, seed=None, stream=0, threads=None, global_shape=None, offset=None):
        from .orthogonal import orthogonal_
        return orthogonal_(out, self.gain, seed=seed, stream=stream, threads=threads,
                           global_shape=global_shape, offset=offset)


@dataclass(frozen=True)
class DeltaOrthogonal(Scheme):
    """Delta-orthogonal conv kernels (Xiao et al. 2018): an orthogonal matrix times
    `gain` at the kernel centre, zeros elsewhere; computed by :mod:`weightinit.orthogonal`.
    ``std`` assumes the torch layout ``(out, in, *kernel)``."""

    gain: float = 1.0
    name: ClassVar[str] = "delta_orthogonal"

    def __post_init__(self):
        object.__setattr__(self, "gain", _real("gain", self.gain))

    def std(self, shape) -> float:
        shape = check_shape(shape)
        if len(shape) < 3:
            raise ValueError(f"delta_orthogonal needs at least 3 dimensions, got shape {shape}")
        n = math.prod(shape)
        return abs(self.gain) * math.sqrt(min(shape[0], shape[1]) / n) if n else 0.0

    blocks: ClassVar[bool] = True

    def init_(self, out, *, seed=None, stream=0, threads=None, global_shape=None, offset=None):
        from .orthogonal import delta_orthogonal_
        return delta_orthogonal_(out, self.gain, seed=seed, stream=stream, threads=threads,
                                 global_shape=global_shape, offset=offset)


# ---------------------------------------------------------------- named initializers

def _positive_gain(gain):
    return _real("gain", gain, positive=True)


def xavier_uniform(gain=1.0, layout="torch"):
    return VarianceScaling(_positive_gain(gain) ** 2, "fan_avg", "uniform", layout)


def xavier_normal(gain=1.0, layout="torch"):
    return VarianceScaling(_positive_gain(gain) ** 2, "fan_avg", "normal", layout)


def _kaiming_mode(mode):
    return _choice("mode", mode.lower() if isinstance(mode, str) else mode, ("fan_in", "fan_out"))


def kaiming_uniform(a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch"):
    gain = calculate_gain(nonlinearity, a)
    return VarianceScaling(gain**2, _kaiming_mode(mode), "uniform", layout)


def kaiming_normal(a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch"):
    gain = calculate_gain(nonlinearity, a)
    return VarianceScaling(gain**2, _kaiming_mode(mode), "normal", layout)


def lecun_uniform(layout="torch"):
    return VarianceScaling(1.0, "fan_in", "uniform", layout)


def lecun_normal(layout="torch"):
    return VarianceScaling(1.0, "fan_in", "truncated_normal", layout)


def selu(layout="torch"):
    return VarianceScaling(1.0, "fan_in", "normal", layout)


def _zeros():
    return Constant(0.0)


def _ones():
    return Constant(1.0)


def _trunc_normal(mean=0.0, std=1.0, a=-2.0, b=2.0):
    return TruncatedNormal(mean, std, a, b)


def _normal(mean=0.0, std=1.0):
    return Normal(mean, std)


def _sparse(sparsity=0.1, std=0.01):
    return Sparse(sparsity, std)


def _uniform(low=None, high=None, *, a=None, b=None):
    """Uniform on [low, high); torch's names a, b are accepted instead."""
    if a is None and b is None:
        return Uniform(0.0 if low is None else low, 1.0 if high is None else high)
    if low is not None or high is not None:
        raise ValueError("give the bounds as low, high or as a, b (torch's names), not both")
    a = _real("a", 0.0 if a is None else a)
    b = _real("b", 1.0 if b is None else b)
    if not b > a:
        raise ValueError(f"b must be greater than a, got a={a}, b={b}")
    return Uniform(a, b)


from .recorded import Recorded  # noqa: E402 (a Scheme subclass: imported once Scheme exists)

# Initializer names (as in initializers.py, without the trailing "_") -> factory.
# The factories take the same keyword parameters as the initializers.
_NAMES = {
    "variance_scaling": VarianceScaling,
    "xavier_uniform": xavier_uniform, "glorot_uniform": xavier_uniform,
    "xavier_normal": xavier_normal, "glorot_normal": xavier_normal,
    "kaiming_uniform": kaiming_uniform, "he_uniform": kaiming_uniform,
    "kaiming_normal": kaiming_normal, "he_normal": kaiming_normal,
    "lecun_uniform": lecun_uniform, "lecun_normal": lecun_normal, "selu": selu,
    "uniform": _uniform, "normal": _normal,
    "trunc_normal": _trunc_normal, "truncated_normal": _trunc_normal,
    "constant": Constant, "zeros": _zeros, "ones": _ones,
    "eye": Eye, "dirac": Dirac, "sparse": _sparse,
    "orthogonal": Orthogonal, "delta_orthogonal": DeltaOrthogonal,
    "recorded": Recorded,
}


def available() -> list[str]:
    """Every name :func:`get` accepts, sorted."""
    return sorted(_NAMES)


def get(name, **overrides) -> Scheme:
    """The scheme of an initializer name, with keyword parameters as that initializer takes.

    `name` may also carry the parameters, in the notation ``weightinit inspect`` prints:
    ``get("normal(std=0.01)") == get("normal", std=0.01)``.

    >>> get("kaiming_uniform", a=5 ** 0.5)
    VarianceScaling(scale=0.3333333333333333, mode='fan_in', distribution='uniform', layout='torch', in_axis=None, out_axis=None, batch_axis=())
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__} {name!r}")
    if _scheme_text.is_call(name):  # the notation `weightinit inspect` prints
        name, given = _scheme_text.parse_call(name)
        twice = sorted(set(given) & set(overrides))
        if twice:
            raise ValueError(f"parameter(s) {', '.join(twice)} given both in {name}(...) and separately")
        overrides = {**given, **overrides}
    key = name[:-1] if name.endswith("_") else name
    if key not in _NAMES:
        raise ValueError(f"unknown initializer name {name!r}; known: {', '.join(available())}")
    factory = _NAMES[key]
    params = inspect.signature(factory).parameters
    unknown = sorted(set(overrides) - set(params))
    if unknown:
        # ValueError: overrides usually come from data (spec files, to_dict output)
        raise ValueError(f"{key} does not take parameter(s) {', '.join(unknown)}; "
                        f"it takes: {', '.join(params) or 'none'}")
    return factory(**overrides)


def from_dict(d) -> Scheme:
    """Rebuild a scheme from ``scheme.to_dict()`` (or its JSON round trip):
    ``get(d["name"], **other keys)``."""
    if not isinstance(d, dict) or not isinstance(d.get("name"), str):
        raise TypeError(f"d must be a dict with a 'name' string, got {d!r}")
    params = dict(d)
    return get(params.pop("name"), **params)
