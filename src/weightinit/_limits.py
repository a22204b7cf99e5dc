"""Range checks: parameters whose samples would overflow the output dtype (or the
float32 arithmetic of the 32-bit path) are refused with a ValueError naming the
parameter, before anything is written, instead of filling the tensor with inf."""
from __future__ import annotations

import functools
import math

import numpy as np

try:
    import ml_dtypes
except ImportError:  # pragma: no cover - ml_dtypes is a dependency
    ml_dtypes = None

# Largest |z| the normal sampler can return (docs/streams.md): sqrt(-2 log u1) at the
# smallest u1, times |cos| <= 1; a hair of slack for the float32 rounding of the path.
NORMAL_REACH32 = math.sqrt(-2.0 * math.log(2.0 ** -32)) * (1 + 2.0 ** -20)
NORMAL_REACH64 = math.sqrt(-2.0 * math.log(2.0 ** -53)) * (1 + 2.0 ** -40)
F32_MAX = float(np.finfo(np.float32).max)


@functools.lru_cache(maxsize=None)   # finfo costs microseconds; the checks run on every call
def dtype_max(dt: str) -> float:
    """The largest finite value of output dtype `dt` (a weightinit dtype name)."""
    if dt in ("float64", "float32", "float16"):
        return float(np.finfo(dt).max)
    return float(ml_dtypes.finfo(getattr(ml_dtypes, dt)).max)


@functools.lru_cache(maxsize=None)
def compute_max(dt: str) -> float:
    """The largest finite value of the precision samples of `dt` are computed in."""
    return float(np.finfo(np.float64).max) if dt == "float64" else F32_MAX


@functools.lru_cache(maxsize=None)
def limit(dt: str) -> float:
    """The largest magnitude a sample of `dt` may have: its own range and that of the
    precision it is computed in."""
    return min(dtype_max(dt), compute_max(dt))


def _within(name: str, value: float, dt: str, what: str = ""):
    m = limit(dt)
    if abs(value) > m:
        raise ValueError(f"{name}={value!r} is outside the range of {dt}{what} (largest finite value {m:g})")


def check_uniform(low: float, high: float, dt: str):
    """low and high inside the output dtype's range, and high - low finite in the
    precision of the samples (the C core scales a [0, 1) variate by it)."""
    _within("low", low, dt)
    _within("high", high, dt)
    if high - low > compute_max(dt):
        raise ValueError(f"low={low!r}, high={high!r}: high - low = {high - low:g} overflows "
                         f"{'float64' if dt == 'float64' else 'float32'}, the precision {dt} samples are computed in; "
                         f"the range must be at most {compute_max(dt):g}")


def check_normal(mean: float, std: float, dt: str):
    """Every sample mean + std * z (|z| <= the sampler's reach) is finite in `dt`."""
    _within("mean", mean, dt)
    reach = NORMAL_REACH64 if dt == "float64" else NORMAL_REACH32
    m = limit(dt)
    if abs(mean) + reach * std > m:
        raise ValueError(f"std={std!r} is too large for {dt}: samples reach |mean| + {reach:.4g} * std = "
                         f"{abs(mean) + reach * std:g}, beyond its largest finite value {m:g}")


def check_trunc_normal(mean: float, std: float, a: float, b: float, dt: str):
    """[a, b] holds finite values of `dt`; where a side is open (beyond the dtype's
    range) the normal itself must stay finite there; std finite in the compute precision."""
    m = min(dtype_max(dt), compute_max(dt))
    if abs(mean) > compute_max(dt):
        raise ValueError(f"mean={mean!r} overflows {'float32' if dt != 'float64' else 'float64'}, "
                         f"the precision {dt} samples are computed in")
    if a > m:
        raise ValueError(f"a={a!r} is above the largest finite value of {dt} ({m:g}): no finite value lies in [a, b]")
    if b < -m:
        raise ValueError(f"b={b!r} is below the smallest finite value of {dt} ({-m:g}): no finite value lies in [a, b]")
    if std > compute_max(dt):
        raise ValueError(f"std={std!r} overflows {'float32' if dt != 'float64' else 'float64'}, "
                         f"the precision {dt} samples are computed in")
    reach = NORMAL_REACH64 if dt == "float64" else NORMAL_REACH32
    if (b > m and mean + reach * std > m) or (a < -m and mean - reach * std < -m):
        raise ValueError(f"std={std!r} (mean={mean!r}) is too large for {dt} with an open side "
                         f"(a={a!r}, b={b!r}): samples would overflow its largest finite value {m:g}")


def check_gain(gain: float, dt: str):
    """Entries of a matrix with orthonormal rows or columns are at most 1 in magnitude."""
    m = min(dtype_max(dt), compute_max(dt))
    if abs(gain) > m:
        raise ValueError(f"gain={gain!r} is outside the range of {dt} (largest finite value {m:g}): "
                         "the entries would overflow")


CHECKS = {"uniform": check_uniform, "normal": check_normal, "trunc_normal": check_trunc_normal}


def check(dist: str, params: tuple, dt: str):
    """Refuse `params` of distribution `dist` whose samples would not be finite in `dt`."""
    CHECKS[dist](*params, dt)
