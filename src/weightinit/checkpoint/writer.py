"""Streaming checkpoint writer: safetensors (single file or shards + index) or one
.npy per tensor, filled chunk by chunk through memory maps by the C kernels.

A run, in order (see publish.py for the all-or-nothing part):
1. Everything is validated and planned (plan.py) before the first byte is written;
   existing target names are refused unless ``overwrite=True``.
2. The target's lock is taken; a committed but unfinished publish found there is
   finished first.
3. Free space is checked in filesystem blocks for every file of the result; then all
   of them are created in the private staging directory, the data files allocated in
   full (``posix_fallocate``) with their headers, the small files written.
4. Data is filled in chunks of at most CHUNK_BYTES (byte ranges of a file, which may
   hold pieces of several tensors) into a buffer, which a second thread writes while
   the kernels fill the next one, with O_DIRECT where the filesystem allows it
   (diskio.py), so disk and kernels overlap. Each chunk's
   xxh3-64 checksum is kept; at least every CHECKPOINT_BYTES, and when the run is
   stopped with the process alive, the files are fsync'd and the checksums recorded
   in the sidecar.
5. Everything is fsync'd and published. ``resume=True`` continues an interrupted
   run: the sidecar is validated, the headers compared with the plan byte for byte,
   each recorded chunk checked against its checksum; what fails is rewritten. Every
   value is a pure function of (seed, tensor name, index), so the result equals an
   uninterrupted run bit for bit.
"""
from __future__ import annotations

import errno
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from .._streams import resolve_seed
from . import progress as _progress
from .diskio import O_DIRECT, ChunkWriter, drop_cached, read_into
from .plan import Plan, parse_size
from .publish import (Staging, TargetLock, check_space, lock_name, old_checkpoint_files, publish, read_journal,
                      roll_forward, staging_name, _human)
from .spec import DTYPES, CheckpointSpec, check_ranges, load_spec, parse_spec, resolve_dtype, validate

__all__ = ["create_checkpoint", "parse_size", "CheckpointResult", "TargetExistsError"]

CHUNK_BYTES = 32 << 20         # largest piece filled at once (two such buffers are in use)
CHECKPOINT_BYTES = 1 << 30     # resume point (fsync + sidecar) at least this often
_chunk_hook = None             # tests: called with the global chunk index after each chunk


class TargetExistsError(FileExistsError):
    """A file of the checkpoint exists and overwrite was not asked for; `target` names it."""

    def __init__(self, target: str, message: str):
        super().__init__(message)
        self.target = target


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
    rewritten_chunks: int = 0     # chunks of a resumed run that failed their checksum


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


def _resolve_spec(spec) -> CheckpointSpec:
    if isinstance(spec, CheckpointSpec):
        validate(spec)          # it may have been changed since it was built (files added, say)
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


def _existing_parent(path: str) -> str:
    """The nearest existing directory at or above `path` (where its files will live)."""
    p = os.path.abspath(path)
    while not os.path.isdir(p):
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    return p


def create_checkpoint(spec, path, *, seed=None, dtype=None, threads=None, max_shard_size=None,
                      progress=True, resume=False, format="safetensors", overwrite=False, client=None):
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
        Continue an interrupted run of the same spec into the same path, checking
        every chunk already written; starts over if there is nothing to continue.
    format : {'safetensors', 'npy'}
    overwrite : bool
        Replace an existing checkpoint at `path`, all at once when the new one is
        complete; the old checkpoint's files that the new one does not replace are
        removed then (other files in the directory are left alone).
    client : dask.distributed.Client or None
        Fill the data on that cluster's workers, which write their byte ranges of the
        staged files directly (`path` must be on a filesystem they share); this
        process plans, allocates, records progress and publishes. The bytes equal a
        single-machine run; `threads` is then per task (default 1).

    Returns
    -------
    CheckpointResult

    Memory: two chunk buffers (32 MiB each), except that tensors of non-elementwise
    schemes (orthogonal) are generated whole in memory first.
    Until it is published, the new checkpoint lives in a hidden staging directory next
    to the target (``.weightinit-staging``); the target holds the complete old or the
    complete new checkpoint, never a mix.
    """
    if format not in ("safetensors", "npy"):
        raise ValueError(f"format must be 'safetensors' or 'npy', got {format!r}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or path, got {type(path).__name__}")
    path = os.fspath(path)
    if not path:
        raise ValueError("path must name a file or directory, got ''")
    spec = _resolve_spec(spec)
    if dtype is not None:
        dtype = resolve_dtype(dtype)
    total = check_ranges(spec, dtype)
    if not resume:   # before any planning: a typo'd size is refused at once, in bounded memory
        check_space(_existing_parent(path), [total])
    if max_shard_size is not None:
        max_shard_size = parse_size(max_shard_size)
    if threads is not None:
        from .._threads import resolve_threads
        resolve_threads(threads)
    seed = spec.seed if seed is None else resolve_seed(seed)
    chunk_bytes = CHUNK_BYTES
    # the layout does not depend on the seed; a resumed run may take its seed from the sidecar
    provisional = Plan(spec, path, format, 0 if seed is None else seed, dtype, max_shard_size)
    directory, single = provisional.directory, provisional.single_target
    for name in provisional.names():
        if os.path.isdir(os.path.join(directory, name)) and not os.path.islink(os.path.join(directory, name)):
            raise ValueError(f"{os.path.join(directory, name)} is a directory; a checkpoint file goes there")

    os.makedirs(directory, exist_ok=True)
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    lock = TargetLock(dir_fd, lock_name(single), path)
    staging = Staging(dir_fd, directory, staging_name(single))
    try:
        lock.acquire()
        return _run(spec, path, provisional, seed, dtype, max_shard_size, chunk_bytes, threads, progress,
                    resume, overwrite, dir_fd, staging, client)
    finally:
        staging.close()
        lock.release()
        os.close(dir_fd)


def _run(spec, path, provisional, seed, dtype, max_shard_size, chunk_bytes, threads, progress, resume, overwrite,
         dir_fd, staging, client=None):
    directory, fmt = provisional.directory, provisional.fmt
    num_chunks = provisional.num_chunks(chunk_bytes)
    state = journal = None
    if staging.open():
        journal = read_journal(staging)
        if journal is None and resume:
            state = _progress.decode(staging.read(_progress.SIDECAR), num_chunks)
    if journal is not None:
        # a previous run committed its publish and was stopped before finishing it
        roll_forward(dir_fd, staging, journal)
        if seed is None and isinstance(journal.get("seed"), int):
            seed = journal["seed"]
    if seed is None:
        seed = state["seed"] if state else resolve_seed(None)
    plan = Plan(spec, path, fmt, seed, dtype, max_shard_size)
    digest = plan.digest(chunk_bytes)
    if journal is not None and journal["plan"] == digest:
        return _summary(plan, path, 0.0, plan_bytes(plan), 0, progress, note="finished an interrupted publish")
    if state is not None and state["plan"] != digest:
        raise ValueError(f"cannot resume: the partial run in {staging.path} was made with a different "
                         "spec, seed, dtype, sharding or library version; run without resume to start over")
    if not overwrite:
        for t in plan.targets():
            if os.path.lexists(t):
                raise TargetExistsError(t, f"{t} already exists (pass overwrite=True to replace it)")

    sizes = [f.size for f in plan.files] + [len(d) for _, d in plan.small] + [len(_progress.encode(
        digest, seed, ["0" * 16] * num_chunks))]
    if state is None:
        check_space(directory, sizes)
        staging.create()
    else:
        check_space(directory, sizes, allocated=sum(staging.allocated(f.name) for f in plan.files))

    checksums = state["checksums"] if state else [None] * num_chunks
    handles, direct_fds = [], []

    def save_progress():
        staging.write_atomic(_progress.SIDECAR, _progress.encode(digest, seed, checksums))

    try:
        try:
            handles = _open_files(plan, staging, fresh=state is None)
            for name, data in plan.small:
                staging.write_atomic(name, data)
        except BaseException:
            if state is None:    # nothing worth resuming yet
                staging.discard()
            raise
        rewritten = 0
        if state is not None:
            rewritten = _verify_chunks(plan, handles, checksums, chunk_bytes)
        for fh in handles:      # headers on disk before any direct write
            os.fsync(fh.fileno())
        save_progress()
        t0 = time.perf_counter()
        if client is not None:   # the cluster's workers write the staged files (distributed.py)
            from .distributed import write_data_dask
            written = write_data_dask(client, plan, [os.path.join(staging.path, f.name) for f in plan.files],
                                      checksums, chunk_bytes, threads or 1, save_progress, progress, path,
                                      CHECKPOINT_BYTES)
        else:
            direct_fds = [staging.open_direct(f.name, O_DIRECT) for f in plan.files]
            written = _write_data(plan, handles, direct_fds, checksums, chunk_bytes, threads, progress,
                                  save_progress, path)
        for fh in handles:
            fh.flush()
            os.fsync(fh.fileno())
        save_progress()        # a run stopped before its publish resumes with nothing to write
        seconds = time.perf_counter() - t0
    except KeyboardInterrupt:
        if progress:
            print(f"\ninterrupted: the partial checkpoint is kept in {staging.path}; run again with "
                  "resume=True / --resume to continue", file=sys.stderr)
        raise
    finally:
        for fh in handles:
            fh.close()
        for fd in direct_fds:
            if fd is not None:
                os.close(fd)
    publish(dir_fd, staging, plan.names(), old_checkpoint_files(dir_fd, plan.single_target), digest, seed)
    return _summary(plan, path, seconds, plan_bytes(plan) - written, rewritten, progress)


def plan_bytes(plan) -> int:
    return sum(p.nbytes for f in plan.files for p in f.placements)


def _summary(plan, path, seconds, resumed, rewritten, progress, note=None) -> CheckpointResult:
    total = plan_bytes(plan)
    result = CheckpointResult(path=path, files=plan.targets(), seed=plan.seed,
                              num_tensors=sum(len(f.placements) for f in plan.files),
                              num_parameters=plan.spec.num_parameters, nbytes=total, seconds=seconds,
                              resumed_bytes=resumed, rewritten_chunks=rewritten)
    if progress:
        what = note or (f"wrote {result.num_tensors} tensors, {result.num_parameters:,} parameters, "
                        f"{_human(total)} in {seconds:.2f} s "
                        f"({(total - resumed) / max(seconds, 1e-9) / 1e9:.2f} GB/s)")
        print(f"weightinit: {what} to {path} (seed {plan.seed})", file=sys.stderr)
    return result


def _open_files(plan, staging, fresh: bool) -> list:
    """The data files in staging: created, allocated and given their headers (fresh),
    or reopened with size and header brought back to the plan (resume)."""
    handles = []
    try:
        for f in plan.files:
            fh = None if fresh else staging.open_file(f.name)
            if fh is None:
                fh = staging.create_file(f.name) if fresh else _recreate(staging, f.name)
                handles.append(fh)
                _allocate(fh, f.size)
            else:
                handles.append(fh)
                if os.fstat(fh.fileno()).st_size != f.size:
                    os.ftruncate(fh.fileno(), f.size)
                    _allocate(fh, f.size)
            if fresh or os.pread(fh.fileno(), len(f.header), 0) != f.header:
                os.pwrite(fh.fileno(), f.header, 0)
    except BaseException:
        for fh in handles:
            fh.close()
        raise
    return handles


def _recreate(staging, name):
    try:
        os.unlink(name, dir_fd=staging.fd)
    except FileNotFoundError:
        pass
    return staging.create_file(name)


def _verify_chunks(plan, handles, checksums, chunk_bytes) -> int:
    """Keep only the recorded chunks whose bytes still match their checksum; returns
    how many failed (they are written again)."""
    failed = 0
    buf = np.empty(chunk_bytes, np.uint8)
    for g, c in enumerate(plan.chunks(chunk_bytes)):
        if checksums[g] is None:
            continue
        fd = handles[c.file].fileno()
        data = read_into(fd, buf[:c.nbytes], c.offset)
        drop_cached(fd, c.offset, c.nbytes)
        if len(data) != c.nbytes or _progress.checksum(data) != checksums[g]:
            checksums[g] = None
            failed += 1
    return failed


def _fill_chunk(c, buf, seed, threads, whole):
    """Fill `buf` with chunk `c`'s pieces. `whole` carries a non-elementwise tensor,
    generated whole once, from one chunk to the next; returns it (None when done)."""
    for piece in c.pieces:
        p = piece.placement
        npdt = DTYPES[p.dtype][0]
        out = buf[piece.at:piece.at + piece.count * npdt.itemsize].view(npdt)
        if getattr(p.scheme, "elementwise", True):
            p.scheme.fill_chunk_(out, p.shape, piece.start, seed=seed, stream=p.name, threads=threads)
        else:
            if whole is None or whole[0] is not p:
                arr = np.empty(p.shape, npdt)
                p.scheme.init_(arr, seed=seed, stream=p.name, threads=threads)
                whole = (p, arr.reshape(-1))
            out[:] = whole[1][piece.start:piece.start + piece.count]
            if piece.ends_tensor:
                whole = None
    return whole


def _write_data(plan: Plan, handles, direct_fds, checksums, chunk_bytes, threads, progress, save_progress,
                path) -> int:
    """Fill every chunk without a checksum; returns the bytes written. The kernels fill
    one buffer while a second thread writes the previous one (diskio.ChunkWriter)."""
    total_bytes = plan_bytes(plan)
    n_tensors = sum(len(f.placements) for f in plan.files)
    todo = sum(c.nbytes for g, c in enumerate(plan.chunks(chunk_bytes)) if checksums[g] is None)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=total_bytes, initial=max(0, total_bytes - todo), unit="B", unit_scale=True,
                   unit_divisor=1024, desc=os.path.basename(path.rstrip(os.sep)) or path, file=sys.stderr,
                   dynamic_ncols=True)
    tensors_done = 0
    since_sync = 0
    written = 0
    whole = None              # (placement, array) of a non-elementwise tensor being copied out
    dirty = set()             # files written since the last resume point
    io = ChunkWriter(chunk_bytes)

    def resume_point():
        io.drain()            # every checksum about to be recorded is on disk
        for d in dirty:
            os.fsync(handles[d].fileno())
        dirty.clear()
        save_progress()

    try:
        for g, c in enumerate(plan.chunks(chunk_bytes)):
            ended = sum(piece.ends_tensor for piece in c.pieces)
            if checksums[g] is not None:
                tensors_done += ended
                continue
            buf = io.buffer()
            whole = _fill_chunk(c, buf, plan.seed, threads, whole)
            checksums[g] = _progress.checksum(buf[:c.nbytes])
            io.submit(handles[c.file].fileno(), direct_fds[c.file], c.offset, buf, c.nbytes)
            dirty.add(c.file)
            since_sync += c.nbytes
            written += c.nbytes
            tensors_done += ended
            if _chunk_hook is not None:
                _chunk_hook(g)
            if since_sync >= CHECKPOINT_BYTES:
                resume_point()
                since_sync = 0
            if bar is not None:
                bar.update(c.nbytes)
                if ended:
                    bar.set_postfix_str(f"tensors {tensors_done}/{n_tensors}", refresh=False)
        io.drain()
        if bar is not None:
            bar.set_postfix_str(f"tensors {n_tensors}/{n_tensors}", refresh=False)
    except BaseException:
        # stopped with the process alive (Ctrl-C, an error): keep what reached the disk
        try:
            resume_point()
        except BaseException:
            pass
        raise
    finally:
        io.close()
        if bar is not None:
            bar.close()
    return written
