"""Proof that a checkpoint holds exactly its recorded initialization: every tensor is
regenerated from the seed and the scheme in the file's metadata and compared with the
bytes on disk, chunk by chunk, in bounded memory."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from .. import schemes as _schemes
from .._contract import CONTRACT_VERSION, changed_since
from .._streams import resolve_seed
from .diskio import ChunkReader
from .reader import read_checkpoint

__all__ = ["verify_checkpoint", "VerifyReport"]

CHUNK_BYTES = 64 << 20


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


def _changed_tensors(entries, contract: str) -> list:
    """Names of the tensors whose values the running contract changed since `contract`
    (all of them when the version is unknown or before 2)."""
    try:
        version = int(contract)
    except ValueError:
        version = 0
    changed = []
    for e in entries:
        try:
            scheme = None if e.scheme is None else _schemes.from_dict(dict(e.scheme))
        except (TypeError, ValueError):
            scheme = None      # reported as unverifiable below
        if not 2 <= version <= CONTRACT_VERSION or (scheme is not None and changed_since(version, scheme, e.shape, e.dtype_name)):
            changed.append(e.name)
    return changed


def verify_checkpoint(path, *, threads=None) -> VerifyReport:
    """Regenerate every tensor of the checkpoint at `path` from its recorded seed and
    schemes and compare it bit for bit with the file; ValueError when the checkpoint
    has no weightinit seed (it was not written by weightinit) or is malformed. The
    file is read on a second thread (diskio.ChunkReader) while the kernels regenerate."""
    entries, meta = read_checkpoint(path)
    raw_seed = meta.get("weightinit.seed")
    if raw_seed is None:
        raise ValueError(f"{os.fspath(path)}: no weightinit.seed in the metadata: not a checkpoint written by "
                         "weightinit, nothing to regenerate it from")
    try:
        seed = resolve_seed(int(raw_seed))
    except (TypeError, ValueError):
        raise ValueError(f"{os.fspath(path)}: weightinit.seed {raw_seed!r} is not a valid seed") from None
    # written before checkpoints recorded it: weightinit <= 0.2 implemented version 1
    contract = meta.get("weightinit.stream_contract", "1" if "weightinit.version" in meta else None)
    if contract is not None and contract != str(CONTRACT_VERSION):
        changed = _changed_tensors(entries, contract)
        if changed:
            raise ValueError(f"{os.fspath(path)}: written under stream contract version {contract} (weightinit "
                             f"{meta.get('weightinit.version', '?')}); this weightinit implements version "
                             f"{CONTRACT_VERSION}, whose values differ by design for {changed[0]!r}"
                             f"{f' and {len(changed) - 1} more tensors' if len(changed) > 1 else ''} "
                             "(docs/streams.md): verify it with the weightinit that wrote it")
    report = VerifyReport(os.fspath(path), seed)
    t0 = time.perf_counter()
    checks = []          # (entry, scheme) of the tensors to regenerate
    for e in entries:
        report.tensors += 1
        report.nbytes += int(np.prod(e.shape, dtype=np.int64)) * e.dtype.itemsize
        if e.scheme is None:
            report.unverifiable.append((e.name, "no recorded scheme"))
            continue
        try:
            checks.append((e, _schemes.from_dict(dict(e.scheme))))
        except Exception as exc:   # a scheme name or parameter this version does not know
            report.unverifiable.append((e.name, f"recorded scheme cannot be rebuilt ({exc})"))
    pieces = [(e, scheme, start, count) for e, scheme in checks for start, count in _ranges(e)]
    reader = ChunkReader([(e.file, e.offset + start * e.dtype.itemsize, count * e.dtype.itemsize)
                          for e, _, start, count in pieces], CHUNK_BYTES)
    expected_buf = np.empty(CHUNK_BYTES, np.uint8)
    whole, failed = None, set()
    for (e, scheme, start, count), got in zip(pieces, reader):
        if e.name in failed:
            continue
        if getattr(scheme, "elementwise", True):
            expected = expected_buf[:count * e.dtype.itemsize].view(e.dtype)
            scheme.fill_chunk_(expected, e.shape, start, seed=seed, stream=e.name, threads=threads)
        else:
            if whole is None or whole[0] is not e:
                arr = np.empty(e.shape, e.dtype)
                scheme.init_(arr, seed=seed, stream=e.name, threads=threads)
                whole = (e, arr.reshape(-1))
            expected = whole[1][start:start + count]
        found = got.view(e.dtype) if len(got) == count * e.dtype.itemsize else None
        if found is None or not np.array_equal(_bits(expected), _bits(found)):
            failed.add(e.name)
            report.mismatches.append(_describe(e, start, expected, found))
    report.seconds = time.perf_counter() - t0
    return report


def _ranges(e):
    """(element start, count) pieces of a tensor, at most CHUNK_BYTES each."""
    n = int(np.prod(e.shape, dtype=np.int64))
    step = max(1, CHUNK_BYTES // e.dtype.itemsize)
    return [(start, min(step, n - start)) for start in range(0, n, step)]


def _describe(e, start, expected, found) -> dict:
    if found is None:   # the file ended early (it was truncated after it was read)
        k = 0
        value = None
    else:
        k = int(np.flatnonzero(_bits(expected) != _bits(found))[0])
        value = float(found[k])
    flat = start + k
    return {"name": e.name, "index": flat, "position": tuple(int(i) for i in np.unravel_index(flat, e.shape)),
            "expected": float(expected[k]), "found": value}
