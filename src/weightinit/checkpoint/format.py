"""On-disk formats, both ways: the safetensors header and the npy header the writer
lays out, and the validation every reader applies before it trusts a file.

The reader's rules follow safetensors' own: a header size cap, a JSON object with
unique keys, known dtypes, shape product x item size equal to the offset span, and
offsets that index the whole data buffer with neither holes nor overlaps. Index and
manifest paths must stay inside the checkpoint directory. Every violation is a
one-line ValueError naming the file and the tensor.
"""
from __future__ import annotations

import json
import math
import os
import re

import numpy as np

from .._files import open_regular, parse_json
from .spec import DTYPES

__all__ = ["safetensors_header", "npy_header", "read_safetensors_header", "read_json_file",
           "checked_member", "SAFETENSORS_DTYPES", "MAX_HEADER_BYTES", "SINGLE_FILE", "INDEX_FILE",
           "NPY_MANIFEST", "SHARD_NAME", "DATA_ALIGN"]

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
NPY_MANIFEST = "weightinit.json"
SHARD_NAME = re.compile(r"^model-\d{5,}-of-\d{5,}\.safetensors$")

MAX_HEADER_BYTES = 100_000_000     # safetensors' own limit on the JSON header
MAX_JSON_BYTES = 100_000_000       # index / manifest files

# safetensors code -> numpy dtype (floats from the spec table, plus the integer codes)
SAFETENSORS_DTYPES = {code: dt for dt, code in DTYPES.values()}
SAFETENSORS_DTYPES.update({
    "I8": np.dtype(np.int8), "U8": np.dtype(np.uint8), "I16": np.dtype(np.int16), "U16": np.dtype(np.uint16),
    "I32": np.dtype(np.int32), "U32": np.dtype(np.uint32), "I64": np.dtype(np.int64), "U64": np.dtype(np.uint64),
    "BOOL": np.dtype(np.bool_)})


# -- writing ---------------------------------------------------------------------------

DATA_ALIGN = 4096   # data starts on a page (and block) boundary: the writer can use direct I/O


def safetensors_header(tensors: list, metadata: dict) -> bytes:
    """The 8-byte length plus JSON header for `tensors` = [(name, dtype name, shape,
    begin, end)] with offsets relative to the data start; padded with spaces (which
    safetensors allows) so that the data starts DATA_ALIGN-aligned."""
    header = {"__metadata__": metadata}
    for name, dtype, shape, begin, end in tensors:
        header[name] = {"dtype": DTYPES[dtype][1], "shape": list(shape), "data_offsets": [begin, end]}
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-(8 + len(raw)) % DATA_ALIGN)
    return len(raw).to_bytes(8, "little") + raw


def npy_header(dtype: np.dtype, shape) -> bytes:
    """A version 1.0 .npy header, padded with spaces (as the format allows: the total
    stays a multiple of 64) so that the data starts DATA_ALIGN-aligned."""
    text = repr({"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": tuple(shape)})
    body = text.encode("latin1")
    pad = -(10 + len(body) + 1) % DATA_ALIGN
    body += b" " * pad + b"\n"
    if len(body) > 0xFFFF:
        raise ValueError(f"shape {tuple(shape)} has too many dimensions for a .npy header")
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body


# -- reading ---------------------------------------------------------------------------

def _unique_keys(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _loads(raw: bytes, what: str):
    return parse_json(raw, what, object_pairs_hook=_unique_keys)


def read_json_file(path: str, what: str) -> dict:
    """A JSON object from a small file, bounded in size."""
    with open_regular(path, what) as fh:
        raw = fh.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise ValueError(f"{path}: {what} is larger than the {MAX_JSON_BYTES} byte limit")
    obj = _loads(raw, f"{path}")
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: {what} must be a JSON object, got {type(obj).__name__}")
    return obj


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def check_shape(shape, where: str) -> tuple:
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise ValueError(f"{where}: shape must be a list of non-negative integers, got {_short(shape)}")
    return tuple(shape)


def _short(x, limit: int = 80) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[:limit] + "..."


def read_safetensors_header(path: str) -> tuple[int, dict, dict]:
    """(data start, {name: (dtype code, numpy dtype, shape, begin, end)}, metadata) of a
    safetensors file, validated as described in the module docstring."""
    with open_regular(path, "safetensors file") as fh:
        size = os.fstat(fh.fileno()).st_size
        raw = fh.read(8)
        if len(raw) < 8:
            raise ValueError(f"{path}: not a safetensors file (shorter than 8 bytes)")
        n = int.from_bytes(raw, "little")
        if n > MAX_HEADER_BYTES:
            raise ValueError(f"{path}: header length {n} is larger than the {MAX_HEADER_BYTES} byte limit")
        if 8 + n > size:
            raise ValueError(f"{path}: header length {n} runs past the end of the file ({size} bytes)")
        header = _loads(fh.read(n), f"{path}: header")
    if not isinstance(header, dict):
        raise ValueError(f"{path}: header must be a JSON object, got {type(header).__name__}")
    meta = header.pop("__metadata__", None)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise ValueError(f"{path}: __metadata__ must be an object of strings")
    data_len = size - 8 - n
    tensors = {}
    for name, info in header.items():
        where = f"{path}: tensor {name!r}"
        if not isinstance(info, dict):
            raise ValueError(f"{where}: entry must be an object, got {_short(info)}")
        code = info.get("dtype")
        if not isinstance(code, str) or code not in SAFETENSORS_DTYPES:
            raise ValueError(f"{where}: unsupported dtype {_short(code)}")
        if "shape" not in info or "data_offsets" not in info:
            raise ValueError(f"{where}: entry needs 'shape' and 'data_offsets'")
        shape = check_shape(info["shape"], where)
        offsets = info["data_offsets"]
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)
                and 0 <= offsets[0] <= offsets[1]):
            raise ValueError(f"{where}: data_offsets must be [begin, end] with 0 <= begin <= end, "
                             f"got {_short(offsets)}")
        dt = SAFETENSORS_DTYPES[code]
        if offsets[1] - offsets[0] != math.prod(shape) * dt.itemsize:
            raise ValueError(f"{where}: data_offsets {offsets} span {offsets[1] - offsets[0]} bytes, but shape "
                             f"{list(shape)} of {code} needs {math.prod(shape) * dt.itemsize}")
        if offsets[1] > data_len:
            raise ValueError(f"{where}: data_offsets {offsets} run past the end of the data ({data_len} bytes)")
        tensors[name] = (code, dt, shape, offsets[0], offsets[1])
    # the offsets must index the whole buffer, in order, without holes or overlaps
    expect = 0
    for name, (_, _, _, begin, end) in sorted(tensors.items(), key=lambda kv: (kv[1][3], kv[1][4])):
        if begin != expect:
            kind = "overlaps the previous tensor" if begin < expect else f"leaves a hole at byte {expect}"
            raise ValueError(f"{path}: tensor {name!r} at data_offsets {[begin, end]} {kind}")
        expect = end
    if expect != data_len:
        raise ValueError(f"{path}: the tensors cover {expect} of the {data_len} data bytes")
    return 8 + n, tensors, meta


def checked_member(directory: str, name, what: str) -> str:
    """Path of `name`, a file that an index or manifest in `directory` refers to; it
    must be a relative path that stays inside `directory` (symlinks resolved)."""
    if not isinstance(name, str) or not name or "\0" in name:
        raise ValueError(f"{what}: file name must be a non-empty string, got {_short(name)}")
    if os.path.isabs(name) or name.startswith(("/", "\\")):
        raise ValueError(f"{what}: file {name!r} is an absolute path; it must stay inside {directory}")
    path = os.path.normpath(os.path.join(directory, name))
    root = os.path.realpath(directory)
    real = os.path.realpath(path)
    if os.path.commonpath([root, real]) != root or real == root:
        raise ValueError(f"{what}: file {name!r} points outside the checkpoint directory {directory}")
    return path
