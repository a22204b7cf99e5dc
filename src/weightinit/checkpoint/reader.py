"""Reading checkpoints back (safetensors files, sharded indexes, npy directories)
without the safetensors package: memory maps of each tensor plus the weightinit
metadata, and streaming statistics for `weightinit inspect`."""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass

import numpy as np

from .spec import DTYPES, _schemes

__all__ = ["TensorEntry", "read_checkpoint", "inspect_checkpoint"]

_ST_DTYPES = {code: dt for dt, code in DTYPES.values()}
_ST_DTYPES.update({"I8": np.dtype(np.int8), "U8": np.dtype(np.uint8), "I16": np.dtype(np.int16),
                   "U16": np.dtype(np.uint16), "I32": np.dtype(np.int32), "U32": np.dtype(np.uint32),
                   "I64": np.dtype(np.int64), "U64": np.dtype(np.uint64), "BOOL": np.dtype(np.bool_)})
_MAX_HEADER = 100 << 20


@dataclass
class TensorEntry:
    name: str
    file: str
    offset: int            # absolute byte offset of the data
    shape: tuple
    dtype: np.dtype
    dtype_name: str
    scheme: dict | None    # the scheme dict recorded by weightinit, if any

    def array(self) -> np.ndarray:
        """Read-only memory map of the tensor."""
        if math.prod(self.shape) == 0:
            return np.empty(self.shape, self.dtype)
        return np.memmap(self.file, dtype=self.dtype, mode="r", offset=self.offset, shape=self.shape)


def _read_safetensors(path: str) -> list:
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        raw = fh.read(8)
        if len(raw) < 8:
            raise ValueError(f"{path}: not a safetensors file (shorter than 8 bytes)")
        n = int.from_bytes(raw, "little")
        if n > _MAX_HEADER or 8 + n > size:
            raise ValueError(f"{path}: not a safetensors file (header length {n})")
        try:
            header = json.loads(fh.read(n))
        except ValueError as exc:
            raise ValueError(f"{path}: corrupt safetensors header: {exc}") from None
    meta = header.pop("__metadata__", None) or {}
    out = []
    for name, info in header.items():
        code = info.get("dtype")
        if code not in _ST_DTYPES:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {code!r}")
        begin, end = info["data_offsets"]
        dt = _ST_DTYPES[code]
        shape = tuple(info["shape"])
        if end - begin != math.prod(shape) * dt.itemsize or 8 + n + end > size:
            raise ValueError(f"{path}: tensor {name!r} has inconsistent data_offsets {info['data_offsets']}")
        scheme = meta.get(f"weightinit.scheme.{name}")
        dname = next((k for k, (d, c) in DTYPES.items() if c == code), dt.name)
        out.append(TensorEntry(name, path, 8 + n + begin, shape, dt, dname,
                               json.loads(scheme) if scheme else None))
    out.sort(key=lambda e: e.offset)
    return out


def _read_npy(path: str, info: dict | None = None) -> TensorEntry:
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dt = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, fortran, dt = np.lib.format.read_array_header_2_0(fh)
        offset = fh.tell()
    dname = dt.name
    if info is not None:   # bfloat16 is stored as '|V2': the manifest knows better
        dname = info["dtype"]
        dt = DTYPES[dname][0]
    if fortran:
        raise ValueError(f"{path}: Fortran-ordered arrays are not supported")
    name = info["name"] if info else os.path.basename(path)[:-4]
    return TensorEntry(name, path, offset, tuple(shape), dt, dname, info.get("scheme") if info else None)


def read_checkpoint(path) -> tuple[list, dict]:
    """(tensor entries, metadata) of a .safetensors file, an index json, a directory
    of shards / model.safetensors, or an npy directory written by weightinit."""
    path = os.fspath(path)
    if os.path.isdir(path):
        for cand in ("model.safetensors.index.json", "model.safetensors", "weightinit.json"):
            if os.path.exists(os.path.join(path, cand)):
                return read_checkpoint(os.path.join(path, cand))
        files = sorted(f for f in os.listdir(path) if f.endswith(".safetensors"))
        if not files:
            raise ValueError(f"{path}: no checkpoint found (no .safetensors files, index or weightinit.json)")
        entries = [e for f in files for e in _read_safetensors(os.path.join(path, f))]
        return entries, {}
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file or directory")
    base = os.path.basename(path)
    directory = os.path.dirname(path)
    if base == "weightinit.json":
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
        entries = [_read_npy(os.path.join(directory, t["file"]), {"name": name, **t})
                   for name, t in manifest["tensors"].items()]
        return entries, {"weightinit.version": manifest.get("weightinit_version"),
                         "weightinit.seed": str(manifest.get("seed"))}
    if base.endswith(".index.json"):
        with open(path, encoding="utf-8") as fh:
            index = json.load(fh)
        shards = sorted(set(index["weight_map"].values()))
        entries = [e for s in shards for e in _read_safetensors(os.path.join(directory, s))]
        return entries, {k: str(v) for k, v in index.get("metadata", {}).items()}
    if base.endswith(".npy"):
        return [_read_npy(path)], {}
    entries = _read_safetensors(path)
    with open(path, "rb") as fh:
        n = int.from_bytes(fh.read(8), "little")
        meta = json.loads(fh.read(n)).get("__metadata__") or {}
    return entries, {k: v for k, v in meta.items() if not k.startswith("weightinit.scheme.")}


def _stats(a: np.ndarray, chunk: int = 1 << 22) -> dict:
    """mean, std (population), min, max, non-finite count; streaming (Chan et al.)."""
    flat = a.reshape(-1)
    n_tot, mean, m2 = 0, 0.0, 0.0
    lo, hi, bad = math.inf, -math.inf, 0
    for s in range(0, flat.size, chunk):
        x = np.asarray(flat[s:s + chunk]).astype(np.float64)
        fin = np.isfinite(x)
        if not fin.all():
            bad += int((~fin).sum())
            x = x[fin]
        if x.size == 0:
            continue
        cm = float(x.mean())
        cm2 = float(((x - cm) ** 2).sum())
        n = x.size
        delta = cm - mean
        tot = n_tot + n
        mean += delta * n / tot
        m2 += cm2 + delta * delta * n_tot * n / tot
        n_tot = tot
        lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
    if n_tot == 0:
        return {"mean": math.nan, "std": math.nan, "min": math.nan, "max": math.nan, "nonfinite": bad}
    return {"mean": mean, "std": math.sqrt(m2 / n_tot), "min": lo, "max": hi, "nonfinite": bad}


def inspect_checkpoint(path, *, stats: bool = True) -> tuple[list, dict]:
    """Rows (one dict per tensor: name, dtype, shape, scheme, expected_std and, with
    `stats`, measured mean/std/min/max) and the checkpoint metadata."""
    entries, meta = read_checkpoint(path)
    rows = []
    for e in entries:
        row = {"name": e.name, "dtype": e.dtype_name, "shape": e.shape, "scheme": e.scheme,
               "expected_std": None, "file": os.path.basename(e.file)}
        if e.scheme is not None:
            try:
                row["expected_std"] = float(_schemes.from_dict(dict(e.scheme)).std(e.shape))
            except (TypeError, ValueError, KeyError):
                pass
        if stats:
            row.update(_stats(e.array()))
        rows.append(row)
    return rows, meta
