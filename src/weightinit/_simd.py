"""Which SIMD variant of the kernels runs (all give identical bits)."""
from __future__ import annotations

import os

from . import _core

_ISA_NAMES = ("scalar", "avx2", "avx512")


def available_simd_paths() -> tuple[str, ...]:
    """The paths this build and this CPU can run."""
    return tuple(n for i, n in enumerate(_ISA_NAMES) if _core.isa_supported(i))


def isa_code() -> int:
    """The path to use now: WEIGHTINIT_SIMD if set, else the best one."""
    forced = os.environ.get("WEIGHTINIT_SIMD", "").strip().lower()
    if not forced:
        return _core.isa_best()
    if forced not in _ISA_NAMES:
        raise ValueError(f"WEIGHTINIT_SIMD must be one of {', '.join(_ISA_NAMES)}, got {forced!r}")
    code = _ISA_NAMES.index(forced)
    if not _core.isa_supported(code):
        raise ValueError(f"WEIGHTINIT_SIMD={forced!r}, but this build or CPU does not support it "
                         f"(available: {', '.join(available_simd_paths())})")
    return code


def simd_path() -> str:
    """The name of the kernel variant that runs: 'scalar', 'avx2' or 'avx512'."""
    return _ISA_NAMES[isa_code()]
