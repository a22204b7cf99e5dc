"""Fans and gains: how a weight's shape and the layer's nonlinearity set its variance."""
from __future__ import annotations

import math
import numbers
import warnings

__all__ = ["compute_fans", "calculate_gain", "LAYOUTS"]

# layout -> (in_axis, out_axis). Every axis that is neither in, out nor batch is a
# receptive-field axis and multiplies both fans.
LAYOUTS = {
    "torch": (1, 0),    # (out, in, *kernel): nn.Linear, nn.ConvNd
    "jax": (-2, -1),    # (*kernel, in, out): flax, jax.nn.initializers
    "keras": (-2, -1),  # same as jax
}

ZERO_ELEMENT_WARNING = "Initializing zero-element tensors is a no-op"


def check_shape(shape, name: str = "shape") -> tuple[int, ...]:
    """`shape` as a tuple of non-negative ints, or TypeError/ValueError naming it."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of ints, got {type(shape).__name__} {shape!r}") from None
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral):
            raise TypeError(f"{name} must contain only ints, got {type(d).__name__} {d!r} in {shape!r}")
        if d < 0:
            raise ValueError(f"{name} must contain non-negative sizes, got {dims}")
    return tuple(int(d) for d in dims)


def warn_if_empty(shape, stacklevel: int = 3) -> bool:
    """Warn as torch does and return True when `shape` has no elements."""
    if 0 in shape:
        warnings.warn(ZERO_ELEMENT_WARNING, UserWarning, stacklevel=stacklevel)
        return True
    return False


def _axes(value, ndim: int, name: str) -> tuple[int, ...]:
    items = (value,) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value
    try:
        items = tuple(items)
    except TypeError:
        raise TypeError(f"{name} must be an int or a tuple of ints, got {type(value).__name__} {value!r}") from None
    out = []
    for ax in items:
        if isinstance(ax, bool) or not isinstance(ax, numbers.Integral):
            raise TypeError(f"{name} must be an int or a tuple of ints, got {value!r}")
        if not -ndim <= ax < ndim:
            raise ValueError(f"{name}={value!r} is out of range for a shape with {ndim} dimensions")
        out.append(int(ax) % ndim)
    return tuple(out)


def compute_fans(shape, layout="torch", *, in_axis=None, out_axis=None, batch_axis=()) -> tuple[int, int]:
    r"""(fan_in, fan_out) of a weight of the given shape.

    ``fan_in = prod(shape[in_axis]) * receptive`` and
    ``fan_out = prod(shape[out_axis]) * receptive``, where ``receptive`` is the
    product of every axis that is neither an in, out nor batch axis (the kernel).

    Parameters
    ----------
    shape : sequence of int
        At least 2 dimensions.
    layout : {"torch", "jax", "keras"}
        ``"torch"``: weight is ``(out, in, *kernel)`` (``nn.Linear``, ``nn.ConvNd``);
        ``"jax"``/``"keras"``: kernel is ``(*kernel, in, out)``.
    in_axis, out_axis : int or tuple of int, optional
        Override the layout's axes, as in ``jax.nn.initializers.variance_scaling``.
    batch_axis : int or tuple of int
        Axes counted in neither fan (e.g. a stack of independent matrices).

    Examples
    --------
    >>> compute_fans((64, 3, 7, 7))                 # torch Conv2d(3, 64, 7)
    (147, 3136)
    >>> compute_fans((7, 7, 3, 64), layout="jax")   # the same conv in flax
    (147, 3136)
    """
    shape = check_shape(shape)
    if not isinstance(layout, str) or layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {sorted(LAYOUTS)}, got {layout!r}")
    ndim = len(shape)
    if ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(shape={shape})")
    default_in, default_out = LAYOUTS[layout]
    ins = _axes(default_in if in_axis is None else in_axis, ndim, "in_axis")
    outs = _axes(default_out if out_axis is None else out_axis, ndim, "out_axis")
    batch = _axes(batch_axis, ndim, "batch_axis")
    used = ins + outs + batch
    if len(set(used)) != len(used):
        raise ValueError(f"in_axis {ins}, out_axis {outs} and batch_axis {batch} must not share an axis")
    receptive = math.prod(shape[i] for i in range(ndim) if i not in used)
    fan_in = math.prod(shape[i] for i in ins) * receptive
    fan_out = math.prod(shape[i] for i in outs) * receptive
    return fan_in, fan_out


_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")
NONLINEARITIES = _LINEAR + ("tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity, param=None) -> float:
    r"""The recommended gain for a nonlinearity (the table of ``torch.nn.init``).

    ================= =====================================================
    nonlinearity      gain
    ================= =====================================================
    linear, conv*,    :math:`1`
    conv_transpose*,
    sigmoid
    tanh              :math:`5/3`
    relu              :math:`\sqrt{2}`
    leaky_relu        :math:`\sqrt{2 / (1 + \text{negative\_slope}^2)}`,
                      ``param`` is the slope (default 0.01)
    selu              :math:`3/4`
    ================= =====================================================

    Raises ValueError for an unknown name or a non-numeric ``param`` (as torch).

    >>> calculate_gain("leaky_relu", 0.2)
    1.3867504905630728
    """
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, numbers.Real) and math.isfinite(param):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param!r} not a valid number")
        if abs(slope) > 1e150:  # slope**2 would overflow (and the gain would be ~0 anyway)
            raise ValueError(f"negative_slope must be at most 1e150 in magnitude, got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4  # found empirically, see torch PR 50664
    raise ValueError(f"Unsupported nonlinearity {nonlinearity!r}; known: {', '.join(NONLINEARITIES)}")
