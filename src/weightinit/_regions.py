"""Blocks of a larger tensor: `global_shape=` plus an N-d `offset=` (start indices).

`out` then receives ``global[offset[0]:offset[0]+out.shape[0], ...]`` of the tensor of
shape `global_shape`, bit for bit the same as filling the whole tensor and slicing it
(the C core fills the block as its contiguous runs: csrc/region.h)."""
from __future__ import annotations

import math
import numbers

__all__ = ["resolve_region"]

_U64 = 2**64


def _index_tuple(value, name: str) -> tuple:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a tuple of non-negative ints, got {type(value).__name__} {value!r}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise ValueError(f"{name} must be a tuple of non-negative ints, got {tuple(value)!r}")
        out.append(int(v))
    return tuple(out)


def resolve_region(out, global_shape, offset):
    """None for a flat fill (no global_shape: an int offset is the flat index of out's
    first element); else (global_shape, start) as int tuples, checked against `out`."""
    if global_shape is None:
        if isinstance(offset, (tuple, list)) and offset and all(
                isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in offset):
            raise ValueError(f"offset {tuple(offset)!r} gives start indices per dimension: pass global_shape= "
                             "(the shape of the whole tensor) too")
        return None      # anything else is the flat offset's to check (resolve_offset)
    gs = _index_tuple(global_shape, "global_shape")
    shape = tuple(out.shape)
    if len(gs) != len(shape):
        raise ValueError(f"global_shape {gs} has {len(gs)} dimensions, but out has {len(shape)} (shape {shape})")
    if not gs:
        raise ValueError("global_shape must have at least one dimension")
    if math.prod(gs) >= _U64:
        raise ValueError(f"global_shape {gs} has more than 2**64 elements")
    if isinstance(offset, numbers.Integral) and not isinstance(offset, bool):
        if offset != 0:
            raise ValueError(f"offset must be a tuple of start indices, one per dimension, when global_shape is "
                             f"given, got {offset!r}")
        start = (0,) * len(gs)
    else:
        start = _index_tuple(offset, "offset")
        if len(start) != len(gs):
            raise ValueError(f"offset {start} has {len(start)} indices, but global_shape {gs} has {len(gs)} "
                             "dimensions")
    for d, (s, n, g) in enumerate(zip(start, shape, gs)):
        if s + n > g:
            raise ValueError(f"the block of shape {shape} at offset {start} does not fit in global_shape {gs} "
                             f"(dimension {d}: {s} + {n} > {g})")
    return gs, start


def resolve_block(out, global_shape, offset):
    """For the initializers whose `offset` is only start indices: (global_shape, start)
    of the block `out` is, or None when it is the whole tensor (offset None)."""
    if global_shape is None:
        if offset is not None:
            raise ValueError("offset (start indices of a block) needs global_shape= too")
        return None
    return resolve_region(out, global_shape, 0 if offset is None else offset)
