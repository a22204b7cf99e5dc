"""Checkpoint data written by a Dask cluster: the coordinator (create_checkpoint) plans
the files, allocates them in the staging directory and publishes them; the workers
fill byte ranges of those files directly on the shared filesystem. Every chunk is a
pure function of (seed, tensor names, its byte range), so a task can run anywhere,
twice, or again after its worker died: the bytes equal the single-machine run.

A task returns the chunk's checksum after fsync'ing it; the coordinator records
checksums as tasks finish (in any order), so `--resume` works across cluster runs.
"""
from __future__ import annotations

import os
import signal
import sys
import threading

from . import progress as _progress
from .diskio import O_DIRECT, aligned_buffer, write_range

__all__ = ["write_data_dask", "FAULT_ENV"]

# fault injection for the tests: "CHUNK:MARKER" makes the worker that takes chunk
# CHUNK kill itself (SIGKILL) once, creating the MARKER file first
FAULT_ENV = "WEIGHTINIT_FAULT_KILL_ONCE"


def _fault(g: int) -> None:
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    at, marker = spec.split(":", 1)
    if int(at) == g:
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)


_local = threading.local()


def _buffer(nbytes: int):
    """This worker thread's page-aligned chunk buffer, reused across tasks (a new one
    per task costs a page fault per 4 KiB)."""
    buf = getattr(_local, "buf", None)
    if buf is None or buf.size < nbytes:
        buf = _local.buf = aligned_buffer(nbytes)
    return buf


def _fill_task(path: str, seed: int, threads, chunks: list) -> list:
    """Fill and write `chunks` [(global index, Chunk)] of the staged file `path`;
    returns [(global index, checksum)]. Several chunks of one task share a
    non-elementwise tensor generated once."""
    from .writer import _fill_chunk
    flags = os.O_WRONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        direct_fd = os.open(path, flags | O_DIRECT) if O_DIRECT else None
    except OSError:     # no direct I/O on this filesystem
        direct_fd = None
    out, whole = [], None
    buf = _buffer(max(c.nbytes for _, c in chunks))
    try:
        for g, c in chunks:
            _fault(g)
            whole = _fill_chunk(c, buf, seed, threads, whole)
            if not write_range(fd, direct_fd, c.offset, memoryview(buf)[:c.nbytes]) and direct_fd is not None:
                os.close(direct_fd)
                direct_fd = None
            out.append((g, _progress.checksum(buf[:c.nbytes])))
        getattr(os, "fdatasync", os.fsync)(fd)   # the data (and what reading it back needs) is durable
    finally:
        os.close(fd)
        if direct_fd is not None:
            os.close(direct_fd)
    return out


def _tasks(plan, chunk_bytes, checksums):
    """Groups of chunks to write, one task each: a chunk alone, or all chunks touching
    a non-elementwise tensor together (it is generated whole once)."""
    groups, current, current_tensor = [], [], None
    for g, c in enumerate(plan.chunks(chunk_bytes)):
        if checksums[g] is not None:
            continue
        whole = [p.placement for p in c.pieces if not getattr(p.placement.scheme, "elementwise", True)]
        key = (c.file, whole[0].name) if whole else None
        if current and (key is None or key != current_tensor):
            groups.append(current)
            current = []
        current.append((g, c))
        current_tensor = key
        if key is None:
            groups.append(current)
            current, current_tensor = [], None
    if current:
        groups.append(current)
    return groups


def write_data_dask(client, plan, staged_paths, checksums, chunk_bytes, threads, save_progress, progress, path,
                    checkpoint_bytes) -> int:
    """Run every chunk without a checksum on the cluster of `client`; returns the
    bytes written. The sidecar is saved at least every `checkpoint_bytes` of finished
    chunks."""
    from distributed import as_completed

    groups = _tasks(plan, chunk_bytes, checksums)
    sizes = {g: c.nbytes for group in groups for g, c in group}
    futures = [client.submit(_fill_task, staged_paths[group[0][1].file], plan.seed, threads, group,
                             pure=False, key=f"weightinit-chunks-{plan.seed}-{group[0][0]}-{os.getpid()}")
               for group in groups]
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=sum(sizes.values()), unit="B", unit_scale=True, unit_divisor=1024,
                   desc=os.path.basename(path.rstrip(os.sep)) or path, file=sys.stderr, dynamic_ncols=True)
    written = since = 0
    try:
        for fut in as_completed(futures):
            for g, digest in fut.result():
                checksums[g] = digest
                written += sizes[g]
                since += sizes[g]
                if bar is not None:
                    bar.update(sizes[g])
            if since >= checkpoint_bytes:
                save_progress()      # the tasks fsync'd what they report
                since = 0
    except BaseException:
        client.cancel(futures)
        try:
            save_progress()
        except BaseException:
            pass
        raise
    finally:
        if bar is not None:
            bar.close()
    return written
