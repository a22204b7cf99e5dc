"""``init_module_``: initialize any nn.Module as its own code says, on weightinit streams.

Each module's init code (``reset_parameters``; for transformers models, the model's
``_init_weights`` through ``initialize_weights``) is replayed on meta twins of the
parameters under :class:`~weightinit.torch.recorder.Recorder`, and what it did
becomes one weightinit scheme per parameter, filled from ``(seed, qualified name)``.
Modules whose ``reset_parameters`` is PyTorch's own (``nn.Linear``, convolutions,
norms, embeddings, RNNs, ...) skip the recording: a rule table gives the same law.
"""
from __future__ import annotations

import contextlib
import math
import threading
import warnings
import weakref

import torch

from .. import schemes as _s
from .._streams import resolve_seed, stream_id
from .functional import _check_tensor, apply_scheme_
from .recorder import Recorder, RecordError

__all__ = ["init_module_", "plan_module"]

_LINEAR_DEFAULT = _s.kaiming_uniform(a=math.sqrt(5))  # U(-1/sqrt(fan_in), 1/sqrt(fan_in))
_RMSNORM = (torch.nn.RMSNorm,) if hasattr(torch.nn, "RMSNorm") else ()


# one lock per module object: init_module_ and plan_module swap a module's tensors for meta
# twins while they record, so two calls on modules that share a submodule take turns
_LOCKS = {}                     # id(module) -> (weak reference to it, its RLock)
_LOCKS_GUARD = threading.RLock()
# torch's global CPU generator is one for all threads, and init code draws from it: the
# recording (temporaries such as torch.rand(n) on the CPU) and the fallback (which seeds
# it) take turns, so that no fallback sees another thread's draws
_GLOBAL_RNG = threading.RLock()


def _forget_lock(key, ref):
    entry = _LOCKS.get(key)
    if entry is not None and entry[0] is ref:
        del _LOCKS[key]


def _lock_of(mod):
    entry = _LOCKS.get(id(mod))
    if entry is None or entry[0]() is not mod:
        key = id(mod)
        entry = _LOCKS[key] = (weakref.ref(mod, lambda ref, key=key: _forget_lock(key, ref)), threading.RLock())
    return entry[1]


@contextlib.contextmanager
def _exclusive(module):
    """Hold the lock of `module` and of each of its submodules, taken in one global order
    (by id), so that calls on overlapping modules wait for each other and never deadlock;
    a thread already holding them takes them again (plan_module inside init_module_)."""
    mods = sorted({id(m): m for m in module.modules()}.items())
    with _LOCKS_GUARD:
        locks = [_lock_of(m) for _, m in mods]
    with contextlib.ExitStack() as held:
        for lock in locks:
            held.enter_context(lock)
        yield


def _bias_bound(weight) -> float:
    fan_in = math.prod(weight.shape[1:])
    return 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0


def _uniform_or_zero(bound):
    return _s.Uniform(-bound, bound) if bound > 0 else _s.Constant(0.0)


def _torch_own(module, method="reset_parameters") -> bool:
    """True when `module`'s `method` is PyTorch's own (not overridden outside torch.nn)."""
    fn = getattr(type(module), method, None)
    return fn is not None and getattr(fn, "__module__", "").startswith("torch.nn.")


def _rules(module):
    """{local parameter name: scheme} for PyTorch layers whose init is PyTorch's own
    (the law their reset_parameters() draws from), or None."""
    nn = torch.nn
    if isinstance(module, nn.MultiheadAttention):
        if not _torch_own(module, "_reset_parameters"):
            return None
        return {"in_proj_weight": _s.xavier_uniform(), "q_proj_weight": _s.xavier_uniform(),
                "k_proj_weight": _s.xavier_uniform(), "v_proj_weight": _s.xavier_uniform(),
                "in_proj_bias": _s.Constant(0.0), "bias_k": _s.xavier_normal(),
                "bias_v": _s.xavier_normal()}
    if not _torch_own(module):
        return None
    if isinstance(module, (nn.Linear, nn.modules.conv._ConvNd)):
        rules = {"weight": _LINEAR_DEFAULT}
        if module.bias is not None:
            rules["bias"] = _uniform_or_zero(_bias_bound(module.weight))
        return rules
    if isinstance(module, nn.Bilinear):
        bound = 1.0 / math.sqrt(module.weight.size(1))
        return {"weight": _s.Uniform(-bound, bound), "bias": _s.Uniform(-bound, bound)}
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)) and getattr(module, "padding_idx", None) is None:
        return {"weight": _s.Normal(0.0, 1.0)}
    if isinstance(module, (nn.LayerNorm, nn.GroupNorm, nn.modules.batchnorm._NormBase) + _RMSNORM):
        return {"weight": _s.Constant(1.0), "bias": _s.Constant(0.0)}
    if isinstance(module, nn.modules.rnn.RNNBase):
        bound = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0.0
        return {name: _uniform_or_zero(bound) for name, _ in module.named_parameters(recurse=False)}
    if isinstance(module, nn.PReLU):
        return {"weight": _s.Constant(module.init)}
    return None


def _is_hf_model(module) -> bool:
    return callable(getattr(module, "initialize_weights", None)) and callable(getattr(module, "_init_weights", None))


def _tied_targets(module) -> set:
    """Qualified names of the weights a transformers model ties to another one."""
    keys = set()
    for mname, mod in module.named_modules():
        prefix = f"{mname}." if mname else ""
        keys.update(prefix + k for k in (getattr(mod, "all_tied_weights_keys", None) or {}))
    return keys


def _twin(t):
    # a DTensor's twin is a plain tensor of its global shape: the init code is recorded
    # as it runs on the whole tensor, whatever the shards' layout
    from .functional import _is_dtensor
    twin = (torch.empty(t.shape, dtype=t.dtype, device="meta") if _is_dtensor(t)
            else torch.empty_like(t, device="meta"))
    return torch.nn.Parameter(twin, requires_grad=t.requires_grad) if isinstance(t, torch.nn.Parameter) else twin


@contextlib.contextmanager
def _meta_twins(module):
    """Swap every parameter and buffer of `module` for a meta tensor of the same shape
    and transformers' "already initialized" flags off; yields {id(original): twin};
    everything is put back afterwards. Shared tensors share a twin, except the
    targets of transformers' weight tying: each gets its own, as before tying, so that
    a tied head's init does not overwrite its embedding's."""
    twins, saved, flags = {}, [], []
    targets = _tied_targets(module)
    for mname, mod in module.named_modules():
        prefix = f"{mname}." if mname else ""
        for store in (mod._parameters, mod._buffers):
            for n, t in list(store.items()):
                if t is None:
                    continue
                twin = _twin(t) if prefix + n in targets else twins.get(id(t))
                if twin is None:
                    twin = twins[id(t)] = _twin(t)
                saved.append((store, n, t))
                store[n] = twin
        if "_is_hf_initialized" in mod.__dict__:
            flags.append((mod, mod.__dict__.pop("_is_hf_initialized")))
    try:
        yield twins
    finally:
        for store, n, t in saved:
            store[n] = t
        for mod, flag in flags:
            mod._is_hf_initialized = flag


def plan_module(module):
    """[(qualified name, parameter, scheme or None, why)] for every parameter of `module`
    (shared ones once, under their first name). None means no init code writes it."""
    with _exclusive(module):
        return _plan_module(module)


def _plan_module(module):
    params = list(module.named_parameters())
    owner = {}
    for mname, mod in module.named_modules():
        for n, p in mod.named_parameters(recurse=False):
            owner.setdefault(id(p), (mname, mod, n))
    rules = {}
    forced = {}  # MultiheadAttention zeroes its out_proj.bias after the Linear default
    recorded_modules = []
    under_hf = _is_hf_model(module)
    for mname, mod in module.named_modules():
        if not list(mod.parameters(recurse=False)):
            continue
        r = None if under_hf else _rules(mod)
        if r is not None:
            if isinstance(mod, torch.nn.MultiheadAttention) and mod.out_proj.bias is not None:
                forced[id(mod.out_proj.bias)] = _s.Constant(0.0)
            for n, p in mod.named_parameters(recurse=False):
                if n in r:
                    rules.setdefault(id(p), r[n])   # a shared (tied) parameter: its first owner's rule
        elif callable(getattr(mod, "reset_parameters", None)):
            recorded_modules.append(mod)
    hf_roots = [m for m in module.modules() if _is_hf_model(m)][:1] if under_hf else []
    need = [(n, p) for n, p in params if id(p) not in rules or id(p) in forced]
    schemes = {}
    if any(id(p) not in rules for _, p in need) and (recorded_modules or hf_roots):
        rec = Recorder()
        with _GLOBAL_RNG, _meta_twins(module) as twins, torch.no_grad(), rec:
            for mod in recorded_modules:
                mod.reset_parameters()
            for root in hf_roots:
                root.initialize_weights()
        for n, p in need:
            if id(p) in rules:
                continue
            try:
                schemes[id(p)] = (rec.scheme(twins[id(p)], n), None)
            except RecordError as exc:
                schemes[id(p)] = (None, str(exc))
    out = []
    for n, p in params:
        if id(p) in forced:
            out.append((n, p, forced[id(p)], None))
        elif id(p) in rules:
            out.append((n, p, rules[id(p)], None))
        else:
            scheme, why = schemes.get(id(p), (None, f"tensor {n!r}: no init code writes it"))
            out.append((n, p, scheme, why))
    return out


def init_module_(module, seed=0, *, threads=None):
    """Re-initialize every parameter of `module` in place as its own init code does,
    reproducibly; returns `module`.

    Each module's init code (``reset_parameters()``; for a transformers model its
    ``_init_weights``) is recorded on meta twins of the parameters and replayed as
    weightinit schemes; parameter ``"layers.0.weight"`` is filled from
    ``(seed, stream="layers.0.weight")``, so its values depend only on the seed, its
    name, shape, dtype and init code: not on module order, other layers, or the thread
    count. PyTorch's own layers (``nn.Linear``, ``nn.ConvNd``, ``nn.Embedding``, norms,
    RNNs, ``nn.MultiheadAttention``, ``nn.PReLU``) use a rule table with the same law as
    their ``reset_parameters``; a subclass that overrides ``reset_parameters`` is
    recorded like any other module. BatchNorm running statistics are reset.

    A parameter that no init code writes is left unchanged, with a warning. Init code
    that the recorder cannot express (a QR of a temporary, ``bernoulli_``, ...) falls
    back to running that module's ``reset_parameters()`` under torch's RNG seeded from
    ``(seed, module name)``, with a warning naming the call. A model still on the meta
    device has nothing to fill: a warning says to call ``to_empty`` first.
    A parameter shared by several modules (tied weights) is initialized once.

    >>> model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.LayerNorm(16))
    >>> model = init_module_(model, seed=0)  # "0.weight", "0.bias", "1.weight", "1.bias"
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    seed = resolve_seed(seed)
    with _exclusive(module):   # another thread's call on this module would see meta twins
        return _init_module(module, seed, threads)


def _init_module(module, seed, threads):
    if any(p.is_meta for p in module.parameters()):
        warnings.warn("init_module_: the module's parameters are on the meta device, so there is nothing to "
                      "fill; call module.to_empty(device='cpu') first", UserWarning, stacklevel=3)
        return module
    for name, p in module.named_parameters():
        if p.is_complex():  # torch's init on complex is per part, the schemes' JAX's: not the same law
            raise TypeError(f"init_module_ takes real parameters, got {p.dtype} for {name!r}; initialize "
                            "complex parameters with the initializers (normal_, orthogonal_, ...) directly")
    fallback = {}
    for name, p, scheme, why in plan_module(module):
        if scheme is not None:
            _check_tensor(p)
            apply_scheme_(p, scheme, seed, name, threads)
            continue
        mname, _, _ = name.rpartition(".")
        mod = module.get_submodule(mname)
        if "never writes" in why or "no init code" in why or not callable(getattr(mod, "reset_parameters", None)):
            warnings.warn(f"init_module_: {why}; left unchanged", UserWarning, stacklevel=3)
        else:
            fallback.setdefault(mname, (mod, why))
    for mname, (mod, why) in fallback.items():
        _fallback(mod, mname, seed, why)
    with torch.no_grad():
        for mod in module.modules():
            if isinstance(mod, torch.nn.modules.batchnorm._NormBase):
                mod.reset_running_stats()
    return module


def _fallback(mod, mname, seed, why):
    warnings.warn(f"init_module_: {why}; ran {type(mod).__name__}.reset_parameters() ({mname!r}) under "
                  "torch's RNG seeded from (seed, module name) instead", UserWarning, stacklevel=4)
    torch_seed = stream_id(f"{seed}/{mname}") >> 1  # torch seeds are < 2**63
    with _GLOBAL_RNG, torch.random.fork_rng(devices=[]):  # restores the generator afterwards
        torch.default_generator.manual_seed(torch_seed)
        with torch.no_grad():
            mod.reset_parameters()
