"""Torch adapters of the data-driven / architecture-aware schemes:
``lsuv_(model, batch)`` and ``fixup_(branches, classifier)``. Re-exported from
``weightinit.torch``. Weights are filled through numpy views of the (CPU) tensors, so
values are bit-identical to the numpy initializers with the same seed and stream."""
from __future__ import annotations

import numbers

import numpy as np

from ..diagnostics._nn import resolve_scheme
from ..diagnostics.fixup import FixupReport, branch_scale
from ..diagnostics.lsuv import lsuv

__all__ = ["lsuv_", "fixup_"]


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("weightinit.torch needs PyTorch: pip install 'weightinit[torch]'") from None
    return torch


def _fill(param, scheme, seed, stream):
    """Fill a torch Parameter in place with `scheme` via a float numpy buffer."""
    torch = _torch()
    from .functional import check_writable, mark_written
    with torch.no_grad():
        check_writable(param)
        t = param.detach()
        if t.device.type == "cpu" and t.dtype in (torch.float32, torch.float64) and t.is_contiguous():
            scheme.init_(t.numpy(), seed=seed, stream=stream)
            mark_written(t)  # written behind autograd's back: bump the version like an in-place op
        else:
            buf = np.empty(tuple(t.shape), np.float32 if t.dtype != torch.float64 else np.float64)
            scheme.init_(buf, seed=seed, stream=stream)
            t.copy_(torch.from_numpy(buf))


def _default_types():
    nn = _torch().nn
    return (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


class _StopForward(Exception):
    pass


class _ModuleLayer:
    def __init__(self, model, name, module, batch, forward):
        self.model, self.name, self.module, self.batch, self.forward = model, name, module, batch, forward

    def output(self):
        torch = _torch()
        captured = {}

        def hook(mod, inp, out):
            captured["out"] = out.detach().to(torch.float64).cpu().numpy()
            raise _StopForward   # the rest of the network is not needed

        h = self.module.register_forward_hook(hook)
        try:
            with torch.no_grad():
                self.forward(self.model, self.batch)
        except _StopForward:
            pass
        finally:
            h.remove()
        if "out" not in captured:
            raise RuntimeError(f"layer {self.name} was not called by the forward pass")
        return captured["out"]

    def scale_(self, factor):
        torch = _torch()
        with torch.no_grad():
            self.module.weight.mul_(factor)
            if self.module.bias is not None:
                self.module.bias.mul_(factor)

    def shift_(self, delta):
        torch = _torch()
        if self.module.bias is None:
            raise ValueError(f"center=True needs a bias, but layer {self.name} has none")
        with torch.no_grad():
            self.module.bias.add_(torch.as_tensor(delta, dtype=self.module.bias.dtype, device=self.module.bias.device))

    def pre_init_(self, scheme, seed):
        _fill(self.module.weight, scheme, seed, f"{self.name}.weight")


def lsuv_(model, batch, *, tol=0.1, max_iter=10, target_var=1.0, center=False, pre_init="orthogonal", seed=0,
          layer_types=None, forward=None):
    """LSUV (Mishkin & Matas 2015) for a torch ``nn.Module``, in place.

    Finds the Linear/Conv layers (``layer_types``) in the order the forward pass calls
    them, pre-initializes their weights with ``pre_init`` (orthonormal; None keeps the
    current weights), then rescales each layer's weight and bias until the variance of
    its output on ``batch`` is ``target_var`` within ``tol`` (see
    :func:`weightinit.diagnostics.lsuv.lsuv`). Outputs are captured with forward hooks;
    the model runs in eval mode (restored afterwards) under ``torch.no_grad``.
    ``forward(model, batch)`` replaces ``model(batch)`` for models that take more.

    Returns an :class:`~weightinit.diagnostics.lsuv.LSUVReport`.
    """
    torch = _torch()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if forward is None:
        if not isinstance(batch, torch.Tensor):
            raise TypeError(f"batch must be a torch.Tensor (or pass forward=), got {type(batch).__name__}")
        forward = lambda m, b: m(b)  # noqa: E731
    types = _default_types() if layer_types is None else tuple(layer_types)
    names = {m: n for n, m in model.named_modules()}
    order = []

    def record(mod, inp, out):
        if mod not in order:
            order.append(mod)

    hooks = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, types)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            forward(model, batch)
        for h in hooks:
            h.remove()
        if not order:
            raise ValueError(f"model has no layers of types {[t.__name__ for t in types]} called by the forward pass")
        layers = [_ModuleLayer(model, names[m], m, batch, forward) for m in order]
        return lsuv(layers, tol=tol, max_iter=max_iter, target_var=target_var, center=center, pre_init=pre_init,
                    seed=seed)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)


def _modules_of(branch, b):
    torch = _torch()
    mods = list(branch) if not isinstance(branch, torch.nn.Module) or isinstance(branch, torch.nn.Sequential) \
        else [branch]
    if isinstance(branch, torch.nn.Sequential):
        mods = [m for m in branch if getattr(m, "weight", None) is not None
                and not isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.LayerNorm))]
    for j, m in enumerate(mods):
        if not isinstance(getattr(m, "weight", None), torch.Tensor):
            raise TypeError(f"branches[{b}][{j}] must be a module with a weight (Linear/Conv), got {type(m).__name__}")
    return mods


def fixup_(branches, classifier=None, *, scheme="he_normal", seed=0, zero_branch_bias=True):
    """Fixup (Zhang, Dauphin & Ma 2019) for torch modules, in place.

    ``branches`` is a sequence of residual branches, each an ``nn.Sequential`` (its
    weighted layers are used in order; norm layers skipped) or a list of Linear/Conv
    modules, all with the same number m >= 2 of weighted layers. The inner layers get
    ``scheme`` (He normal) times ``fixup_scale(L, m)`` = L^(-1/(2m-2)); the last layer of
    every branch and the ``classifier`` (weight and bias) are set to zero. Biases of the
    branch layers are zeroed too unless ``zero_branch_bias=False``.

    Returns a :class:`~weightinit.diagnostics.fixup.FixupReport`.
    """
    torch = _torch()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if isinstance(branches, torch.nn.Module) and not isinstance(branches, (torch.nn.ModuleList, torch.nn.Sequential)):
        raise TypeError("branches must be a sequence of residual branches, got a single module")
    mods = [_modules_of(br, b) for b, br in enumerate(branches)]
    m, s = branch_scale([len(layers) for layers in mods])
    sch = resolve_scheme(scheme, "scheme")
    if classifier is not None and not isinstance(getattr(classifier, "weight", None), torch.Tensor):
        raise TypeError(f"classifier must be a module with a weight, got {type(classifier).__name__}")
    scaled, zeroed = [], []
    with torch.no_grad():
        for b, layers in enumerate(mods):
            for j, mod in enumerate(layers):
                name = f"branch{b}.layer{j}"
                if j == m - 1:
                    mod.weight.zero_()
                    zeroed.append(name)
                else:
                    _fill(mod.weight, sch, seed, f"fixup.{name}.weight")
                    mod.weight.mul_(s)
                    scaled.append(name)
                if zero_branch_bias and getattr(mod, "bias", None) is not None:
                    mod.bias.zero_()
        if classifier is not None:
            classifier.weight.zero_()
            if getattr(classifier, "bias", None) is not None:
                classifier.bias.zero_()
            zeroed.append("classifier")
    return FixupReport(scale=s, num_branches=len(mods), layers_per_branch=m, scaled=tuple(scaled), zeroed=tuple(zeroed))
