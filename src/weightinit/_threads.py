"""How many threads a call uses."""
from __future__ import annotations

import numbers
import os

MAX_THREADS = 1 << 16  # the C core takes an int; far more threads than any machine has cores


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def resolve_threads(threads) -> int:
    """threads=None: WEIGHTINIT_NUM_THREADS if set, else every usable core."""
    if type(threads) is int and 1 <= threads <= MAX_THREADS:
        return threads
    if threads is None:
        env = os.environ.get("WEIGHTINIT_NUM_THREADS")
        if env is None or env.strip() == "":
            return usable_cores()
        try:
            threads = int(env)
        except ValueError:
            raise ValueError(f"WEIGHTINIT_NUM_THREADS must be a positive integer, got {env!r}") from None
        if not 1 <= threads <= MAX_THREADS:
            raise ValueError(f"WEIGHTINIT_NUM_THREADS must be a positive integer at most {MAX_THREADS}, got {env!r}")
        return threads
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(f"threads must be a positive int or None, got {type(threads).__name__} {threads!r}")
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be a positive int at most {MAX_THREADS} (or None), got {threads}")
    return int(threads)
