"""Argument checks shared by the Python layer: a clear TypeError/ValueError that
names the parameter, before anything is written."""
from __future__ import annotations

import math
import numbers


def real(name: str, value, *, positive: bool = False, nonneg: bool = False,
         allow_inf: bool = False, allow_nan: bool = False) -> float:
    """`value` as a float: a real number (not a bool), finite unless allowed."""
    if type(value) is not float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
        value = float(value)
    if math.isnan(value):
        if allow_nan:
            return value
        raise ValueError(f"{name} must be finite, got {value}")
    if math.isinf(value) and not allow_inf:
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")
    if nonneg and not value >= 0:
        raise ValueError(f"{name} must be non-negative, got {value}")
    return value
