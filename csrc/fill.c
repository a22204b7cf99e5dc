/* Fill requests: validation, per-distribution setup, and sharing tiles out to
 * threads. Setup runs once per call in float64 scalar code; the hot loops are
 * in fill_kernels.c. */
#include <math.h>
#include <string.h>
#include "fill_job.h"
#include "convert.h"
#include "convert8.h"
#include "philox.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define MIN_TILES_PER_THREAD 16   /* below this a thread costs more than it saves */
#define WI_STREAM_MIN_BYTES (1ull << 20)

/* elements per tile, the stream contract's unit: 64-bit samples for float64 */
static uint64_t tile_elements(wi_dtype dtype) {
    return dtype == WI_F64 ? 2 * WI_TILE_BLOCKS : 4 * WI_TILE_BLOCKS;
}

/* ---- values representable in the output dtype --------------------------- */
static double out_step(wi_dtype d, double y, int up);

static int is8(wi_dtype d) { return d == WI_F8E4M3 || d == WI_F8E5M2; }

/* the 16- or 8-bit code of x, rounded once (float64 -> float32 by rounding to odd) */
static uint16_t to_small(wi_dtype d, double x) {
    float f = wi_f64_to_f32_odd(x);
    switch (d) {
    case WI_BF16: return wi_f32_to_bf16(f);
    case WI_F8E4M3: return wi_f32_to_e4m3(f);
    case WI_F8E5M2: return wi_f32_to_e5m2(f);
    default: return wi_f32_to_f16(f);
    }
}

static uint16_t sign_bit(wi_dtype d) { return is8(d) ? 0x80u : 0x8000u; }

static double from_small(wi_dtype d, uint16_t h) {
    if (d == WI_BF16) return (double)wi_bits_f32((uint32_t)h << 16);
    if (d == WI_F8E4M3) return (double)wi_e4m3_to_f32((uint8_t)h);
    if (d == WI_F8E5M2) return (double)wi_e5m2_to_f32((uint8_t)h);
    uint32_t sign = (h & 0x8000u) ? 1 : 0, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp((double)m, -24) : e == 31 ? INFINITY : ldexp((double)(m | 0x400), (int)e - 25);
    return sign ? -v : v;
}

static double out_round(wi_dtype d, double x) {
    if (d == WI_F64) return x;
    if (d == WI_F32) return (double)(float)x;
    return from_small(d, to_small(d, x));
}

/* The value one step beyond the largest finite one (the rounding boundary
 * halfway to it is where overflow starts): 2^128, 2^16, 480, 2^16. */
static double beyond_max(wi_dtype d) {
    switch (d) {
    case WI_BF16: return 0x1p128;
    case WI_F8E4M3: return 480.0;
    default: return 0x1p16;   /* float16 and float8_e5m2 */
    }
}

/* The widest float32 bound whose rounding to a 16-bit dtype stays at or inside
 * representable bound r: the float32 just inside halfway to the next value
 * outward. Never the halfway point itself, even where that tie would round
 * inward (the output is the same either way): the AVX-512 bfloat16 store takes
 * the tie-breaking bit from the unclamped value, which is right for a clamped
 * lane only if the bound is not a tie. */
static double widen_small(wi_dtype d, double r, int up) {
    if (isinf(r)) return r;
    double next = out_step(d, r, up);
    if (!isfinite(next)) next = copysign(beyond_max(d), r);   /* inf, or e4m3fn's NaN code */
    float half = (float)(0.5 * r + 0.5 * next);      /* exact: float32 has the bits to spare */
    return (double)nextafterf(half, up ? -INFINITY : INFINITY);
}

/* the neighbour of representable y in direction up (1) or down (0) */
static double out_step(wi_dtype d, double y, int up) {
    if (d == WI_F64) return nextafter(y, up ? INFINITY : -INFINITY);
    if (d == WI_F32) return (double)nextafterf((float)y, up ? INFINITY : -INFINITY);
    uint16_t sb = sign_bit(d);
    uint16_t h = to_small(d, y);
    int neg = (h & sb) != 0;
    if ((h & (uint16_t)(sb - 1u)) == 0) h = up ? 0x0001u : (uint16_t)(sb | 1u);   /* +-0 -> smallest subnormal */
    else h = (uint16_t)((up != neg) ? h + 1 : h - 1);
    return from_small(d, h);
}

/* ---- normal CDF pieces, float64, for the truncated-normal setup ---------- */
static const double SQRT1_2 = 0.70710678118654752440;

static double log_phi(double x) {               /* log Phi(x) */
    if (x > -30.0) return log(0.5 * erfc(-x * SQRT1_2));
    double t = -x, z = 1.0 / (t * t), term = 1.0, sum = 0.0;
    for (int k = 1; k <= 8; k++) { term *= -(2.0 * k - 1.0) * z; sum += term; }
    return -0.5 * t * t - log(t) - 0.91893853320467274178 + log1p(sum);
}

static double phi_cdf(double x) { return 0.5 * erfc(-x * SQRT1_2); }

static void tn_setup(double alpha, double beta, wi_tn_consts *k) {
    double pa = phi_cdf(alpha), pb = phi_cdf(beta);
    double qa = phi_cdf(-alpha), qb = phi_cdf(-beta);
    k->d0 = 0.5 * erf(alpha * SQRT1_2);
    if (alpha >= 0) k->d1 = qa - qb;
    else if (beta <= 0) k->d1 = pb - pa;
    else k->d1 = 0.5 * (erf(beta * SQRT1_2) - erf(alpha * SQRT1_2));
    double lpa = log_phi(alpha), lpb = log_phi(beta), lqa = log_phi(-alpha), lqb = log_phi(-beta);
    k->llp = lpb; k->lk0 = exp(lpa - lpb); k->lk1 = -expm1(lpa - lpb);
    k->ulp = lqa; k->uk0 = exp(lqb - lqa); k->uk1 = -expm1(lqb - lqa);
    if (beta <= 0) k->u_switch = 2.0;
    else if (alpha >= 0) k->u_switch = -1.0;
    else k->u_switch = -k->d0 / k->d1;
    /* the centre formula's pivot (wi_tn_consts): the u in [0, 1] nearest u_switch */
    double uc = k->u_switch < 0.0 ? 0.0 : k->u_switch > 1.0 ? 1.0 : k->u_switch;
    k->qc = uc == 0.0 ? k->d0 : uc == 1.0 ? 0.5 * erf(beta * SQRT1_2) : 0.0;
    double k32 = floor(uc * 0x1p32 - 0.5), k64 = floor(uc * 0x1p52 - 0.5);
    k32 = k32 < 0.0 ? 0.0 : k32 > 0x1p32 - 1.0 ? 0x1p32 - 1.0 : k32;
    k64 = k64 < 0.0 ? 0.0 : k64 > 0x1p52 - 1.0 ? 0x1p52 - 1.0 : k64;
    k->piv32 = (uint32_t)k32;
    k->pivf32 = (uc * 0x1p32 - k32) - 0.5;     /* both differences exact */
    k->piv64 = (uint64_t)k64;
    k->pivf64 = (uc * 0x1p52 - k64) - 0.5;
    double umin = 0x1p-53;
    double low_min = k->llp + log(k->lk0 + umin * k->lk1);
    double up_min = k->ulp + log(k->uk0 + umin * k->uk1);
    k->far = (k->u_switch > 0 && low_min < -670.0) || (k->u_switch < 1 && up_min < -670.0);
}

/* The exponential sampler both forms below share: x = base + step y, y from the survival
 * exp(-L(y)) truncated at the log survival lb of the far bound (1/edge^2, 1/edge^4
 * corrections inv_e2, inv_e4; 0 for none). */
static void tn_exp_law(wi_tn_consts *k, int up, double base, double step, double inv_e2, double lb) {
    k->exp_side = up ? 1 : -1;
    k->base = base;
    k->step = step;
    k->inv_e2 = inv_e2;
    k->inv_e4 = inv_e2 * inv_e2;
    k->tail_e = exp(-lb);
    k->tail_c = -expm1(-lb);
}

/* The interval [alpha, beta] deep in one tail: an exponential in y = |edge| (z - edge)
 * with the 1/edge^2 and 1/edge^4 corrections of log Q (see wi_tn_consts). */
static void tn_exp_setup(double sd, double a, double b, double alpha, double beta, double width,
                         wi_tn_consts *k) {
    int up = alpha > 0;
    double edge = up ? alpha : -beta;            /* > 0; may be +inf */
    double inv_e2 = isinf(edge) ? 0.0 : 1.0 / (edge * edge);   /* 0 also where edge^2 overflows */
    double inv_e4 = inv_e2 * inv_e2;
    double yb = edge * width;                    /* the far bound in y */
    /* -log of the survival at y: y + (y^2/2 + y)/edge^2 - (y^2/2 + 2y)/edge^4 + O(y^3/edge^6) */
    double lb = yb > 60.0 ? INFINITY
              : yb + (0.5 * yb * yb + yb) * inv_e2 - (0.5 * yb * yb + 2.0 * yb) * inv_e4;
    /* step 0 when edge is inf: the bound itself */
    tn_exp_law(k, up, up ? a : b, (up ? sd : -sd) / edge, inv_e2, lb);
}

/* An interval narrow next to std (width = (b - a)/std < WI_TN_NARROW) and not deep
 * in a tail: with s = z - alpha in [0, width], exp(-z^2/2) is proportional to
 * exp(-alpha s - s^2/2), and s^2/2 < 2^-61 there, so the law is the exponential of
 * rate alpha truncated to the interval, to within 2^-61 of its density. It is the
 * deep-tail form without its 1/edge corrections, in x directly: y = |kappa| s /
 * width, kappa = alpha width (|kappa| < 2^-18: nearly uniform), x = a + step y
 * from the bound where the density is highest. Inversion would put every value on
 * float64's grid of z, which may be coarser than the interval itself. */
static void tn_narrow_setup(double a, double b, double alpha, double width, wi_tn_consts *k) {
    double kappa = alpha * width;
    int up = kappa >= 0;
    double rate = fabs(kappa) < 0x1p-60 ? 0x1p-60 : fabs(kappa);   /* a tilt below 2^-60 is none */
    tn_exp_law(k, up, up ? a : b, (up ? b - a : a - b) / rate, 0.0, rate);
}

/* ---- dispatch and threads ------------------------------------------------ */
static wi_tiles_fn tiles_for(int isa) {
#ifdef WI_HAVE_AVX512
    if (isa == WI_ISA_AVX512) return wi_tiles_avx512;
#endif
#ifdef WI_HAVE_AVX2
    if (isa == WI_ISA_AVX2) return wi_tiles_avx2;
#endif
    (void)isa;
    return wi_tiles_scalar;
}

static int clamp_threads(int threads, uint64_t units) {
    uint64_t most = units / MIN_TILES_PER_THREAD;
    if (most < 1) most = 1;
    if (threads < 1) threads = 1;
    return (uint64_t)threads > most ? (int)most : threads;
}

static void run_tiles(wi_tiles_fn fn, const wi_job *job, uint64_t t0, uint64_t t1, int threads) {
    int nt = clamp_threads(threads, t1 - t0);
#ifdef _OPENMP
    if (nt > 1) {
        /* contiguous ranges: the thread that fills a region first-touches its pages */
        #pragma omp parallel num_threads(nt)
        {
            uint64_t T = (uint64_t)omp_get_num_threads(), id = (uint64_t)omp_get_thread_num();
            uint64_t n = t1 - t0;
            fn(job, t0 + n * id / T, t0 + n * (id + 1) / T);
        }
        return;
    }
#else
    (void)nt;
#endif
    fn(job, t0, t1);
}

int wi_fill(const wi_fill_request *r) {
    if ((unsigned)r->dtype > WI_DTYPE_LAST || (unsigned)r->dist > WI_DIST_LAST) return WI_EDTYPE;
    int pairs = r->dist == WI_DISK || r->dist == WI_DISK_TRUNC_NORMAL;
    /* complex pairs: real and imaginary part side by side, in float32 or float64 only
     * (the AVX-512 bfloat16 path reorders elements within a tile) */
    if (pairs && r->dtype != WI_F32 && r->dtype != WI_F64) return WI_EDTYPE;
    if (pairs && ((r->offset | r->n) & 1u)) return WI_EPARAM;
    int isa = r->isa == WI_ISA_AUTO ? wi_isa_best() : r->isa;
    if (!wi_isa_supported(isa)) return WI_EISA;
    if (r->n > UINT64_MAX - r->offset) return WI_ERANGE;

    wi_job j;
    memset(&j, 0, sizeof j);
    j.out = r->out; j.n = r->n; j.offset = r->offset; j.dtype = r->dtype; j.dist = r->dist;
    j.k0 = (uint32_t)r->seed; j.k1 = (uint32_t)(r->seed >> 32);
    j.s0 = (uint32_t)r->stream; j.s1 = (uint32_t)(r->stream >> 32);
    j.tile_elems = tile_elements(r->dtype);
    const double *p = r->params;
    int f32c = r->dtype != WI_F64;  /* computed in float32 */

    switch (r->dist) {
    case WI_UNIFORM: {
        double low = p[0], high = p[1];
        if (!isfinite(low) || !isfinite(high) || !(high > low)) return WI_EPARAM;
        j.shift = low; j.scale = high - low;
        if (!isfinite(j.scale) || (f32c && !isfinite((float)j.scale))) return WI_EPARAM;
        j.lo = out_round(r->dtype, low);
        if (j.lo < low) j.lo = out_step(r->dtype, j.lo, 1);
        j.hi = out_round(r->dtype, high);
        if (j.hi >= high) j.hi = out_step(r->dtype, j.hi, 0);
        j.clamp = 1;
        break;
    }
    case WI_NORMAL:
        if (!isfinite(p[0]) || !isfinite(p[1]) || p[1] < 0) return WI_EPARAM;
        j.shift = p[0]; j.scale = p[1];
        j.shift_odd = p[3] != 0 ? p[2] : p[0];
        if (!isfinite(j.shift_odd)) return WI_EPARAM;
        /* parts of complex numbers: float32/float64 only (bfloat16 tiles are reordered on AVX-512) */
        if (j.shift_odd != j.shift && r->dtype != WI_F32 && r->dtype != WI_F64) return WI_EDTYPE;
        break;
    case WI_DISK:
        if (!isfinite(p[0]) || p[0] < 0) return WI_EPARAM;
        j.scale = p[0];
        break;
    case WI_DISK_TRUNC_NORMAL:
        if (!isfinite(p[0]) || p[0] < 0 || !(p[1] > 0)) return WI_EPARAM;
        j.scale = p[0];
        j.disk_c = -expm1(-p[1] * p[1]);
        break;
    case WI_TRUNC_NORMAL: {
        double mean = p[0], sd = p[1], a = p[2], b = p[3];
        if (!isfinite(mean) || !isfinite(sd) || !(sd > 0) || isnan(a) || isnan(b) || !(a < b)) return WI_EPARAM;
        j.shift = mean; j.scale = sd;
        double alpha = (a - mean) / sd, beta = (b - mean) / sd;
        double edge_min = f32c ? WI_TN_EXP_ALPHA32 : WI_TN_EXP_ALPHA64;
        double width = (b - a) / sd;            /* beta - alpha without cancellation; may be inf */
        if (alpha >= edge_min || beta <= -edge_min) tn_exp_setup(sd, a, b, alpha, beta, width, &j.tn);
        else if (width < WI_TN_NARROW) tn_narrow_setup(a, b, alpha, width, &j.tn);
        else tn_setup(alpha, beta, &j.tn);
        /* One-sided interval (0 outside [alpha, beta]) whose nearer bound is small
         * next to the mean or to std * alpha: in float32, mean + std z would cancel
         * and put the values on a grid coarser than the output's near that bound.
         * There the float32 path inverts and adds in float64 (contract version 2). */
        if (f32c && !j.tn.exp_side && (alpha > 0 || beta < 0)) {
            double near = alpha > 0 ? a : b;
            j.tn.wide = 2.0 * fabs(near) < fmax(fabs(mean), fabs(near - mean));
        }
        /* A float32 output of an interval on one side of the mean: the float32
         * quantile's error (about an ulp of z) would leave float32 values of the
         * interval empty and give their neighbours too much, where the samples are
         * dense enough to see it; in float64 every float32 value of the interval
         * gets its probability (contract version 3). */
        if (r->dtype == WI_F32 && !j.tn.exp_side && (alpha >= 0 || beta <= 0)) j.tn.wide = 1;
        j.lo = out_round(r->dtype, a);
        if (j.lo < a) j.lo = out_step(r->dtype, j.lo, 1);
        j.hi = out_round(r->dtype, b);
        if (j.hi > b) j.hi = out_step(r->dtype, j.hi, 0);
        j.clamp = 1;
        break;
    }
    }
    if (j.clamp && !(j.lo <= j.hi)) return WI_EEMPTY;
    if (j.clamp && r->dtype != WI_F32 && r->dtype != WI_F64) {
        j.lo = widen_small(r->dtype, j.lo, 0);
        j.hi = widen_small(r->dtype, j.hi, 1);
    }
    if (r->n == 0) return WI_OK;

    /* an initializer's output is rarely read right away: from 1 MiB on, write it
     * with non-temporal stores and save reading each line into the cache first */
    j.stream_stores = r->n * WI_DTYPE_SIZE(r->dtype) >= WI_STREAM_MIN_BYTES;
    uint64_t E = j.tile_elems;
    uint64_t t0 = r->offset / E, t1 = (r->offset + r->n - 1) / E + 1;
    run_tiles(tiles_for(isa), &j, t0, t1, r->threads);
    return WI_OK;
}

#define WI_PARALLEL_STORE(T, x)                                                  \
    do {                                                                         \
        T *o_ = (T *)out;                                                        \
        _Pragma("omp parallel for schedule(static) num_threads(nt) if (nt > 1)") \
        for (int64_t i = 0; i < nn; i++) o_[i] = (x);                            \
    } while (0)

int wi_constant(void *out, uint64_t n, wi_dtype dtype, double value, int threads) {
    if ((unsigned)dtype > WI_DTYPE_LAST) return WI_EDTYPE;
    int nt = clamp_threads(threads, n / 4096);
    int64_t nn = (int64_t)n;
    (void)nt;
    if (dtype == WI_F64) {
        WI_PARALLEL_STORE(double, value);
    } else if (dtype == WI_F32) {
        float f = (float)value;
        WI_PARALLEL_STORE(float, f);
    } else if (is8(dtype)) {   /* NaN -> the format's NaN; inf -> inf (e5m2) or NaN (e4m3fn) */
        uint8_t h = isnan(value) || (isinf(value) && dtype == WI_F8E4M3)
            ? (uint8_t)(dtype == WI_F8E4M3 ? 0x7fu : 0x7eu) | (signbit(value) && dtype == WI_F8E4M3 ? 0x80u : 0u)
            : isinf(value) ? (uint8_t)(value > 0 ? 0x7cu : 0xfcu) : (uint8_t)to_small(dtype, value);
        WI_PARALLEL_STORE(uint8_t, h);
    } else {   /* rounding keeps +-inf; NaN becomes the quiet NaN of the format */
        uint16_t h = isnan(value) ? (dtype == WI_BF16 ? 0x7fc0u : 0x7e00u) : to_small(dtype, value);
        WI_PARALLEL_STORE(uint16_t, h);
    }
    return WI_OK;
}

void wi_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
    wi_philox4x32_10(c, key[0], key[1]);
    memcpy(out, c, sizeof c);
}

int wi_have_openmp(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

const char *wi_strerror(int code) {
    switch (code) {
    case WI_OK: return "ok";
    case WI_EDTYPE: return "unsupported dtype or distribution";
    case WI_EPARAM: return "invalid distribution parameters";
    case WI_EEMPTY: return "no value of the output dtype lies in the requested interval";
    case WI_ERANGE: return "offset + size overflows the 64-bit element index";
    case WI_EISA: return "the requested SIMD path is not available on this machine";
    default: return "unknown error";
    }
}
