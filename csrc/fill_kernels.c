/* Tile kernels: Philox words -> samples -> output dtype. This one file is
 * compiled once per ISA (-DWI_ISA_SUFFIX=scalar|avx2|avx512 plus -m flags);
 * it is plain C written so that the loops vectorize. Only exact integer ops and
 * IEEE +,-,*,/,sqrt are used, without contraction, so all variants agree bit
 * for bit (tests check it).
 *
 * Stream contract (docs/streams.md): tile t holds WI_TILE_BLOCKS Philox blocks
 * with counters (t*256 + b, stream) and key seed.
 *   32-bit samples (uniform/normal into f32, f16, bf16): 1024 elements a tile,
 *     element r uses word r/256 of block r%256.
 *   64-bit samples (f64 output, and truncated normal for every dtype): 512
 *     elements a tile, element r uses words 2h, 2h+1 (h = r/256) of block r%256
 *     as one 64-bit integer (low word first).
 *   Normal (Box-Muller) pairs: 32-bit: words (0,1) -> elements (b, 256+b),
 *     words (2,3) -> (512+b, 768+b); 64-bit: words (0,1),(2,3) -> (b, 256+b). */
#include "fill_job.h"
#include "philox.h"
#include "convert.h"

#define WI_CAT2(a, b) a##_##b
#define WI_CAT(a, b) WI_CAT2(a, b)
#define WI_FN(name) WI_CAT(name, WI_ISA_SUFFIX)

#define NB WI_TILE_BLOCKS

static inline void gen_words(const wi_job *j, uint64_t tile, uint32_t w[4][NB]) {
    uint64_t base = tile * NB;
    for (int b = 0; b < NB; b++) {
        uint64_t blk = base + (uint64_t)b;
        uint32_t c[4] = {(uint32_t)blk, (uint32_t)(blk >> 32), j->s0, j->s1};
        wi_philox4x32_10(c, j->k0, j->k1);
        w[0][b] = c[0]; w[1][b] = c[1]; w[2][b] = c[2]; w[3][b] = c[3];
    }
}

/* quadrant (top 2 bits) and position within it -> cos, sin of 2 pi u */
static inline void turn_f32(uint32_t w, float *c, float *s) {
    uint32_t quad = w >> 30;
    float f = (float)((w >> 6) & 0xffffffu) * 0x1p-24f;        /* [0, 1) exact */
    int refl = f > 0.5f;
    float x = refl ? 1.0f - f : f;
    float s0, c0;
    wi_sincos_quarter_f32(x, &s0, &c0);
    float ss = refl ? c0 : s0, cc = refl ? s0 : c0;
    float cq = (quad & 1u) ? -ss : cc;
    float sq = (quad & 1u) ? cc : ss;
    *c = (quad & 2u) ? -cq : cq;
    *s = (quad & 2u) ? -sq : sq;
}

static inline void turn_f64(uint64_t w, double *c, double *s) {
    uint64_t quad = w >> 62;
    double f = (double)((w >> 10) & 0xfffffffffffffull) * 0x1p-52;  /* [0, 1) exact */
    int refl = f > 0.5;
    double x = refl ? 1.0 - f : f;
    double s0, c0;
    wi_sincos_quarter(x, &s0, &c0);
    double ss = refl ? c0 : s0, cc = refl ? s0 : c0;
    double cq = (quad & 1u) ? -ss : cc;
    double sq = (quad & 1u) ? cc : ss;
    *c = (quad & 2u) ? -cq : cq;
    *s = (quad & 2u) ? -sq : sq;
}

static inline uint64_t join64(uint32_t lo, uint32_t hi) { return (uint64_t)lo | ((uint64_t)hi << 32); }

/* ---- 32-bit samples ---------------------------------------------------- */
static void tile_uniform32(const wi_job *j, uint32_t w[4][NB], float *v) {
    float sh = (float)j->shift, sc = (float)j->scale;
    for (int h = 0; h < 4; h++)
        for (int b = 0; b < NB; b++)
            v[h * NB + b] = sh + sc * ((float)(w[h][b] >> 8) * 0x1p-24f);
}

static void tile_normal32(const wi_job *j, uint32_t w[4][NB], float *v) {
    float sh = (float)j->shift, sc = (float)j->scale;
    for (int h = 0; h < 4; h += 2)
        for (int b = 0; b < NB; b++) {
            float u1 = (float)(w[h][b] | 1u) * 0x1p-32f;          /* (0, 1] */
            float r = __builtin_sqrtf(-2.0f * wi_logf(u1));
            float c, s;
            turn_f32(w[h + 1][b], &c, &s);
            v[h * NB + b] = sh + sc * (r * c);
            v[(h + 1) * NB + b] = sh + sc * (r * s);
        }
}

/* ---- 64-bit samples ---------------------------------------------------- */
static void tile_uniform64(const wi_job *j, uint32_t w[4][NB], double *v) {
    double sh = j->shift, sc = j->scale;
    for (int h = 0; h < 2; h++)
        for (int b = 0; b < NB; b++)
            v[h * NB + b] = sh + sc * ((double)(join64(w[2 * h][b], w[2 * h + 1][b]) >> 11) * 0x1p-53);
}

static void tile_normal64(const wi_job *j, uint32_t w[4][NB], double *v) {
    double sh = j->shift, sc = j->scale;
    for (int b = 0; b < NB; b++) {
        double u1 = (double)((join64(w[0][b], w[1][b]) >> 11) | 1u) * 0x1p-53;  /* (0, 1) */
        double r = __builtin_sqrt(-2.0 * wi_log(u1));
        double c, s;
        turn_f64(join64(w[2][b], w[3][b]), &c, &s);
        v[b] = sh + sc * (r * c);
        v[NB + b] = sh + sc * (r * s);
    }
}

/* AS241 (Wichura 1988) rational approximations, 16 digits. */
static inline double as241_centre(double q) {
    double r = 0.180625 - q * q;
    double a = 2.5090809287301226727e+3;
    a = a * r + 3.3430575583588128105e+4; a = a * r + 6.7265770927008700853e+4;
    a = a * r + 4.5921953931549871457e+4; a = a * r + 1.3731693765509461125e+4;
    a = a * r + 1.9715909503065514427e+3; a = a * r + 1.3314166789178437745e+2;
    a = a * r + 3.3871328727963666080e+0;
    double b = 5.2264952788528545610e+3;
    b = b * r + 2.8729085735721942674e+4; b = b * r + 3.9307895800092710610e+4;
    b = b * r + 2.1213794301586595867e+4; b = b * r + 5.3941960214247511077e+3;
    b = b * r + 6.8718700749205790830e+2; b = b * r + 4.2313330701600911252e+1;
    b = b * r + 1.0;
    return q * a / b;
}

/* -Phi^{-1}(p) for p = exp(-r^2) < 0.075, i.e. r = sqrt(-log p) > 1.6 */
static inline double as241_tail(double r) {
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
    double s = r - 5.0;
    double e = 2.01033439929228813265e-7;
    e = e * s + 2.71155556874348757815e-5; e = e * s + 1.24266094738807843860e-3;
    e = e * s + 2.65321895265761230930e-2; e = e * s + 2.96560571828504891230e-1;
    e = e * s + 1.78482653991729133580e+0; e = e * s + 5.46378491116411436990e+0;
    e = e * s + 6.65790464350110377720e+0;
    double f = 2.04426310338993978564e-15;
    f = f * s + 1.42151175831644588870e-7; f = f * s + 1.84631831751005468180e-5;
    f = f * s + 7.86869131145613259100e-4; f = f * s + 1.48753612908506148525e-2;
    f = f * s + 1.36929880922735805310e-1; f = f * s + 5.99832206555887937690e-1;
    f = f * s + 1.0;
    return r <= 5.0 ? c / d : e / f;
}

/* One standard truncated-normal deviate from 64 random bits; *logp gets the
 * log tail probability used (for the far-tail refinement). */
static inline double tn_sample(const wi_tn_consts *k, uint64_t bits, double *logp, int *tail_hi) {
    double u = (double)((bits >> 12) * 2 + 1) * 0x1p-53;     /* (0,1), 1-u exact */
    double omu = 1.0 - u;
    double q = k->d0 + u * k->d1;
    int centre = (q <= 0.425) & (q >= -0.425);
    int hi = u > k->u_switch;
    double k0 = hi ? k->uk0 : k->lk0, k1 = hi ? k->uk1 : k->lk1, lp = hi ? k->ulp : k->llp;
    double t = hi ? u : omu, s = hi ? omu : u;
    double wv = t * k1;                 /* 1 - v, exact-ish when small */
    double v = k0 + s * k1;             /* accurate when small */
    double logv = wv < 0.5 ? wi_log1p(-wv) : wi_log(v);
    double lg = lp + logv;
    double r = __builtin_sqrt(-lg);
    double mag = as241_tail(r);
    double zc = as241_centre(q);
    *logp = centre ? 0.0 : lg;
    *tail_hi = hi;
    return centre ? zc : (hi ? mag : -mag);
}

#define WI_FAR_LOGP (-676.0)

static void tile_trunc64(const wi_job *j, uint32_t w[4][NB], double *v) {
    double sh = j->shift, sc = j->scale, lo = j->clo, hi = j->chi;
    const wi_tn_consts *k = &j->tn;
    for (int h = 0; h < 2; h++)
        for (int b = 0; b < NB; b++) {
            double lg; int th;
            double z = tn_sample(k, join64(w[2 * h][b], w[2 * h + 1][b]), &lg, &th);
            double x = sh + sc * z;
            x = x < lo ? lo : x;
            v[h * NB + b] = x > hi ? hi : x;
        }
    if (!k->far) return;
    for (int h = 0; h < 2; h++)           /* rare: tails beyond ~26 sigma */
        for (int b = 0; b < NB; b++) {
            double lg; int th;
            tn_sample(k, join64(w[2 * h][b], w[2 * h + 1][b]), &lg, &th);
            if (lg < WI_FAR_LOGP) {
                double mag = wi_tn_far_tail(lg);
                double x = sh + sc * (th ? mag : -mag);
                x = x < lo ? lo : x;
                v[h * NB + b] = x > hi ? hi : x;
            }
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

static void store_f64_to_f32(const wi_job *j, const double *v, float *o, uint64_t n) {
    float lo = (float)j->lo, hi = (float)j->hi;
    for (uint64_t i = 0; i < n; i++) { float x = (float)v[i]; x = x < lo ? lo : x; o[i] = x > hi ? hi : x; }
}

static inline uint16_t clamp16(const wi_job *j, uint16_t h, uint16_t klo, uint16_t khi) {
    uint16_t kk = wi_h_key(h);
    h = kk < klo ? j->lo16 : h;
    return kk > khi ? j->hi16 : h;
}

static void store_16(const wi_job *j, const float *v, uint16_t *o, uint64_t n) {
    uint16_t klo = wi_h_key(j->lo16), khi = wi_h_key(j->hi16);
    int bf = j->dtype == WI_BF16;
    if (j->clamp) {
        if (bf) for (uint64_t i = 0; i < n; i++) o[i] = clamp16(j, wi_f32_to_bf16(v[i]), klo, khi);
        else    for (uint64_t i = 0; i < n; i++) o[i] = clamp16(j, wi_f32_to_f16(v[i]), klo, khi);
    } else {
        if (bf) for (uint64_t i = 0; i < n; i++) o[i] = wi_f32_to_bf16(v[i]);
        else    for (uint64_t i = 0; i < n; i++) o[i] = wi_f32_to_f16(v[i]);
    }
}

static void store_f64_to_16(const wi_job *j, const double *v, uint16_t *o, uint64_t n) {
    uint16_t klo = wi_h_key(j->lo16), khi = wi_h_key(j->hi16);
    if (j->dtype == WI_BF16)
        for (uint64_t i = 0; i < n; i++) o[i] = clamp16(j, wi_f32_to_bf16(wi_f64_to_f32_odd(v[i])), klo, khi);
    else
        for (uint64_t i = 0; i < n; i++) o[i] = clamp16(j, wi_f32_to_f16(wi_f64_to_f32_odd(v[i])), klo, khi);
}

static size_t dtype_size(wi_dtype d) { return d == WI_F64 ? 8 : d == WI_F32 ? 4 : 2; }

void WI_FN(wi_tiles)(const wi_job *j, uint64_t tile_begin, uint64_t tile_end) {
    uint32_t w[4][NB] __attribute__((aligned(64)));
    union { float f[4 * NB]; double d[2 * NB]; } v __attribute__((aligned(64)));
    const uint64_t E = j->tile_elems;
    const int wide = E == 2 * NB;              /* 64-bit samples */
    const size_t es = dtype_size(j->dtype);
    for (uint64_t t = tile_begin; t < tile_end; t++) {
        gen_words(j, t, w);
        if (j->dist == WI_UNIFORM) { if (wide) tile_uniform64(j, w, v.d); else tile_uniform32(j, w, v.f); }
        else if (j->dist == WI_NORMAL) { if (wide) tile_normal64(j, w, v.d); else tile_normal32(j, w, v.f); }
        else tile_trunc64(j, w, v.d);
        /* the part of this tile that lies in [offset, offset + n) */
        uint64_t first = t * E, lo = first < j->offset ? j->offset - first : 0;
        uint64_t end = j->offset + j->n, hi = end - first < E ? end - first : E;
        uint64_t cnt = hi - lo;
        char *o = (char *)j->out + (first + lo - j->offset) * es;
        switch (j->dtype) {
        case WI_F64: store_f64(j, v.d + lo, (double *)o, cnt); break;
        case WI_F32:
            if (wide) store_f64_to_f32(j, v.d + lo, (float *)o, cnt);
            else store_f32(j, v.f + lo, (float *)o, cnt);
            break;
        default:
            if (wide) store_f64_to_16(j, v.d + lo, (uint16_t *)o, cnt);
            else store_16(j, v.f + lo, (uint16_t *)o, cnt);
        }
    }
}
