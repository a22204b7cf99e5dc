"""Streaming checkpoint writer: safetensors (single file or shards + index) or one
.npy per tensor, filled chunk by chunk through memory maps by the C kernels.

Safety protocol
---------------
1. Everything is validated and planned (file names, headers, offsets) before the
   first byte is written; target names that already exist are refused unless
   ``overwrite=True``.
2. Free space is checked, then every data file is created under a temporary name
   (``<target>.partial``) in the target directory and allocated in full
   (``posix_fallocate``), so a full disk fails here, not halfway.
3. Data is written in chunks of at most CHUNK_BYTES through a memory map of just that
   chunk (unmapped afterwards, so resident memory stays bounded); the writeback of each
   finished chunk is started at once (posix_fadvise), overlapping disk and kernels. At least every
   CHECKPOINT_BYTES the file is fsync'd and the number of finished chunks is
   recorded in a progress sidecar (written to a temporary file, fsync'd, renamed).
4. At the end every file is fsync'd and renamed to its target name, the index
   (or npy manifest) last, and the sidecar is removed. An interrupted run leaves
   only ``.partial`` files and the sidecar; ``resume=True`` checks that the plan is
   unchanged and continues after the last recorded chunk. Because every value is a
   pure function of (seed, tensor name, index), the result equals an uninterrupted
   run bit for bit.
"""
from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .._streams import resolve_seed
from .spec import DTYPES, CheckpointSpec, load_spec, parse_spec, resolve_dtype

__all__ = ["create_checkpoint", "parse_size", "CheckpointResult"]

CHUNK_BYTES = 64 << 20         # largest piece mapped and filled at once
CHECKPOINT_BYTES = 1 << 30     # resume point (fsync + sidecar) at least this often
PROGRESS_VERSION = 1
_chunk_hook = None             # tests: called with the global chunk index after each chunk

def _version() -> str:
    from .. import __version__
    return __version__


_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*([kmgtp]?i?b?)\s*$", re.IGNORECASE)


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
class _Placement:
    name: str
    shape: tuple
    dtype: str
    scheme: object
    offset: int          # absolute byte offset in the file
    nbytes: int


@dataclass
class _File:
    name: str            # final base name in the target directory
    header: bytes = b""
    placements: list = field(default_factory=list)
    size: int = 0


@dataclass
class CheckpointResult:
    """What create_checkpoint wrote."""
    path: str
    files: list
    seed: int
    num_tensors: int
    num_parameters: int
    nbytes: int
    seconds: float
    resumed_bytes: int = 0


def _scheme_json(scheme) -> str:
    return json.dumps(scheme.to_dict(), sort_keys=True, separators=(",", ":"))


def _safetensors_header(placements: list, data_start: int, metadata: dict) -> bytes:
    header = {"__metadata__": metadata}
    for p in placements:
        begin = p.offset - data_start
        header[p.name] = {"dtype": DTYPES[p.dtype][1], "shape": list(p.shape), "data_offsets": [begin, begin + p.nbytes]}
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-(8 + len(raw)) % 8)   # data starts 8-byte aligned
    return len(raw).to_bytes(8, "little") + raw


def _layout_safetensors(entries, name: str, seed: int, user_meta: dict) -> _File:
    # largest item size first: every tensor starts aligned to its item size
    entries = sorted(entries, key=lambda e: -DTYPES[e[2]][0].itemsize)
    metadata = {"format": "pt", "weightinit.version": _version(), "weightinit.seed": str(seed), **user_meta}
    for t_name, _, _, scheme in entries:
        metadata[f"weightinit.scheme.{t_name}"] = _scheme_json(scheme)

    def build(data_start):
        pl, off = [], data_start
        for t_name, shape, dt, scheme in entries:
            nbytes = math.prod(shape) * DTYPES[dt][0].itemsize
            pl.append(_Placement(t_name, tuple(shape), dt, scheme, off, nbytes))
            off += nbytes
        return pl, off

    # the header length does not depend on data_start (offsets are relative to it)
    pl, _ = build(0)
    header = _safetensors_header(pl, 0, metadata)
    pl, end = build(len(header))
    return _File(name, header, pl, end)


def _layout_npy(t_name, shape, dt) -> _File:
    npdt = DTYPES[dt][0]
    import io
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": np.lib.format.dtype_to_descr(npdt), "fortran_order": False, "shape": tuple(shape)})
    header = buf.getvalue()
    nbytes = math.prod(shape) * npdt.itemsize
    return _File(f"{t_name}.npy", header, [_Placement(t_name, tuple(shape), dt, None, len(header), nbytes)],
                 len(header) + nbytes)


class _Plan:
    """All output files (data files plus small JSON files written at the end)."""

    def __init__(self, spec: CheckpointSpec, path: str, fmt: str, seed: int, dtype: str | None,
                 max_shard_size: int | None):
        self.spec, self.seed, self.fmt = spec, seed, fmt
        entries = [(t.name, tuple(t.shape), spec.dtype_of(t, dtype), t.scheme) for t in spec.tensors]
        schemes = {t.name: t.scheme for t in spec.tensors}
        self.small: list = []    # (base name, bytes) written after the data files, in this order
        if fmt == "safetensors" and path.endswith(".safetensors"):
            if max_shard_size is not None:
                raise ValueError(f"max_shard_size needs a directory as path, got a .safetensors file {path!r}")
            self.directory = os.path.dirname(os.path.abspath(path))
            self.files = [_layout_safetensors(entries, os.path.basename(path), seed, spec.metadata)]
            self.progress_name = os.path.basename(path) + ".progress"
        else:
            if path.endswith((".safetensors", ".npy", ".json")):
                raise ValueError(f"path must be a directory for format {fmt!r}, got {path!r}")
            self.directory = os.path.abspath(path)
            self.progress_name = ".weightinit-progress"
            if spec.config is not None:
                cfg = dict(spec.config)
                cfg["dtype"] = cfg["torch_dtype"] = dtype or spec.dtype
                self.small.append(("config.json", (json.dumps(cfg, indent=2, sort_keys=True) + "\n").encode()))
            self.small += [(name, data) for name, data in spec.files.items()
                           if not (name == "config.json" and spec.config is not None)]
            if fmt == "safetensors":
                self._shard(entries, max_shard_size)
            else:
                self.files = [_layout_npy(*e[:3]) for e in entries]
                for f in self.files:
                    f.placements[0].scheme = schemes[f.placements[0].name]
                manifest = {
                    "format": "weightinit-npy", "weightinit_version": _version(), "seed": seed,
                    "metadata": spec.metadata,
                    "tensors": {e[0]: {"file": f.name, "shape": list(e[1]), "dtype": e[2], "scheme": e[3].to_dict()}
                                for e, f in zip(entries, self.files)},
                }
                self.small.append(("weightinit.json", (json.dumps(manifest, indent=1) + "\n").encode()))

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
            self.files = [_layout_safetensors(groups[0], "model.safetensors", self.seed, self.spec.metadata)]
            return
        n = len(groups)
        self.files = [_layout_safetensors(g, f"model-{i + 1:05d}-of-{n:05d}.safetensors", self.seed, self.spec.metadata)
                      for i, g in enumerate(groups)]
        index = {
            "metadata": {"total_size": sum(p.nbytes for f in self.files for p in f.placements),
                         "weightinit.version": _version(), "weightinit.seed": str(self.seed)},
            "weight_map": {p.name: f.name for f in self.files for p in sorted(f.placements, key=lambda p: p.name)},
        }
        index["weight_map"] = dict(sorted(index["weight_map"].items()))
        self.small.append(("model.safetensors.index.json", (json.dumps(index, indent=2) + "\n").encode()))

    def chunks(self, chunk_bytes: int):
        """(file index, placement, element start, element count) in writing order."""
        for fi, f in enumerate(self.files):
            for p in f.placements:
                item = DTYPES[p.dtype][0].itemsize
                n = p.nbytes // item
                step = max(1, chunk_bytes // item)
                for start in range(0, n, step):
                    yield fi, p, start, min(step, n - start)

    def digest(self, chunk_bytes: int) -> str:
        h = hashlib.sha256()
        h.update(json.dumps([PROGRESS_VERSION, _version(), self.seed, chunk_bytes]).encode())
        for f in self.files:
            h.update(f.name.encode() + b"\0" + f.header + str(f.size).encode())
            for p in f.placements:
                h.update(json.dumps([p.name, p.shape, p.dtype, p.offset, _scheme_json(p.scheme)]).encode())
        for name, data in self.small:
            h.update(name.encode() + b"\0" + data)
        return h.hexdigest()

    def targets(self) -> list:
        return [os.path.join(self.directory, f.name) for f in self.files] + \
               [os.path.join(self.directory, n) for n, _ in self.small]


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - not possible on every platform
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _write_atomic(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _allocate(fh, size: int) -> None:
    fd = fh.fileno()
    if hasattr(os, "posix_fallocate"):
        try:
            os.posix_fallocate(fd, 0, size)
            return
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL, getattr(errno, "ENOTSUP", -1)):
                raise
    os.ftruncate(fd, size)


def _start_writeback(fd: int, offset: int, nbytes: int) -> None:
    """Start writing a finished chunk to disk now (Linux: POSIX_FADV_DONTNEED starts
    asynchronous writeback of dirty pages, then drops the clean ones). Disk writes then
    overlap the filling of the next chunks instead of all waiting for the final fsync,
    and the page cache does not fill up with the checkpoint."""
    if _FADVISE:
        try:
            os.posix_fadvise(fd, offset, nbytes, os.POSIX_FADV_DONTNEED)
        except OSError:  # pragma: no cover - advisory only
            pass


_FADVISE = hasattr(os, "posix_fadvise") and sys.platform.startswith("linux")


def _resolve_spec(spec) -> CheckpointSpec:
    if isinstance(spec, CheckpointSpec):
        return spec
    if isinstance(spec, dict):
        return parse_spec(spec)
    if isinstance(spec, (str, os.PathLike)):
        p = os.fspath(spec)
        if os.path.isfile(p):
            return load_spec(p)
        from .presets import PRESETS, preset
        if p in PRESETS:
            return preset(p)
        raise ValueError(f"spec {p!r} is neither an existing .toml/.json file nor a preset ({', '.join(PRESETS)})")
    raise TypeError(f"spec must be a CheckpointSpec, a dict, a path or a preset name, got {type(spec).__name__}")


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def create_checkpoint(spec, path, *, seed=None, dtype=None, threads=None, max_shard_size=None,
                      progress=True, resume=False, format="safetensors", overwrite=False):
    """Write a checkpoint of randomly initialized tensors straight to disk.

    Parameters
    ----------
    spec : CheckpointSpec, dict, str or path
        A spec (see :mod:`weightinit.checkpoint.spec`), a .toml/.json file holding one,
        or a preset name ('gpt2', 'llama' with built-in defaults; use
        :func:`weightinit.checkpoint.preset` for a config.json).
    path : str or path
        ``*.safetensors``: one file. Anything else: a directory (created if needed)
        receiving ``model.safetensors``, or shards ``model-00001-of-0000N.safetensors`` plus
        ``model.safetensors.index.json`` when `max_shard_size` splits the tensors, or one
        ``<name>.npy`` per tensor plus ``weightinit.json`` for ``format='npy'``; presets
        also get their ``config.json``, so the directory loads with ``from_pretrained``.
    seed : int or None
        Overrides the spec's seed; if both are None one is drawn from the OS (and
        recorded in the metadata).
    dtype : str or None
        Replaces the spec's default dtype (tensors naming their own dtype keep it).
    threads : int or None
        Threads of the fill kernels; the bytes written do not depend on it.
    max_shard_size : int or str or None
        Largest shard, in bytes or like '5GB' (10**9) / '4GiB'. A tensor larger than
        this gets a shard of its own.
    progress : bool
        tqdm progress bar (bytes and tensors) and a summary on stderr.
    resume : bool
        Continue an interrupted run of the same spec into the same path; starts over
        if there is nothing to continue.
    format : {'safetensors', 'npy'}
    overwrite : bool
        Replace existing target files (only once the new ones are complete).

    Returns
    -------
    CheckpointResult

    Memory: at most one chunk (64 MiB) is mapped at a time, except that tensors of
    non-elementwise schemes (orthogonal) are generated whole in memory first.
    Interrupted runs leave ``*.partial`` files and a progress sidecar, never a file at a
    target name.
    """
    if format not in ("safetensors", "npy"):
        raise ValueError(f"format must be 'safetensors' or 'npy', got {format!r}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or path, got {type(path).__name__}")
    path = os.fspath(path)
    spec = _resolve_spec(spec)
    if dtype is not None:
        dtype = resolve_dtype(dtype)
    if max_shard_size is not None:
        max_shard_size = parse_size(max_shard_size)
    if threads is not None:
        from .._threads import resolve_threads
        resolve_threads(threads)
    seed = spec.seed if seed is None else resolve_seed(seed)
    chunk_bytes = CHUNK_BYTES

    # resume: a partial run may have drawn its seed from the OS
    provisional = _Plan(spec, path, format, 0 if seed is None else seed, dtype, max_shard_size)
    directory = provisional.directory
    progress_path = os.path.join(directory, provisional.progress_name)
    state = None
    if resume and os.path.exists(progress_path):
        try:
            with open(progress_path, encoding="utf-8") as fh:
                state = json.load(fh)
        except (OSError, ValueError):
            state = None
    if seed is None:
        seed = int(state["seed"]) if state and "seed" in state else resolve_seed(None)
    plan = _Plan(spec, path, format, seed, dtype, max_shard_size)
    digest = plan.digest(chunk_bytes)
    if state is not None and state.get("plan") != digest:
        raise ValueError(f"cannot resume: the partial run recorded in {progress_path} was made with a different "
                         "spec, seed, dtype, sharding or library version; run without resume to start over")

    if not overwrite:
        for t in plan.targets():
            if os.path.lexists(t):
                raise FileExistsError(f"{t} already exists (pass overwrite=True / --overwrite to replace it)")
    os.makedirs(directory, exist_ok=True)

    tmp_paths = [os.path.join(directory, f.name + ".partial") for f in plan.files]
    done_chunks = 0
    if state is not None:
        ok = all(os.path.exists(p) and os.path.getsize(p) == f.size for p, f in zip(tmp_paths, plan.files))
        done_chunks = int(state.get("chunks_done", 0)) if ok else 0
        if not ok:
            state = None

    total = sum(f.size for f in plan.files) + sum(len(d) for _, d in plan.small)
    need = total if state is None else sum(len(d) for _, d in plan.small)
    free = shutil.disk_usage(directory).free
    if need > free:
        raise OSError(errno.ENOSPC, f"not enough free space in {directory}: need {_human(need)}, "
                                    f"{_human(free)} available")

    def save_progress(chunks_done):
        _write_atomic(progress_path, json.dumps({
            "version": PROGRESS_VERSION, "plan": digest, "seed": seed, "chunks_done": chunks_done,
            "files": [f.name + ".partial" for f in plan.files]}).encode())
        _fsync_dir(directory)

    handles = []
    try:
        if state is None:
            try:
                for f, tp in zip(plan.files, tmp_paths):
                    fh = open(tp, "w+b")
                    handles.append(fh)
                    _allocate(fh, f.size)
                    os.pwrite(fh.fileno(), f.header, 0)
                save_progress(0)
            except BaseException:
                for fh in handles:
                    fh.close()
                handles = []
                for tp in tmp_paths:
                    if os.path.exists(tp):
                        os.unlink(tp)
                if os.path.exists(progress_path):
                    os.unlink(progress_path)
                raise
        else:
            handles = [open(tp, "r+b") for tp in tmp_paths]
        t0 = time.perf_counter()
        result = _write_data(plan, handles, done_chunks, chunk_bytes, threads, progress, save_progress, path)
        for fh in handles:
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
        handles = []
        result.seconds = time.perf_counter() - t0
    except KeyboardInterrupt:
        if progress:
            print(f"\ninterrupted: partial files kept in {directory}; run again with resume=True / --resume "
                  "to continue", file=sys.stderr)
        raise
    finally:
        for fh in handles:
            fh.close()

    # finish: data files first, then config, then the index / manifest (the completion mark)
    for f, tp in zip(plan.files, tmp_paths):
        os.replace(tp, os.path.join(directory, f.name))
    for name, data in plan.small:
        _write_atomic(os.path.join(directory, name), data)
    _fsync_dir(directory)
    os.unlink(progress_path)
    _fsync_dir(directory)
    result.seed = seed
    result.files = plan.targets()
    if progress:
        print(f"weightinit: wrote {result.num_tensors} tensors, {result.num_parameters:,} parameters, "
              f"{_human(result.nbytes)} in {result.seconds:.2f} s "
              f"({(result.nbytes - result.resumed_bytes) / max(result.seconds, 1e-9) / 1e9:.2f} GB/s) "
              f"to {path} (seed {seed})", file=sys.stderr)
    return result


def _write_data(plan: _Plan, handles, done_chunks, chunk_bytes, threads, progress, save_progress, path):
    total_bytes = sum(p.nbytes for f in plan.files for p in f.placements)
    n_tensors = sum(len(f.placements) for f in plan.files)
    resumed = 0
    for g, (fi, p, start, count) in enumerate(plan.chunks(chunk_bytes)):
        if g >= done_chunks:
            break
        resumed += count * DTYPES[p.dtype][0].itemsize
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=total_bytes, initial=resumed, unit="B", unit_scale=True, unit_divisor=1024,
                   desc=os.path.basename(path.rstrip(os.sep)) or path, file=sys.stderr, dynamic_ncols=True)
    tensors_done = 0
    since_sync = 0
    whole = None              # (placement, array) of a non-elementwise tensor being copied out
    last_fi = None
    try:
        for g, (fi, p, start, count) in enumerate(plan.chunks(chunk_bytes)):
            npdt = DTYPES[p.dtype][0]
            n = p.nbytes // npdt.itemsize
            if g < done_chunks:
                if start + count == n:
                    tensors_done += 1
                continue
            if last_fi is not None and fi != last_fi:
                os.fsync(handles[last_fi].fileno())
            last_fi = fi
            mm = np.memmap(handles[fi], dtype=npdt, mode="r+", offset=p.offset + start * npdt.itemsize, shape=(count,))
            try:
                if getattr(p.scheme, "elementwise", True):
                    p.scheme.fill_chunk_(mm, p.shape, start, seed=plan.seed, stream=p.name, threads=threads)
                else:
                    if whole is None or whole[0] is not p:
                        arr = np.empty(p.shape, npdt)
                        p.scheme.init_(arr, seed=plan.seed, stream=p.name, threads=threads)
                        whole = (p, arr.reshape(-1))
                    mm[:] = whole[1][start:start + count]
            finally:
                del mm
            nbytes = count * npdt.itemsize
            _start_writeback(handles[fi].fileno(), p.offset + start * npdt.itemsize, nbytes)
            since_sync += nbytes
            if start + count == n:
                tensors_done += 1
                whole = None
            if _chunk_hook is not None:
                _chunk_hook(g)
            if since_sync >= CHECKPOINT_BYTES:
                os.fsync(handles[fi].fileno())
                save_progress(g + 1)
                since_sync = 0
            if bar is not None:
                bar.update(nbytes)
                if start + count == n:
                    bar.set_postfix_str(f"tensors {tensors_done}/{n_tensors}", refresh=False)
        # zero-size tensors have no chunks
        tensors_done = n_tensors
        if bar is not None:
            bar.set_postfix_str(f"tensors {tensors_done}/{n_tensors}", refresh=False)
    finally:
        if bar is not None:
            bar.close()
    return CheckpointResult(path=path, files=[], seed=plan.seed, num_tensors=n_tensors,
                            num_parameters=plan.spec.num_parameters, nbytes=total_bytes,
                            seconds=0.0, resumed_bytes=resumed)
