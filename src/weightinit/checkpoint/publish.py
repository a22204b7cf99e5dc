"""Publishing a checkpoint all or nothing: one writer per target, a private staging
directory, disk space counted in blocks, and a journaled switch from the old files to
the new ones.

Protocol
--------
1. ``TargetLock``: an exclusive ``flock`` on a lock file beside the target, held for
   the whole run. A second writer fails at once, naming the holder's pid.
2. ``Staging``: every new file (data, headers, config, tokenizer, index) is written
   into a private directory inside the target directory (mode 0700, created with
   mkdir, which never follows a symlink), each file created with
   O_EXCL | O_NOFOLLOW relative to the directory's descriptor.
3. ``publish``: once all of it is fsync'd, a journal (``.publish.json``, the commit
   point) lists the renames into the target directory, the root file (single file,
   index or manifest) last, and the old checkpoint files to remove afterwards (only
   files recognized as part of a weights checkpoint). Renames never follow symlinks
   planted at the target names. A run interrupted after the commit point is rolled
   forward by the next writer on that target, and the readers of this package
   refuse a directory whose publish is unfinished.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import stat

from .format import INDEX_FILE, NPY_MANIFEST, SHARD_NAME, SINGLE_FILE

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locking
    fcntl = None

__all__ = ["TargetLock", "Staging", "TargetBusyError", "check_space", "old_checkpoint_files",
           "publish", "roll_forward", "pending_publish", "staging_name", "lock_name", "SPACE_MARGIN"]

JOURNAL = ".publish.json"
SPACE_MARGIN = 1 << 20        # beyond the blocks of every file: directory entries, extent blocks
_FLAGS = os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
_publish_hook = None          # tests: called with each step's name during publish


class TargetBusyError(OSError):
    """Another process holds the target's lock."""


def staging_name(single_target: str | None) -> str:
    return f".{single_target}.weightinit-staging" if single_target else ".weightinit-staging"


def lock_name(single_target: str | None) -> str:
    return f".{single_target}.weightinit.lock" if single_target else ".weightinit.lock"


def fsync_dir(fd: int) -> None:
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on directories
        pass


class TargetLock:
    """An exclusive lock on `target`, held through a lock file in `dir_fd`."""

    def __init__(self, dir_fd: int, name: str, target: str):
        self.dir_fd, self.name, self.target, self.fd = dir_fd, name, target, None

    def acquire(self) -> "TargetLock":
        if fcntl is None:  # pragma: no cover
            return self
        while True:
            try:
                fd = os.open(self.name, os.O_RDWR | os.O_CREAT | _FLAGS, 0o644, dir_fd=self.dir_fd)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise OSError(errno.ELOOP, f"{self.target}: the lock file {self.name} is a symbolic link; "
                                               "remove it") from None
                raise
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                os.close(fd)
                raise TargetBusyError(f"{self.target} is being written by another weightinit process "
                                      f"(pid {pid}); wait for it or stop it") from None
            # the file may have been unlinked by a holder that just finished: lock the live one
            try:
                same = os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.unlink(self.name, dir_fd=self.dir_fd)
        except OSError:
            pass
        os.close(self.fd)   # closing drops the flock
        self.fd = None


class Staging:
    """The private directory holding a run's files until they are published."""

    def __init__(self, dir_fd: int, directory: str, name: str):
        self.dir_fd, self.directory, self.name, self.fd = dir_fd, directory, name, None

    @property
    def path(self) -> str:
        return os.path.join(self.directory, self.name)

    def exists(self) -> bool:
        try:
            os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False)
            return True
        except FileNotFoundError:
            return False

    def open(self) -> bool:
        """Open an existing staging directory; False when there is none we can trust
        (absent, a symlink, not a directory, or owned by someone else)."""
        try:
            fd = os.open(self.name, os.O_RDONLY | os.O_DIRECTORY | _FLAGS, dir_fd=self.dir_fd)
        except OSError:
            return False
        st = os.fstat(fd)
        if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
            os.close(fd)
            return False
        self.fd = fd
        return True

    def create(self) -> None:
        """Remove whatever sits at the staging name and make a fresh private directory."""
        self.discard()
        os.mkdir(self.name, 0o700, dir_fd=self.dir_fd)
        if not self.open():  # pragma: no cover - replaced between mkdir and open
            raise OSError(errno.EEXIST, f"{self.path}: staging directory was replaced while opening it")
        fsync_dir(self.dir_fd)

    def discard(self) -> None:
        self.close()
        try:
            st = os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(self.path)   # fd-based walk: never follows symlinks inside
        else:
            os.unlink(self.name, dir_fd=self.dir_fd)   # a planted symlink or file: only the link goes
        fsync_dir(self.dir_fd)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def create_file(self, name: str):
        fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | _FLAGS, 0o644, dir_fd=self.fd)
        return os.fdopen(fd, "r+b")

    def open_file(self, name: str):
        """An existing regular file of the staging directory, or None."""
        try:
            fd = os.open(name, os.O_RDWR | _FLAGS, dir_fd=self.fd)
        except OSError:
            return None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return None
        return os.fdopen(fd, "r+b")

    def open_direct(self, name: str, flag: int):
        """A write descriptor with O_DIRECT (`flag`) on a staged file, or None where
        the filesystem or platform has no direct I/O."""
        if not flag:
            return None
        try:
            return os.open(name, os.O_WRONLY | flag | _FLAGS, dir_fd=self.fd)
        except OSError:
            return None

    def read(self, name: str, limit: int = 1 << 26) -> bytes | None:
        fh = self.open_file(name)
        if fh is None:
            return None
        with fh:
            return fh.read(limit)

    def write_atomic(self, name: str, data) -> None:
        tmp = name + ".tmp"
        try:
            os.unlink(tmp, dir_fd=self.fd)
        except FileNotFoundError:
            pass
        with self.create_file(tmp) as fh:
            if isinstance(data, bytes):
                fh.write(data)
            else:          # a SourceFile: copied piece by piece
                data.copy_to(fh.write)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        fsync_dir(self.fd)

    def allocated(self, name: str) -> int:
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False).st_blocks * 512
        except (FileNotFoundError, AttributeError):
            return 0


def check_space(directory: str, sizes: list, allocated: int = 0) -> None:
    """Refuse (ENOSPC) before anything is written unless every file of `sizes`,
    rounded up to whole filesystem blocks, plus SPACE_MARGIN fits, minus what a
    resumed run has already allocated."""
    st = os.statvfs(directory)
    block = st.f_frsize or st.f_bsize or 4096
    need = sum(-(-size // block) * block for size in sizes) + SPACE_MARGIN - allocated
    free = st.f_bavail * block
    if need > free:
        raise OSError(errno.ENOSPC, f"not enough free space in {directory}: need {_human(need)} "
                                    f"({len(sizes)} files in {block}-byte blocks plus a {_human(SPACE_MARGIN)} "
                                    f"margin), {_human(free)} available")


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def _listed_files(dir_fd: int, name: str, key: str, suffix: str) -> list:
    """Plain file names ending in `suffix` that an old index or manifest lists (its
    `key` mapping); nothing when the file is missing or malformed."""
    try:
        fd = os.open(name, os.O_RDONLY | _FLAGS, dir_fd=dir_fd)
    except OSError:
        return []
    try:
        with os.fdopen(fd, "rb") as fh:
            obj = json.loads(fh.read(100_000_000))
        mapping = obj[key]
        values = [v["file"] if isinstance(v, dict) else v for v in mapping.values()]
    except Exception:   # any malformed old file: fall back to the name patterns
        return []
    return [v for v in values if isinstance(v, str) and v.endswith(suffix) and os.path.basename(v) == v
            and v not in (".", "..")]


def old_checkpoint_files(dir_fd: int, single_target: str | None) -> list:
    """Files in the target directory that belong to a weights checkpoint: the single
    file or index with its shards (also by name pattern) or the npy manifest with its
    files. Never anything else of the user's."""
    if single_target:
        names = [single_target]
    else:
        names = [SINGLE_FILE, INDEX_FILE, NPY_MANIFEST]
        names += _listed_files(dir_fd, INDEX_FILE, "weight_map", ".safetensors")
        names += _listed_files(dir_fd, NPY_MANIFEST, "tensors", ".npy")
        names += [n for n in os.listdir(dir_fd) if SHARD_NAME.match(n)]
    out = []
    for n in dict.fromkeys(names):
        try:
            os.stat(n, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        out.append(n)
    return out


# the loaders' order of preference (transformers tries the single file before the index)
_PRECEDENCE = [SINGLE_FILE, INDEX_FILE, NPY_MANIFEST]


def publish(dir_fd: int, staging: Staging, names: list, old_files: list, plan_digest: str, seed: int) -> None:
    """Journal, then move `names` (root last) from staging into the directory, then
    remove the old checkpoint files the new one does not replace."""
    renames = list(names)
    removals = [n for n in old_files if n not in renames]
    # an old root that loaders prefer over the new one goes first: that removal is the switch
    removals.sort(key=lambda n: _PRECEDENCE.index(n) if n in _PRECEDENCE else len(_PRECEDENCE))
    staging.write_atomic(JOURNAL, json.dumps({"version": 1, "plan": plan_digest, "seed": seed,
                                              "renames": renames, "removals": removals}).encode())
    if _publish_hook is not None:
        _publish_hook("committed")
    roll_forward(dir_fd, staging, {"renames": renames, "removals": removals})


def read_journal(staging: Staging) -> dict | None:
    raw = staging.read(JOURNAL)
    if raw is None:
        return None
    try:
        journal = json.loads(raw)
    except ValueError:
        return None
    ok = (isinstance(journal, dict) and isinstance(journal.get("plan"), str)
          and all(isinstance(journal.get(k), list) and all(isinstance(n, str) and os.path.basename(n) == n
                                                           and n not in ("", ".", "..") for n in journal[k])
                  for k in ("renames", "removals")))
    return journal if ok else None


def roll_forward(dir_fd: int, staging: Staging, journal: dict) -> None:
    """Finish a committed publish; every step may already have been done."""
    for name in journal["renames"]:
        try:
            os.rename(name, name, src_dir_fd=staging.fd, dst_dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        if _publish_hook is not None:
            _publish_hook(f"renamed {name}")
    fsync_dir(dir_fd)
    for name in journal["removals"]:
        try:
            os.unlink(name, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        if _publish_hook is not None:
            _publish_hook(f"removed {name}")
    fsync_dir(dir_fd)
    staging.discard()


def pending_publish(directory: str, single_target: str | None = None) -> bool:
    """True when `directory` holds a committed but unfinished publish (a reader
    would see part old, part new)."""
    staging = os.path.join(directory, staging_name(single_target))
    try:
        with open(os.path.join(staging, JOURNAL), "rb") as fh:
            journal = json.loads(fh.read(1 << 26))
        renames, removals = journal["renames"], journal["removals"]
    except (OSError, ValueError, TypeError, KeyError):
        return False
    if any(isinstance(n, str) and os.path.lexists(os.path.join(staging, n)) for n in renames):
        return True
    return any(isinstance(n, str) and os.path.lexists(os.path.join(directory, n)) for n in removals)
