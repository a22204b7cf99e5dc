"""Lazy Dask arrays whose blocks are region fills: each block is computed by the worker
that holds it, from (seed, stream, its place in the whole array) alone, so the result
equals the numpy fill bit for bit for any chunking, scheduler and number of workers
(Dask's own random arrays change with the chunk size: dask#1684).

    import weightinit.dask as wid
    w = wid.normal((65536, 8192), std=0.02, chunks=(8192, 8192), dtype="bfloat16", seed=0, stream="w")
    w.compute()          # == weightinit.normal_(np.empty(...), 0, 0.02, seed=0, stream="w")

Needs ``pip install "weightinit[dask]"``.
"""
from __future__ import annotations

import numpy as np

from . import schemes as _schemes
from ._buffers import COMPLEX_DTYPES, dtype_name
from ._streams import resolve_seed, stream_id

__all__ = ["uniform", "normal", "trunc_normal", "init"]


def _dask_array():
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover - exercised where dask is missing
        raise ImportError('weightinit.dask needs dask: pip install "weightinit[dask]"') from None
    return da


_COMPLEX = {str(dt): dt for dt in COMPLEX_DTYPES}   # 'complex64', 'complex128'


def _resolve_dtype(dtype) -> np.dtype:
    """A numpy dtype: the checkpoint's names and aliases ('bf16', 'F8_E4M3'), numpy
    dtypes, and the complex ones."""
    if isinstance(dtype, str):
        if dtype.strip().lower() in _COMPLEX:
            return _COMPLEX[dtype.strip().lower()]
        from .checkpoint.spec import DTYPES, resolve_dtype
        return DTYPES[resolve_dtype(dtype)][0]
    dt = np.dtype(dtype)
    if dt not in COMPLEX_DTYPES:
        dtype_name(dt)     # TypeError naming the supported dtypes
    return dt


def _block_fill(scheme, shape, dt, seed, stream):
    """The function Dask calls per block: block_info gives its place in the array."""
    def fill(block_info=None):
        info = block_info[None]
        start = tuple(lo for lo, _ in info["array-location"])
        out = np.empty(info["chunk-shape"], dt)
        return scheme.init_(out, seed=seed, stream=stream, global_shape=shape, offset=start, threads=1)
    return fill


def init(scheme, shape, *, chunks="auto", dtype="float32", seed=None, stream=0):
    """A lazy array of `shape` initialized by `scheme` (a Scheme, a name or a scheme
    dict; fans from the whole shape). Any scheme that fills blocks: the elementwise
    ones, orthogonal, delta_orthogonal, eye, dirac, sparse and recorded inits of
    one of these plus constant patches. An orthogonal block costs the columns of
    Q it touches, full height: chunk an orthogonal ``(rows >= cols)`` array by
    columns (a ``rows < cols`` one by rows); see docs/distributed.md."""
    da = _dask_array()
    if isinstance(scheme, str):
        scheme = _schemes.get(scheme)
    elif isinstance(scheme, dict):
        scheme = _schemes.from_dict(scheme)
    if not isinstance(scheme, _schemes.Scheme):
        raise TypeError(f"scheme must be a Scheme, a scheme name or a scheme dict, got {type(scheme).__name__}")
    if not getattr(scheme, "blocks", False):
        raise ValueError(f"scheme {scheme.name!r} cannot fill a block of the tensor alone (global_shape=); "
                         "weightinit.dask needs schemes that do")
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(int(n) for n in shape)
    if not shape or any(n < 0 for n in shape):
        raise ValueError(f"shape must be a non-empty tuple of non-negative ints, got {shape}")
    dt = _resolve_dtype(dtype)
    seed = resolve_seed(seed)      # one seed for every block, drawn here when None
    stream_id(stream)              # checked once, not per block
    if hasattr(scheme, "plan"):
        scheme.plan(shape)         # parameter errors now, not inside a worker
    else:
        scheme.std(shape)          # shape errors (orthogonal needs 2-D, eye 2-D, ...) now
    chunks = da.core.normalize_chunks(chunks, shape, dtype=dt)
    return da.map_blocks(_block_fill(scheme, shape, dt, seed, stream), chunks=chunks, dtype=dt,
                         meta=np.empty((0,) * len(shape), dt))


def uniform(shape, low=0.0, high=1.0, *, chunks="auto", dtype="float32", seed=None, stream=0):
    """Lazy U[low, high) array; equals ``weightinit.uniform_`` on the whole array."""
    return init(_schemes.get("uniform", low=low, high=high), shape, chunks=chunks, dtype=dtype, seed=seed,
                stream=stream)


def normal(shape, mean=0.0, std=1.0, *, chunks="auto", dtype="float32", seed=None, stream=0):
    """Lazy N(mean, std^2) array; equals ``weightinit.normal_`` on the whole array."""
    return init(_schemes.get("normal", mean=mean, std=std), shape, chunks=chunks, dtype=dtype, seed=seed,
                stream=stream)


def trunc_normal(shape, mean=0.0, std=1.0, a=-2.0, b=2.0, *, chunks="auto", dtype="float32", seed=None,
                 stream=0):
    """Lazy truncated normal array (torch's absolute bounds a, b); equals
    ``weightinit.trunc_normal_`` on the whole array."""
    return init(_schemes.get("trunc_normal", mean=mean, std=std, a=a, b=b), shape, chunks=chunks, dtype=dtype,
                seed=seed, stream=stream)
