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


# The magnitude from which a value rounds beyond the dtype's largest finite value (to
# inf, or to NaN for float8_e4m3fn, which has no infinity): halfway to the next value up.
# At the halfway point itself ties go to even: to inf, except for e4m3fn (464 -> 448).
OVERFLOW_EDGE = {"float64": math.inf, "float32": 2.0 ** 128 - 2.0 ** 103, "float16": 65520.0,
                 "bfloat16": 2.0 ** 128 - 2.0 ** 119, "float8_e4m3fn": 464.0, "float8_e5m2": 61440.0}
TIES_DOWN_AT_EDGE = frozenset({"float8_e4m3fn"})
HAS_INF = frozenset({"float64", "float32", "float16", "bfloat16", "float8_e5m2"})


def rounds_finite(value: float, dt: str) -> bool:
    """Whether the finite `value` stays finite when rounded (nearest even) to `dt`."""
    edge = OVERFLOW_EDGE[dt]
    return abs(value) < edge or (abs(value) == edge and dt in TIES_DOWN_AT_EDGE)


def check_constant(value: float, dt: str, name: str = "value"):
    """A finite `value` must round to a finite value of `dt`; inf is kept where `dt`
    has infinities (refused for float8_e4m3fn, which has none: it would be NaN); NaN
    is kept (every dtype has it)."""
    if math.isnan(value):
        return
    if math.isinf(value):
        if dt not in HAS_INF:
            raise ValueError(f"{name}={value!r}: {dt} has no infinity (its largest finite value is "
                             f"{dtype_max(dt):g}), the fill would be NaN; give a finite value, or nan to mark "
                             "weights that must be overwritten")
        return
    if not rounds_finite(value, dt):
        raise ValueError(f"{name}={value!r} is outside the range of {dt} (largest finite value {dtype_max(dt):g}): "
                         f"it would round to {'inf' if dt in HAS_INF else 'nan'}")


# The smallest tail probability the truncated-normal sampler resolves: its uniforms are
# (w + 1/2) 2^-32 from a 32-bit word (float32 path) or (m + 1/2) 2^-52 from 52 bits
# (float64 path), so no sample lies beyond the point the law leaves this much mass beyond.
TN_RESOLUTION32 = 2.0 ** -33
TN_RESOLUTION64 = 2.0 ** -53
_SQRT1_2 = math.sqrt(0.5)
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _asym(x: float) -> float:
    """log1p of the asymptotic series of Q(x) x sqrt(2 pi) e^(x^2/2), x >= 30 (as the C core)."""
    z = 1.0 / (x * x)
    term, total = 1.0, 0.0
    for k in range(1, 9):
        term *= -(2.0 * k - 1.0) * z
        total += term
    return math.log1p(total)


def _log_q(x: float) -> float:
    """log Q(x), Q the standard normal's upper tail, for any x (no underflow)."""
    if x == math.inf:
        return -math.inf
    if x < 30.0:
        return math.log(0.5 * math.erfc(x * _SQRT1_2))
    return -0.5 * x * x - math.log(x) - _LOG_SQRT_2PI + _asym(x)


def _log_q_ratio(x: float, y: float) -> float:
    """log(Q(y) / Q(x)) <= 0 for x <= y, also where both Q underflow."""
    if y == math.inf:
        return -math.inf
    if x == y:
        return 0.0
    if x < 30.0:
        return _log_q(y) - _log_q(x)
    return -(y - x) * (0.5 * x + 0.5 * y) - math.log(y / x) + _asym(y) - _asym(x)


def _log1m_exp(x: float) -> float:
    """log(1 - e^x) for x <= 0 (-inf at 0)."""
    return -math.inf if x >= 0.0 else math.log(-math.expm1(x))


def _log_mass(x: float, y: float) -> float:
    """log(Phi(y) - Phi(x)) for x < y, from the tail that keeps it accurate."""
    if x >= 0.0:
        return _log_q(x) + _log1m_exp(_log_q_ratio(x, y))
    if y <= 0.0:
        return _log_mass(-y, -x)
    return math.log(0.5 * (math.erf(y * _SQRT1_2) - math.erf(x * _SQRT1_2)))


def _log_upper_mass(alpha: float, beta: float, t: float) -> float:
    """log P(Z > t | alpha <= Z <= beta) for a standard normal Z (-inf where it is 0)."""
    if t >= beta:
        return -math.inf
    if t <= alpha:
        return 0.0
    if alpha >= 0.0:      # both in the upper tail: ratios of Q, exact far out
        lm = _log_q_ratio(alpha, t) + _log1m_exp(_log_q_ratio(t, beta)) - _log1m_exp(_log_q_ratio(alpha, beta))
    elif beta <= 0.0:     # both in the lower tail: mirrored
        lm = _log1m_exp(_log_q_ratio(-beta, -t)) - _log1m_exp(_log_q_ratio(-beta, -alpha))
    else:
        lm = _log_mass(t, beta) - _log_mass(alpha, beta)
    return min(lm, 0.0) if lm == lm else 0.0     # unresolved (0/0): taken as all of it


def _standardized(x: float, mean: float, std: float) -> float:
    """(x - mean) / std without overflowing where x - mean does."""
    d = 0.5 * x - 0.5 * mean
    return d / std * 2.0 if math.isfinite(d) else d


def sample_edge(dt: str) -> float:
    """The magnitude from which a sample of `dt` (computed in float32 unless `dt` is
    float64) no longer rounds to a finite value."""
    return dtype_max("float64") if dt == "float64" else min(OVERFLOW_EDGE[dt], OVERFLOW_EDGE["float32"])


@functools.lru_cache(maxsize=4096)   # a few microseconds of float64 math, on every call with an open side
def _beyond_range(mean: float, std: float, a: float, b: float, dt: str) -> float:
    """log of the probability that the normal N(mean, std^2) truncated to [a, b] puts
    above the overflow edge of `dt` (or of the float32 its samples are computed in),
    -inf where it puts none (also where b is inside the range: the clamp to b keeps
    every sample there)."""
    if not b > limit(dt):
        return -math.inf
    edge = sample_edge(dt)
    m = float(np.float32(mean)) if dt != "float64" else mean   # the float32 path adds fl32(mean)
    # slack for the rounding of z and of mean + std z (as the normal's reach has)
    edge -= 2.0 ** -19 * abs(0.5 * edge - 0.5 * m)
    if not b > edge:
        return -math.inf
    alpha, beta = _standardized(a, m, std), _standardized(b, m, std)
    width = _standardized(b, a, std)
    if width < 2.0 ** -20 and max(abs(alpha), abs(beta)) * width < 2.0 ** -20:
        # narrow and hardly tilted: the law is uniform on [a, b] to within a factor
        # e^(|alpha| width + width^2 / 2), where differences of Q would cancel
        return math.log((b - edge) / (b - a)) if edge > a else 0.0
    return _log_upper_mass(alpha, beta, _standardized(edge, m, std))


def check_trunc_normal(mean: float, std: float, a: float, b: float, dt: str):
    """[a, b] holds finite values of `dt`; where it reaches beyond the dtype's range
    (a bound beyond its largest finite value, or infinite) the truncated law must put
    less mass beyond that range than the sampler resolves (2^-33 on the float32 path,
    2^-53 on the float64 one), so that no sample rounds to inf/NaN or is clamped to the
    largest finite value; mean and std finite in the compute precision."""
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
    resolution = TN_RESOLUTION64 if dt == "float64" else TN_RESOLUTION32
    for side, bound, lm in (("b", b, _beyond_range(mean, std, a, b, dt)),
                            ("a", a, _beyond_range(-mean, std, -b, -a, dt))):
        if lm > math.log(resolution):
            sign, where, which = ("", "above", "largest") if side == "b" else ("-", "below", "smallest")
            raise ValueError(
                f"std={std!r}, mean={mean!r}, a={a!r}, b={b!r}: samples would exceed the range of {dt}: "
                f"{side}={bound!r} lies beyond its {which} finite value {sign}{m:g}, and the truncated normal puts "
                f"probability {math.exp(lm):.3g} {where} {sign}{sample_edge(dt):g}, where values no longer round "
                f"to a finite {dt} value (at most 2**{round(math.log2(resolution))}, the sampler's resolution, is "
                f"allowed); use a smaller std, a mean further inside, {side} within {sign}{m:g}, or a wider dtype")


def check_gain(gain: float, dt: str):
    """Entries of a matrix with orthonormal rows or columns are at most 1 in magnitude."""
    m = min(dtype_max(dt), compute_max(dt))
    if abs(gain) > m:
        raise ValueError(f"gain={gain!r} is outside the range of {dt} (largest finite value {m:g}): "
                         "the entries would overflow")


def core_params(dist: str, params: tuple, dt: str) -> tuple:
    """The parameters the C core gets for checked `params`. float8_e4m3fn has no
    infinity, so the core can take no bound beyond +-464 (from there values round to
    NaN): a truncated normal's bound beyond that (infinite or not) is given as +-464,
    the edge of the values that round to +-448. The check above has made sure the law
    puts less than the sampler's resolution beyond it, so this changes no sample's
    range, and the law not at all where that mass underflows (|464 - mean| >~ 38 std)."""
    if dist == "trunc_normal" and dt == "float8_e4m3fn":
        mean, std, a, b = params
        edge = OVERFLOW_EDGE[dt]
        if a < -edge or b > edge:
            return (mean, std, max(a, -edge), min(b, edge))
    return params


CHECKS = {"uniform": check_uniform, "normal": check_normal, "trunc_normal": check_trunc_normal,
          "constant": check_constant}


def check(dist: str, params: tuple, dt: str):
    """Refuse `params` of distribution `dist` whose samples would not be finite in `dt`."""
    CHECKS[dist](*params, dt)
