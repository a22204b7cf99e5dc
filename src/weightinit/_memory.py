"""How much memory a command may ask for: sizes a user typed (demo --gib, diagnose
--width) are checked against the machine before anything is allocated."""
from __future__ import annotations

import os


def available_bytes() -> int:
    """Memory available to a new allocation (MemAvailable on Linux, else physical memory)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not a POSIX system
        return 1 << 62


def check_fits(nbytes: float, what: str) -> None:
    """ValueError naming `what` when `nbytes` exceeds the memory available now."""
    free = available_bytes()
    if nbytes > free:
        raise ValueError(f"{what} needs {nbytes / 2**30:.3g} GiB of memory, more than the "
                         f"{free / 2**30:.3g} GiB available")
