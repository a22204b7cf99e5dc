/* Tile kernels: Philox words -> samples -> output dtype. This one file is
 * compiled once per ISA (-DWI_ISA_SUFFIX=scalar|avx2|avx512 plus -m flags);
 * it is plain C written so that the loops vectorize (the portable "scalar"
 * variant too, under the compiler's baseline: SSE2 on x86-64, NEON on aarch64).
 * Only exact integer ops and IEEE +,-,*,/,sqrt are used, without contraction,
 * so all variants agree bit for bit (tests check it; scripts/cross_check.sh
 * checks aarch64 under qemu). Philox is hand-vectorized (philox_simd.h).
 *
 * Stream contract (docs/streams.md): tile t holds WI_TILE_BLOCKS Philox blocks
 * with counters (t*256 + b, stream) and key seed.
 *   32-bit samples (f32, f16, bf16 output): 1024 elements a tile,
 *     element r uses word r/256 of block r%256.
 *   64-bit samples (f64 output): 512 elements a tile, element r uses words 2h, 2h+1 (h = r/256) of block r%256
 *     as one 64-bit integer (low word first).
 *   Normal (Box-Muller) pairs: 32-bit: words (0,1) -> elements (b, 256+b),
 *     words (2,3) -> (512+b, 768+b); 64-bit: words (0,1),(2,3) -> (b, 256+b). */
#include "fill_job.h"
#include "philox.h"
#include "convert.h"
#include "convert8.h"
#include "fill_compact_lut.h"
#include <string.h>

#define WI_CAT2(a, b) a##_##b
#define WI_CAT(a, b) WI_CAT2(a, b)
#define WI_FN(name) WI_CAT(name, WI_ISA_SUFFIX)

#define NB WI_TILE_BLOCKS

#if defined(__AVX2__) || defined(__AVX512F__) || defined(__SSE2__) || (defined(__ARM_NEON) && defined(__aarch64__))
#include "philox_simd.h"   /* the portable variant too: SSE2 / NEON are baseline */
#endif

#if defined(__AVX512BW__)
/* bfloat16 output on AVX-512 keeps each run of 32 elements of a tile row as
 * its 16 even elements, then its 16 odd ones ("split" order). Rounding then
 * needs no word shuffle: two masked stores drop the high halves of the
 * float32 lanes straight into their places (store_bf16_split). */
#define WI_BF16_SPLIT 1
#endif

/* Philox words of tile `tile`: w[h][p] is word h of the block of position p,
 * block p in natural order, or in split order with block
 * 32 (p / 32) + 2 (p % 16) + (p / 16) % 2. */
static inline void gen_words(const wi_job *j, uint64_t tile, uint32_t w[4][NB], int split) {
    uint64_t base = tile * NB;
    (void)split;   /* only the AVX-512 variant has the split order */
#ifdef WI_PHILOX_LANES
    /* base is a multiple of 256, so the low counter word never carries here */
    for (int b = 0; b < NB; b += WI_PHILOX_LANES) {
        uint32_t hi = (uint32_t)(base >> 32);
#ifdef WI_BF16_SPLIT
        if (split) {   /* even blocks of the run, then odd ones */
            uint32_t first = (uint32_t)base + (uint32_t)b;
            wi_philox_lanes32(first, first + 1, 2, hi, j->s0, j->s1, j->k0, j->k1, &w[0][b], &w[1][b], &w[2][b], &w[3][b]);
            continue;
        }
#endif
        wi_philox_lanes((uint32_t)base + (uint32_t)b, hi, j->s0, j->s1, j->k0, j->k1,
                        &w[0][b], &w[1][b], &w[2][b], &w[3][b]);
    }
#else
    for (int b = 0; b < NB; b++) {
        uint64_t blk = base + (uint64_t)b;
        uint32_t c[4] = {(uint32_t)blk, (uint32_t)(blk >> 32), j->s0, j->s1};
        wi_philox4x32_10(c, j->k0, j->k1);
        w[0][b] = c[0]; w[1][b] = c[1]; w[2][b] = c[2]; w[3][b] = c[3];
    }
#endif
}

/* quadrant (top 2 bits) and position within it -> cos, sin of 2 pi u, for n
 * words at a time (WI_EACH). The fraction f = (2 k + 1) 2^-24, k = bits 7..29
 * of w, reflects to 1 - f where f > 1/2 (bit 29); the quarter sin/cos then swap
 * where the reflection and quadrant bit 30 differ, and take their signs from the
 * quadrant. All of this in integer ops on w: the same values as reflecting and
 * negating floats. */
WI_ILP_FN void turn_f32_n(int n, const uint32_t *w, float *c, float *s) {
    float x[WI_ILP], s0[WI_ILP], c0[WI_ILP];
    WI_EACH(k, n) {
        uint32_t refl = (uint32_t)((int32_t)(w[k] << 2) >> 31);   /* all ones where f > 1/2 */
        /* 2 k' + 1 with k' = k, or 2^23 - 1 - k reflected (x = 1 - f), as the
         * mantissa of a float in [1/2, 1): x = that - 1/2 exactly, in (0, 1/2) */
        uint32_t xi = (((w[k] >> 6) ^ refl) & 0x7ffffeu) | 0x3f000001u;
        x[k] = wi_bits_f32(xi) - 0.5f;
    }
    wi_sincos_quarter_f32_n(n, x, s0, c0);
    WI_EACH(k, n) {
        /* swap where bits 29 and 30 differ: that difference as a sign (blendv's mask) */
        int32_t swap = (int32_t)((w[k] << 1) ^ (w[k] << 2));
        float a = swap < 0 ? s0[k] : c0[k], b = swap < 0 ? c0[k] : s0[k];
        c[k] = wi_bits_f32(wi_f32_bits(a) ^ ((w[k] ^ (w[k] << 1)) & 0x80000000u));   /* negative in quadrants 1, 2 */
        s[k] = wi_bits_f32(wi_f32_bits(b) ^ (w[k] & 0x80000000u));                   /* negative in quadrants 2, 3 */
    }
}

/* The quadrant's swap and signs in integer ops on the bits (as turn_f32_n), which
 * also vectorize under SSE2 (no 64-bit compare there): the same values as
 * swapping and negating the doubles. */
WI_ILP_FN void turn_f64_n(int n, const uint64_t *w, double *c, double *s) {
    double x[WI_ILP], s0[WI_ILP], c0[WI_ILP];
    int refl[WI_ILP];
    WI_EACH(k, n) {
        double f = wi_u52_to_f64((w[k] >> 10) & 0xfffffffffffffull) * 0x1p-52;  /* [0, 1) exact */
        refl[k] = f > 0.5;
        x[k] = refl[k] ? 1.0 - f : f;
    }
    wi_sincos_quarter_n(n, x, s0, c0);
    WI_EACH(k, n) {
        uint64_t ss = wi_f64_bits(refl[k] ? c0[k] : s0[k]), cc = wi_f64_bits(refl[k] ? s0[k] : c0[k]);
        uint64_t swap = (ss ^ cc) & (0 - ((w[k] >> 62) & 1u));           /* swap in quadrants 1, 3 */
        uint64_t a = cc ^ swap, b = ss ^ swap;
        c[k] = wi_bits_f64(a ^ ((w[k] ^ (w[k] << 1)) & 0x8000000000000000ull));   /* negative in quadrants 1, 2 */
        s[k] = wi_bits_f64(b ^ (w[k] & 0x8000000000000000ull));                   /* negative in quadrants 2, 3 */
    }
}

static inline uint64_t join64(uint32_t lo, uint32_t hi) { return (uint64_t)lo | ((uint64_t)hi << 32); }

/* ---- 32-bit samples ---------------------------------------------------- */
static void tile_uniform32(const wi_job *j, uint32_t w[4][NB], float *v) {
    float sh = (float)j->shift, sc = (float)j->scale;
    for (int h = 0; h < 4; h++)
        for (int b = 0; b < NB; b++)
            v[h * NB + b] = sh + sc * ((float)(w[h][b] >> 8) * 0x1p-24f);
}

/* Element h*NB + b has the parity of b (NB is even): with `split_mean` (a complex
 * mean; never in the bfloat16 split order) odd ones take shift_odd. Two
 * specializations, so that the real case keeps its loop as it was. */
static inline void normal32(const wi_job *j, uint32_t w[4][NB], float *v, const int split_mean) {
    float sc = (float)j->scale, sh0 = (float)j->shift, sh1 = (float)j->shift_odd;
    /* Three passes over the tile, the same operations as one: the log's
     * reduction and division, its polynomial, then the square root and the
     * angles. In one pass each vector iteration was a chain of about 75 cycles
     * (division, polynomial, square root, products) that the out-of-order
     * window overlapped only about twice; the three shorter chains run 13%
     * faster (AVX2, Zen 3). The cosine and sine slots of v carry the partial
     * results between passes. The angles' polynomials, the longest chain left,
     * run WI_ILP elements side by side (wi_math.h): 5% faster again. */
    for (int h = 0; h < 4; h += 2)
        for (int b = 0; b < NB; b++) {
            /* u1 = fl32(w | 1) 2^-32 in (0, 1): the top words, which round to
             * 2^32, take the float just below (a min on the bits: same order) */
            uint32_t ub = wi_f32_bits((float)(w[h][b] | 1u));
            ub = ub < 0x4f7fffffu ? ub : 0x4f7fffffu;
            v[h * NB + b] = wi_neg2logf_reduce(ub, 32, &v[(h + 1) * NB + b]);
        }
    for (int h = 0; h < 4; h += 2)
        for (int b = 0; b < NB; b++)
            v[h * NB + b] = wi_neg2logf_poly(v[h * NB + b], v[(h + 1) * NB + b]);
    enum { G = NB / WI_ILP };   /* the angles WI_ILP at a time: b = g + k G */
    for (int h = 0; h < 4; h += 2)
        for (int g = 0; g < G; g++) {
            uint32_t wa[WI_ILP];
            float c[WI_ILP], s[WI_ILP];
            WI_EACH(k, WI_ILP) wa[k] = w[h + 1][g + k * G];
            turn_f32_n(WI_ILP, wa, c, s);
            WI_EACH(k, WI_ILP) {
                int b = g + k * G;
                float sh = split_mean && (b & 1) ? sh1 : sh0;
                float r = __builtin_sqrtf(v[h * NB + b]);
                v[h * NB + b] = sh + sc * (r * c[k]);
                v[(h + 1) * NB + b] = sh + sc * (r * s[k]);
            }
        }
}

static void tile_normal32(const wi_job *j, uint32_t w[4][NB], float *v) {
    if (j->shift_odd != j->shift) normal32(j, w, v, 1);
    else normal32(j, w, v, 0);
}

/* log(1 + y), y > -1, in float32: Goldberg's correction of the rounding of 1 + y */
static inline float log1p_f32(float y) {
    float u = 1.0f + y;
    float d = u - 1.0f;
    return d == 0.0f ? y : wi_logf(u) * (y / d);
}

/* Complex pairs (b even, b + 1): modulus from the word of block b, phase from
 * that of block b + 1; re at b, im at b + 1. In passes over the pairs gathered
 * into contiguous arrays, the phases WI_ILP at a time (as normal32). */
static void tile_disk32(const wi_job *j, uint32_t w[4][NB], float *v) {
    enum { P = NB / 2 };   /* pairs in each row of the tile */
    float sc = (float)j->scale, cc = (float)j->disk_c;
    float r2[4 * P] __attribute__((aligned(64)));
    for (int h = 0; h < 4; h++)
        for (int i = 0; i < P; i++)
            r2[h * P + i] = (float)(w[h][2 * i] >> 8) * 0x1p-24f;   /* [0, 1) */
    if (j->dist == WI_DISK_TRUNC_NORMAL)
        for (int p = 0; p < 4 * P; p++) r2[p] = -log1p_f32(-cc * r2[p]);
    enum { G = P / WI_ILP };   /* pair i = g + k G */
    for (int h = 0; h < 4; h++)
        for (int g = 0; g < G; g++) {
            uint32_t wa[WI_ILP];
            float c[WI_ILP], s[WI_ILP];
            WI_EACH(k, WI_ILP) wa[k] = w[h][2 * (g + k * G) + 1];
            turn_f32_n(WI_ILP, wa, c, s);
            WI_EACH(k, WI_ILP) {
                int i = g + k * G;
                float r = sc * __builtin_sqrtf(r2[h * P + i]);
                v[h * NB + 2 * i] = r * c[k];
                v[h * NB + 2 * i + 1] = r * s[k];
            }
        }
}

/* ---- 64-bit samples ---------------------------------------------------- */
static void tile_uniform64(const wi_job *j, uint32_t w[4][NB], double *v) {
    double sh = j->shift, sc = j->scale;
    for (int h = 0; h < 2; h++)
        for (int b = 0; b < NB; b++)
            v[h * NB + b] = sh + sc * (wi_u53_to_f64(join64(w[2 * h][b], w[2 * h + 1][b]) >> 11) * 0x1p-53);
}

static inline void normal64(const wi_job *j, uint32_t w[4][NB], double *v, const int split_mean) {
    double sc = j->scale, sh0 = j->shift, sh1 = j->shift_odd;
    /* four passes, as normal32 (shorter dependency chains, the same operations):
     * the log's reduction, the two halves of its series (12 Horner steps in one
     * chain otherwise), then the root and the angles (WI_ILP side by side:
     * 4.5% faster); v[b], v[NB + b] and `head` carry the partial results */
    for (int b = 0; b < NB; b++) {
        /* (0, 1); converted exactly without a 64-bit integer convert (none on AVX2) */
        double u1 = wi_u53_to_f64((join64(w[0][b], w[1][b]) >> 11) | 1u) * 0x1p-53;
        v[b] = wi_log_reduce(u1, &v[NB + b]);
    }
    double head[NB] __attribute__((aligned(64)));
    for (int b = 0; b < NB; b++) head[b] = wi_log_series_head(v[b] * v[b]);
    for (int b = 0; b < NB; b++) v[b] = -2.0 * wi_log_series_tail(v[b], v[NB + b], v[b] * v[b], head[b]);
    enum { G = NB / WI_ILP };   /* b = g + k G, as normal32 */
    for (int g = 0; g < G; g++) {
        uint64_t wa[WI_ILP];
        double c[WI_ILP], s[WI_ILP];
        WI_EACH(k, WI_ILP) wa[k] = join64(w[2][g + k * G], w[3][g + k * G]);
        turn_f64_n(WI_ILP, wa, c, s);
        WI_EACH(k, WI_ILP) {
            int b = g + k * G;
            double sh = split_mean && (b & 1) ? sh1 : sh0;
            double r = __builtin_sqrt(v[b]);
            v[b] = sh + sc * (r * c[k]);
            v[NB + b] = sh + sc * (r * s[k]);
        }
    }
}

static void tile_normal64(const wi_job *j, uint32_t w[4][NB], double *v) {
    if (j->shift_odd != j->shift) normal64(j, w, v, 1);
    else normal64(j, w, v, 0);
}

/* Complex pairs as tile_disk32, in passes over the pairs gathered into contiguous
 * arrays so that every loop vectorizes (the strided pair loop with its 64-bit
 * integer conversion did not: 7.4 ns a part, 18.9 truncated, against 3.5 for the
 * float64 normal). The same operations per pair: u is converted exactly either way,
 * and the truncated disk's two branches share their log (GCC took it twice). */
static void tile_disk64(const wi_job *j, uint32_t w[4][NB], double *v) {
    enum { P = NB / 2 };   /* pairs in each half of the tile */
    double sc = j->scale, cc = j->disk_c;
    double r2[2 * P] __attribute__((aligned(64)));
    for (int h = 0; h < 2; h++)
        for (int i = 0; i < P; i++)   /* [0, 1) */
            r2[h * P + i] = wi_u53_to_f64(join64(w[2 * h][2 * i], w[2 * h + 1][2 * i]) >> 11) * 0x1p-53;
    if (j->dist == WI_DISK_TRUNC_NORMAL)
        for (int p = 0; p < 2 * P; p++) {
            double y = -cc * r2[p];
            /* log1p(y), or log(1 + y) below -1/2, where 1 + y is exact */
            double u = 1.0 + y, l = wi_log(u);
            r2[p] = -(y > -0.5 ? wi_log1p_of(y, u, l) : l);
        }
    enum { G = P / WI_ILP };   /* the phases WI_ILP at a time: pair i = g + k G */
    for (int h = 0; h < 2; h++)
        for (int g = 0; g < G; g++) {
            uint64_t wa[WI_ILP];
            double c[WI_ILP], s[WI_ILP];
            WI_EACH(k, WI_ILP) {
                int b = 2 * (g + k * G) + 1;
                wa[k] = join64(w[2 * h][b], w[2 * h + 1][b]);
            }
            turn_f64_n(WI_ILP, wa, c, s);
            WI_EACH(k, WI_ILP) {
                int i = g + k * G;
                double r = sc * __builtin_sqrt(r2[h * P + i]);
                v[h * NB + 2 * i] = r * c[k];
                v[h * NB + 2 * i + 1] = r * s[k];
            }
        }
}

/* AS241 (Wichura 1988) PPND7: 7 significant digits, for float32 samples.
 * Centre (|p - 1/2| <= 0.425, in q = p - 1/2): the quantile. */
static inline float as241_centre7(float q) {
    float rc = 0.180625f - q * q;
    float a = ((59.109374720f * rc + 159.29113202f) * rc + 50.434271938f) * rc + 3.3871327179f;
    float b = ((67.187563600f * rc + 78.757757664f) * rc + 17.895169469f) * rc + 1.0f;
    return q * a / b;
}

/* Tails, in r = sqrt(-log p): the quantile's magnitude. The two regions share one
 * evaluation with per-lane coefficients. */
static inline float as241_tail7(float r) {
    int r5 = r <= 5.0f;
    float t = r - (r5 ? 1.6f : 5.0f);
    float c = (r5 ? 0.17023821103f : 0.017337203997f);
    c = c * t + (r5 ? 1.3067284816f : 0.42868294337f);
    c = c * t + (r5 ? 2.7568153900f : 3.0812263860f);
    c = c * t + (r5 ? 1.4234372777f : 6.6579051150f);
    float d = (r5 ? 0.12021132975f : 0.012258202635f);
    d = d * t + (r5 ? 0.73700164250f : 0.24197894225f);
    d = d * t + 1.0f;
    return c / d;
}

/* AS241 (Wichura 1988) PPND16: the normal quantile to 16 digits, for float64
 * samples: centre (|p - 1/2| <= 0.425, in q = p - 1/2) ... */
static inline double as241_centre16(double q) {
    double rc = 0.180625 - q * q;
    double a = 2.5090809287301226727e+3;
    a = a * rc + 3.3430575583588128105e+4; a = a * rc + 6.7265770927008700853e+4;
    a = a * rc + 4.5921953931549871457e+4; a = a * rc + 1.3731693765509461125e+4;
    a = a * rc + 1.9715909503065514427e+3; a = a * rc + 1.3314166789178437745e+2;
    a = a * rc + 3.3871328727963666080e+0;
    double b = 5.2264952788528545610e+3;
    b = b * rc + 2.8729085735721942674e+4; b = b * rc + 3.9307895800092710610e+4;
    b = b * rc + 2.1213794301586595867e+4; b = b * rc + 5.3941960214247511077e+3;
    b = b * rc + 6.8718700749205790830e+2; b = b * rc + 4.2313330701600911252e+1;
    b = b * rc + 1.0;
    return q * a / b;
}

/* ... and the two tail regions in r = sqrt(-log p) (r <= 5 and r > 5): the magnitude */
static inline double as241_tail16(double r) {
    double t = r - 1.6;
    double c = 7.74545014278341407640e-4;
    c = c * t + 2.27238449892691845833e-2; c = c * t + 2.41780725177450611770e-1;
    c = c * t + 1.27045825245236838258e+0; c = c * t + 3.64784832476320460504e+0;
    c = c * t + 5.76949722146069140550e+0; c = c * t + 4.63033784615654529590e+0;
    c = c * t + 1.42343711074968357734e+0;
    double d = 1.05075007164441684324e-9;
    d = d * t + 5.47593808499534494600e-4; d = d * t + 1.51986665636164571966e-2;
    d = d * t + 1.48103976427480074590e-1; d = d * t + 6.89767334985100004550e-1;
    d = d * t + 1.67638483018380384940e+0; d = d * t + 2.05319162663775882187e+0;
    d = d * t + 1.0;
    double s5 = r - 5.0;
    double e = 2.01033439929228813265e-7;
    e = e * s5 + 2.71155556874348757815e-5; e = e * s5 + 1.24266094738807843860e-3;
    e = e * s5 + 2.65321895265761230930e-2; e = e * s5 + 2.96560571828504891230e-1;
    e = e * s5 + 1.78482653991729133580e+0; e = e * s5 + 5.46378491116411436990e+0;
    e = e * s5 + 6.65790464350110377720e+0;
    double f = 2.04426310338993978564e-15;
    f = f * s5 + 1.42151175831644588870e-7; f = f * s5 + 1.84631831751005468180e-5;
    f = f * s5 + 7.86869131145613259100e-4; f = f * s5 + 1.48753612908506148525e-2;
    f = f * s5 + 1.36929880922735805310e-1; f = f * s5 + 5.99832206555887937690e-1;
    f = f * s5 + 1.0;
    int r5 = r <= 5.0;
    return (r5 ? c : e) / (r5 ? d : f);
}

/* Truncated standard normal by inversion (docs/streams.md). A tile is done in two
 * passes: every lane through the centre formula, then only the lanes outside the
 * centre (gathered into a short list) through the tail formula, which needs a log.
 * Each lane's arithmetic is the same whichever pass or ISA computes it.
 *
 * (u - u_c) 2^32 = e = bits - K - f: near the pivot e is exact, so q (and the
 * sample) keeps full relative precision. */
static inline float tn_e32(const wi_tn_consts *k, uint32_t bits) {
    uint32_t kk = k->piv32;
    int gt = bits > kk;
    float m = (float)(gt ? bits - kk : kk - bits);
    float f = (float)k->pivf32;
    return gt ? m - f : -(m + f);
}

static inline float tn_q32(const wi_tn_consts *k, float e) { return (float)k->qc + (float)k->d1 * (e * 0x1p-32f); }

/* Tails: u and omu = 1 - u come separately from the integer so each is accurate
 * near 0; the log probability lp + log(k0 + s k1) is used, never the probability
 * itself, so any depth of tail works. In three steps, run as three passes over
 * the tail lanes (shorter dependency chains): the log's argument, the log
 * probability, then the signed quantile from it. */
static inline float tn_tail32_arg(const wi_tn_consts *k, uint32_t bits, float e) {
    float u = ((float)bits + 0.5f) * 0x1p-32f;
    float omu = ((float)(~bits) + 0.5f) * 0x1p-32f;
    int hi = e > 0.0f;
    /* both sides' constants read unconditionally: selects, not masked loads */
    float uk0 = (float)k->uk0, lk0 = (float)k->lk0, uk1 = (float)k->uk1, lk1 = (float)k->lk1;
    float k0 = hi ? uk0 : lk0, k1 = hi ? uk1 : lk1;
    float s = hi ? omu : u;
    return k0 + s * k1;
}

static inline float tn_tail32_logp(const wi_tn_consts *k, float arg, float e) {
    float ulp = (float)k->ulp, llp = (float)k->llp;
    return (e > 0.0f ? ulp : llp) + wi_logf(arg);
}

static inline float tn_tail32_value(float lg, float e) {
    float mag = as241_tail7(__builtin_sqrtf(-lg));
    return e > 0.0f ? mag : -mag;
}

/* float64: u = (m + 1/2) 2^-52 with m = bits >> 12, so 1 - u is exact; d = u - u_c */
static inline double tn_d64(const wi_tn_consts *k, uint64_t bits) {
    /* m - K is exact in float64 (both below 2^52), so no compare is needed:
     * e = (m - K) - f, the same value as tn_e32's two-sided form */
    double e = (wi_u52_to_f64(bits >> 12) - wi_u52_to_f64(k->piv64)) - k->pivf64;
    return e * 0x1p-52;
}

static inline double tn_tail64_logp(const wi_tn_consts *k, double u, double omu, double d) {
    int hi = d > 0.0;
    /* read both sides' constants unconditionally: selects, not masked loads */
    double uk0 = k->uk0, lk0 = k->lk0, uk1 = k->uk1, lk1 = k->lk1, ulp = k->ulp, llp = k->llp;
    double k0 = hi ? uk0 : lk0, k1 = hi ? uk1 : lk1, lp = hi ? ulp : llp;
    double s = hi ? omu : u;
    return lp + wi_log(k0 + s * k1);
}

static inline double tn_tail64_value(double lg, double d) {
    double mag = as241_tail16(__builtin_sqrt(-lg));
    return d > 0.0 ? mag : -mag;
}

static inline double tn_tail64(const wi_tn_consts *k, double u, double omu, double d, double *logp) {
    *logp = tn_tail64_logp(k, u, omu, d);
    return tn_tail64_value(*logp, d);
}

static inline double tn_u64(uint64_t bits) { return (wi_u52_to_f64(bits >> 12) + 0.5) * 0x1p-52; }

#define WI_FAR_LOGP (-676.0)

/* x > 36.7 (logp < -676) with log Q(x) = logp, Q the upper tail: the fixed point of
 * x^2 = 2 (-logp - log x - log sqrt(2 pi) + log S(x)), S the asymptotic series,
 * from x = sqrt(-2 logp), eight steps. */
static inline double tn_far_step(double x, double logp) {
    double z = 1.0 / (x * x), term = 1.0, sum = 0.0;
    for (int k = 1; k <= 8; k++) { term = term * (-(2.0 * k - 1.0) * z); sum = sum + term; }
    return __builtin_sqrt(2.0 * (-logp - wi_log(x) - 0.91893853320467274178 + wi_log1p(sum)));
}

/* nf lanes' magnitudes from their logp, each of the eight steps one vectorized
 * pass over all of them: lane by lane the steps formed one dependency chain of
 * some 1300 cycles (450-490 ns a sample) */
static inline void far_tail_steps(const double *lp, double *mag, int nf) {
    for (int f = 0; f < nf; f++) mag[f] = __builtin_sqrt(-2.0 * lp[f]);
    for (int it = 0; it < 8; it++)
        for (int f = 0; f < nf; f++) mag[f] = tn_far_step(mag[f], lp[f]);
}

/* The lanes among n whose log tail probability lg[t] is below WI_FAR_LOGP (tails
 * beyond ~36.7 sigma, where r = sqrt(-logp) > 26): their positions into at[], their logp gathered into lp[] (lp
 * may be lg itself: the gathered index never passes the read one), their
 * magnitudes into mag[]; returns their count. An interval deep in a tail (36.7 <
 * alpha < 96 on the float32 path, < 4096 on the float64 one) has every lane there. */
static inline int far_tail_lanes(const double *lg, int n, uint16_t *at, double *lp, double *mag) {
    int nf = 0;
    for (int t = 0; t < n; t++) { at[nf] = (uint16_t)t; lp[nf] = lg[t]; nf += lg[t] < WI_FAR_LOGP; }
    far_tail_steps(lp, mag, nf);
    return nf;
}

static inline int tn_is_centre(float q) { return (q <= 0.425f) & (q >= -0.425f); }
static inline int tn_is_centre64(double q) { return (q <= 0.425) & (q >= -0.425); }

/* Indices i < n of the tail lanes (outside the centre: q NaN too), in order,
 * into idx; returns their count. n is a multiple of 8, idx has room for n + 8
 * (8 are written at a time). Branch-free, from the compare's sign mask: which
 * lanes are in the tails is random, so a branch on it would be mispredicted
 * about as often as taken. */
#if defined(__SSE2__)
/* bit l (l < 8) set where lane q[l] is a tail lane */
#if defined(__AVX2__)   /* one compare per 8 float32 lanes, two per 8 float64 */
static inline unsigned tail_mask32(const float *q) {
    const __m256 abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)), edge = _mm256_set1_ps(0.425f);
    return (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(q), abs), edge, _CMP_NLE_UQ));
}

static inline unsigned tail_mask64(const double *q) {
    const __m256d abs = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffll)), edge = _mm256_set1_pd(0.425);
    unsigned m = 0;
    for (int l = 0; l < 8; l += 4)
        m |= (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(_mm256_and_pd(_mm256_loadu_pd(q + l), abs), edge,
                                                        _CMP_NLE_UQ)) << l;
    return m;
}
#else
static inline unsigned tail_mask32(const float *q) {
    const __m128 abs = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff)), edge = _mm_set1_ps(0.425f);
    __m128 a = _mm_cmpnle_ps(_mm_and_ps(_mm_loadu_ps(q), abs), edge);
    __m128 b = _mm_cmpnle_ps(_mm_and_ps(_mm_loadu_ps(q + 4), abs), edge);
    return (unsigned)(_mm_movemask_ps(a) | _mm_movemask_ps(b) << 4);
}

static inline unsigned tail_mask64(const double *q) {
    const __m128d abs = _mm_castsi128_pd(_mm_set1_epi64x(0x7fffffffffffffffll)), edge = _mm_set1_pd(0.425);
    unsigned m = 0;
    for (int l = 0; l < 8; l += 2)
        m |= (unsigned)_mm_movemask_pd(_mm_cmpnle_pd(_mm_and_pd(_mm_loadu_pd(q + l), abs), edge)) << l;
    return m;
}
#endif

/* lanes (bits of m) of the 8 from i on, appended to idx at c: the new c */
static inline int compact8(unsigned m, int i, uint16_t *idx, int c) {
    __m128i pos = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(const void *)wi_compact_lut[m]),
                                    _mm_setzero_si128());
    _mm_storeu_si128((__m128i *)(void *)(idx + c), _mm_add_epi16(pos, _mm_set1_epi16((short)i)));
    return c + wi_compact_cnt[m];
}

static inline int compact_tails32(const float *q, int n, uint16_t *idx) {
    int c = 0;
    for (int i = 0; i < n; i += 8) c = compact8(tail_mask32(q + i), i, idx, c);
    return c;
}

static inline int compact_tails64(const double *q, int n, uint16_t *idx) {
    int c = 0;
    for (int i = 0; i < n; i += 8) c = compact8(tail_mask64(q + i), i, idx, c);
    return c;
}
#else
static inline int compact_tails32(const float *q, int n, uint16_t *idx) {
    int c = 0;
    for (int i = 0; i < n; i++) { idx[c] = (uint16_t)i; c += !tn_is_centre(q[i]); }
    return c;
}

static inline int compact_tails64(const double *q, int n, uint16_t *idx) {
    int c = 0;
    for (int i = 0; i < n; i++) { idx[c] = (uint16_t)i; c += !tn_is_centre64(q[i]); }
    return c;
}
#endif

/* tile_trunc32's far lanes (k->far), with their own stack frame: tile_trunc32's
 * is not made larger for a branch that ordinary intervals never take */
__attribute__((noinline)) static void far_tail32(const float *tl, const float *tz, const uint16_t *idx, int nt,
                                                 float sh, float sc, float *v) {
    uint16_t at[4 * NB];
    double lp[4 * NB] __attribute__((aligned(64))), mag[4 * NB] __attribute__((aligned(64)));
    int nf = 0;                             /* as far_tail_lanes, from float32 logp */
    for (int t = 0; t < nt; t++) { at[nf] = (uint16_t)t; lp[nf] = tl[t]; nf += tl[t] < (float)WI_FAR_LOGP; }
    far_tail_steps(lp, mag, nf);
    for (int f = 0; f < nf; f++) {
        int t = at[f];
        v[idx[t]] = sh + sc * (float)(tz[t] > 0.0f ? mag[f] : -mag[f]);
    }
}

/* not inlined into wi_tiles: compiled on its own, it keeps its speed when the
 * other kernels change (inlined, the vectorized complex disks cost it 1.5-2.5%) */
__attribute__((noinline)) static void tile_trunc32(const wi_job *j, uint32_t w[4][NB], float *v) {
    float sh = (float)j->shift, sc = (float)j->scale;
    const wi_tn_consts *k = &j->tn;
    const uint32_t *wf = &w[0][0];          /* element i uses word wf[i] */
    /* q in v first, so that the tail lanes are found from it, then the centre
     * formula over every lane */
    for (int i = 0; i < 4 * NB; i++) v[i] = tn_q32(k, tn_e32(k, wf[i]));
    uint16_t idx[4 * NB + 8];
    int nt = compact_tails32(v, 4 * NB, idx);
    for (int i = 0; i < 4 * NB; i++) v[i] = sh + sc * as241_centre7(v[i]);
    uint32_t tb[4 * NB] __attribute__((aligned(64)));
    float tz[4 * NB] __attribute__((aligned(64))), tl[4 * NB] __attribute__((aligned(64)));
    for (int t = 0; t < nt; t++) tb[t] = wf[idx[t]];
    for (int t = 0; t < nt; t++) {
        tz[t] = tn_e32(k, tb[t]);
        tl[t] = tn_tail32_arg(k, tb[t], tz[t]);
    }
    for (int t = 0; t < nt; t++) tl[t] = tn_tail32_logp(k, tl[t], tz[t]);
    for (int t = 0; t < nt; t++) tz[t] = tn_tail32_value(tl[t], tz[t]);
    for (int t = 0; t < nt; t++) v[idx[t]] = sh + sc * tz[t];
    if (k->far) far_tail32(tl, tz, idx, nt, sh, sc, v);
}

static void tile_trunc64(const wi_job *j, uint32_t w[4][NB], double *v) {
    double sh = j->shift, sc = j->scale;
    const wi_tn_consts *k = &j->tn;
    for (int h = 0; h < 2; h++)
        for (int b = 0; b < NB; b++)
            v[h * NB + b] = k->qc + k->d1 * tn_d64(k, join64(w[2 * h][b], w[2 * h + 1][b]));
    uint16_t idx[2 * NB + 8];
    int nt = compact_tails64(v, 2 * NB, idx);
    for (int i = 0; i < 2 * NB; i++) v[i] = sh + sc * as241_centre16(v[i]);
    double tu[2 * NB] __attribute__((aligned(64))), td[2 * NB] __attribute__((aligned(64)));
    double tz[2 * NB] __attribute__((aligned(64))), tl[2 * NB] __attribute__((aligned(64)));
    for (int t = 0; t < nt; t++) {          /* gathered as u and u - u_c */
        int i = idx[t], h = i / NB, b = i % NB;
        uint64_t bits = join64(w[2 * h][b], w[2 * h + 1][b]);
        tu[t] = tn_u64(bits);
        td[t] = tn_d64(k, bits);
    }
    for (int t = 0; t < nt; t++) tl[t] = tn_tail64_logp(k, tu[t], 1.0 - tu[t], td[t]);
    for (int t = 0; t < nt; t++) tz[t] = tn_tail64_value(tl[t], td[t]);
    for (int t = 0; t < nt; t++) v[idx[t]] = sh + sc * tz[t];
    if (!k->far) return;
    uint16_t at[2 * NB];
    int nf = far_tail_lanes(tl, nt, at, td, tu);   /* td and tu are free now */
    for (int f = 0; f < nf; f++) {
        int t = at[f];
        v[idx[t]] = sh + sc * (tz[t] > 0.0 ? tu[f] : -tu[f]);
    }
}

/* u - u_c of a 32-bit word, formed exactly in float64 (as tn_e32 does in float32) */
static inline double tn_d32_wide(const wi_tn_consts *k, uint32_t bits) {
    uint32_t kk = k->piv32;
    int gt = bits > kk;
    double m = wi_u52_to_f64(gt ? bits - kk : kk - bits);   /* exact, and it vectorizes */
    return (gt ? m - k->pivf32 : -(m + k->pivf32)) * 0x1p-32;
}

/* Float32-and-narrower outputs inverted in float64 from their 32-bit words (k->wide:
 * float32 outputs of one-sided intervals, whose float32 quantile would leave float32
 * values of the interval empty, and 16-bit outputs whose float32 evaluation would
 * cancel): u, 1 - u and u - u_c from the word as on the float32 path but in float64,
 * PPND16, mean + std z in float64 rounded once (to odd first for 16-bit outputs).
 * In passes over half a tile, as tile_trunc64: centre for every lane, then the
 * gathered tail lanes, then the far ones. */
static void tile_trunc_wide32(const wi_job *j, uint32_t w[4][NB], float *v) {
    const int odd = j->dtype != WI_F32;
    const wi_tn_consts *k = &j->tn;
    const double sh = j->shift, sc = j->scale;
    double z[2 * NB] __attribute__((aligned(64))), d[2 * NB] __attribute__((aligned(64)));
    double tu[2 * NB] __attribute__((aligned(64))), tl[2 * NB] __attribute__((aligned(64)));
    double tz[2 * NB] __attribute__((aligned(64)));
    uint16_t idx[2 * NB + 8];
    for (int half = 0; half < 2; half++) {
        const uint32_t *wf = &w[2 * half][0];   /* elements 2 NB half + i: words w[2 half..][.] */
        float *vo = v + 2 * NB * half;
        for (int i = 0; i < 2 * NB; i++) {
            d[i] = tn_d32_wide(k, wf[i]);
            z[i] = k->qc + k->d1 * d[i];
        }
        int nt = compact_tails64(z, 2 * NB, idx);
        for (int i = 0; i < 2 * NB; i++) z[i] = as241_centre16(z[i]);
        uint32_t tb[2 * NB] __attribute__((aligned(64)));
        for (int t = 0; t < nt; t++) {          /* gathered: the word and u - u_c */
            tb[t] = wf[idx[t]];
            tu[t] = d[idx[t]];
        }
        for (int t = 0; t < nt; t++) {          /* u, 1 - u exactly (u52: a conversion that vectorizes) */
            double u = (wi_u52_to_f64(tb[t]) + 0.5) * 0x1p-32, omu = (wi_u52_to_f64(~tb[t]) + 0.5) * 0x1p-32;
            tl[t] = tn_tail64_logp(k, u, omu, tu[t]);
        }
        for (int t = 0; t < nt; t++) tz[t] = tn_tail64_value(tl[t], tu[t]);   /* contiguous: it vectorizes */
        for (int t = 0; t < nt; t++) z[idx[t]] = tz[t];
        if (k->far) {
            uint16_t at[2 * NB];
            int nf = far_tail_lanes(tl, nt, at, tl, tu);   /* tl gathered in place; tu free now */
            for (int f = 0; f < nf; f++) {
                int i = idx[at[f]];
                z[i] = z[i] > 0.0 ? tu[f] : -tu[f];
            }
        }
        for (int i = 0; i < 2 * NB; i++) {
            double x = sh + sc * z[i];
            vo[i] = odd ? wi_f64_to_f32_odd(x) : (float)x;
        }
    }
}

/* Deep one-sided tail (k->exp_side != 0), from u and omu = 1 - u, both exact:
 * E = -log(1 - u c) is an exponential truncated to [0, Lb]; y, the inverse of the
 * series of -log survival (see tn_exp_setup), to fourth order in 1/edge:
 * y = E - (E^2/2 + E)/edge^2 + (E^3/2 + 2E^2 + 3E)/edge^4; x = base + step * y. */
static inline double tn_exp_value(const wi_tn_consts *k, double u, double omu) {
    /* the constants read unconditionally: a select, not masked loads, which kept
     * the loops from vectorizing (20-27 ns a sample) */
    double c = k->tail_c, te = k->tail_e;
    double uc = u * c, nuc = -uc;
    /* log1p keeps tiny E accurate; near 1 - u c -> 0 the sum keeps it exact. One
     * log for both: log1p(-uc) is wi_log1p_of(-uc, 1 - uc, log(1 - uc)) */
    int small = uc < 0.5;
    double arg = small ? 1.0 + nuc : te + omu * c, l = wi_log(arg);
    double e = small ? -wi_log1p_of(nuc, arg, l) : -l;
    double y = e - (0.5 * e * e + e) * k->inv_e2 + ((0.5 * e + 2.0) * e + 3.0) * e * k->inv_e4;
    return k->base + k->step * y;
}

/* 32-bit samples: u = (w + 1/2) 2^-32 as for inversion; the float64 value is
 * rounded once to float32 (round to odd for 16-bit outputs, so that their
 * final rounding equals one rounding of the float64 value) */
static void tile_trunc_exp32(const wi_job *j, uint32_t w[4][NB], float *v) {
    const int odd = j->dtype != WI_F32;
    for (int h = 0; h < 4; h++)
        for (int b = 0; b < NB; b++) {
            /* the words as doubles exactly (no unsigned conversion on AVX2) */
            double u = (wi_u52_to_f64(w[h][b]) + 0.5) * 0x1p-32, omu = (wi_u52_to_f64(~w[h][b]) + 0.5) * 0x1p-32;
            double x = tn_exp_value(&j->tn, u, omu);
            v[h * NB + b] = odd ? wi_f64_to_f32_odd(x) : (float)x;
        }
}

static void tile_trunc_exp64(const wi_job *j, uint32_t w[4][NB], double *v) {
    for (int h = 0; h < 2; h++)
        for (int b = 0; b < NB; b++) {
            uint64_t bits = join64(w[2 * h][b], w[2 * h + 1][b]);
            double u = wi_u53_to_f64((bits >> 12) * 2 + 1) * 0x1p-53;
            v[h * NB + b] = tn_exp_value(&j->tn, u, 1.0 - u);
        }
}

/* ---- stores ------------------------------------------------------------- */
static void store_f32(const wi_job *j, const float *v, float *o, uint64_t n) {
    if (j->clamp) {
        float lo = (float)j->lo, hi = (float)j->hi;
        for (uint64_t i = 0; i < n; i++) { float x = v[i]; x = x < lo ? lo : x; o[i] = x > hi ? hi : x; }
    } else {
        for (uint64_t i = 0; i < n; i++) o[i] = v[i];
    }
}

static void store_f64(const wi_job *j, const double *v, double *o, uint64_t n) {
    if (j->clamp) {
        double lo = j->lo, hi = j->hi;
        for (uint64_t i = 0; i < n; i++) { double x = v[i]; x = x < lo ? lo : x; o[i] = x > hi ? hi : x; }
    } else {
        for (uint64_t i = 0; i < n; i++) o[i] = v[i];
    }
}

#if defined(__AVX2__) || defined(__AVX512F__)
#define WI_F16C 1
/* float16 with F16C's conversion: IEEE round to nearest even (the immediate, not
 * MXCSR), subnormals, overflow to infinity: the bits of wi_f32_to_f16 for every
 * finite float32 (tests/c/check_f16c.c compares all 2^32), one instruction for 8
 * or 16 lanes instead of about 12 integer operations each. With `clamp`, as the
 * portable loop: max(lo, x) and min(hi, x) give x where the two compare equal
 * (the second operand, so -0 stays -0 against a bound of +0), as x < lo ? lo : x. */
__attribute__((target("f16c")))   /* this function only: the rest of the file as before */
static void store_f16c(const float *v, uint16_t *o, uint64_t n, int clamp, float lo, float hi) {
    uint64_t i = 0;
#if defined(__AVX512F__)
    const __m512 l16 = _mm512_set1_ps(lo), h16 = _mm512_set1_ps(hi);
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(v + i);
        if (clamp) x = _mm512_min_ps(h16, _mm512_max_ps(l16, x));
        _mm256_storeu_si256((__m256i *)(void *)(o + i), _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
    }
#endif
    const __m256 l8 = _mm256_set1_ps(lo), h8 = _mm256_set1_ps(hi);
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(v + i);
        if (clamp) x = _mm256_min_ps(h8, _mm256_max_ps(l8, x));
        _mm_storeu_si128((__m128i *)(void *)(o + i), _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < n; i++) {
        float x = v[i];
        if (clamp) { x = x < lo ? lo : x; x = x > hi ? hi : x; }
        o[i] = wi_f32_to_f16(x);
    }
}
#endif

static void store_16(const wi_job *j, const float *v, uint16_t *o, uint64_t n) {
    float lo = (float)j->lo, hi = (float)j->hi;
    int bf = j->dtype == WI_BF16;
#ifdef WI_F16C
    if (!bf) { store_f16c(v, o, n, j->clamp, lo, hi); return; }
#endif
    if (j->clamp) {   /* [lo, hi] is widened so that rounding stays inside the dtype's bounds */
        if (bf) for (uint64_t i = 0; i < n; i++) { float x = v[i]; x = x < lo ? lo : x; o[i] = wi_f32_to_bf16(x > hi ? hi : x); }
        else    for (uint64_t i = 0; i < n; i++) { float x = v[i]; x = x < lo ? lo : x; o[i] = wi_f32_to_f16(x > hi ? hi : x); }
    } else {
        if (bf) for (uint64_t i = 0; i < n; i++) o[i] = wi_f32_to_bf16(v[i]);
        else    for (uint64_t i = 0; i < n; i++) o[i] = wi_f32_to_f16(v[i]);
    }
}

/* float8: the same clamp (bounds widened for 8 bits), then one rounding */
static void store_8(const wi_job *j, const float *v, uint8_t *o, uint64_t n) {
    float lo = (float)j->lo, hi = (float)j->hi;
    int e4 = j->dtype == WI_F8E4M3;
    if (j->clamp) {
        if (e4) for (uint64_t i = 0; i < n; i++) { float x = v[i]; x = x < lo ? lo : x; o[i] = wi_f32_to_e4m3(x > hi ? hi : x); }
        else    for (uint64_t i = 0; i < n; i++) { float x = v[i]; x = x < lo ? lo : x; o[i] = wi_f32_to_e5m2(x > hi ? hi : x); }
    } else {
        if (e4) for (uint64_t i = 0; i < n; i++) o[i] = wi_f32_to_e4m3(v[i]);
        else    for (uint64_t i = 0; i < n; i++) o[i] = wi_f32_to_e5m2(v[i]);
    }
}

#ifdef WI_BF16_SPLIT
/* One run of 32 elements in split order, `even` and `odd` as clamped float32
 * lanes, vs pointing at the same lanes unclamped in v. Round to nearest even:
 * OR bit 16 (the lowest bit kept) into bit 0, add 0x7fff, keep the high half.
 * Bit 16 comes from a load of v two bytes on, which puts it in bit 0 of each
 * lane: one fused load instead of a shift. A clamped lane got it from its
 * unclamped value, which does not matter: the clamp bounds are never ties
 * (widen16), and for any other value bit 0 does not change the rounding.
 * Then the high halves are stored, the even elements' from one word early and
 * the odd elements' in place, each with a mask that writes only those halves. */
static inline void bf16_split_run(__m512 even, __m512 odd, const float *vs, uint16_t *o) {
    const __m512i bias = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1);
    const __mmask32 high_halves = 0xAAAAAAAAu;
    const char *b = (const char *)vs + 2;
    __m512i er = _mm512_ternarylogic_epi32(_mm512_castps_si512(even), _mm512_loadu_si512((const void *)b), one, 0xF8);
    __m512i or_ = _mm512_ternarylogic_epi32(_mm512_castps_si512(odd), _mm512_loadu_si512((const void *)(b + 64)), one, 0xF8);
    er = _mm512_add_epi32(er, bias);
    or_ = _mm512_add_epi32(or_, bias);
    _mm512_mask_storeu_epi16((void *)((uintptr_t)o - 2), high_halves, er);
    _mm512_mask_storeu_epi16((void *)o, high_halves, or_);
}

/* n whole tile rows of v (in split order) -> clamped, rounded bfloat16 */
static void store_bf16_split(const wi_job *j, const float *v, uint16_t *o, uint64_t n) {
    if (j->clamp) {
        const __m512 lo = _mm512_set1_ps((float)j->lo), hi = _mm512_set1_ps((float)j->hi);
        for (uint64_t i = 0; i < n; i += 32)
            bf16_split_run(_mm512_min_ps(_mm512_max_ps(_mm512_load_ps(v + i), lo), hi),
                           _mm512_min_ps(_mm512_max_ps(_mm512_load_ps(v + i + 16), lo), hi), v + i, o + i);
    } else {
        for (uint64_t i = 0; i < n; i += 32)
            bf16_split_run(_mm512_load_ps(v + i), _mm512_load_ps(v + i + 16), v + i, o + i);
    }
}

/* position in split order of element e of a tile */
static inline uint64_t split_pos(uint64_t e) { return (e & ~(uint64_t)31) + ((e & 1) << 4) + ((e & 31) >> 1); }

/* part of a tile: elements lo .. lo + n - 1 */
static void store_bf16_split_part(const wi_job *j, const float *v, uint16_t *o, uint64_t lo, uint64_t n) {
    float l = (float)j->lo, h = (float)j->hi;
    for (uint64_t i = 0; i < n; i++) {
        float x = v[split_pos(lo + i)];
        if (j->clamp) { x = x < l ? l : x; x = x > h ? h : x; }
        o[i] = wi_f32_to_bf16(x);
    }
}
#endif

#if defined(__AVX2__) || defined(__AVX512F__) || defined(__SSE2__)
#define WI_HAVE_STREAM 1
/* Copy with non-temporal stores: for outputs larger than the cache, the
 * destination is then written without first being read into the cache. */
static void stream_copy(char *dst, const char *src, size_t bytes) {
    size_t head = (64 - ((uintptr_t)dst & 63)) & 63;
    if (head > bytes) head = bytes;
    memcpy(dst, src, head);
    dst += head; src += head; bytes -= head;
    size_t body = bytes & ~(size_t)63;
    for (size_t i = 0; i < body; i += 64) {
#if defined(__AVX512F__)
        _mm512_stream_si512((__m512i *)(dst + i), _mm512_loadu_si512((const void *)(src + i)));
#elif !defined(__AVX2__)
        for (int q = 0; q < 64; q += 16)
            _mm_stream_si128((__m128i *)(dst + i + q), _mm_loadu_si128((const __m128i *)(src + i + q)));
#else
        _mm256_stream_si256((__m256i *)(dst + i), _mm256_loadu_si256((const __m256i *)(src + i)));
        _mm256_stream_si256((__m256i *)(dst + i + 32), _mm256_loadu_si256((const __m256i *)(src + i + 32)));
#endif
    }
    memcpy(dst + body, src + body, bytes - body);
}
#endif

/* n samples from position `at` of the tile (float32 or float64 ones) to d */
static void store_any(const wi_job *j, const float *vf, const double *vd, uint64_t at, char *d, uint64_t n) {
    switch (j->dtype) {
    case WI_F64: store_f64(j, vd + at, (double *)d, n); break;
    case WI_F32: store_f32(j, vf + at, (float *)d, n); break;
    case WI_F8E4M3: case WI_F8E5M2: store_8(j, vf + at, (uint8_t *)d, n); break;
    default: store_16(j, vf + at, (uint16_t *)d, n);
    }
}

static size_t dtype_size(wi_dtype d) { return WI_DTYPE_SIZE(d); }

void WI_FN(wi_tiles)(const wi_job *j, uint64_t tile_begin, uint64_t tile_end) {
    uint32_t w[4][NB] __attribute__((aligned(64)));
    /* 64 spare bytes: the bfloat16 store reads two bytes past the last lane */
    union { float f[4 * NB + 16]; double d[2 * NB]; } v __attribute__((aligned(64)));
    memset(v.f + 4 * NB, 0, 16 * sizeof(float));
    const uint64_t E = j->tile_elems;
    const int wide = E == 2 * NB;              /* 64-bit samples */
    const size_t es = dtype_size(j->dtype);
#ifdef WI_HAVE_STREAM
    char stage[4 * NB * sizeof(float)] __attribute__((aligned(64)));
    const int nt = j->stream_stores;
#else
    const int nt = 0;
    char *stage = NULL;
#endif
#ifdef WI_BF16_SPLIT
    const int split = j->dtype == WI_BF16;
#else
    const int split = 0;
#endif
    for (uint64_t t = tile_begin; t < tile_end; t++) {
        gen_words(j, t, w, split);
        if (j->dist == WI_UNIFORM) { if (wide) tile_uniform64(j, w, v.d); else tile_uniform32(j, w, v.f); }
        else if (j->dist == WI_NORMAL) { if (wide) tile_normal64(j, w, v.d); else tile_normal32(j, w, v.f); }
        else if (j->dist == WI_DISK || j->dist == WI_DISK_TRUNC_NORMAL) { if (wide) tile_disk64(j, w, v.d); else tile_disk32(j, w, v.f); }
        else if (j->tn.exp_side) { if (wide) tile_trunc_exp64(j, w, v.d); else tile_trunc_exp32(j, w, v.f); }
        else if (j->tn.wide) tile_trunc_wide32(j, w, v.f);
        else { if (wide) tile_trunc64(j, w, v.d); else tile_trunc32(j, w, v.f); }
        /* the part of this tile that lies in [offset, offset + n) */
        uint64_t first = t * E, lo = first < j->offset ? j->offset - first : 0;
        uint64_t end = j->offset + j->n, hi = end - first < E ? end - first : E;
        uint64_t cnt = hi - lo;
        char *o = (char *)j->out + (first + lo - j->offset) * es;
        char *d = nt ? stage : o;
#ifdef WI_BF16_SPLIT
        if (split) {
            if (cnt == E) store_bf16_split(j, v.f, (uint16_t *)d, cnt);
            else store_bf16_split_part(j, v.f, (uint16_t *)d, lo, cnt);
        } else
#endif
        {
            /* vector stores that straddle cache lines cost double: the first
             * few elements alone, up to a line boundary (numpy's buffers
             * start 16 bytes into a line) */
            uintptr_t mis = (uintptr_t)d & 63;
            uint64_t head = mis % es ? 0 : (64 - mis) / es % (64 / es);
            if (head > cnt) head = cnt;
            store_any(j, v.f, v.d, lo, d, head);
            store_any(j, v.f, v.d, lo + head, d + head * es, cnt - head);
        }
#ifdef WI_HAVE_STREAM
        if (nt) stream_copy(o, stage, cnt * es);
#endif
    }
#ifdef WI_HAVE_STREAM
    if (nt) _mm_sfence();   /* order the streaming stores before the caller reads */
#endif
}
