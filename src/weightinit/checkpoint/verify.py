"""Proof that a checkpoint holds exactly its recorded initialization: every tensor is
regenerated from the seed and the scheme in the file's metadata and compared with the
bytes on disk, chunk by chunk, in bounded memory."""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .. import schemes as _schemes
from .._streams import resolve_seed
from .reader import read_checkpoint

__all__ = ["verify_checkpoint", "VerifyReport"]

CHUNK_BYTES = 64 << 20
_FADVISE = hasattr(os, "posix_fadvise") and sys.platform.startswith("linux")


@dataclass
class VerifyReport:
    """`mismatches`: one dict per differing tensor (name, first differing element as
    flat and multi-index, expected and found values); `unverifiable`: (name, reason)
    for tensors without a scheme this version can regenerate."""
    path: str
    seed: int
    tensors: int = 0
    nbytes: int = 0
    seconds: float = 0.0
    mismatches: list = field(default_factory=list)
    unverifiable: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.unverifiable


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(np.dtype(f"u{a.dtype.itemsize}"))


def _drop_cache(path: str, offset: int, nbytes: int) -> None:
    """Read pages are clean: drop them so a large verify does not fill the page cache."""
    if not _FADVISE:
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.posix_fadvise(fd, offset, nbytes, os.POSIX_FADV_DONTNEED)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def verify_checkpoint(path, *, threads=None) -> VerifyReport:
    """Regenerate every tensor of the checkpoint at `path` from its recorded seed and
    schemes and compare it bit for bit with the file; ValueError when the checkpoint
    has no weightinit seed (it was not written by weightinit) or is malformed."""
    entries, meta = read_checkpoint(path)
    raw_seed = meta.get("weightinit.seed")
    if raw_seed is None:
        raise ValueError(f"{os.fspath(path)}: no weightinit.seed in the metadata: not a checkpoint written by "
                         "weightinit, nothing to regenerate it from")
    try:
        seed = resolve_seed(int(raw_seed))
    except (TypeError, ValueError):
        raise ValueError(f"{os.fspath(path)}: weightinit.seed {raw_seed!r} is not a valid seed") from None
    report = VerifyReport(os.fspath(path), seed)
    t0 = time.perf_counter()
    for e in entries:
        report.tensors += 1
        report.nbytes += int(np.prod(e.shape, dtype=np.int64)) * e.dtype.itemsize
        if e.scheme is None:
            report.unverifiable.append((e.name, "no recorded scheme"))
            continue
        try:
            scheme = _schemes.from_dict(dict(e.scheme))
        except Exception as exc:   # a scheme name or parameter this version does not know
            report.unverifiable.append((e.name, f"recorded scheme cannot be rebuilt ({exc})"))
            continue
        found = _first_difference(e, scheme, seed, threads)
        if found is not None:
            report.mismatches.append(found)
    report.seconds = time.perf_counter() - t0
    return report


def _first_difference(e, scheme, seed, threads) -> dict | None:
    n = int(np.prod(e.shape, dtype=np.int64))
    if n == 0:
        return None
    disk = e.array().reshape(-1)
    step = max(1, CHUNK_BYTES // e.dtype.itemsize)
    whole = None
    if not getattr(scheme, "elementwise", True):
        whole = np.empty(e.shape, e.dtype)
        scheme.init_(whole, seed=seed, stream=e.name, threads=threads)
        whole = whole.reshape(-1)
    buf = np.empty(min(step, n), e.dtype)
    try:
        for start in range(0, n, step):
            count = min(step, n - start)
            if whole is None:
                expected = buf[:count]
                scheme.fill_chunk_(expected, e.shape, start, seed=seed, stream=e.name, threads=threads)
            else:
                expected = whole[start:start + count]
            got = disk[start:start + count]
            equal = np.array_equal(_bits(expected), _bits(got))
            _drop_cache(e.file, e.offset + start * e.dtype.itemsize, count * e.dtype.itemsize)
            if not equal:
                k = int(np.flatnonzero(_bits(expected) != _bits(got))[0])
                flat = start + k
                return {"name": e.name, "index": flat, "position": tuple(int(i) for i in np.unravel_index(flat, e.shape)),
                        "expected": float(expected[k]), "found": float(got[k])}
    finally:
        del disk
    return None
