"""Opening the files a user names (configs, specs, checkpoints, tokenizer files) so that
a FIFO or a device is refused instead of blocking in open(), and a symlink is followed
only where the caller allows it."""
from __future__ import annotations

import hashlib
import json
import os
import stat

__all__ = ["open_regular", "read_regular", "parse_json", "read_json", "SourceFile"]


def open_regular(path, what: str, *, follow_symlinks: bool = True):
    """A binary file object of the regular file `path`; ValueError naming `what` for
    anything else (a directory, FIFO, socket or device; a symlink when not followed).
    Opened non-blocking, so a FIFO cannot stall the call, then switched back."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not follow_symlinks and os.path.islink(path):
            raise ValueError(f"{what} {os.fspath(path)!r} is a symlink, which is not followed") from None
        raise exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else \
                "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"
            raise ValueError(f"{what} {os.fspath(path)!r} is {kind}: give a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path, what: str, *, limit: int | None = None) -> bytes:
    """The bytes of the regular file `path` (see open_regular); ValueError when it holds
    more than `limit` bytes, found without reading past the limit."""
    with open_regular(path, what) as fh:
        data = fh.read() if limit is None else fh.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise ValueError(f"{what} {os.fspath(path)!r} is larger than {limit} bytes")
    return data


MAX_JSON_BYTES = 64 << 20   # a config or spec; a checkpoint header has its own limit


def parse_json(raw: bytes, where: str, *, object_pairs_hook=None):
    """The JSON document in `raw`, with every way it can be wrong (not UTF-8, invalid,
    nested too deeply) a one-line ValueError starting with `where`."""
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=object_pairs_hook)
    except RecursionError:
        raise ValueError(f"{where}: JSON nested too deeply") from None
    except UnicodeDecodeError:
        raise ValueError(f"{where}: not UTF-8 text") from None
    except ValueError as exc:
        raise ValueError(f"{where}: invalid JSON ({exc})") from None


def read_json(path, what: str, *, limit: int = MAX_JSON_BYTES):
    """The JSON document in the regular file `path` (at most `limit` bytes)."""
    return parse_json(read_regular(path, what, limit=limit), f"{what} {os.fspath(path)!r}")


class SourceFile:
    """A file copied into a checkpoint as it is (a tokenizer file), streamed in pieces
    and never held whole in memory. Its size and SHA-256 are taken when it is named,
    and the copy is checked against them, so a file changed in between is an error,
    not a silently different checkpoint."""

    PIECE = 1 << 20

    def __init__(self, path, what: str):
        self.path, self.what = os.fspath(path), what
        digest, size = hashlib.sha256(), 0
        with open_regular(self.path, what) as fh:
            for piece in iter(lambda: fh.read(self.PIECE), b""):
                digest.update(piece)
                size += len(piece)
        self.size, self.sha256 = size, digest.hexdigest()

    def __len__(self) -> int:
        return self.size

    def __eq__(self, other) -> bool:
        return isinstance(other, SourceFile) and (self.size, self.sha256) == (other.size, other.sha256)

    def __repr__(self) -> str:
        return f"SourceFile({self.path!r}, {self.size} bytes)"

    def read(self) -> bytes:
        """The whole content (for small files and tests)."""
        out = bytearray()
        self.copy_to(out.extend)
        return bytes(out)

    def copy_to(self, write) -> None:
        """Call `write(piece)` for each piece of the file, then check it was the file named."""
        digest, size = hashlib.sha256(), 0
        with open_regular(self.path, self.what) as fh:
            for piece in iter(lambda: fh.read(self.PIECE), b""):
                digest.update(piece)
                size += len(piece)
                write(piece)
        if (size, digest.hexdigest()) != (self.size, self.sha256):
            raise ValueError(f"{self.what} {self.path!r} changed while the checkpoint was written")
