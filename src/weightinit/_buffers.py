"""Validation of output buffers: what the kernels may write into."""
from __future__ import annotations

import numpy as np

try:
    import ml_dtypes
    _BF16 = np.dtype(ml_dtypes.bfloat16)
    # OCP FP8 formats: computed in float32 and rounded once, like the 16-bit ones
    FLOAT8 = {"float8_e4m3fn": np.dtype(ml_dtypes.float8_e4m3fn), "float8_e5m2": np.dtype(ml_dtypes.float8_e5m2)}
except ImportError:  # pragma: no cover - ml_dtypes is a dependency
    _BF16 = None
    FLOAT8 = {}

SUPPORTED = ("float64", "float32", "float16", "bfloat16", "float8_e4m3fn", "float8_e5m2")
_NAMES = {np.dtype(np.float64): "float64", np.dtype(np.float32): "float32", np.dtype(np.float16): "float16"}
if _BF16 is not None:
    _NAMES[_BF16] = "bfloat16"
_NAMES.update({dt: name for name, dt in FLOAT8.items()})


def dtype_name(dtype) -> str:
    """'float64' | 'float32' | 'float16' | 'bfloat16', or TypeError."""
    dt = np.dtype(dtype)
    name = _NAMES.get(dt)
    if name is None or not dt.isnative:
        raise TypeError(f"dtype must be one of {', '.join(SUPPORTED)}, got {dt}")
    return name


_COMPLEX_PARTS = {np.dtype(np.complex64): np.dtype(np.float32), np.dtype(np.complex128): np.dtype(np.float64)}
COMPLEX_DTYPES = tuple(_COMPLEX_PARTS)


def complex_parts(out, name: str = "out"):
    """For a complex64/complex128 ndarray `out`: the flat float32/float64 view of its
    2n parts (real part of element k at 2k, imaginary part at 2k + 1); None for any
    other array. The view shares memory and passes :func:`writable_buffer`."""
    if not isinstance(out, np.ndarray) or out.dtype not in _COMPLEX_PARTS:
        if isinstance(out, np.ndarray) and out.dtype.kind == "c" and out.dtype.newbyteorder("=") in _COMPLEX_PARTS:
            raise ValueError(f"{name} must be in native byte order, got dtype {out.dtype.str}")
        return None
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous (got strides {out.strides} for shape {out.shape})")
    return out.reshape(-1).view(_COMPLEX_PARTS[out.dtype])


def writable_buffer(out, name: str = "out") -> tuple[int, int, str]:
    """(address, element count, dtype name) of a writable C-contiguous float array."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy ndarray (or np.memmap), got {type(out).__name__}")
    dt = _NAMES.get(out.dtype)
    if dt is None:
        if out.dtype.newbyteorder("=") in _NAMES:
            raise ValueError(f"{name} must be in native byte order, got dtype {out.dtype.str}")
        raise TypeError(f"{name} must have dtype {', '.join(SUPPORTED)}, got {out.dtype}"
                        + (" (complex outputs: every initializer but trunc_normal_)"
                           if out.dtype.kind == "c" else ""))
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous (got strides {out.strides} for shape {out.shape})")
    if not out.flags.aligned:
        raise ValueError(f"{name} must be aligned to its item size")
    return out.__array_interface__["data"][0], out.size, dt
