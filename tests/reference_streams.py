"""A pure-numpy reference of the stream contract (docs/streams.md, version 2).

Written from the document, section by section (the names in the comments are its
headings), to show that the document alone fixes every bit: a GPU or JAX port
that follows it can be checked against this file, and `tests/test_reference_streams.py`
checks this file against the C kernels bit for bit. It imports nothing from
weightinit; numpy gives IEEE binary32/binary64 arithmetic with round to nearest
even and no fused multiply-add, ml_dtypes the bfloat16 and float8 formats.

The fill functions return a new array of `n` elements of the output dtype, the
elements `offset .. offset + n - 1` of the tensor of (seed, stream):

    uniform(n, dtype, low, high, seed=, stream=, offset=)
    normal(n, dtype, mean, std, seed=, stream=, offset=)      (complex mean allowed)
    trunc_normal(n, dtype, mean, std, a, b, seed=, stream=, offset=)
    disk(n, dtype, radius, ...), disk_trunc_normal(n, dtype, scale, upper, ...)

dtype names: float64, float32, float16, bfloat16, float8_e4m3fn, float8_e5m2,
complex64, complex128. The setup constants of the truncated normal use Python's
math module, which calls the C library's erf, erfc, exp, expm1, log, log1p (the
contract's "setup constants ... with the C library's" functions)."""
from __future__ import annotations

import hashlib
import math

import ml_dtypes
import numpy as np

U32, U64, I32 = np.uint32, np.uint64, np.int32
F32, F64 = np.float32, np.float64
NB = 256   # Philox blocks per tile

DTYPES = {
    "float64": np.dtype(np.float64), "float32": np.dtype(np.float32), "float16": np.dtype(np.float16),
    "bfloat16": np.dtype(ml_dtypes.bfloat16), "float8_e4m3fn": np.dtype(ml_dtypes.float8_e4m3fn),
    "float8_e5m2": np.dtype(ml_dtypes.float8_e5m2),
    "complex64": np.dtype(np.complex64), "complex128": np.dtype(np.complex128),
}
CODE = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def h32(s: str) -> F32:
    """A float32 constant written in hex (exact)."""
    v = float.fromhex(s)
    assert float(F32(v)) == v, s
    return F32(v)


def a(x, dt):
    return np.ascontiguousarray(np.asarray(x, dt))


# ---- Generator; Key and counter ------------------------------------------------

M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85


def philox4x32_10(c0, c1, c2, c3, k0: int, k1: int):
    """Philox4x32-10 of counters (arrays of 32-bit values), key (k0, k1)."""
    c0, c1, c2, c3 = (np.asarray(c, U64) & U64(0xFFFFFFFF) for c in (c0, c1, c2, c3))
    lo = U64(0xFFFFFFFF)
    for r in range(10):
        if r:
            k0 = (k0 + W0) & 0xFFFFFFFF
            k1 = (k1 + W1) & 0xFFFFFFFF
        p0 = U64(M0) * c0
        p1 = U64(M1) * c2
        c0, c1, c2, c3 = (p1 >> U64(32)) ^ c1 ^ U64(k0), p1 & lo, (p0 >> U64(32)) ^ c3 ^ U64(k1), p0 & lo
    return tuple(c.astype(U32) for c in (c0, c1, c2, c3))


def stream_id(stream) -> int:
    if isinstance(stream, str):
        return int.from_bytes(hashlib.sha256(stream.encode("utf-8")).digest()[:8], "little")
    if not 0 <= int(stream) < 2**64:
        raise ValueError("stream must be in [0, 2^64)")
    return int(stream)


def tile_words(seed: int, stream, t0: int, t1: int) -> np.ndarray:
    """Words w[t - t0, h, b] = word h of block t*256 + b, tiles t0 .. t1 - 1."""
    sid = stream_id(stream)
    blk = U64(t0 * NB) + np.arange((t1 - t0) * NB, dtype=U64)
    c = philox4x32_10(blk & U64(0xFFFFFFFF), blk >> U64(32), np.full(blk.shape, sid & 0xFFFFFFFF, U64),
                      np.full(blk.shape, sid >> 32, U64), seed & 0xFFFFFFFF, seed >> 32)
    return np.stack([x.reshape(t1 - t0, NB) for x in c], axis=1)


def join64(lo, hi):
    return lo.astype(U64) | (hi.astype(U64) << U64(32))


def u32_to_f32(x):
    """An unsigned integer (< 2^53) rounded once to float32."""
    return x.astype(F64).astype(F32)


# ---- rounding helpers (Rounding to 16-bit and 8-bit outputs) ------------------------

def odd32(x):
    """float64 -> float32 rounded to odd (a later round to nearest even to a format
    with at least two fewer bits equals one rounding of x)."""
    x = a(x, F64)
    with np.errstate(all="ignore"):
        y = x.astype(F32)
        back = y.astype(F64)
        yb = y.view(U32).copy()
        yb = np.where(np.abs(back) > np.abs(x), yb - U32(1), yb)
        yb = np.where(back != x, yb | U32(1), yb)
    return a(yb, U32).view(F32)


def from_f32(x, dt: str):
    """float32 values rounded once (nearest, ties to even) to the output dtype."""
    with np.errstate(all="ignore"):
        return a(x, F32).astype(DTYPES[dt])


def _code(dt, v):
    """The code of the float64 value v rounded once to small dtype dt."""
    return int(from_f32(odd32([v]), dt).view(CODE[DTYPES[dt].itemsize])[0])


def _decode(dt, h):
    return float(np.array([h], CODE[DTYPES[dt].itemsize]).view(DTYPES[dt]).astype(F64)[0])


def out_round(dt, x):
    """R(x): x rounded once to the output dtype, overflow to +-inf (float8_e4m3fn,
    which has no infinity, too: docs/streams.md, "Clamp and the final rounding")."""
    if dt == "float64":
        return x
    if dt == "float32":
        return float(F32(x))
    r = _decode(dt, _code(dt, x))
    return math.copysign(math.inf, x) if math.isnan(r) else r


def dtype_max(dt):
    return float(ml_dtypes.finfo(DTYPES[dt]).max)


def out_step(dt, y, up):
    """The neighbour of representable y in the output dtype, upward or downward."""
    if math.isinf(y) and (y < 0) == up:      # inward from an infinity: the largest finite value
        return math.copysign(dtype_max(dt), y)
    if dt == "float64":
        return float(np.nextafter(y, math.inf if up else -math.inf))
    if dt == "float32":
        return float(np.nextafter(F32(y), F32(math.inf if up else -math.inf)))
    sb = 0x80 if DTYPES[dt].itemsize == 1 else 0x8000
    h = _code(dt, y)
    neg = (h & sb) != 0
    if h & (sb - 1) == 0:
        h = 1 if up else sb | 1
    else:
        h = h + 1 if up != neg else h - 1
    return _decode(dt, h)


BEYOND_MAX = {"bfloat16": 2.0**128, "float8_e4m3fn": 480.0, "float16": 2.0**16, "float8_e5m2": 2.0**16}


def widen_small(dt, r, up):
    """The float32 just inside halfway from bound r to the next value outward."""
    if math.isinf(r):
        return r
    nxt = out_step(dt, r, up)
    if not math.isfinite(nxt):
        nxt = math.copysign(BEYOND_MAX[dt], r)
    half = F32(0.5 * r + 0.5 * nxt)
    return float(np.nextafter(half, F32(-math.inf if up else math.inf)))


def clamp_bounds(dt, lo_param, hi_param, hi_open):
    """[lo, hi] of the final clamp (as the compute precision sees them), or None
    where no value of dt lies in the interval."""
    lo = out_round(dt, lo_param)
    if lo < lo_param:
        lo = out_step(dt, lo, True)
    hi = out_round(dt, hi_param)
    if hi >= hi_param if hi_open else hi > hi_param:
        hi = out_step(dt, hi, False)
    if not lo <= hi or lo == math.inf or hi == -math.inf:
        raise ValueError("no finite value of the output dtype lies in the interval")
    if dt not in ("float32", "float64"):
        lo, hi = widen_small(dt, lo, False), widen_small(dt, hi, True)
    return lo, hi


def clamp(x, lo, hi):
    t = x.dtype.type
    x = np.where(x < t(lo), t(lo), x)
    return np.where(x > t(hi), t(hi), x)


# ---- float32 elementary functions (The complete arithmetic: elementary functions) ----

LOGF_LN2_HI, LOGF_LN2_LO = h32("0x1.62e4p-1"), h32("0x1.7f7d1cp-20")


def logf(x):
    """Our float32 log (Taylor series of 2 atanh s to s^11)."""
    xb = a(x, F32).view(U32)
    t = xb - U32(0x3F3504F4)
    e = (t.view(I32) >> 23).astype(F32)
    m = a((t & U32(0x7FFFFF)) + U32(0x3F3504F4), U32).view(F32)
    one, two = F32(1), F32(2)
    s = (m - one) / (m + one)
    z = s * s
    p = one / F32(11)
    for k in (9, 7, 5, 3):
        p = p * z + one / F32(k)
    return e * LOGF_LN2_HI + (e * LOGF_LN2_LO + (two * s + two * s * z * p))


def log1pf(y):
    y = a(y, F32)
    u = F32(1) + y
    d = u - F32(1)
    return np.where(d == F32(0), y, logf(u) * (y / d))


def neg2logf_u1(ub):
    """rho^2 = -2 log(u1) from the bits ub of fl32(w | 1) (float32 normal)."""
    t = ub - U32(0x3F3504F4) - U32(32 << 23)
    e = (t.view(I32) >> 23).astype(F32)
    m = a((t & U32(0x7FFFFF)) + U32(0x3F3504F4), U32).view(F32)
    s = (m - F32(1)) / (m + F32(1))
    z = s * s
    p = h32("0x1.2ee7f0p-3")
    p = p * z + h32("0x1.997c22p-3")
    p = p * z + h32("0x1.55557p-2")
    q = F32(-4) * s
    return e * h32("-0x1.62e4p+0") + (e * h32("-0x1.7f7d1cp-19") + (q + q * z * p))


def turn_f32(w):
    """(cos, sin) of the angle of word w (float32 normal; complex64 disks' phase)."""
    w = a(w, U32)
    refl = ((w << U32(2)).view(I32) >> 31).view(U32)
    xi = (((w >> U32(6)) ^ refl) & U32(0x7FFFFE)) | U32(0x3F000001)
    x = a(xi, U32).view(F32) - F32(0.5)
    z = x * x
    ps = h32("-0x1.2d9310p-8")
    pc = h32("-0x1.4e845cp-6")
    ps = ps * z + h32("0x1.465e92p-4")
    pc = pc * z + h32("0x1.03b080p-2")
    ps = ps * z - h32("0x1.4abbc6p-1")
    pc = pc * z - h32("0x1.3bd39cp+0")
    ps = ps * z + h32("0x1.921fb6p+0")
    S = x * ps
    C = F32(1) + z * pc
    swap = ((w << U32(1)) ^ (w << U32(2))).view(I32) < 0      # bits 29 and 30 differ
    cos0, sin0 = np.where(swap, S, C), np.where(swap, C, S)
    cos = (a(cos0, F32).view(U32) ^ ((w ^ (w << U32(1))) & U32(0x80000000))).view(F32)
    sin = (a(sin0, F32).view(U32) ^ (w & U32(0x80000000))).view(F32)
    return cos, sin


# ---- float64 elementary functions -------------------------------------------------

LOG_LN2_HI, LOG_LN2_LO = float.fromhex("0x1.62e42fee00000p-1"), float.fromhex("0x1.a39ef35793c76p-33")
SQRT2 = float.fromhex("0x1.6a09e667f3bcdp+0")


def log64(x):
    """Our float64 log (Taylor series of 2 atanh s to s^25)."""
    b = a(x, F64).view(U64)
    m = a((b & U64(0xFFFFFFFFFFFFF)) | U64(0x3FF0000000000000), U64).view(F64)
    big = m > SQRT2
    e = (((b >> U64(52)) & U64(0x7FF)).astype(F64) - 1023.0) + np.where(big, 1.0, 0.0)
    m = np.where(big, 0.5 * m, m)
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    p = 1.0 / 25.0
    for k in range(23, 2, -2):
        p = p * z + 1.0 / k
    return e * LOG_LN2_HI + (e * LOG_LN2_LO + (2.0 * s + 2.0 * s * z * p))


def log1p_of(y, u, l):
    d = u - 1.0
    return np.where(d == 0.0, y, l + (y - d) / u)


def log1p64(y):
    y = a(y, F64)
    u = 1.0 + y
    return log1p_of(y, u, log64(u))


HALF_PI = float.fromhex("0x1.921fb54442d18p+0")


def sincos_quarter64(x):
    """sin and cos of (pi/2) x, x in [0, 1/2]: Taylor series in t = fl(x pi/2)."""
    t = x * HALF_PI
    z = t * t
    ps = np.full(z.shape, 1.0 / math.factorial(17))
    pc = np.full(z.shape, -1.0 / math.factorial(18))
    for k in range(15, 2, -2):          # ps: -1/15!, +1/13!, ..., -1/3!; pc: +1/16!, ..., +1/4!
        sg = -1.0 if (k // 2) % 2 else 1.0
        ps = ps * z + sg * (1.0 / math.factorial(k))
        pc = pc * z - sg * (1.0 / math.factorial(k + 1))
    S = t + t * z * ps
    C = (1.0 - 0.5 * z) + z * z * pc
    return S, C


def turn_f64(x):
    """(cos, sin) of the angle of the 64-bit word x (float64 normal; complex128 disks)."""
    x = a(x, U64)
    f = ((x >> U64(10)) & U64(0xFFFFFFFFFFFFF)).astype(F64) * 2.0**-52
    refl = f > 0.5
    S, C = sincos_quarter64(np.where(refl, 1.0 - f, f))
    ss, cc = np.where(refl, C, S), np.where(refl, S, C)
    q1 = ((x >> U64(62)) & U64(1)) != 0
    cos0, sin0 = np.where(q1, ss, cc), np.where(q1, cc, ss)
    negc = ((x ^ (x << U64(1))) >> U64(63)) != 0
    negs = (x >> U64(63)) != 0
    return np.where(negc, -cos0, cos0), np.where(negs, -sin0, sin0)


# ---- tiles --------------------------------------------------------------------------

def _tiles(n, offset, E):
    if n == 0:
        return 0, 0, 0
    t0, t1 = offset // E, (offset + n - 1) // E + 1
    return t0, t1, offset - t0 * E


def _finish(v, dt, bounds):
    """Tile values (compute precision) -> clamp -> output dtype."""
    if bounds is not None:
        v = clamp(v, *bounds)
    if dt in ("float32", "float64"):
        return v
    return from_f32(v, dt)


def _complex_parts(dt):
    return {"complex64": "float32", "complex128": "float64"}.get(dt)


# ---- uniform --------------------------------------------------------------------------

def uniform(n, dtype, low=0.0, high=1.0, *, seed, stream=0, offset=0):
    part = _complex_parts(dtype)
    if part:   # Complex outputs: the stream of the 2n parts, each U(low, high)
        return uniform(2 * n, part, low, high, seed=seed, stream=stream, offset=2 * offset).view(DTYPES[dtype])
    with np.errstate(all="ignore"):
        return _uniform(n, dtype, float(low), float(high), seed, stream, offset)


def _uniform(n, dtype, low, high, seed, stream, offset):
    bounds = clamp_bounds(dtype, low, high, hi_open=True)
    E = 512 if dtype == "float64" else 1024
    t0, t1, s = _tiles(n, offset, E)
    w = tile_words(seed, stream, t0, t1)
    if dtype == "float64":
        x = join64(w[:, 0::2], w[:, 1::2]).reshape(-1)      # h = 0, 1: words (0, 1), (2, 3)
        u = (x >> U64(11)).astype(F64) * 2.0**-53
        v = low + (high - low) * u
    else:
        u = u32_to_f32(w.reshape(-1) >> U32(8)) * F32(2.0**-24)
        v = F32(low) + F32(high - low) * u
    return _finish(v[s:s + n], dtype, bounds)


# ---- normal ----------------------------------------------------------------------------

def _normal_parts(w, dt, mean0, mean1, std):
    """Tile values of the normal; mean0 for even b, mean1 for odd b (complex)."""
    T = w.shape[0]
    odd_b = (np.arange(NB) & 1) == 1
    if dt == "float64":
        x0, x1 = join64(w[:, 0], w[:, 1]), join64(w[:, 2], w[:, 3])
        u1 = ((x0 >> U64(11)) | U64(1)).astype(F64) * 2.0**-53
        r = np.sqrt(-2.0 * log64(u1))
        c, s = turn_f64(x1)
        sh = np.where(odd_b, mean1, mean0)
        v = np.empty((T, 2, NB), F64)
        v[:, 0] = sh + std * (r * c)
        v[:, 1] = sh + std * (r * s)
        return v.reshape(-1)
    sh = np.where(odd_b, F32(mean1), F32(mean0)).astype(F32)
    sc = F32(std)
    v = np.empty((T, 4, NB), F32)
    for h in (0, 2):
        ub = u32_to_f32(w[:, h] | U32(1)).view(U32)
        ub = np.minimum(ub, U32(0x4F7FFFFF))
        r = np.sqrt(neg2logf_u1(ub))
        c, s = turn_f32(w[:, h + 1])
        v[:, h] = sh + sc * (r * c)
        v[:, h + 1] = sh + sc * (r * s)
    return v.reshape(-1)


def normal(n, dtype, mean=0.0, std=1.0, *, seed, stream=0, offset=0):
    part = _complex_parts(dtype)
    if part:   # circular: parts of std std/sqrt 2, Re mean on even parts, Im mean on odd ones
        m = complex(mean)
        sp = float(std) / math.sqrt(2.0)
        E = 512 if part == "float64" else 1024
        t0, t1, s = _tiles(2 * n, 2 * offset, E)
        v = _normal_parts(tile_words(seed, stream, t0, t1), part, m.real, m.imag, sp)
        return np.ascontiguousarray(v[s:s + 2 * n]).view(DTYPES[dtype])
    E = 512 if dtype == "float64" else 1024
    t0, t1, s = _tiles(n, offset, E)
    v = _normal_parts(tile_words(seed, stream, t0, t1), "float64" if dtype == "float64" else "float32",
                      float(mean), float(mean), float(std))
    return _finish(v[s:s + n], dtype, None)


# ---- complex disks ------------------------------------------------------------------

def _disk(n, dtype, scale, upper, seed, stream, offset):
    part = _complex_parts(dtype)
    if part is None:
        raise ValueError("the disks are complex64/complex128 only")
    E = 512 if part == "float64" else 1024
    t0, t1, s = _tiles(2 * n, 2 * offset, E)
    w = tile_words(seed, stream, t0, t1)
    T = w.shape[0]
    if part == "float64":
        x = join64(w[:, 0::2], w[:, 1::2])                  # (T, 2, 256)
        g = (x[:, :, 0::2] >> U64(11)).astype(F64) * 2.0**-53
        if upper is not None:
            c = -math.expm1(-upper * upper)
            y = (-c) * g
            u = 1.0 + y
            l = log64(u)
            g = -np.where(y > -0.5, log1p_of(y, u, l), l)
        cos, sin = turn_f64(x[:, :, 1::2])
        r = scale * np.sqrt(g)
        v = np.empty((T, 2, NB), F64)
    else:
        g = u32_to_f32(w[:, :, 0::2] >> U32(8)) * F32(2.0**-24)
        if upper is not None:
            c = F32(-math.expm1(-upper * upper))
            g = -log1pf((-c) * g)
        cos, sin = turn_f32(w[:, :, 1::2])
        r = F32(scale) * np.sqrt(g)
        v = np.empty((T, 4, NB), F32)
    v[:, :, 0::2] = r * cos
    v[:, :, 1::2] = r * sin
    return np.ascontiguousarray(v.reshape(-1)[s:s + 2 * n]).view(DTYPES[dtype])


def disk(n, dtype, radius, *, seed, stream=0, offset=0):
    """Uniform on the disk |z| < radius (the C core's "disk" with parameter radius)."""
    return _disk(n, dtype, float(radius), None, seed, stream, offset)


def disk_trunc_normal(n, dtype, scale, upper, *, seed, stream=0, offset=0):
    """The modulus-truncated circular normal with C parameters (scale, upper)."""
    return _disk(n, dtype, float(scale), float(upper), seed, stream, offset)


# ---- truncated normal: setup (float64, the C library's functions) ------------------

S2 = float.fromhex("0x1.6a09e667f3bcdp-1")          # 0.70710678118654752440
LOG_SQRT_2PI = float.fromhex("0x1.d67f1c864beb5p-1")  # 0.91893853320467274178
E0 = {"f32": 96.0, "f64": 4096.0}
NARROW = 2.0**-30
FAR_LOGP = -676.0


def _log(x):
    return -math.inf if x == 0 else math.nan if not x >= 0 else math.log(x)


def _log1p(x):
    return -math.inf if x == -1 else math.nan if not x >= -1 else math.log1p(x)


def _exp(x):
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _expm1(x):
    try:
        return math.expm1(x)
    except OverflowError:
        return math.inf


def _div(x, y):
    with np.errstate(all="ignore"):
        return float(F64(x) / F64(y))


def phi(x):
    return 0.5 * math.erfc(-x * S2)


def log_phi(x):
    if x > -30.0:
        return _log(0.5 * math.erfc(-x * S2))
    t = -x
    z = _div(1.0, t * t)
    term, tot = 1.0, 0.0
    for k in range(1, 9):
        term = term * (-(2.0 * k - 1.0) * z)
        tot = tot + term
    return -0.5 * t * t - _log(t) - LOG_SQRT_2PI + _log1p(tot)


def tn_setup(mean, std, a_, b_, path):
    """The per-call constants of trunc_normal; path 'f32' or 'f64'."""
    k = {}
    alpha, beta = _div(a_ - mean, std), _div(b_ - mean, std)
    width = _div(b_ - a_, std)
    if alpha >= E0[path] or beta <= -E0[path]:
        k["kind"] = "deep"
        up = alpha > 0
        edge = alpha if up else -beta
        i2 = 0.0 if math.isinf(edge) else _div(1.0, edge * edge)
        yb = edge * width
        lb = math.inf if yb > 60.0 else yb + (0.5 * yb * yb + yb) * i2 - (0.5 * yb * yb + 2.0 * yb) * (i2 * i2)
        base, step = (a_ if up else b_), _div(std if up else -std, edge)
    elif width < NARROW:
        k["kind"] = "narrow"
        kappa = alpha * width
        up = kappa >= 0
        rate = max(abs(kappa), 2.0**-60)
        base, step, i2, lb = (a_ if up else b_), _div(b_ - a_ if up else a_ - b_, rate), 0.0, rate
    else:
        k["kind"] = "inversion"
        pa, pb, qa, qb = phi(alpha), phi(beta), phi(-alpha), phi(-beta)
        d0 = 0.5 * math.erf(alpha * S2)
        if alpha >= 0:
            d1 = qa - qb
        elif beta <= 0:
            d1 = pb - pa
        else:
            d1 = 0.5 * (math.erf(beta * S2) - math.erf(alpha * S2))
        lpa, lpb, lqa, lqb = log_phi(alpha), log_phi(beta), log_phi(-alpha), log_phi(-beta)
        k.update(d1=d1, llp=lpb, lk0=_exp(lpa - lpb), lk1=-_expm1(lpa - lpb),
                 ulp=lqa, uk0=_exp(lqb - lqa), uk1=-_expm1(lqb - lqa))
        u_switch = 2.0 if beta <= 0 else -1.0 if alpha >= 0 else _div(-d0, d1)
        uc = min(max(u_switch, 0.0), 1.0)
        k["qc"] = d0 if uc == 0.0 else 0.5 * math.erf(beta * S2) if uc == 1.0 else 0.0
        k32 = float(math.floor(uc * 2.0**32 - 0.5))
        k64 = float(math.floor(uc * 2.0**52 - 0.5))
        k32 = min(max(k32, 0.0), 2.0**32 - 1.0)
        k64 = min(max(k64, 0.0), 2.0**52 - 1.0)
        k.update(piv32=int(k32), pivf32=(uc * 2.0**32 - k32) - 0.5, piv64=int(k64), pivf64=(uc * 2.0**52 - k64) - 0.5)
        low_min = k["llp"] + _log(k["lk0"] + 2.0**-53 * k["lk1"])
        up_min = k["ulp"] + _log(k["uk0"] + 2.0**-53 * k["uk1"])
        k["far"] = (u_switch > 0 and low_min < -670.0) or (u_switch < 1 and up_min < -670.0)
        k["wide"] = False
        k["one_sided"] = alpha >= 0 or beta <= 0
        if path == "f32" and (alpha > 0 or beta < 0):
            near = a_ if alpha > 0 else b_
            k["wide"] = 2.0 * abs(near) < max(abs(mean), abs(near - mean))
        return k
    k.update(base=base, step=step, i2=i2, i4=i2 * i2, te=_exp(-lb), tc=-_expm1(-lb))
    return k


# ---- truncated normal: AS241 --------------------------------------------------------

P7A = [h32(x) for x in ("0x1.b18d9p+1", "0x1.937964p+5", "0x1.3e9510p+7", "0x1.d8ep+5")]      # a0..a3
P7B = [h32(x) for x in ("0x1.1e529ep+4", "0x1.3b07f2p+6", "0x1.0cc010p+6")]                   # b1..b3
P7C = {True: [h32(x) for x in ("0x1.6c6662p+0", "0x1.60df54p+1", "0x1.4e85c2p+0", "0x1.5ca5dap-3")],   # r <= 5
       False: [h32(x) for x in ("0x1.aa1b1ep+2", "0x1.8a65a0p+1", "0x1.b6f8aap-2", "0x1.1c0d82p-6")]}
P7D = {True: [h32(x) for x in ("0x1.795848p-1", "0x1.ec62b8p-4")],
       False: [h32(x) for x in ("0x1.ef92a8p-3", "0x1.91ad42p-7")]}
F32_0425, F32_0180625, F32_16, F32_5 = h32("0x1.b33334p-2"), h32("0x1.71eb86p-3"), h32("0x1.99999ap+0"), F32(5)


def ppnd7_centre(q):
    rc = F32_0180625 - q * q
    A = ((P7A[3] * rc + P7A[2]) * rc + P7A[1]) * rc + P7A[0]
    B = ((P7B[2] * rc + P7B[1]) * rc + P7B[0]) * rc + F32(1)
    return q * A / B


def ppnd7_tail(r):
    r5 = r <= F32_5
    t = r - np.where(r5, F32_16, F32_5)
    sel = lambda tab, i: np.where(r5, tab[True][i], tab[False][i])
    C = sel(P7C, 3)
    for i in (2, 1, 0):
        C = C * t + sel(P7C, i)
    D = sel(P7D, 1)
    D = D * t + sel(P7D, 0)
    D = D * t + F32(1)
    return C / D


P16A = [3.3871328727963666080e+0, 1.3314166789178437745e+2, 1.9715909503065514427e+3, 1.3731693765509461125e+4,
        4.5921953931549871457e+4, 6.7265770927008700853e+4, 3.3430575583588128105e+4, 2.5090809287301226727e+3]
P16B = [1.0, 4.2313330701600911252e+1, 6.8718700749205790830e+2, 5.3941960214247511077e+3,
        2.1213794301586595867e+4, 3.9307895800092710610e+4, 2.8729085735721942674e+4, 5.2264952788528545610e+3]
P16C = [1.42343711074968357734e+0, 4.63033784615654529590e+0, 5.76949722146069140550e+0, 3.64784832476320460504e+0,
        1.27045825245236838258e+0, 2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4]
P16D = [1.0, 2.05319162663775882187e+0, 1.67638483018380384940e+0, 6.89767334985100004550e-1,
        1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4, 1.05075007164441684324e-9]
P16E = [6.65790464350110377720e+0, 5.46378491116411436990e+0, 1.78482653991729133580e+0, 2.96560571828504891230e-1,
        2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7]
P16F = [1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
        7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7, 2.04426310338993978564e-15]


def horner(coef, x):
    """coef[0] + x (coef[1] + x (...)), from the highest coefficient down: p = c7; p = p x + c6; ..."""
    p = np.full(np.shape(x), coef[-1])
    for c in coef[-2::-1]:
        p = p * x + c
    return p


def ppnd16_centre(q):
    rc = 0.180625 - q * q
    return q * horner(P16A, rc) / horner(P16B, rc)


def ppnd16_tail(r):
    t = r - 1.6
    s5 = r - 5.0
    return np.where(r <= 5.0, horner(P16C, t) / horner(P16D, t), horner(P16E, s5) / horner(P16F, s5))


def far_step(x, lp):
    zz = 1.0 / (x * x)
    term = 1.0
    tot = 0.0
    for k in range(1, 9):
        term = term * (-(2.0 * k - 1.0) * zz)
        tot = tot + term
    return np.sqrt(2.0 * (-lp - log64(x) - LOG_SQRT_2PI + log1p64(tot)))


def far_mag(lp):
    x = np.sqrt(-2.0 * lp)
    for _ in range(8):
        x = far_step(x, lp)
    return x


# ---- truncated normal: per element ---------------------------------------------------

def _tn_inv32(k, w, mean, std):
    """Float32 inversion: (values, lane kind 0 centre / 1 tail / 2 far)."""
    K = U32(k["piv32"])
    gt = w > K
    m = u32_to_f32(np.where(gt, w - K, K - w))
    f = F32(k["pivf32"])
    e = np.where(gt, m - f, -(m + f))
    q = F32(k["qc"]) + F32(k["d1"]) * (e * F32(2.0**-32))
    sh, sc = F32(mean), F32(std)
    centre = (q <= F32_0425) & (q >= -F32_0425)
    vc = sh + sc * ppnd7_centre(q)
    u = (u32_to_f32(w) + F32(0.5)) * F32(2.0**-32)
    omu = (u32_to_f32(~w) + F32(0.5)) * F32(2.0**-32)
    hi = e > F32(0)
    arg = np.where(hi, F32(k["uk0"]), F32(k["lk0"])) + np.where(hi, omu, u) * np.where(hi, F32(k["uk1"]), F32(k["lk1"]))
    lg = np.where(hi, F32(k["ulp"]), F32(k["llp"])) + logf(arg)
    mag = ppnd7_tail(np.sqrt(-lg))
    z = np.where(hi, mag, -mag)
    vt = sh + sc * z
    v = np.where(centre, vc, vt)
    kind = np.where(centre, 0, 1)
    if k["far"]:
        far = ~centre & (lg < F32(FAR_LOGP))
        if far.any():
            x = far_mag(lg[far].astype(F64))
            zf = np.where(z[far] > F32(0), x, -x).astype(F32)
            v[far] = sh + sc * zf
            kind[far] = 2
    return v, kind


def _tn_tail64(k, u, omu, d):
    hi = d > 0.0
    lg = np.where(hi, k["ulp"], k["llp"]) + log64(np.where(hi, k["uk0"], k["lk0"]) + np.where(hi, omu, u)
                                                 * np.where(hi, k["uk1"], k["lk1"]))
    mag = ppnd16_tail(np.sqrt(-lg))
    return np.where(hi, mag, -mag), lg


def _tn_inv64(k, x, mean, std):
    mm = (x >> U64(12)).astype(F64)
    d = ((mm - float(k["piv64"])) - k["pivf64"]) * 2.0**-52
    q = k["qc"] + k["d1"] * d
    centre = (q <= 0.425) & (q >= -0.425)
    u = (mm + 0.5) * 2.0**-52
    zt, lg = _tn_tail64(k, u, 1.0 - u, d)
    z = np.where(centre, ppnd16_centre(q), zt)
    kind = np.where(centre, 0, 1)
    if k["far"]:
        far = ~centre & (lg < FAR_LOGP)
        if far.any():
            xm = far_mag(lg[far])
            z[far] = np.where(zt[far] > 0.0, xm, -xm)
            kind[far] = 2
    return mean + std * z, kind


def _tn_wide32(k, w, mean, std, dt):
    u = (w.astype(F64) + 0.5) * 2.0**-32
    omu = ((~w).astype(F64) + 0.5) * 2.0**-32
    K = U32(k["piv32"])
    gt = w > K
    m = np.where(gt, w - K, K - w).astype(F64)
    d = np.where(gt, m - k["pivf32"], -(m + k["pivf32"])) * 2.0**-32
    q = k["qc"] + k["d1"] * d
    centre = (q <= 0.425) & (q >= -0.425)
    zt, lg = _tn_tail64(k, u, omu, d)
    lg = np.where(centre, 0.0, lg)
    z = np.where(centre, ppnd16_centre(q), zt)
    kind = np.where(centre, 0, 1)
    far = lg < FAR_LOGP            # the wide path refines such lanes whatever the far flag
    if far.any():
        xm = far_mag(lg[far])
        z[far] = np.where(z[far] > 0.0, xm, -xm)
        kind[far] = 2
    x = mean + std * z
    return (x.astype(F32) if dt == "float32" else odd32(x)), kind


def _tn_exp(k, u, omu):
    c, te = k["tc"], k["te"]
    uc = u * c
    nuc = -uc
    small = uc < 0.5
    arg = np.where(small, 1.0 + nuc, te + omu * c)
    l = log64(arg)
    E = np.where(small, -log1p_of(nuc, arg, l), -l)
    y = E - (0.5 * E * E + E) * k["i2"] + ((0.5 * E + 2.0) * E + 3.0) * E * k["i4"]
    return k["base"] + k["step"] * y


def _trunc(n, dtype, mean, std, a_, b_, seed, stream, offset):
    mean, std, a_, b_ = float(mean), float(std), float(a_), float(b_)
    if not (math.isfinite(mean) and math.isfinite(std) and std > 0 and a_ < b_):
        raise ValueError("invalid parameters")
    if _complex_parts(dtype):
        raise ValueError("trunc_normal has no complex form")
    if dtype == "float8_e4m3fn":   # no infinity: a bound beyond +-464 (infinite too) is +-464
        a_, b_ = max(a_, -464.0), min(b_, 464.0)
    path = "f64" if dtype == "float64" else "f32"
    k = tn_setup(mean, std, a_, b_, path)
    bounds = clamp_bounds(dtype, a_, b_, hi_open=False)
    E = 512 if path == "f64" else 1024
    t0, t1, s = _tiles(n, offset, E)
    w = tile_words(seed, stream, t0, t1)
    if path == "f64":
        x = join64(w[:, 0::2], w[:, 1::2]).reshape(-1)
        if k["kind"] == "inversion":
            v, kind = _tn_inv64(k, x, mean, std)
        else:
            u = (((x >> U64(12)) * U64(2)) + U64(1)).astype(F64) * 2.0**-53
            v, kind = _tn_exp(k, u, 1.0 - u), np.full(x.shape, 3)
    else:
        wf = w.reshape(-1)
        if k["kind"] != "inversion":
            u = (wf.astype(F64) + 0.5) * 2.0**-32
            omu = ((~wf).astype(F64) + 0.5) * 2.0**-32
            xv = _tn_exp(k, u, omu)
            v, kind = (xv.astype(F32) if dtype == "float32" else odd32(xv)), np.full(wf.shape, 3)
        elif k["wide"] or (dtype == "float32" and k["one_sided"]):   # contract v3: float32 one side
            v, kind = _tn_wide32(k, wf, mean, std, dtype)
        else:
            v, kind = _tn_inv32(k, wf, mean, std)
    return _finish(v[s:s + n], dtype, bounds), kind[s:s + n], k


def trunc_normal(n, dtype, mean=0.0, std=1.0, a=-2.0, b=2.0, *, seed, stream=0, offset=0):
    with np.errstate(all="ignore"):
        return _trunc(n, dtype, mean, std, a, b, seed, stream, offset)[0]


def trunc_normal_branches(n, dtype, mean, std, a, b, *, seed, stream=0, offset=0):
    """Which branch of docs/streams.md each element took: the setup's kind ('deep',
    'narrow', 'inversion'), whether the float32 path inverts in float64 (the distant-mean
    rule, or a float32 output of a one-sided interval),
    and per element 0 centre, 1 tail, 2 far tail, 3 exponential form."""
    with np.errstate(all="ignore"):
        _, kind, k = _trunc(n, dtype, mean, std, a, b, seed, stream, offset)
    wide = bool(k.get("wide")) or (dtype == "float32" and bool(k.get("one_sided")))
    return k["kind"], wide, kind
