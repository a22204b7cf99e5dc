"""In-place sampling into preallocated buffers: the public face of the C core."""

from __future__ import annotations

import math

import numpy as np

from . import _core, _limits
from ._buffers import complex_parts, writable_buffer
from ._checks import real as _real
from ._regions import resolve_region
from ._simd import isa_code
from ._streams import resolve_offset, resolve_seed, stream_id
from ._threads import resolve_threads

# The version of the stream contract (docs/streams.md) these kernels implement: the
# mapping from (seed, stream, index, distribution, parameters, dtype) to values.
# Checkpoints record it; version 2 changed the float32 normal and the truncated
# normal on intervals holding the mean (docs/streams.md, "Contract version 2 changes").
CONTRACT_VERSION = 3

__all__ = ["uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_", "philox4x32"]

SLICE_ELEMENTS = 1 << 21   # per thread: a slice takes at most ~0.1 s (30 ns per element, one thread)


def _fill(dist: str, out, params: tuple, seed, stream, offset, threads, checks=None, region=None):
    """One C fill; `checks`: the (dist, params) range checks to run first (default
    this call's own); `region`: (global_shape, start) of a block (weightinit._regions)."""
    ptr, n, dt = writable_buffer(out)
    for cd, cp in checks or [(dist, params)]:
        _limits.check(cd, cp, dt)
    params = _limits.core_params(dist, params, dt)
    s = resolve_seed(seed)
    st = stream_id(stream)
    if region is not None:
        _core.fill_region(dist, ptr, dt, params, s, st, region[0], region[1], tuple(out.shape),
                          resolve_threads(threads), isa_code())
        return out
    off = resolve_offset(offset)
    if n > 2**64 - off:
        raise ValueError(f"offset + out.size must be below 2**64, got offset={off}, size={n}")
    th = resolve_threads(threads)
    item = out.itemsize
    # Long fills go in slices, so that Ctrl-C (handled between the C calls) arrives
    # within a slice's time (<= 0.1 s on the slowest path); by the stream contract the
    # bits do not depend on the slicing. A KeyboardInterrupt leaves the first slices
    # filled and the rest of `out` as it was.
    step = SLICE_ELEMENTS * th
    isa = isa_code()
    try:
        if n <= step:     # the common case: one call
            _core.fill(dist, ptr, n, dt, params, s, st, off, th, isa)
        else:
            for start in range(0, n, step):
                _core.fill(dist, ptr + start * item, min(step, n - start), dt, params, s, st, off + start, th,
                           isa)
    except ValueError as exc:
        if str(exc).startswith("no value of the output dtype"):  # the C core cannot name them
            lo, hi = ("low", "high") if dist == "uniform" else ("a", "b")
            raise ValueError(f"no value of {dt} lies in the interval {lo}={params[-2]!r}, {hi}={params[-1]!r} "
                             f"(widen it or use a wider dtype)") from None
        raise
    return out


def _region(out, global_shape, offset, parts):
    """The (global_shape, start) of a block fill, or None. For a complex `out` (parts
    not None): the block of its parts, whose last dimension is twice out's (the parts
    of element k are 2k and 2k + 1 of the parts' stream), so pairs never split."""
    if global_shape is None and type(offset) is int:   # the common flat fill, checked cheaply
        return None
    region = resolve_region(out, global_shape, offset) if hasattr(out, "shape") else None
    if region is not None and parts is not None:
        (*g, last), (*st, first) = region
        region = (tuple(g) + (2 * last,), tuple(st) + (2 * first,))
    return region


def _fill_parts(dist, out, parts, params, seed, stream, offset, threads, checks=None, region=None):
    """A fill of the parts of the complex `out`: flat from complex element `offset`, or
    the parts' block `region` (from `_region`), for which the parts take the block's
    shape with the last dimension doubled."""
    if region is not None:
        return _fill(dist, parts.reshape(out.shape[:-1] + (2 * out.shape[-1],)), params, seed, stream, 0, threads,
                     checks, region=region)
    return _fill(dist, parts, params, seed, stream, _part_offset(offset), threads, checks)


def uniform_(out, low=0.0, high=1.0, *, seed=None, stream=0, offset=0, threads=None, global_shape=None):
    r"""Fill `out` in place with samples from the uniform distribution on [low, high).

    Element ``i`` of the logical tensor is ``low + (high - low) * u_i`` with ``u_i``
    from the Philox stream ``(seed, stream)`` (see ``docs/streams.md``), computed in
    float32 for float32/float16/bfloat16/float8 output and in float64 for float64 output,
    then rounded once. After rounding, every value lies in ``[low, high)``.
    A complex64/complex128 `out` gets independent U(low, high) real and imaginary
    parts (as torch): the float32/float64 stream of its 2n parts.

    Parameters
    ----------
    out : numpy.ndarray
        Writable, C-contiguous array (also ``np.memmap``) of float64, float32,
        float16, ``ml_dtypes.bfloat16``, ``ml_dtypes.float8_e4m3fn``,
        ``ml_dtypes.float8_e5m2``, complex64 or complex128; filled in flat order.
        Parameters whose samples would not be finite in its dtype are a ValueError.
    low, high : float
        Finite bounds, ``low < high``.
    seed : int or None
        In ``[0, 2**64)``; None draws one from the OS.
    stream : int or str
        Independent stream; a str (e.g. a parameter name) is hashed.
    offset : int or tuple of int
        Flat index of ``out[0]`` within the logical tensor: filling chunks with
        increasing offsets equals filling the whole tensor, bit for bit. With
        `global_shape`, a tuple of start indices, one per dimension.
    global_shape : tuple of int or None
        The shape of the whole tensor of which `out` is the block
        ``[offset[0]:offset[0] + out.shape[0], ...]``: `out` receives exactly that block
        of the whole fill (a shard of a sharded parameter, a Dask block), and nothing
        beyond it is computed.
    threads : int or None
        None uses ``WEIGHTINIT_NUM_THREADS`` or every usable core. The result does
        not depend on it.

    Returns
    -------
    out

    Examples
    --------
    >>> import numpy as np, weightinit as wi
    >>> w = wi.uniform_(np.empty((256, 128), np.float32), -0.1, 0.1, seed=0)
    """
    low = _real("low", low)
    high = _real("high", high)
    if not high > low:
        raise ValueError(f"high must be greater than low, got low={low}, high={high}")
    parts = complex_parts(out)
    region = _region(out, global_shape, offset, parts)
    if parts is not None:   # complex: real and imaginary parts each U(low, high), as torch
        _fill_parts("uniform", out, parts, (low, high), seed, stream, offset, threads, region=region)
        return out
    return _fill("uniform", out, (low, high), seed, stream, offset, threads, region=region)


def _part_offset(offset):
    """Complex element `offset` is part 2 * offset of the parts' stream."""
    off = resolve_offset(offset)
    if off >= 2**63:
        raise ValueError(f"offset of a complex array must be below 2**63, got {off}")
    return 2 * off


def _complex(name, value):
    """A complex parameter: a real or complex number (not a bool)."""
    if isinstance(value, (complex, np.complexfloating)):
        re, im = _real(f"{name}.real", value.real), _real(f"{name}.imag", value.imag)
        return complex(re, im)
    return complex(_real(name, value), 0.0)


def normal_(out, mean=0.0, std=1.0, *, seed=None, stream=0, offset=0, threads=None, global_shape=None):
    r"""Fill `out` in place with samples from the normal distribution N(mean, std²).

    Box-Muller on Philox words: float32 arithmetic for float32/float16/bfloat16/float8
    output (tails to 6.66 std), float64 for float64 output (tails to 8.57 std),
    rounded once to the output dtype. Parameters as in :func:`uniform_`;
    ``std`` must be finite and >= 0. Complex outputs are circular: real and
    imaginary parts independent, each N(Re/Im mean, std²/2), so E|z - mean|² = std²;
    ``mean`` may be complex.
    """
    parts = complex_parts(out)
    region = _region(out, global_shape, offset, parts)
    if parts is not None:   # circular: real and imaginary parts independent, each N(., std^2 / 2)
        m = _complex("mean", mean)
        std = _real("std", std)
        if std < 0:
            raise ValueError(f"std must be non-negative, got {std}")
        sp = std / math.sqrt(2.0)
        _fill_parts("normal", out, parts, (m.real, sp, m.imag, 1.0), seed, stream, offset, threads,
                    [("normal", (m.real, sp)), ("normal", (m.imag, sp))], region)
        return out
    mean = _real("mean", mean)
    std = _real("std", std)
    if std < 0:
        raise ValueError(f"std must be non-negative, got {std}")
    return _fill("normal", out, (mean, std), seed, stream, offset, threads, region=region)


# E|z|^2 of a circular normal of E|z|^2 = 1 with |z| truncated to 2: |z|^2 is Exp(1)
# truncated to [0, 4], whose mean is (1 - 5 e^-4) / (1 - e^-4).
DISK_TRUNC_STD = math.sqrt((1 - 5 * math.exp(-4.0)) / (1 - math.exp(-4.0)))


def _complex_fill(dist, out, params, checks, seed, stream, offset, threads, global_shape):
    """A fill of the parts of the complex `out`: flat at element `offset`, or the block
    at start indices `offset` of the tensor of `global_shape`."""
    parts = complex_parts(out)
    if parts is None:
        raise TypeError(f"out must be a complex64 or complex128 array, got {getattr(out, 'dtype', type(out))}")
    region = _region(out, global_shape, offset, parts)
    _fill_parts(dist, out, parts, params, seed, stream, offset, threads, checks, region)
    return out


def _disk_(out, radius, *, seed, stream, offset, threads, global_shape=None):
    """Complex `out`: uniform on the disk |z| < radius (modulus radius sqrt(u), phase
    uniform); E|z|^2 = radius^2 / 2. JAX's complex "uniform" variance scaling."""
    return _complex_fill("disk", out, (radius,), [("uniform", (-radius, radius))], seed, stream, offset, threads,
                         global_shape)


def _disk_trunc_normal_(out, std, upper=2.0, *, seed, stream, offset, threads, global_shape=None):
    """Complex `out`: a circular normal with |z| truncated to `upper` times its scale,
    scaled so that E|z|^2 = std^2 (for upper=2). JAX's complex "truncated_normal"
    variance scaling, with the exact normalization."""
    scale = std / DISK_TRUNC_STD
    return _complex_fill("disk_trunc_normal", out, (scale, upper), [("uniform", (-scale * upper, scale * upper))],
                         seed, stream, offset, threads, global_shape)


def trunc_normal_(out, mean=0.0, std=1.0, a=-2.0, b=2.0, *, seed=None, stream=0, offset=0, threads=None,
                  global_shape=None):
    r"""Fill `out` in place with a normal N(mean, std²) truncated to [a, b].

    As in ``torch.nn.init.trunc_normal_``, ``a`` and ``b`` are absolute bounds and
    ``std`` is the std of the untruncated normal. Sampled by inversion,
    :math:`x = \mu + \sigma \Phi^{-1}(\Phi(\alpha) + u(\Phi(\beta) - \Phi(\alpha)))`,
    in float64 for every dtype, with the tail probabilities kept in logarithms so
    that any interval is exact, also far in one tail (e.g. [6, 8] std). Rounded
    once to the output dtype; every value lies in [a, b] after rounding.
    ``a`` may be ``-inf`` and ``b`` ``+inf``.

    References: Wichura, Algorithm AS 241 (1988) for :math:`\Phi^{-1}`.
    """
    mean = _real("mean", mean)
    std = _real("std", std)
    a = _real("a", a, allow_inf=True)
    b = _real("b", b, allow_inf=True)
    if not std > 0:
        raise ValueError(f"std must be positive, got {std}")
    if not a < b:
        raise ValueError(f"a must be less than b, got a={a}, b={b}")
    if complex_parts(out) is not None:
        raise TypeError("trunc_normal_ has no complex form (neither has torch's); for a complex output use "
                        "normal_, or variance_scaling with distribution='truncated_normal' (|z| truncated)")
    region = _region(out, global_shape, offset, None)
    return _fill("trunc_normal", out, (mean, std, a, b), seed, stream, offset, threads, region=region)


def constant_(out, value, *, threads=None):
    """Fill `out` with `value`, rounded once to the output dtype (nearest even).

    A finite `value` that would round beyond the dtype's range (to inf, or to NaN for
    float8_e4m3fn, from 464 up) is a ValueError naming it, and nothing is written.
    ``inf``/``-inf`` are kept where the dtype has infinities (float64, float32, float16,
    bfloat16, float8_e5m2, the parts of complex64/complex128; as torch's ``fill_``) and
    are a ValueError for float8_e4m3fn, which has none; NaN is allowed in every dtype
    (it marks weights that must be overwritten before use). Complex outputs: each part
    of `value` is checked against the dtype of the parts."""
    parts = complex_parts(out)
    if parts is not None:   # numpy's assignment rounds each part once, to nearest even
        if isinstance(value, bool) or not isinstance(value, (int, float, complex, np.number)):
            raise TypeError(f"value must be a number, got {type(value).__name__} {value!r}")
        _, _, pdt = writable_buffer(parts)
        c = complex(value)
        _limits.check_constant(c.real, pdt, "value.real")
        _limits.check_constant(c.imag, pdt, "value.imag")
        out[...] = value
        return out
    value = _real("value", value, allow_inf=True, allow_nan=True)
    ptr, n, dt = writable_buffer(out)
    _limits.check_constant(value, dt)
    _core.constant(ptr, n, dt, value, resolve_threads(threads))
    return out


def zeros_(out, *, threads=None):
    """Fill `out` with zeros."""
    return constant_(out, 0.0, threads=threads)


def ones_(out, *, threads=None):
    """Fill `out` with ones."""
    return constant_(out, 1.0, threads=threads)


def philox4x32(counter, key):
    """Philox4x32-10 (Random123 conventions) of 4 counter words and 2 key words;
    returns 4 unsigned 32-bit words.

    >>> hex(philox4x32((0, 0, 0, 0), (0, 0))[0])
    '0x6627e8d5'
    """
    return _core.philox4x32(tuple(counter), tuple(key))
