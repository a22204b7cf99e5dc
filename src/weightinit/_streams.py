"""Seeds and streams: how user-facing values become the 64-bit Philox key and
stream words (docs/streams.md is the normative description)."""
from __future__ import annotations

import hashlib
import numbers
import secrets

_U64 = 2**64


def resolve_seed(seed) -> int:
    """An int in [0, 2**64), or fresh OS entropy for None."""
    if type(seed) is int and 0 <= seed < _U64:
        return seed
    if seed is None:
        return secrets.randbits(64)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int in [0, 2**64) or None, got {type(seed).__name__} {seed!r}")
    seed = int(seed)
    if not 0 <= seed < _U64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    return seed


def stream_id(stream) -> int:
    """An int in [0, 2**64) as is; a str by the first 8 bytes (little endian)
    of the SHA-256 of its UTF-8 encoding."""
    if type(stream) is int and 0 <= stream < _U64:
        return stream
    if isinstance(stream, str):
        try:
            data = stream.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates have no UTF-8 form
            raise ValueError(f"stream must be a valid Unicode string (encodable as UTF-8), got {stream!r}: "
                             f"{exc.reason} at position {exc.start}") from None
        return int.from_bytes(hashlib.sha256(data).digest()[:8], "little")
    if isinstance(stream, bool) or not isinstance(stream, numbers.Integral):
        raise TypeError(f"stream must be an int in [0, 2**64) or a str, got {type(stream).__name__} {stream!r}")
    stream = int(stream)
    if not 0 <= stream < _U64:
        raise ValueError(f"stream must be in [0, 2**64), got {stream}")
    return stream


def substream(stream, purpose: str) -> int:
    """A stream derived from `stream` for one purpose of a composite initializer
    (for example the zero mask of sparse_): hash of '<stream id>/<purpose>'."""
    return stream_id(f"{stream_id(stream)}/{purpose}")


def resolve_offset(offset) -> int:
    if type(offset) is int and 0 <= offset < _U64:
        return offset
    if isinstance(offset, bool) or not isinstance(offset, numbers.Integral):
        raise TypeError(f"offset must be a non-negative int, got {type(offset).__name__} {offset!r}")
    offset = int(offset)
    if not 0 <= offset < _U64:
        raise ValueError(f"offset must be in [0, 2**64), got {offset}")
    return offset
