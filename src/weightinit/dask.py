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

import math
import numbers

import numpy as np

from . import schemes as _schemes
from ._buffers import COMPLEX_DTYPES, dtype_name
from ._streams import resolve_seed, stream_id
from .fans import check_shape

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


# Dask builds the graph at about 40 us a block (map_blocks with block_info, measured on
# a 2-core VM): 2**20 blocks already take about 40 s before anything runs.
MAX_BLOCKS = 2 ** 20
MAX_ELEMENTS = 2 ** 64    # as global_shape= (every index fits the 64-bit counter)

_CHUNKS_FORMS = ("'auto', a byte size with a unit such as '64MiB', a positive int, or one entry per "
                 "dimension (a positive int, -1 or None for the whole dimension, 'auto', or a tuple of "
                 "block sizes adding up to the dimension)")


def _resolve_shape(shape) -> tuple:
    shape = check_shape(shape)
    if not shape:
        raise ValueError(f"shape must have at least one dimension, got {shape}")
    if math.prod(shape) >= MAX_ELEMENTS:
        raise ValueError(f"shape {shape} has {math.prod(shape)} elements: at most 2**64 - 1 are allowed")
    return shape


def _byte_limit(text: str) -> int:
    """A byte size with a unit ('64MiB', '1 GB'): digits alone are refused (Dask would
    read '12' as 12 bytes)."""
    from dask.utils import parse_bytes
    if not any(ch.isalpha() for ch in text):
        raise ValueError(f"chunks={text!r}: a byte size needs a unit (e.g. '64MiB'); chunks must be {_CHUNKS_FORMS}")
    try:
        limit = parse_bytes(text)
    except (ValueError, TypeError):
        raise ValueError(f"chunks={text!r} is not a byte size; chunks must be {_CHUNKS_FORMS}") from None
    if limit < 1:
        raise ValueError(f"chunks={text!r} must be at least 1 byte")
    return limit


def _chunk_entry(entry, n: int, d: int, chunks):
    """One dimension's entry, checked: an int, 'auto', or a tuple of block sizes."""
    if entry is None or (isinstance(entry, numbers.Integral) and not isinstance(entry, bool) and entry == -1):
        return n if n else (0,)
    if isinstance(entry, str):
        if entry != "auto":
            raise ValueError(f"chunks={chunks!r}: dimension {d} has {entry!r}; chunks must be {_CHUNKS_FORMS}")
        return entry
    if isinstance(entry, (tuple, list)):
        sizes = []
        for v in entry:
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"chunks={chunks!r}: the block sizes of dimension {d} must be ints, got "
                                f"{type(v).__name__} {v!r}")
            if v < 0:
                raise ValueError(f"chunks={chunks!r}: the block sizes of dimension {d} must be non-negative, got {v}")
            sizes.append(int(v))
        if not sizes or sum(sizes) != n:
            raise ValueError(f"chunks={chunks!r}: the block sizes of dimension {d} add up to {sum(sizes)}, "
                             f"not to its size {n}")
        return tuple(sizes)
    if isinstance(entry, bool) or not isinstance(entry, numbers.Integral):
        raise TypeError(f"chunks={chunks!r}: dimension {d} has {type(entry).__name__} {entry!r}; "
                        f"chunks must be {_CHUNKS_FORMS}")
    if entry < 1:
        raise ValueError(f"chunks={chunks!r}: the block size of dimension {d} must be positive (or -1 for the "
                         f"whole dimension), got {entry}")
    return int(entry)


def _resolve_chunks(chunks, shape: tuple, dt: np.dtype) -> tuple:
    """`chunks` checked and normalized to Dask's tuple of block sizes per dimension,
    with at most MAX_BLOCKS blocks (counted before Dask expands them)."""
    da = _dask_array()
    given, limit = chunks, None
    ndim = len(shape)
    if isinstance(chunks, np.ndarray):
        chunks = chunks.tolist()
    if isinstance(chunks, str):
        if chunks != "auto":
            limit = _byte_limit(chunks)
        chunks = ("auto",) * ndim
    elif isinstance(chunks, dict):
        for k in chunks:
            if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 0 <= k < ndim:
                raise ValueError(f"chunks={given!r}: the keys of a chunks dict must be dimensions 0 to {ndim - 1}, "
                                 f"got {k!r}")
        chunks = tuple(chunks.get(d) for d in range(ndim))
    elif isinstance(chunks, (tuple, list)):
        chunks = tuple(chunks)
        if (ndim == 1 and len(chunks) > 1 and all(isinstance(c, numbers.Integral) and not isinstance(c, bool)
                                                 and c >= 0 for c in chunks)):
            chunks = (chunks,)      # Dask's reading of a flat tuple for a 1-D array: its block sizes
        if len(chunks) != ndim:
            raise ValueError(f"chunks={given!r} has {len(chunks)} entries, but shape {shape} has {ndim} dimensions")
    else:
        if isinstance(chunks, bool) or not isinstance(chunks, numbers.Integral):
            raise TypeError(f"chunks must be {_CHUNKS_FORMS}, got {type(chunks).__name__} {chunks!r}")
        if chunks < 1 and chunks != -1:
            raise ValueError(f"chunks={chunks!r}: a block size must be positive (or -1 for whole dimensions)")
        chunks = (chunks,) * ndim
    entries = tuple(_chunk_entry(c, n, d, given) for d, (c, n) in enumerate(zip(chunks, shape)))
    fixed = 1
    for e, n in zip(entries, shape):
        if isinstance(e, tuple):
            fixed *= len(e)
        elif isinstance(e, int) and n:
            fixed *= -(-n // e)
    if fixed > MAX_BLOCKS:
        raise ValueError(f"chunks={given!r} gives {'at least ' if 'auto' in entries else ''}{fixed} blocks for shape "
                         f"{shape}; at most {MAX_BLOCKS} are allowed (Dask builds its graph block by block): use "
                         "larger chunks")
    if "auto" in entries:
        if limit is None:
            import dask
            from dask.utils import parse_bytes
            limit = parse_bytes(dask.config.get("array.chunk-size"))
        least = math.prod(shape) * dt.itemsize / limit
        if least > MAX_BLOCKS:
            raise ValueError(f"chunks={given!r} gives at least {least:.3g} blocks of at most {limit} bytes for shape "
                             f"{shape}; at most {MAX_BLOCKS} are allowed (Dask builds its graph block by block): "
                             "give larger chunks or a byte size such as '1GiB'")
    normalized = da.core.normalize_chunks(entries, shape, limit=limit, dtype=dt)
    blocks = math.prod(len(c) for c in normalized)
    if blocks > MAX_BLOCKS:
        raise ValueError(f"chunks={given!r} gives {blocks} blocks for shape {shape}; at most {MAX_BLOCKS} are "
                         "allowed (Dask builds its graph block by block): use larger chunks")
    return normalized


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
    columns (a ``rows < cols`` one by rows); see docs/distributed.md.

    Everything is checked here, before any block runs: `shape` (ints, fewer than 2**64
    elements), `chunks` (``"auto"``, a byte size with a unit such as ``"64MiB"``, a
    positive int, or per dimension a positive int, -1/None for the whole dimension,
    ``"auto"`` or a tuple of block sizes adding up to it; at most ``MAX_BLOCKS`` = 2**20
    blocks), `dtype`, `seed`, `stream` and the scheme's parameters against the dtype's
    range (as a block fill would check them), each a TypeError/ValueError naming it."""
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
    shape = _resolve_shape(shape)
    dt = _resolve_dtype(dtype)
    seed = resolve_seed(seed)      # one seed for every block, drawn here when None
    stream_id(stream)              # checked once, not per block
    if hasattr(scheme, "plan"):
        scheme.plan(shape)         # parameter errors now, not inside a worker
    else:
        scheme.std(shape)          # shape errors (orthogonal needs 2-D, eye 2-D, ...) now
    # every check a block runs (the dtype's range included), on an empty block: now, not at compute()
    scheme.init_(np.empty((0,) * len(shape), dt), seed=seed, stream=stream, global_shape=shape,
                 offset=(0,) * len(shape), threads=1)
    chunks = _resolve_chunks(chunks, shape, dt)
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
