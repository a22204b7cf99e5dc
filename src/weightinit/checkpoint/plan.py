"""The plan of a checkpoint: every file that will exist at the end (data files with
their headers and tensor placements, and the small JSON/tokenizer files), decided and
validated before the first byte is written."""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field

from .format import DATA_ALIGN, INDEX_FILE, NPY_MANIFEST, SINGLE_FILE, npy_header, safetensors_header
from .spec import DTYPES, CheckpointSpec

__all__ = ["Plan", "parse_size"]

PLAN_VERSION = 3   # part of the plan digest: a resume never mixes plans of two layouts

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*([kmgtp]?i?b?)\s*$", re.IGNORECASE)


def _version() -> str:
    from .. import __version__
    return __version__


def _contract() -> str:
    from .._sampling import CONTRACT_VERSION
    return str(CONTRACT_VERSION)


def parse_size(size, name: str = "max_shard_size") -> int:
    """Bytes from an int or a string like '5GB' (10**9), '500MB', '2GiB' (2**30)."""
    if isinstance(size, bool):
        raise TypeError(f"{name} must be an int or a size string like '5GB', got {size!r}")
    if isinstance(size, int):
        value = size
    elif isinstance(size, str):
        m = _SIZE_RE.match(size)
        if not m:
            raise ValueError(f"{name} must be a size like '5GB', '500MB' or '2GiB', got {size!r}")
        unit = m.group(2).upper()
        prefix = unit[:1] if unit[:1] in "KMGTP" and unit else ""
        base = 1024 if "I" in unit else 1000
        value = int(float(m.group(1)) * base ** ("_KMGTP".index(prefix) if prefix else 0))
    else:
        raise TypeError(f"{name} must be an int or a size string like '5GB', got {type(size).__name__} {size!r}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {size!r}")
    return value


@dataclass
class Placement:
    name: str
    shape: tuple
    dtype: str
    scheme: object
    offset: int          # absolute byte offset in the file
    nbytes: int


@dataclass
class DataFile:
    name: str            # final base name in the target directory
    header: bytes = b""
    placements: list = field(default_factory=list)
    size: int = 0


@dataclass(frozen=True)
class Piece:
    """Elements [start, start + count) of a tensor, at byte `at` of its chunk."""
    placement: Placement
    start: int
    count: int
    at: int

    @property
    def ends_tensor(self) -> bool:
        return (self.start + self.count) * DTYPES[self.placement.dtype][0].itemsize == self.placement.nbytes


@dataclass(frozen=True)
class Chunk:
    """Bytes [offset, offset + nbytes) of data file number `file`."""
    file: int
    offset: int
    nbytes: int
    pieces: tuple


def scheme_json(scheme) -> str:
    return json.dumps(scheme.to_dict(), sort_keys=True, separators=(",", ":"))


def _layout_safetensors(entries, name: str, seed: int, user_meta: dict) -> DataFile:
    # largest item size first: every tensor starts aligned to its item size
    entries = sorted(entries, key=lambda e: -DTYPES[e[2]][0].itemsize)
    metadata = {**user_meta, "format": "pt", "weightinit.version": _version(),
                "weightinit.stream_contract": _contract(), "weightinit.seed": str(seed)}
    spans, off = [], 0
    for t_name, shape, dt, scheme in entries:
        nbytes = math.prod(shape) * DTYPES[dt][0].itemsize
        metadata[f"weightinit.scheme.{t_name}"] = scheme_json(scheme)
        spans.append((t_name, dt, tuple(shape), off, off + nbytes))
        off += nbytes
    header = safetensors_header(spans, metadata)
    placements = [Placement(t_name, shape, dt, e[3], len(header) + begin, end - begin)
                  for (t_name, dt, shape, begin, end), e in zip(spans, entries)]
    return DataFile(name, header, placements, len(header) + off)


def _layout_npy(t_name, shape, dt, scheme) -> DataFile:
    npdt = DTYPES[dt][0]
    header = npy_header(npdt, shape)
    nbytes = math.prod(shape) * npdt.itemsize
    return DataFile(f"{t_name}.npy", header, [Placement(t_name, tuple(shape), dt, scheme, len(header), nbytes)],
                    len(header) + nbytes)


class Plan:
    """All output files: `files` (data files, filled chunk by chunk) and `small`
    ([(base name, bytes)]: config, tokenizer, index or manifest), and `root`, the file
    whose presence makes the checkpoint visible to loaders (the single file, the index
    or the npy manifest)."""

    def __init__(self, spec: CheckpointSpec, path: str, fmt: str, seed: int, dtype: str | None,
                 max_shard_size: int | None):
        self.spec, self.seed, self.fmt = spec, seed, fmt
        entries = [(t.name, tuple(t.shape), spec.dtype_of(t, dtype), t.scheme) for t in spec.tensors]
        self.small: list = []
        if fmt == "safetensors" and path.endswith(".safetensors"):
            if max_shard_size is not None:
                raise ValueError(f"max_shard_size needs a directory as path, got a .safetensors file {path!r}")
            self.directory = os.path.dirname(os.path.abspath(path))
            self.single_target = os.path.basename(path)
            self.files = [_layout_safetensors(entries, self.single_target, seed, spec.metadata)]
            self.root = self.single_target
            return
        if path.endswith((".safetensors", ".npy", ".json")):
            raise ValueError(f"path must be a directory for format {fmt!r}, got {path!r}")
        self.directory = os.path.abspath(path)
        self.single_target = None
        if spec.config is not None:
            cfg = dict(spec.config)
            cfg["dtype"] = cfg["torch_dtype"] = dtype or spec.dtype
            self.small.append(("config.json", (json.dumps(cfg, indent=2, sort_keys=True) + "\n").encode()))
        self.small += [(name, data) for name, data in spec.files.items()
                       if not (name == "config.json" and spec.config is not None)]
        if fmt == "safetensors":
            self._shard(entries, max_shard_size)
        else:
            self.files = [_layout_npy(*e) for e in entries]
            manifest = {
                "format": "weightinit-npy", "weightinit_version": _version(), "stream_contract": int(_contract()),
                "seed": seed,
                "metadata": spec.metadata,
                "tensors": {e[0]: {"file": f.name, "shape": list(e[1]), "dtype": e[2], "scheme": e[3].to_dict()}
                            for e, f in zip(entries, self.files)},
            }
            self.small.append((NPY_MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode()))
            self.root = NPY_MANIFEST

    def _shard(self, entries, max_shard_size):
        groups, cur, cur_bytes = [], [], 0
        for e in entries:
            nb = math.prod(e[1]) * DTYPES[e[2]][0].itemsize
            if max_shard_size is not None and cur and cur_bytes + nb > max_shard_size:
                groups.append(cur)
                cur, cur_bytes = [], 0
            cur.append(e)
            cur_bytes += nb
        groups.append(cur)
        if len(groups) == 1:
            self.files = [_layout_safetensors(groups[0], SINGLE_FILE, self.seed, self.spec.metadata)]
            self.root = SINGLE_FILE
            return
        n = len(groups)
        self.files = [_layout_safetensors(g, f"model-{i + 1:05d}-of-{n:05d}.safetensors", self.seed, self.spec.metadata)
                      for i, g in enumerate(groups)]
        index = {
            "metadata": {"total_size": sum(p.nbytes for f in self.files for p in f.placements),
                         "weightinit.version": _version(), "weightinit.stream_contract": _contract(),
                         "weightinit.seed": str(self.seed)},
            "weight_map": dict(sorted((p.name, f.name) for f in self.files for p in f.placements)),
        }
        self.small.append((INDEX_FILE, (json.dumps(index, indent=2) + "\n").encode()))
        self.root = INDEX_FILE

    def chunks(self, chunk_bytes: int):
        """The data of every file as Chunks of `chunk_bytes` (a multiple of
        DATA_ALIGN), in writing order. A chunk is a byte range of one file and may hold
        pieces of several tensors; since data starts DATA_ALIGN-aligned, every chunk
        but a file's last starts and ends on a block boundary."""
        if chunk_bytes <= 0 or chunk_bytes % DATA_ALIGN:
            raise ValueError(f"chunk_bytes must be a positive multiple of {DATA_ALIGN}, got {chunk_bytes}")
        for fi, f in enumerate(self.files):
            placements = sorted(f.placements, key=lambda p: p.offset)
            k = 0
            for begin in range(len(f.header), f.size, chunk_bytes):
                end = min(begin + chunk_bytes, f.size)
                while k < len(placements) and placements[k].offset + placements[k].nbytes <= begin:
                    k += 1
                pieces = []
                for p in placements[k:]:
                    if p.offset >= end:
                        break
                    lo, hi = max(begin, p.offset), min(end, p.offset + p.nbytes)
                    if hi > lo:
                        item = DTYPES[p.dtype][0].itemsize
                        pieces.append(Piece(p, (lo - p.offset) // item, (hi - lo) // item, lo - begin))
                yield Chunk(fi, begin, end - begin, tuple(pieces))

    def num_chunks(self, chunk_bytes: int) -> int:
        return sum(1 for _ in self.chunks(chunk_bytes))

    def digest(self, chunk_bytes: int) -> str:
        h = hashlib.sha256()
        h.update(json.dumps([PLAN_VERSION, _version(), self.seed, chunk_bytes]).encode())
        for f in self.files:
            h.update(f.name.encode() + b"\0" + f.header + str(f.size).encode())
            for p in f.placements:
                h.update(json.dumps([p.name, p.shape, p.dtype, p.offset, scheme_json(p.scheme)]).encode())
        for name, data in self.small:   # a copied file by its content's hash
            h.update(name.encode() + b"\0" + (data if isinstance(data, bytes) else f"sha256:{data.sha256}".encode()))
        return h.hexdigest()

    def names(self) -> list:
        """Base names of every file of the finished checkpoint, the root last."""
        names = [f.name for f in self.files] + [n for n, _ in self.small]
        names.remove(self.root)
        return names + [self.root]

    def targets(self) -> list:
        return [os.path.join(self.directory, f.name) for f in self.files] + \
               [os.path.join(self.directory, n) for n, _ in self.small]
