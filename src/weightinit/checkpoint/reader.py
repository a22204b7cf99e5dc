"""Reading checkpoints back (safetensors files, sharded indexes, npy directories)
without the safetensors package, trusting no file: memory maps of each tensor plus
the weightinit metadata, and streaming statistics for `weightinit inspect`."""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass

import numpy as np

from .format import (INDEX_FILE, NPY_MANIFEST, SINGLE_FILE, check_shape, checked_member, read_json_file,
                     read_safetensors_header)
from .._files import open_regular
from .publish import pending_publish
from .spec import DTYPES, _schemes

__all__ = ["TensorEntry", "read_checkpoint", "inspect_checkpoint"]


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


def _scheme_of(meta: dict, name: str, where: str):
    raw = meta.get(f"weightinit.scheme.{name}")
    if raw is None:
        return None
    try:
        scheme = json.loads(raw)
    except (ValueError, RecursionError):
        scheme = None
    if not isinstance(scheme, dict):
        raise ValueError(f"{where}: the recorded scheme of tensor {name!r} is not a JSON object")
    return scheme


def _read_safetensors(path: str) -> tuple[list, dict]:
    data_start, tensors, meta = read_safetensors_header(path)
    out = []
    for name, (code, dt, shape, begin, _) in tensors.items():
        dname = next((k for k, (d, c) in DTYPES.items() if c == code), dt.name)
        out.append(TensorEntry(name, path, data_start + begin, shape, dt, dname, _scheme_of(meta, name, path)))
    out.sort(key=lambda e: e.offset)
    return out, meta


def _read_npy(path: str, info: dict | None = None) -> TensorEntry:
    name = info["name"] if info else os.path.basename(path)[:-4]
    try:
        with open_regular(path, ".npy file") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dt = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, dt = np.lib.format.read_array_header_2_0(fh)
            offset = fh.tell()
    except (ValueError, SyntaxError, TypeError) as exc:
        raise ValueError(f"{path}: not a valid .npy file ({str(exc).splitlines()[0] if str(exc) else exc})") from None
    dname = dt.name
    if info is not None:   # bfloat16 is stored as '|V2': the manifest knows better
        dname = info["dtype"]
        if DTYPES[dname][0].itemsize != dt.itemsize or tuple(shape) != tuple(info["shape"]):
            raise ValueError(f"{path}: header ({dt}, {tuple(shape)}) disagrees with the manifest "
                             f"({dname}, {tuple(info['shape'])})")
        dt = DTYPES[dname][0]
    if fortran:
        raise ValueError(f"{path}: Fortran-ordered arrays are not supported")
    if dt.hasobject:
        raise ValueError(f"{path}: object arrays are not supported")
    if offset + math.prod(shape) * dt.itemsize != os.path.getsize(path):
        raise ValueError(f"{path}: file size does not match its header's shape {tuple(shape)} and dtype {dt}")
    return TensorEntry(name, path, offset, tuple(shape), dt, dname, info.get("scheme") if info else None)


def _read_manifest(path: str) -> tuple[list, dict]:
    manifest = read_json_file(path, "npy manifest")
    directory = os.path.dirname(path)
    tensors = manifest.get("tensors")
    if not isinstance(tensors, dict):
        raise ValueError(f"{path}: 'tensors' must be an object of tensor name to entry")
    entries = []
    for name, t in tensors.items():
        where = f"{path}: tensor {name!r}"
        if not isinstance(t, dict):
            raise ValueError(f"{where}: entry must be an object")
        if t.get("dtype") not in DTYPES:
            raise ValueError(f"{where}: unsupported dtype {t.get('dtype')!r}")
        check_shape(t.get("shape"), where)
        if t.get("scheme") is not None and not isinstance(t["scheme"], dict):
            raise ValueError(f"{where}: scheme must be an object")
        entries.append(_read_npy(checked_member(directory, t.get("file"), where), {**t, "name": name}))
    meta = {"weightinit.version": str(manifest.get("weightinit_version")), "weightinit.seed": str(manifest.get("seed"))}
    if "stream_contract" in manifest:
        meta["weightinit.stream_contract"] = str(manifest["stream_contract"])
    return entries, meta


def _read_index(path: str) -> tuple[list, dict]:
    index = read_json_file(path, "index")
    directory = os.path.dirname(path)
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise ValueError(f"{path}: 'weight_map' must be an object of tensor name to shard file")
    metadata = index.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValueError(f"{path}: 'metadata' must be an object")
    entries = []
    for shard in sorted(set(weight_map.values())):
        shard_path = checked_member(directory, shard, f"{path}: weight_map")
        found, _ = _read_safetensors(shard_path)
        names = {e.name for e in found}
        missing = [t for t, s in weight_map.items() if s == shard and t not in names]
        if missing:
            raise ValueError(f"{path}: tensor {missing[0]!r} is mapped to {shard}, which does not hold it")
        entries += found
    return entries, {k: str(v) for k, v in metadata.items()}


def read_checkpoint(path) -> tuple[list, dict]:
    """(tensor entries, metadata) of a .safetensors file, an index json, a directory
    of shards / model.safetensors, or an npy directory written by weightinit. Every
    file is validated first (format.py); a malformed one is a ValueError."""
    path = os.fspath(path)
    if os.path.isdir(path):
        if pending_publish(path):
            raise ValueError(f"{path}: a checkpoint was being published here and the run stopped; run the same "
                             "`weightinit create` again (with --resume) to finish it")
        # the loaders' order: transformers tries the single file before the index
        for cand in (SINGLE_FILE, INDEX_FILE, NPY_MANIFEST):
            if os.path.exists(os.path.join(path, cand)):
                return read_checkpoint(os.path.join(path, cand))
        files = sorted(f for f in os.listdir(path) if f.endswith(".safetensors"))
        if not files:
            raise ValueError(f"{path}: no checkpoint found (no .safetensors files, index or weightinit.json)")
        return [e for f in files for e in _read_safetensors(os.path.join(path, f))[0]], {}
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file or directory")
    base = os.path.basename(path)
    if base == NPY_MANIFEST:
        return _read_manifest(path)
    if base.endswith(".index.json"):
        return _read_index(path)
    if base.endswith(".npy"):
        return [_read_npy(path)], {}
    if pending_publish(os.path.dirname(os.path.abspath(path)), base):
        raise ValueError(f"{path}: the run that writes it stopped while publishing; run it again to finish")
    entries, meta = _read_safetensors(path)
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
    `stats`, measured mean/std/min/max; ``scheme_error`` when the recorded scheme is
    not one weightinit accepts) and the checkpoint metadata."""
    entries, meta = read_checkpoint(path)
    rows = []
    for e in entries:
        row = {"name": e.name, "dtype": e.dtype_name, "shape": e.shape, "scheme": e.scheme,
               "expected_std": None, "file": os.path.basename(e.file)}
        if e.scheme is not None:
            try:
                scheme = _schemes.from_dict(dict(e.scheme))
                if isinstance(scheme, _schemes.Recorded):
                    scheme.check_shape_(e.shape)
                std = scheme.std(e.shape)
                row["expected_std"] = None if std is None else float(std)
            except (TypeError, ValueError) as exc:   # shown, never evaluated
                row["scheme_error"] = str(exc)
        if stats:
            row.update(_stats(e.array()))
        rows.append(row)
    return rows, meta
