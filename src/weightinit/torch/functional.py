"""Drop-in replacement for ``torch.nn.init``: ``import weightinit.torch as init``.

Same names, signatures and defaults as ``torch.nn.init``; the values come from
weightinit's samplers (multithreaded, bit-reproducible) instead of torch's.

Tensors
    CPU tensors of float16, bfloat16, float32, float64 and float8 (e4m3fn, e5m2; computed
    in float32, rounded once) are written in place,
    without a copy when contiguous. Non-contiguous views (``w[:, :10]``) are filled
    through a contiguous temporary and ``copy_``. Tensors on other devices (CUDA,
    MPS, ...) are filled on the CPU and copied to the device. Element ``i`` (in
    row-major order of the tensor's shape) gets the same value in every case.
    Negative and conjugate views (``torch._neg_view(t)``, ``z.conj()``) are written as
    torch writes them: the view reads the values, its base their negatives or
    conjugates (float8 too, which torch's own fill_ cannot negate).
    Other dtypes raise TypeError.

Autograd
    Every write is seen by autograd as torch's own in-place init is: the tensor's
    version counter moves (zero-copy writes bump it explicitly), so a backward pass
    through a value saved before the re-initialization raises "modified by an inplace
    operation". Inference tensors can be written only inside ``torch.inference_mode()``
    (RuntimeError otherwise, and nothing is written).

Seeds and generators
    Each random call draws one 64-bit seed from ``generator`` (or, when it is None,
    from torch's global CPU generator ``torch.default_generator``, which
    ``torch.manual_seed`` seeds) with ``torch.randint(0, 2**32, (2,))`` and fills the
    tensor from stream 0 of that seed. So with ``generator=g`` the result depends only
    on g's state, ``torch.manual_seed(42); init.normal_(w)`` equals
    ``init.normal_(w, generator=torch.Generator().manual_seed(42))``, and each call
    advances the generator. It advances by that one draw (2 mt19937 words on a CPU
    generator) whatever the tensor size, whereas ``torch.nn.init`` advances by an
    amount that grows with the number of elements: random numbers drawn *after* an
    init call therefore differ from those drawn after the torch.nn.init call.
    ``constant_``, ``ones_``, ``zeros_``, ``eye_`` and ``dirac_`` draw nothing, as in torch.

Threads
    Calls use ``torch.get_num_threads()`` threads (or ``WEIGHTINIT_NUM_THREADS`` when
    set); the values never depend on it.

Differences from torch.nn.init
    - the values differ (another generator); distributions and parameters are the same;
    - ``trunc_normal_`` is exact for any [a, b] (no "more than 2 std" warning needed);
    - ``xavier_*`` on zero-element tensors warn and do nothing (torch may divide by zero);
    - ``uniform_`` needs ``a <= b`` and ``normal_`` ``std >= 0`` (ValueError; torch: RuntimeError);
      parameters whose samples would overflow the tensor's dtype (``std=1e39`` in float32,
      ``std=100`` in float8_e4m3fn) are a ValueError naming them, where torch writes inf;
    - complex tensors: the same laws as torch (circular ``normal_``, per-part ``uniform_``
      and ``*_uniform_``), and ``orthogonal_`` gives a Haar unitary matrix where
      torch.nn.init raises.

``init_module_(module, seed=0)`` re-initializes a whole model reproducibly.
"""
from __future__ import annotations

import os
import warnings

import torch

from .. import schemes as _s
from ..fans import calculate_gain, warn_if_empty

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
    "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "sparse_", "seed_from_generator", "apply_scheme_",
    "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
    "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse",
]

_SUPPORTED = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
# float8 tensors share memory with ml_dtypes arrays through a uint8 view
_FLOAT8 = {getattr(torch, n): n for n in ("float8_e4m3fn", "float8_e5m2") if hasattr(torch, n)}
_SUPPORTED += tuple(_FLOAT8)
_COMPLEX = (torch.complex64, torch.complex128)


# ---------------------------------------------------------------- plumbing

def seed_from_generator(generator=None) -> int:
    """One 64-bit seed drawn from `generator` (torch's global CPU generator when None)."""
    if generator is None:
        generator = torch.default_generator
    elif not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    words = torch.randint(0, 2**32, (2,), dtype=torch.int64, generator=generator,
                          device=generator.device).tolist()
    return words[0] | (words[1] << 32)


def _threads():
    return None if os.environ.get("WEIGHTINIT_NUM_THREADS", "").strip() else torch.get_num_threads()


def _check_tensor(tensor, complex_ok=False):
    _check_is_tensor(tensor)
    if complex_ok and tensor.dtype in _COMPLEX:
        return
    if tensor.dtype not in _SUPPORTED:
        extra = " (complex tensors: all but trunc_normal_)" if tensor.is_complex() else ""
        raise TypeError(f"tensor must have dtype float16, bfloat16, float32, float64, float8_e4m3fn or "
                        f"float8_e5m2, got {tensor.dtype}{extra}")


def check_writable(tensor):
    """Refuse what torch's own in-place ops refuse, before anything is written: an
    inference tensor outside inference mode (torch raises the same RuntimeError)."""
    if tensor.is_inference() and not torch.is_inference_mode_enabled():
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed: "
                           "clone the tensor first, or call the initializer inside torch.inference_mode()")


def mark_written(t):
    """Tell autograd that `t` was modified in place behind its back (through numpy):
    bump its version counter (shared with every view and detached alias), so that a
    backward pass through a saved copy of the old values raises, as after torch's own
    in-place init. Costs no pass over the data."""
    torch.autograd.graph.increment_version(t)


def _as_numpy(t):
    """A numpy view sharing memory with the contiguous CPU tensor `t`."""
    if t.dtype == torch.bfloat16:
        import ml_dtypes
        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    if t.dtype in _FLOAT8:
        import ml_dtypes
        return t.view(torch.uint8).numpy().view(getattr(ml_dtypes, _FLOAT8[t.dtype]))
    return t.numpy()


def _is_dtensor(tensor) -> bool:
    dt = getattr(getattr(torch, "distributed", None), "tensor", None)
    return dt is not None and isinstance(tensor, getattr(dt, "DTensor", ()))


def _apply_dtensor_(tensor, scheme, seed, stream, threads):
    """Each rank fills only its local shard, as the block of the global tensor that
    DTensor's own placement arithmetic gives it: no communication, no full-size
    temporary, and full_tensor() equals the single-process fill bit for bit."""
    from torch.distributed.tensor import Replicate, Shard
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset
    for p in tensor.placements:
        if not isinstance(p, (Shard, Replicate)):
            raise ValueError(f"DTensor placement {p} is not supported (Shard(d) and Replicate are): "
                             "nothing was written")
    if not getattr(scheme, "blocks", False):
        raise ValueError(f"scheme {getattr(scheme, 'name', type(scheme).__name__)!r} cannot fill a block of the "
                         "tensor (global_shape=), which a DTensor shard needs: nothing was written")
    global_shape = tuple(tensor.shape)
    _, offset = compute_local_shape_and_global_offset(global_shape, tensor.device_mesh, tensor.placements)
    _write(tensor.to_local(), lambda a: scheme.init_(a, seed=seed, stream=stream, threads=threads,
                                                     global_shape=global_shape, offset=tuple(offset)))
    return tensor


def _write(tensor, fill):
    """Run `fill` on a numpy array holding `tensor`'s values: its own memory when it is a
    contiguous CPU tensor (then autograd is told), else a CPU buffer copied in.

    A negative view (``torch._neg_view``, ``is_neg()``) or a conjugate view (``conj()``,
    ``is_conj()``) reads the values afterwards, as after torch's own init: its base holds
    their negatives or conjugates (``copy_`` writes through the view so)."""
    check_writable(tensor)
    with torch.no_grad():
        if tensor.is_meta or tensor.numel() == 0:
            return
        t = tensor.detach()
        if t.device.type == "cpu" and t.is_contiguous() and not t.is_conj() and not t.is_neg():
            # zero-copy: the kernel writes the tensor's own memory, so autograd must be told
            fill(_as_numpy(t))
            mark_written(t)
            return
        tmp = torch.empty(t.shape, dtype=t.dtype)  # contiguous, on the CPU
        fill(_as_numpy(tmp))
        if t.is_neg() and t.dtype in _FLOAT8:
            # torch cannot negate float8 (copy_ into the view raises): the negated bits go
            # through the view's plain alias (the same memory, no negative bit)
            tmp.view(torch.uint8).bitwise_xor_(0x80)
            t = torch._neg_view(t)
        t.copy_(tmp)  # copy_ is a torch in-place op: it checks and bumps the version itself


def apply_scheme_(tensor, scheme, seed, stream=0, threads=None):
    """Fill the torch `tensor` in place with a weightinit `scheme` from (seed, stream); returns it.
    A DTensor gets only its local shard filled (the same values as the whole tensor)."""
    if threads is None:
        threads = _threads()
    if _is_dtensor(tensor):
        return _apply_dtensor_(tensor, scheme, seed, stream, threads)
    _write(tensor, lambda a: scheme.init_(a, seed=seed, stream=stream, threads=threads))
    return tensor


def _random(tensor, scheme, generator, complex_ok=True):
    _check_tensor(tensor, complex_ok)
    if tensor.is_complex() and isinstance(scheme, _s.VarianceScaling) and scheme.distribution == "uniform":
        # torch's complex uniform inits draw each part from U(-b, b) (JAX's disk is the scheme's own)
        scheme = _s.Uniform(*scheme.plan(tuple(tensor.shape))[1])
    if tensor.is_meta:  # nothing to fill; torch draws nothing either
        return tensor
    return apply_scheme_(tensor, scheme, seed_from_generator(generator))


def _fan_scheme(tensor, make):
    """Check the tensor; None (after torch's warning) for zero-element tensors."""
    _check_tensor(tensor, complex_ok=True)
    if warn_if_empty(tuple(tensor.shape), stacklevel=4):
        return None
    return make()


# ---------------------------------------------------------------- torch.nn.init API

def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    r"""Fill `tensor` with values from :math:`U(a, b)`.

    >>> w = torch.empty(3, 5)
    >>> uniform_(w)  # doctest: +ELLIPSIS
    tensor(...)
    """
    if a == b:  # torch allows a degenerate interval
        _check_tensor(tensor, complex_ok=True)
        seed_from_generator(generator)
        return constant_(tensor, a)
    return _random(tensor, _s.Uniform(a, b), generator)


class _ComplexNormal:
    """torch's complex normal_: each part N(mean, std^2 / 2) (mean added to both parts)."""

    blocks = True    # fills a block of a DTensor too

    def __init__(self, mean, std):
        self.mean, self.std = _s.Normal(mean, std).mean, std   # the scheme checks them

    def init_(self, out, *, seed, stream, threads, global_shape=None, offset=None):
        from .._sampling import normal_
        return normal_(out, complex(self.mean, self.mean), self.std, seed=seed, stream=stream, threads=threads,
                       global_shape=global_shape, offset=0 if offset is None else offset)


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    r"""Fill `tensor` with values from :math:`N(\text{mean}, \text{std}^2)`; complex
    tensors as torch: circular, each part :math:`N(\text{mean}, \text{std}^2/2)`."""
    if isinstance(tensor, torch.Tensor) and tensor.is_complex():
        return _random(tensor, _ComplexNormal(mean, std), generator)
    return _random(tensor, _s.Normal(mean, std), generator)


def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator=None):
    r"""Fill `tensor` with :math:`N(\text{mean}, \text{std}^2)` truncated to [a, b]
    (absolute bounds). Exact by inversion for any interval."""
    return _random(tensor, _s.TruncatedNormal(mean, std, a, b), generator, complex_ok=False)


def _check_is_tensor(tensor):
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")


def _float8_neg(tensor) -> bool:
    """A negative view of float8, which torch's own fill_ cannot write (no float8 negation)."""
    return tensor.is_neg() and tensor.dtype in _FLOAT8


def constant_(tensor, val: float):
    """Fill `tensor` with `val` (any dtype, as torch: it draws nothing)."""
    _check_is_tensor(tensor)
    check_writable(tensor)  # torch's fill_ writes an inference tensor before raising
    with torch.no_grad():
        if _float8_neg(tensor):   # its plain alias gets -val (rounding to float8 is symmetric)
            torch._neg_view(tensor).fill_(-val)
            return tensor
        return tensor.fill_(val)


def ones_(tensor):
    """Fill `tensor` with ones."""
    return constant_(tensor, 1.0)


def zeros_(tensor):
    """Fill `tensor` with zeros."""
    _check_is_tensor(tensor)
    check_writable(tensor)
    with torch.no_grad():
        if _float8_neg(tensor):   # its base holds -0.0, as torch's zero_ on another negative view
            torch._neg_view(tensor).fill_(-0.0)
            return tensor
        return tensor.zero_()


def eye_(tensor):
    """Fill the 2-D `tensor` with the identity matrix."""
    _check_tensor(tensor, complex_ok=True)
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return apply_scheme_(tensor, _s.Eye(), seed=0)


def dirac_(tensor, groups=1):
    """Fill the {3, 4, 5}-D `tensor` with the Dirac delta (identity convolution), per group."""
    _check_tensor(tensor, complex_ok=True)
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    scheme = _s.Dirac(groups)  # validates groups (a positive int) before it divides anything
    if tensor.size(0) % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    return apply_scheme_(tensor, scheme, seed=0)


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    r"""Glorot/Xavier uniform :math:`U(-b, b)`, :math:`b = \text{gain}\sqrt{6/(\text{fan\_in}+\text{fan\_out})}`
    (Glorot & Bengio, 2010)."""
    scheme = _fan_scheme(tensor, lambda: _s.xavier_uniform(gain))
    return tensor if scheme is None else _random(tensor, scheme, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    r"""Glorot/Xavier normal :math:`N(0, \sigma^2)`, :math:`\sigma = \text{gain}\sqrt{2/(\text{fan\_in}+\text{fan\_out})}`."""
    scheme = _fan_scheme(tensor, lambda: _s.xavier_normal(gain))
    return tensor if scheme is None else _random(tensor, scheme, generator)


def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None):
    r"""He/Kaiming uniform :math:`U(-b, b)`, :math:`b = \text{gain}\sqrt{3/\text{fan\_mode}}` (He et al., 2015)."""
    scheme = _fan_scheme(tensor, lambda: _s.kaiming_uniform(a, mode, nonlinearity))
    return tensor if scheme is None else _random(tensor, scheme, generator)


def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None):
    r"""He/Kaiming normal :math:`N(0, \sigma^2)`, :math:`\sigma = \text{gain}/\sqrt{\text{fan\_mode}}`."""
    scheme = _fan_scheme(tensor, lambda: _s.kaiming_normal(a, mode, nonlinearity))
    return tensor if scheme is None else _random(tensor, scheme, generator)


def orthogonal_(tensor, gain: float = 1, generator=None):
    """Fill `tensor` (>= 2-D, trailing dimensions flattened) with a (semi-)orthogonal
    matrix times `gain` (Saxe et al., 2013)."""
    _check_tensor(tensor, complex_ok=True)     # complex: Haar unitary (torch.nn.init fails there)
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    return _random(tensor, _s.Orthogonal(gain), generator)


def sparse_(tensor, sparsity: float, std: float = 0.01, generator=None):
    """Fill the 2-D `tensor` with N(0, std²) and ``ceil(sparsity * rows)`` zeros per
    column (Martens, 2010)."""
    _check_tensor(tensor, complex_ok=True)
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _random(tensor, _s.Sparse(sparsity, std), generator)


def _deprecated(fn):
    def alias(*args, **kwargs):
        warnings.warn(f"weightinit.torch.{fn.__name__[:-1]} is now deprecated in favor of "
                      f"weightinit.torch.{fn.__name__}.", FutureWarning, stacklevel=2)
        return fn(*args, **kwargs)
    alias.__name__ = fn.__name__[:-1]
    alias.__doc__ = f"Deprecated alias of :func:`{fn.__name__}`."
    return alias


uniform, normal, constant, eye, dirac = map(_deprecated, (uniform_, normal_, constant_, eye_, dirac_))
xavier_uniform, xavier_normal = _deprecated(xavier_uniform_), _deprecated(xavier_normal_)
kaiming_uniform, kaiming_normal = _deprecated(kaiming_uniform_), _deprecated(kaiming_normal_)
orthogonal, sparse = _deprecated(orthogonal_), _deprecated(sparse_)
