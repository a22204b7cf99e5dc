"""Drop-in replacement for ``torch.nn.init``: ``import weightinit.torch as init``.

Same names, signatures and defaults as ``torch.nn.init``; the values come from
weightinit's samplers (multithreaded, bit-reproducible) instead of torch's.

Tensors
    CPU tensors of float16, bfloat16, float32 and float64 are written in place,
    without a copy when contiguous. Non-contiguous views (``w[:, :10]``) are filled
    through a contiguous temporary and ``copy_``. Tensors on other devices (CUDA,
    MPS, ...) are filled on the CPU and copied to the device. Element ``i`` (in
    row-major order of the tensor's shape) gets the same value in every case.
    Other dtypes raise TypeError.

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
    - ``uniform_`` needs ``a <= b`` and ``normal_`` ``std >= 0`` (ValueError; torch: RuntimeError).

``init_module_(module, seed=0)`` re-initializes a whole model reproducibly.
"""
from __future__ import annotations

import math
import os
import warnings

import torch

from . import schemes as _s
from ._streams import resolve_seed, stream_id
from .fans import calculate_gain, warn_if_empty
from ._torch_datadriven import fixup_, lsuv_  # data-driven schemes (weightinit.diagnostics)

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
    "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "sparse_", "init_module_", "seed_from_generator", "lsuv_", "fixup_",
    "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
    "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse",
]

_SUPPORTED = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


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


def _check_tensor(tensor):
    _check_is_tensor(tensor)
    if tensor.dtype not in _SUPPORTED:
        raise TypeError(f"tensor must have dtype float16, bfloat16, float32 or float64, got {tensor.dtype}")


def _as_numpy(t):
    """A numpy view sharing memory with the contiguous CPU tensor `t`."""
    if t.dtype == torch.bfloat16:
        import ml_dtypes
        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.numpy()


def _apply(tensor, scheme, seed, stream=0, threads=None):
    """Fill `tensor` with `scheme` (a weightinit scheme) in place; returns `tensor`."""
    if threads is None:
        threads = _threads()
    with torch.no_grad():
        if tensor.is_meta or tensor.numel() == 0:
            return tensor
        t = tensor.detach()
        if t.device.type == "cpu" and t.is_contiguous():
            scheme.init_(_as_numpy(t), seed=seed, stream=stream, threads=threads)
        else:
            tmp = torch.empty(t.shape, dtype=t.dtype)  # contiguous, on the CPU
            scheme.init_(_as_numpy(tmp), seed=seed, stream=stream, threads=threads)
            t.copy_(tmp)
    return tensor


def _random(tensor, scheme, generator):
    _check_tensor(tensor)
    if tensor.is_meta:  # nothing to fill; torch draws nothing either
        return tensor
    return _apply(tensor, scheme, seed_from_generator(generator))


def _fan_scheme(tensor, make):
    """Check the tensor; None (after torch's warning) for zero-element tensors."""
    _check_tensor(tensor)
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
        _check_tensor(tensor)
        seed_from_generator(generator)
        return constant_(tensor, a)
    return _random(tensor, _s.Uniform(a, b), generator)


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    r"""Fill `tensor` with values from :math:`N(\text{mean}, \text{std}^2)`."""
    return _random(tensor, _s.Normal(mean, std), generator)


def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator=None):
    r"""Fill `tensor` with :math:`N(\text{mean}, \text{std}^2)` truncated to [a, b]
    (absolute bounds). Exact by inversion for any interval."""
    return _random(tensor, _s.TruncatedNormal(mean, std, a, b), generator)


def _check_is_tensor(tensor):
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")


def constant_(tensor, val: float):
    """Fill `tensor` with `val` (any dtype, as torch: it draws nothing)."""
    _check_is_tensor(tensor)
    with torch.no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    """Fill `tensor` with ones."""
    return constant_(tensor, 1.0)


def zeros_(tensor):
    """Fill `tensor` with zeros."""
    _check_is_tensor(tensor)
    with torch.no_grad():
        return tensor.zero_()


def eye_(tensor):
    """Fill the 2-D `tensor` with the identity matrix."""
    _check_tensor(tensor)
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _apply(tensor, _s.Eye(), seed=0)


def dirac_(tensor, groups=1):
    """Fill the {3, 4, 5}-D `tensor` with the Dirac delta (identity convolution), per group."""
    _check_tensor(tensor)
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if tensor.size(0) % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    return _apply(tensor, _s.Dirac(groups), seed=0)


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
    _check_tensor(tensor)
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    return _random(tensor, _s.Orthogonal(gain), generator)


def sparse_(tensor, sparsity: float, std: float = 0.01, generator=None):
    """Fill the 2-D `tensor` with N(0, std²) and ``ceil(sparsity * rows)`` zeros per
    column (Martens, 2010)."""
    _check_tensor(tensor)
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


# ---------------------------------------------------------------- whole modules

_LINEAR_DEFAULT = _s.kaiming_uniform(a=math.sqrt(5))  # U(-1/sqrt(fan_in), 1/sqrt(fan_in))


_RMSNORM = (torch.nn.RMSNorm,) if hasattr(torch.nn, "RMSNorm") else ()


def _bias_bound(weight) -> float:
    fan_in = math.prod(weight.shape[1:])
    return 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0


def _uniform_or_zero(bound):
    return _s.Uniform(-bound, bound) if bound > 0 else _s.Constant(0.0)


def _rules(module):
    """{local parameter name: scheme} for the module types whose defaults we know,
    or None for an unknown type. Mirrors each type's reset_parameters()."""
    nn = torch.nn
    if isinstance(module, (nn.Linear, nn.modules.conv._ConvNd)):
        rules = {"weight": _LINEAR_DEFAULT}
        if module.bias is not None:
            rules["bias"] = _uniform_or_zero(_bias_bound(module.weight))
        return rules
    if isinstance(module, nn.Bilinear):
        bound = 1.0 / math.sqrt(module.weight.size(1))
        return {"weight": _s.Uniform(-bound, bound), "bias": _s.Uniform(-bound, bound)}
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        return {"weight": _s.Normal(0.0, 1.0)}
    norms = (nn.LayerNorm, nn.GroupNorm, nn.modules.batchnorm._NormBase) + _RMSNORM
    if isinstance(module, norms):
        return {"weight": _s.Constant(1.0), "bias": _s.Constant(0.0)}
    if isinstance(module, nn.modules.rnn.RNNBase):
        bound = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0.0
        return {name: _uniform_or_zero(bound) for name, _ in module.named_parameters(recurse=False)}
    if isinstance(module, nn.MultiheadAttention):
        return {"in_proj_weight": _s.xavier_uniform(), "q_proj_weight": _s.xavier_uniform(),
                "k_proj_weight": _s.xavier_uniform(), "v_proj_weight": _s.xavier_uniform(),
                "in_proj_bias": _s.Constant(0.0), "bias_k": _s.xavier_normal(),
                "bias_v": _s.xavier_normal()}
    if isinstance(module, nn.PReLU):
        return {"weight": _s.Constant(module.init)}
    return None


def _after(module):
    """Fix-ups that reset_parameters does beyond per-parameter draws."""
    nn = torch.nn
    with torch.no_grad():
        if isinstance(module, (nn.Embedding, nn.EmbeddingBag)) and getattr(module, "padding_idx", None) is not None:
            module.weight[module.padding_idx].fill_(0)
        if isinstance(module, nn.modules.batchnorm._NormBase):
            module.reset_running_stats()


def init_module_(module, seed=0, *, threads=None):
    """Re-initialize every parameter of `module` in place with PyTorch's default for
    its layer type, reproducibly; returns `module`.

    Each parameter is filled from ``(seed, stream=<qualified name>)``, e.g.
    ``"layers.0.weight"``, so its values depend only on the seed, its name, shape and
    dtype: not on module order, on other layers, or on the thread count. Defaults:

    - ``nn.Linear``, ``nn.ConvNd``, ``nn.ConvTransposeNd``: weight
      ``kaiming_uniform_(a=sqrt(5))`` = U(±1/sqrt(fan_in)), bias U(±1/sqrt(fan_in));
    - ``nn.Bilinear``: U(±1/sqrt(in1_features)); RNN/LSTM/GRU: U(±1/sqrt(hidden_size));
    - ``nn.Embedding``/``EmbeddingBag``: N(0, 1), ``padding_idx`` row zeroed;
    - LayerNorm, RMSNorm, GroupNorm, BatchNorm, InstanceNorm: weight 1, bias 0
      (BatchNorm running statistics reset too);
    - ``nn.MultiheadAttention``: xavier_uniform projections, zero biases; ``nn.PReLU``: its init.

    A module of any other type that owns parameters directly falls back to its own
    ``reset_parameters()`` run under torch's RNG seeded from ``(seed, module name)``
    (reproducible, but torch's values and speed), with a warning naming it; without
    ``reset_parameters`` its parameters are left unchanged, with a warning.
    A parameter shared by several modules (tied weights) is initialized once, by the
    first module that owns it in ``module.named_modules()`` order.
    ``threads=None`` uses ``torch.get_num_threads()``; the values never depend on it.
    Parameters on other devices are filled on the CPU and copied.

    >>> model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.LayerNorm(16))
    >>> model = init_module_(model, seed=0)  # "0.weight", "0.bias", "1.weight", "1.bias"
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    seed = resolve_seed(seed)
    done = set()
    forced = {}  # id(parameter) -> scheme set by an enclosing module (MultiheadAttention.out_proj.bias)
    for mname, mod in module.named_modules():
        own = [(n, p) for n, p in mod.named_parameters(recurse=False) if id(p) not in done]
        if not own:
            continue
        prefix = f"{mname}." if mname else ""
        rules = _rules(mod)
        if rules is None:
            _fallback(mod, mname or type(mod).__name__, seed)
        else:
            if isinstance(mod, torch.nn.MultiheadAttention) and mod.out_proj.bias is not None:
                forced[id(mod.out_proj.bias)] = _s.Constant(0.0)
            for n, p in own:
                scheme = forced.get(id(p), rules.get(n))
                if scheme is None:
                    warnings.warn(f"init_module_: no rule for parameter {prefix + n!r} of "
                                  f"{type(mod).__name__}; left unchanged", stacklevel=2)
                    continue
                _check_tensor(p)
                _apply(p, scheme, seed, prefix + n, threads)
            _after(mod)
        done.update(id(p) for _, p in own)
    return module


def _fallback(mod, mname, seed):
    reset = getattr(mod, "reset_parameters", None)
    what = f"{type(mod).__name__} ({mname!r})"
    if callable(reset):
        warnings.warn(f"init_module_: no weightinit rule for {what}; ran its reset_parameters() "
                      "under torch's RNG seeded from (seed, module name)", stacklevel=3)
        torch_seed = stream_id(f"{seed}/{mname}") >> 1  # torch seeds are < 2**63
        with torch.random.fork_rng(devices=[]):  # restores the global CPU generator afterwards
            torch.default_generator.manual_seed(torch_seed)
            with torch.no_grad():
                reset()
    else:
        warnings.warn(f"init_module_: no weightinit rule for {what} and no reset_parameters(); "
                      "its own parameters are left unchanged", stacklevel=3)
